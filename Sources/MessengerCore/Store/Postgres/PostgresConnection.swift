import CLibPQ
import Foundation

/// A value bound to a statement's `$1`, `$2`…, sent as text (PostgreSQL casts it to the column).
public enum PostgresValue: Sendable, Equatable {
    case null
    case text(String)
    case int(Int64)
    case double(Double)
    /// A `bytea`, sent in its hex text form (`\\x0a1b…`).
    case bytes(Data)

    /// The type the server is told the value has: int8, float8 and bytea as they are (so
    /// `INSERT … SELECT $1` into a bigint column takes an integer, not text); text and NULL as
    /// unknown (0), for the server to take from where they go (a json cast, a boolean).
    var type: UInt32 {
        switch self {
        case .int: return 20
        case .double: return 701
        case .bytes: return 17
        case .text, .null: return 0
        }
    }

    var wire: String? {
        switch self {
        case .null: return nil
        case .text(let text): return text
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .bytes(let data):
            let digits = Array("0123456789abcdef".utf8)
            var hex: [UInt8] = Array("\\x".utf8)
            hex.reserveCapacity(2 + data.count * 2)
            for byte in data {
                hex.append(digits[Int(byte >> 4)])
                hex.append(digits[Int(byte & 0x0F)])
            }
            return String(decoding: hex, as: UTF8.self)
        }
    }
}

/// An error PostgreSQL answered with (or the connection's), in one line made safe for a
/// terminal or a log: what came from the server is not trusted.
public struct PostgresError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The SQLSTATE (`23505` a unique violation, `40001` a serialization failure…); nil when
    /// the connection itself failed.
    public let sqlState: String?
    public let message: String
    public var description: String { message }

    init(sqlState: String?, raw: String) {
        self.sqlState = sqlState
        // libpq's messages end in a newline and may carry a DETAIL line: the first line is kept.
        let first = raw.split(whereSeparator: \.isNewline).first.map(String.init) ?? raw
        var line = first.trimmingCharacters(in: .whitespaces)
        for prefix in ["ERROR:  ", "FATAL:  "] where line.hasPrefix(prefix) { line.removeFirst(prefix.count) }
        message = "PostgreSQL: " + Display.safe(line.isEmpty ? "no message" : line, limit: 200)
    }
}

/// The rows a statement gave, as text (PostgreSQL's text format), and how many rows it changed.
public struct PostgresRows: Sendable {
    public let columns: [String]
    /// Each column's type, as PostgreSQL's oid (`PQftype`: 16 bool, 20 int8, 25 text…).
    public let types: [UInt32]
    public let rows: [[String?]]
    /// INSERT, UPDATE, DELETE: the rows changed; 0 otherwise.
    public let changed: Int
}

/// One connection to PostgreSQL through libpq: synchronous, as GRDB's calls are, so the store's
/// code keeps its shape on either engine. Not for use from two threads at once (as a GRDB
/// `Database`): a connection per writer or reader.
///
/// Set on every connection: `synchronous_commit=on` (a commit returns once it is durable: a
/// claim is on disk before its messages go; whatever the address, the role or the server say), UTF-8, a 10 s connect timeout unless the address
/// says otherwise, and no NOTICE printed (libpq writes them to stderr by default, under the
/// dashboard's screen).
public final class PostgresConnection: @unchecked Sendable {
    private let connection: OpaquePointer

    public init(_ address: PostgresAddress, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if environment["PGPASSWORD"] != nil {
            // Any process of the same user can read another's environment (/proc/PID/environ).
            throw DomainError("PGPASSWORD is not read: put the password in PGPASSFILE or ~/.pgpass (chmod 600)")
        }
        // Defaults first: what the address says (dbname, expanded) comes last and wins.
        let settings: [(String, String)] = [
            ("connect_timeout", "10"), ("application_name", "messenger-dash"), ("client_encoding", "UTF8"),
            ("dbname", address.uri),
        ]
        let keywords = settings.map { strdup($0.0) }
        let values = settings.map { strdup($0.1) }
        defer { for pointer in keywords + values { free(pointer) } }
        var keywordPointers = keywords.map { UnsafePointer<CChar>($0) } + [nil]
        var valuePointers = values.map { UnsafePointer<CChar>($0) } + [nil]
        guard let made = PQconnectdbParams(&keywordPointers, &valuePointers, 1) else {
            throw DomainError("can't connect to \(address): out of memory", isStorageFailure: true)
        }
        guard PQstatus(made) == CONNECTION_OK else {
            let why = PostgresError(sqlState: nil, raw: String(cString: PQerrorMessage(made)))
            PQfinish(made)
            throw DomainError("can't connect to \(address): \(why.message.dropFirst("PostgreSQL: ".count))", isStorageFailure: true)
        }
        connection = made
        PQsetNoticeReceiver(connection, { _, _ in }, nil)
        // Said after connecting, not in `options`: an address's own `options` (a search_path)
        // would replace ours, and one saying synchronous_commit=off must not win either.
        try execute("SET synchronous_commit TO on")
    }

