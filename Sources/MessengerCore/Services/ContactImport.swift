import Foundation
import GRDB

/// How far an import has come: rows and bytes so far, of the file's bytes.
public struct ImportProgress: Sendable {
    public let rows: Int
    public let bytes: Int
    public let totalBytes: Int
}

/// One CSV import, streamed: each row is checked and written as it is read, inside one write
/// transaction, so a bad line anywhere refuses the whole file and changes nothing (the transaction
/// rolls back), memory stays bounded whatever the file's size, and the dashboard keeps reading
/// (WAL) meanwhile. A duplicate email inside the file is found through the line each contact id
/// was first seen on (`SeenLines`: 4 bytes a contact, not a set of emails, which would be ~80 MB
/// at a million, nor a temporary table, which cost a B-tree insert a row: #29).
struct ContactImport {
    let workspace: Workspace

    func run(totalBytes: Int, next: () throws -> Data?, progress: ((ImportProgress) -> Void)?) throws -> ContactImportResult {
        let now = workspace.clock.nowMillis()
        return try workspace.database.transaction { db in
            var state = try State(db, now: now)
            var reader = CSV.Reader()
            var bytes = 0
            var reported = 0
            while let chunk = try next(), !chunk.isEmpty {
                bytes += chunk.count
                try chunk.withUnsafeBytes { raw in try reader.feed(raw) { try state.take($0) } }
                if let progress, state.rows - reported >= 50_000 {
                    reported = state.rows
                    progress(ImportProgress(rows: state.rows, bytes: bytes, totalBytes: totalBytes))
                }
            }
            try reader.finish { try state.take($0) }
            guard state.header != nil else { throw DomainError("file is empty: expected a header row with EMAIL") }
            if var staged = state.staged {
                let (created, total) = try staged.finish(at: now)
                state.result.created = created
                state.result.updated = total - created
            }
            if db.engine == .sqlite { try db.exec("PRAGMA cache_size = -2000") }
            progress?(ImportProgress(rows: state.rows, bytes: bytes, totalBytes: totalBytes))
            return state.result
        }
    }

    private struct Header {
        let names: [String]
        let emailColumn: Int
        let fieldIDs: [Int: Int64]
        let optInColumns: Set<Int>
    }

    private struct State {
        let db: any StoreConnection
        let now: Int64
        var header: Header?
        var result = ContactImportResult()
        var rows = 0
        /// SQLite's writes, a row at a time; nil on PostgreSQL, whose rows are `staged`.
        let writes: SQLiteContactWrites?
        var staged: StagedContacts?
        var seen = SeenLines()

        init(_ db: any StoreConnection, now: Int64) throws {
            self.db = db
            self.now = now
            if let sqlite = db as? Database {
                writes = try SQLiteContactWrites(sqlite)
            } else if let postgres = db as? PostgresStoreConnection {
                writes = nil
                staged = try StagedContacts(postgres.connection)
            } else {
                throw DomainError("an import needs SQLite or PostgreSQL")
            }
        }

        mutating func take(_ row: CSV.Row) throws {
            guard let header else { return try readHeader(row) }
            let line = row.line
            let fields = row.fields
            if fields.count == 1 && fields[0].isEmpty { return }
            guard fields.count == header.names.count else {
                throw DomainError("line \(line): \(fields.count) fields where the header has \(header.names.count)")
            }
            var email = fields[header.emailColumn]
            if email.utf8.first == 0x20 || email.utf8.first == 0x09 || email.utf8.last == 0x20 || email.utf8.last == 0x09 {
                email = email.trimmingCharacters(in: .whitespaces)
            }
            try ContactService.validateEmail(email, line: line)
            for (i, value) in fields.enumerated() where i != header.emailColumn && !value.isEmpty {
                // Line breaks inside a quoted field are data (RFC 4180), CRLF as much as LF: kept as
                // given. Other control characters are refused.
                if ContactService.hasControlCharacter(value) {
                    throw DomainError("line \(line): column \(header.names[i]) contains a control character")
                }
            }
            guard let writes else {
                // PostgreSQL: the row is staged; its contact is found or made with the others.
                var values: [(field: Int64, value: String, optIn: Bool)] = []
                for (column, value) in fields.enumerated() where column != header.emailColumn && !value.isEmpty {
                    guard let fieldID = header.fieldIDs[column] else { continue }
                    let optIn = header.optInColumns.contains(column)
                    values.append((fieldID, value, optIn))
                    if optIn { result.optInsSet += 1 }
                }
                try staged?.add(line: line, email: email, values: values)
                rows += 1
                return
            }
            var contactID = try writes.contact(email: email)
            if let id = contactID {
                if let first = seen.mark(id, line: line) {
                    throw DomainError("line \(line): email \(Display.quoted(email)) already appears on line \(first)")
                }
                result.updated += 1
            } else {
                let id = try writes.insertContact(email: email, at: now)
                _ = seen.mark(id, line: line)
                contactID = id
                result.created += 1
            }
            for (column, value) in fields.enumerated() where column != header.emailColumn && !value.isEmpty {
                guard let fieldID = header.fieldIDs[column] else { continue }
                try writes.setValue(contact: contactID!, field: fieldID, value: value)
                if header.optInColumns.contains(column) {
                    try writes.setOptInTime(contact: contactID!, field: fieldID, at: now)
                    result.optInsSet += 1
                }
            }
            rows += 1
        }

