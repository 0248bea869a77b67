import Foundation
import GRDB

/// A `PostgresConnection` as a `StoreConnection` (#30): SQLite's `?` numbered, GRDB's values
/// bound, and the results typed by their columns' types so that `Int64`, `Double` and `Bool`
/// read the same as on SQLite.
struct PostgresStoreConnection: StoreConnection {
    let connection: PostgresConnection
    var engine: StoreEngine { .postgres }

    func exec(_ sql: String, _ arguments: StoreArguments) throws -> Int {
        try connection.execute(portable: sql, arguments.map(Self.value)).changed
    }

    func execPrepared(_ sql: String, _ arguments: StoreArguments) throws -> Int {
        try connection.executePrepared(portable: sql, arguments.map(Self.value)).changed
    }

    func rowsPrepared(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow] {
        Self.rows(try connection.executePrepared(portable: sql, arguments.map(Self.value)))
    }

    func rows(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow] {
        Self.rows(try connection.execute(portable: sql, arguments.map(Self.value)))
    }

    private static func rows(_ result: PostgresRows) -> [StoreRow] {
        result.rows.map { row in
            StoreRow(columns: result.columns, values: zip(row, result.types).map { Self.value($0, type: $1) })
        }
    }

    func insert(_ sql: String, _ arguments: StoreArguments) throws -> Int64 {
        guard let id = try rows(sql + " RETURNING id", arguments).first.map({ $0.at(0) as Int64 }) else {
            throw PostgresError(sqlState: nil, raw: "an INSERT returned no id")
        }
        return id
    }

    func nextID(_ table: String) throws -> Int64 {
        guard let id = try value(Int64.self, "SELECT nextval(pg_get_serial_sequence(?, 'id'))", [table]) else {
            throw PostgresError(sqlState: nil, raw: "no identity sequence for \(table)")
        }
        return id
    }

    /// A value to bind: what GRDB would bind for it on SQLite (a `Bool` is 0 or 1).
    static func value(_ value: (any DatabaseValueConvertible)?) -> PostgresValue {
        switch value?.databaseValue.storage ?? .null {
        case .null: return .null
        case .int64(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let text): return .text(text)
        case .blob(let data): return .bytes(data)
        }
    }

    /// A column's text as the value SQLite would have given: integers and booleans as integers
    /// (SQLite has no booleans: `EXISTS` and `IS NOT NULL` are 0 or 1), floating point as
    /// doubles, `numeric` (what `SUM` of a `bigint` gives) as an integer when it is whole.
    static func value(_ text: String?, type: UInt32) -> DatabaseValue {
        guard let text else { return .null }
        switch type {
        case 16:  // bool
            return (text == "t" ? 1 : 0 as Int64).databaseValue
        case 20, 21, 23, 26:  // int8, int2, int4, oid
            return Int64(text)?.databaseValue ?? text.databaseValue
        case 700, 701:  // float4, float8
            return Double(text)?.databaseValue ?? text.databaseValue
        case 1700:  // numeric
            return Int64(text)?.databaseValue ?? Double(text)?.databaseValue ?? text.databaseValue
        case 17:  // bytea, in its hex form
            return bytes(hex: text).map(\.databaseValue) ?? text.databaseValue
        default:
            return text.databaseValue
        }
    }

    private static func bytes(hex: String) -> Data? {
        let digits = Array(hex.utf8)
        guard digits.count >= 2, digits[0] == UInt8(ascii: "\\"), digits[1] == UInt8(ascii: "x"), digits.count % 2 == 0 else {
            return nil
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var data = Data(capacity: (digits.count - 2) / 2)
        var i = 2
        while i < digits.count {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            data.append(high << 4 | low)
            i += 2
        }
        return data
    }
}

/// The workspace's connections to PostgreSQL: one taken for each transaction, given back after
/// it unless it broke (a server gone, a rollback that failed). As many are open as transactions
/// run at once (a reader's snapshot beside the writer's, the webhook's requests); at most
/// `idleLimit` wait idle.
final class PostgresPool: @unchecked Sendable {
    let address: PostgresAddress
    private let lock = NSLock()
    private var idle: [PostgresConnection] = []
    private let idleLimit = 4

    init(address: PostgresAddress, first: PostgresConnection) {
        self.address = address
        idle = [first]
    }

    /// A write transaction: writes take turns across every host on one advisory lock, as
    /// SQLite's one writer makes them take turns, so a service's read-then-write keeps its
    /// meaning; a lock held elsewhere fails after 5 s, as SQLite's busy timeout does. Committed
    /// durably (`synchronous_commit=on`) when `body` returns, rolled back when it throws.
    func write<T>(_ body: (PostgresStoreConnection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN; SET LOCAL lock_timeout = '5s'; SELECT pg_advisory_xact_lock(\(Self.writeLock))", body)
    }

    /// A read: one snapshot for all of `body`'s statements, as a SQLite reader sees the WAL.
    func read<T>(_ body: (PostgresStoreConnection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// The writers' lock: "mdash-w" as a number (the migrations take "mdash-m").
    static let writeLock: Int64 = 0x6D_6461_7368_2D77

    private func transaction<T>(begin: String, _ body: (PostgresStoreConnection) throws -> T) throws -> T {
        var connection = try lock.withLock { idle.popLast() } ?? PostgresConnection(address)
        defer {
            if connection.isReusable { lock.withLock { if idle.count < idleLimit { idle.append(connection) } } }
        }
        do {
            do {
                try connection.executeScript(begin)
            } catch  where !connection.isOpen {
                // An idle connection whose server went away (a restart, a failover) fails its
                // first statement: nothing ran, so a new connection starts the transaction.
                connection = try PostgresConnection(address)
                try connection.executeScript(begin)
            }
            let value = try body(PostgresStoreConnection(connection: connection))
            try connection.execute("COMMIT")
            return value
        } catch {
            // Also after a BEGIN that took and a lock that timed out: a transaction to end.
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