    deinit { PQfinish(connection) }

    /// A statement written for both engines, with SQLite's `?` placeholders: numbered
    /// (`Placeholders`), then as `execute`.
    @discardableResult
    public func execute(portable sql: String, _ values: [PostgresValue] = []) throws -> PostgresRows {
        let (numbered, count) = Placeholders.numbered(sql)
        guard count == values.count else {
            throw PostgresError(sqlState: nil, raw: "\(count) placeholders for \(values.count) values")
        }
        return try execute(numbered, values)
    }

    /// Runs one statement with its values bound (`$1`, `$2`…); never by splicing text into SQL.
    @discardableResult
    public func execute(_ sql: String, _ values: [PostgresValue] = []) throws -> PostgresRows {
        let parameterTypes: [Oid] = values.map { Oid($0.type) }
        let result = Self.withWires(values) { wires in
            parameterTypes.withUnsafeBufferPointer { types in
                PQexecParams(connection, sql, Int32(values.count), types.baseAddress, wires, nil, nil, 0)
            }
        }
        return try rows(of: result)
    }

    /// Statements prepared on this connection: their name by their text and their values' types
    /// (a NULL's type is left to the server, an integer's is int8: each its own statement).
    private var prepared: [String: String] = [:]
    private static let preparedLimit = 256

    /// As `execute(portable:)`, the statement parsed and planned once on this connection
    /// (`PQprepare`) and then only executed: a statement run once a row or an event (a
    /// receipt's walk to its sends, a run's updates) stops paying for PostgreSQL's planning each
    /// time (2 ms of the receipts' walk's 2.5, measured). A statement that fails to prepare
    /// throws as `execute` would, and is prepared again next time.
    @discardableResult
    public func executePrepared(portable sql: String, _ values: [PostgresValue] = []) throws -> PostgresRows {
        let (numbered, count) = Placeholders.numbered(sql)
        guard count == values.count else {
            throw PostgresError(sqlState: nil, raw: "\(count) placeholders for \(values.count) values")
        }
        let parameterTypes: [Oid] = values.map { Oid($0.type) }
        let key = parameterTypes.map { String($0) }.joined(separator: ",") + "|" + numbered
        var name = prepared[key]
        if name == nil {
            guard prepared.count < Self.preparedLimit else { return try execute(numbered, values) }
            let made = "md\(prepared.count + 1)"
            let result = parameterTypes.withUnsafeBufferPointer { types in
                PQprepare(connection, made, numbered, Int32(values.count), types.baseAddress)
            }
            _ = try rows(of: result)
            prepared[key] = made
            name = made
        }
        let result = Self.withWires(values) { PQexecPrepared(connection, name, Int32(values.count), $0, nil, nil, 0) }
        return try rows(of: result)
    }