        private mutating func readHeader(_ row: CSV.Row) throws {
            let names = row.fields.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
            guard let emailColumn = names.firstIndex(of: "EMAIL") else {
                throw DomainError("line 1: no EMAIL column in the header")
            }
            var seenNames = Set<String>()
            var fieldIDs: [Int: Int64] = [:]
            var optInColumns = Set<Int>()
            var newColumns: [Int] = []
            for (i, name) in names.enumerated() {
                guard seenNames.insert(name).inserted else { throw DomainError("line 1: column \(Display.quoted(name)) appears twice") }
                if i == emailColumn { continue }
                try ContactService.validateFieldName(name)
                if let field = try db.row("SELECT id, kind FROM data_field WHERE name = ?", [name]) {
                    fieldIDs[i] = field["id"]
                    if (field["kind"] as String) == "optin" { optInColumns.insert(i) }
                } else if name.hasPrefix(OptInCode.fieldPrefix) {
                    throw DomainError("line 1: \(name) is not the opt-in field of any profile")
                } else {
                    newColumns.append(i)
                }
            }
            // Every column is checked before a field is made: a header over the account's limit
            // refuses the file with one line (#26).
            try ContactService.checkRoom(db, adding: newColumns.count, line: 1)
            for i in newColumns {
                fieldIDs[i] = try db.insert("INSERT INTO data_field (name, kind) VALUES (?, 'text')", [names[i]])
                result.fieldsCreated.append(names[i])
            }
            header = Header(names: names, emailColumn: emailColumn, fieldIDs: fieldIDs, optInColumns: optInColumns)
        }
    }
}

/// SQLite's: statements prepared once and stepped through SQLite's C API, a million rows at the
/// cost of a few binds each (#29).
struct SQLiteContactWrites {
    let db: Database
    let find: BulkStatement
    let insert: BulkStatement
    let setValue: BulkStatement
    let setOptIn: BulkStatement

    init(_ db: Database) throws {
        self.db = db
        // A bigger page cache for the import's one transaction: fewer dirty pages spill to the
        // WAL before the commit, and the email index's pages stay in memory. Measured at
        // 1,000,000 new contacts (#29): 8 MB 37.2 s (11.8 s of it in the kernel, spilling),
        // 12 MB 30.9 s, 14 MB 26.9 s, 16 MB 26.3 s; the peak resident size 52.5, 57.5, 59.8 and
        // 62.5 MB of the 64 MB the import may use (37.5 MB of it is the process itself).
        try db.execute(sql: "PRAGMA cache_size = -14336")
        find = try BulkStatement(db, sql: "SELECT id FROM contact WHERE email = ?")
        insert = try BulkStatement(db, sql: "INSERT INTO contact (email, created_at) VALUES (?, ?)")
        setValue = try BulkStatement(
            db,
            sql: """
                INSERT INTO contact_value (contact_id, field_id, value) VALUES (?, ?, ?)
                ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value
                """)
        setOptIn = try BulkStatement(
            db,
            sql: """
                INSERT INTO optin_time (contact_id, field_id, at) VALUES (?, ?, ?)
                ON CONFLICT (contact_id, field_id) DO UPDATE SET at = MAX(at, excluded.at)
                """)
    }

    func contact(email: String) throws -> Int64? {
        var id: Int64?
        try find.forEachRow([.text(email)]) { id = $0.int64(0) }
        return id
    }

    func insertContact(email: String, at: Int64) throws -> Int64 {
        try insert.execute(.text(email), .int(at))
        return db.lastInsertedRowID
    }

    func setValue(contact: Int64, field: Int64, value: String) throws {
        try setValue.execute(.int(contact), .int(field), .text(value))
    }

    /// An imported opt-in is as new as the import: an older opt-in event replayed later doesn't
    /// overwrite it.
    func setOptInTime(contact: Int64, field: Int64, at: Int64) throws {
        try setOptIn.execute(.int(contact), .int(field), .int(at))
    }
}

