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
        let writes: any ContactWrites
        var seen = SeenLines()

        init(_ db: any StoreConnection, now: Int64) throws {
            self.db = db
            self.now = now
            writes = try (db as? Database).map { try SQLiteContactWrites($0) } ?? StoreContactWrites(db: db)
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

/// The four statements an import runs for each row, on either engine (#30).
protocol ContactWrites {
    func contact(email: String) throws -> Int64?
    func insertContact(email: String, at: Int64) throws -> Int64
    func setValue(contact: Int64, field: Int64, value: String) throws
    /// An imported opt-in is as new as the import: an older opt-in event replayed later doesn't
    /// overwrite it.
    func setOptInTime(contact: Int64, field: Int64, at: Int64) throws
}

/// SQLite's: statements prepared once and stepped through SQLite's C API, a million rows at the
/// cost of a few binds each (#29).
struct SQLiteContactWrites: ContactWrites {
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

    func setOptInTime(contact: Int64, field: Int64, at: Int64) throws {
        try setOptIn.execute(.int(contact), .int(field), .int(at))
    }
}

/// Any engine's, one statement at a time through `StoreConnection`: PostgreSQL's until imports go
/// by `COPY` (#30, step 5).
struct StoreContactWrites: ContactWrites {
    let db: any StoreConnection

    func contact(email: String) throws -> Int64? {
        try db.value(Int64.self, "SELECT id FROM contact WHERE \(db.sameEmail())", [email])
    }

    func insertContact(email: String, at: Int64) throws -> Int64 {
        try db.insert("INSERT INTO contact (email, created_at) VALUES (?, ?)", [email, at])
    }

    func setValue(contact: Int64, field: Int64, value: String) throws {
        try db.exec(
            """
            INSERT INTO contact_value (contact_id, field_id, value) VALUES (?, ?, ?)
            ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value
            """, [contact, field, value])
    }

    func setOptInTime(contact: Int64, field: Int64, at: Int64) throws {
        // SQLite's two-argument max() is PostgreSQL's greatest().
        let later = db.engine == .sqlite ? "max" : "greatest"
        try db.exec(
            """
            INSERT INTO optin_time (contact_id, field_id, at) VALUES (?, ?, ?)
            ON CONFLICT (contact_id, field_id) DO UPDATE SET at = \(later)(optin_time.at, excluded.at)
            """, [contact, field, at])
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