    /// `values` as libpq takes them: each one's text (NULL for NULL), valid during `body`.
    private static func withWires<T>(_ values: [PostgresValue], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> T) -> T {
        let wires = values.map { $0.wire.map { strdup($0) } ?? nil }
        defer { for wire in wires { free(wire) } }
        let pointers = wires.map { $0.map { UnsafePointer<CChar>($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// A statement's result as rows, or its error in one line; cleared either way.
    private func rows(of result: OpaquePointer?) throws -> PostgresRows {
        guard let result else { throw PostgresError(sqlState: nil, raw: String(cString: PQerrorMessage(connection))) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            break
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PostgresError(sqlState: state, raw: String(cString: PQresultErrorMessage(result)))
        }
        let width = Int(PQnfields(result))
        let count = Int(PQntuples(result))
        let columns = (0..<width).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<width).map { UInt32(PQftype(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(count)
        for row in 0..<count {
            rows.append(
                (0..<width).map { column in
                    PQgetisnull(result, Int32(row), Int32(column)) == 1
                        ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
                })
        }
        return PostgresRows(columns: columns, types: types, rows: rows, changed: Int(String(cString: PQcmdTuples(result))) ?? 0)
    }

    /// `COPY table (columns) FROM STDIN` of `rows`, PostgreSQL's fastest way in: one statement for
    /// any number of rows, in COPY's text format (each value escaped as COPY reads it, NULL as
    /// `\N`), sent in chunks of about 256 KiB, so memory stays bounded however many rows come. A
    /// row with the wrong number of values, or one the server refuses, ends the COPY with nothing
    /// of it kept (inside a transaction, the transaction fails as any statement's error makes it).
    /// Returns how many rows the server took.
    @discardableResult
    public func copy(into table: String, columns: [String], rows: some Sequence<[PostgresValue]>) throws -> Int {
        let start = "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN"
        guard let begun = PQexec(connection, start) else {
            throw PostgresError(sqlState: nil, raw: String(cString: PQerrorMessage(connection)))
        }
        let status = PQresultStatus(begun)
        if status != PGRES_COPY_IN {
            defer { PQclear(begun) }
            let state = PQresultErrorField(begun, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PostgresError(sqlState: state, raw: String(cString: PQresultErrorMessage(begun)))
        }
        PQclear(begun)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.copyChunk + 4096)
        func send() throws {
            let sent = buffer.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
            }
            buffer.removeAll(keepingCapacity: true)
            if sent != 1 { throw PostgresError(sqlState: nil, raw: String(cString: PQerrorMessage(connection))) }
        }
        var failure: PostgresError?
        do {
            for row in rows {
                guard row.count == columns.count else {
                    throw PostgresError(sqlState: nil, raw: "a COPY row of \(row.count) values for \(columns.count) columns")
                }
                for (index, value) in row.enumerated() {
                    if index > 0 { buffer.append(0x09) }
                    Self.appendCopyText(value, to: &buffer)
                }
                buffer.append(0x0A)
                if buffer.count >= Self.copyChunk { try send() }
            }
            if !buffer.isEmpty { try send() }
        } catch let error as PostgresError {
            failure = error
        }
        // Ended either way: with a reason, the server abandons the COPY and answers with an error.
        let ended = failure.map { PQputCopyEnd(connection, $0.message) } ?? PQputCopyEnd(connection, nil)
        var taken = 0
        var answer: PostgresError?
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                taken = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if answer == nil {
                let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                answer = PostgresError(sqlState: state, raw: String(cString: PQresultErrorMessage(result)))
            }
        }
        if let failure { throw failure }
        if ended != 1 { throw PostgresError(sqlState: nil, raw: String(cString: PQerrorMessage(connection))) }
        if let answer { throw answer }
        return taken
    }

    static let copyChunk = 256 << 10

    /// One value as COPY's text format reads it: `\N` for NULL; a backslash, a tab, a line feed
    /// and a carriage return escaped (so no value can end a row or a column, or read as `\.`).
    static func appendCopyText(_ value: PostgresValue, to buffer: inout [UInt8]) {
        guard let wire = value.wire else {
            buffer.append(contentsOf: [0x5C, 0x4E])  // \N
            return
        }
        for byte in wire.utf8 {
            switch byte {
            case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
            case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
            case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
            default: buffer.append(byte)
            }
        }
    }

    /// Several statements without values (a migration's DDL): libpq's simple query, which
    /// `execute`'s bound statements are not.
    public func executeScript(_ sql: String) throws {
        guard let result = PQexec(connection, sql) else {
            throw PostgresError(sqlState: nil, raw: String(cString: PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PostgresError(sqlState: state, raw: String(cString: PQresultErrorMessage(result)))
        }
    }

    /// `body` in one transaction: committed when it returns (durable: `synchronous_commit`),
    /// rolled back when it throws.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// Whether the connection can be used again: open, and outside any transaction (a pool keeps
    /// only such connections; one whose server went away or whose rollback failed is closed).
    var isReusable: Bool {
        isOpen && PQtransactionStatus(connection) == PQTRANS_IDLE
    }

    /// False once libpq saw the server go (a restart, a terminated backend, a network cut).
    var isOpen: Bool { PQstatus(connection) == CONNECTION_OK }

    /// How many notifications arrived since the last call, without waiting: reads what the
    /// socket holds (`PQconsumeInput`), then takes each one (`LISTEN` first). Throws when the
    /// connection is gone.
    func takeNotifications() throws -> Int {
        // A server that ended the session may leave its last message readable: gone either way.
        guard PQconsumeInput(connection) == 1, isOpen else {
            throw PostgresError(sqlState: nil, raw: String(cString: PQerrorMessage(connection)))
        }
        var count = 0
        while let notice = PQnotifies(connection) {
            count += 1
            PQfreemem(notice)
        }
        return count
    }

    /// What the server says of itself, for `doctor` and the tests.
    public var serverVersion: Int { Int(PQserverVersion(connection)) }
}