/// PostgreSQL's import (#30): the file's rows go by `COPY` into two temporary tables of the
/// import's transaction (its rows, and their values), a chunk at a time so memory stays bounded,
/// then a few statements do the whole file: a duplicate email found as a window over the rows,
/// the new contacts inserted in the file's order, every value and opt-in time upserted. A round
/// trip per chunk, not per statement per row. The temporary tables go with the transaction,
/// committed or rolled back.
///
/// What differs from SQLite's: a duplicate email is found once the whole file is read, so a file
/// with a duplicate on one line and a bad value on a later one is refused for the later one
/// (either way with one line, and nothing changed).
struct StagedContacts {
    let connection: PostgresConnection
    private var rows: [[PostgresValue]] = []
    private var values: [[PostgresValue]] = []
    private var total = 0
    static let chunk = 10_000

    init(_ connection: PostgresConnection) throws {
        self.connection = connection
        try connection.executeScript(
            """
            CREATE TEMPORARY TABLE import_row (line bigint NOT NULL, email text NOT NULL) ON COMMIT DROP;
            CREATE TEMPORARY TABLE import_value (
                line bigint NOT NULL, field_id bigint NOT NULL, value text NOT NULL, optin boolean NOT NULL
            ) ON COMMIT DROP;
            """)
    }

    mutating func add(line: Int, email: String, values: [(field: Int64, value: String, optIn: Bool)]) throws {
        rows.append([.int(Int64(line)), .text(email)])
        for value in values {
            self.values.append([.int(Int64(line)), .int(value.field), .text(value.value), .text(value.optIn ? "t" : "f")])
        }
        total += 1
        if rows.count >= Self.chunk { try flush() }
    }

    private mutating func flush() throws {
        if !rows.isEmpty { try connection.copy(into: "import_row", columns: ["line", "email"], rows: rows) }
        if !values.isEmpty { try connection.copy(into: "import_value", columns: ["line", "field_id", "value", "optin"], rows: values) }
        rows.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    /// Writes the staged file: how many contacts it made, of how many rows. A duplicate email
    /// throws as SQLite's row-at-a-time check does (the first line that repeats an earlier one).
    mutating func finish(at now: Int64) throws -> (created: Int, total: Int) {
        try flush()
        guard total > 0 else { return (0, 0) }
        // A temporary table has no statistics until it is analysed (autovacuum never sees it).
        try connection.executeScript("ANALYZE import_row; ANALYZE import_value")
        // `lower`, as the unique index on contact(lower(email)) compares them.
        let repeated = try connection.execute(
            """
            SELECT line, email, first FROM (
                SELECT line, email, min(line) OVER (PARTITION BY lower(email)) AS first FROM import_row
            ) lines WHERE line <> first ORDER BY line LIMIT 1
            """)
        if let row = repeated.rows.first, let line = row[0], let email = row[1], let first = row[2] {
            throw DomainError("line \(line): email \(Display.quoted(email)) already appears on line \(first)")
        }
        let created = try connection.execute(
            """
            INSERT INTO contact (email, created_at)
            SELECT r.email, $1 FROM import_row r
            WHERE NOT EXISTS (SELECT 1 FROM contact c WHERE lower(c.email) = lower(r.email))
            ORDER BY r.line
            """, [.int(now)]
        ).changed
        try connection.execute(
            """
            INSERT INTO contact_value (contact_id, field_id, value)
            SELECT c.id, v.field_id, v.value
            FROM import_value v JOIN import_row r ON r.line = v.line JOIN contact c ON lower(c.email) = lower(r.email)
            ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value
            """)
        // An imported opt-in is as new as the import; an older time never overwrites a newer one.
        try connection.execute(
            """
            INSERT INTO optin_time (contact_id, field_id, at)
            SELECT c.id, v.field_id, $1
            FROM import_value v JOIN import_row r ON r.line = v.line JOIN contact c ON lower(c.email) = lower(r.email)
            WHERE v.optin
            ON CONFLICT (contact_id, field_id) DO UPDATE SET at = greatest(optin_time.at, excluded.at)
            """, [.int(now)])
        return (created, total)
    }
}

/// The line each contact id was first seen on in this import: an array indexed by id (contact ids
/// are rowids, dense from 1: 4 bytes a contact, 4 MB at a million), with a dictionary for any id
/// beyond what an array should hold.
struct SeenLines {
    private var lines: [UInt32] = []
    private var far: [Int64: Int] = [:]
    static let arrayLimit: Int64 = 64_000_000

    /// Notes `id` on `line`; the line it was first seen on when it was seen before.
    mutating func mark(_ id: Int64, line: Int) -> Int? {
        guard id > 0, id < Self.arrayLimit else {
            if let first = far[id] { return first }
            far[id] = line
            return nil
        }
        let index = Int(id)
        if index >= lines.count { lines.append(contentsOf: repeatElement(0, count: max(index + 1 - lines.count, lines.count / 2))) }
        if lines[index] != 0 { return Int(lines[index]) }
        lines[index] = UInt32(clamping: max(1, line))
        return nil
    }
}
