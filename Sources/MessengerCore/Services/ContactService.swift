import Foundation
import GRDB

public struct ContactImportResult: Equatable, Sendable {
    public var created = 0
    public var updated = 0
    public var fieldsCreated: [String] = []
    public var optInsSet = 0
}

/// A contact data field with its default value (used when personalising, R5).
public struct DataField: Equatable, Sendable {
    public let id: Int64
    public let name: String
    public let isOptIn: Bool
    public let defaultValue: String
}

public struct ContactService: Sendable {
    let workspace: Workspace
    var database: AppDatabase { workspace.database }

    public static let maxEmailLength = 254

    /// Imports RFC 4180 CSV with a header of `EMAIL` and data field names. A new name creates a text
    /// field; a `FBOPTIN_<CODE>` column sets opt-ins (R4). An existing email is updated; an empty
    /// cell leaves the contact's value as it was. Any bad row refuses the whole file.
    @discardableResult
    public func importCSV(_ data: Data) throws -> ContactImportResult {
        let rows = try CSV.parse(data)
        guard let header = rows.first else { throw DomainError("file is empty: expected a header row with EMAIL") }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        guard let emailColumn = names.firstIndex(of: "EMAIL") else {
            throw DomainError("line 1: no EMAIL column in the header")
        }
        var seenNames = Set<String>()
        for (i, name) in names.enumerated() {
            guard seenNames.insert(name).inserted else { throw DomainError("line 1: column \(Display.quoted(name)) appears twice") }
            if i != emailColumn { try Self.validateFieldName(name) }
        }
        var records: [(email: String, values: [(Int, String)])] = []
        var seenEmails: [String: Int] = [:]
        for (index, row) in rows.enumerated().dropFirst() {
            let line = index + 1
            if row.count == 1 && row[0].isEmpty { continue }
            guard row.count == names.count else {
                throw DomainError("line \(line): \(row.count) fields where the header has \(names.count)")
            }
            let email = row[emailColumn].trimmingCharacters(in: .whitespaces)
            try Self.validateEmail(email, line: line)
            if let first = seenEmails[email.lowercased()] {
                throw DomainError("line \(line): email \(Display.quoted(email)) already appears on line \(first)")
            }
            seenEmails[email.lowercased()] = line
            var values: [(Int, String)] = []
            for (i, value) in row.enumerated() where i != emailColumn && !value.isEmpty {
                // Line breaks inside a quoted field are data (RFC 4180), CRLF as much as LF: kept as
                // given. Other control characters are refused.
                if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\r" && $0 != "\t" }) {
                    throw DomainError("line \(line): column \(names[i]) contains a control character")
                }
                values.append((i, value))
            }
            records.append((email, values))
        }
        let now = workspace.clock.nowMillis()
        return try database.write { db in
            var result = ContactImportResult()
            var fieldIDs: [Int: Int64] = [:]
            var optInColumns = Set<Int>()
            for (i, name) in names.enumerated() where i != emailColumn {
                if let row = try Row.fetchOne(db, sql: "SELECT id, kind FROM data_field WHERE name = ?", arguments: [name]) {
                    fieldIDs[i] = row["id"]
                    if (row["kind"] as String) == "optin" { optInColumns.insert(i) }
                } else if name.hasPrefix(OptInCode.fieldPrefix) {
                    throw DomainError("line 1: \(name) is not the opt-in field of any profile")
                } else {
                    try db.execute(sql: "INSERT INTO data_field (name, kind) VALUES (?, 'text')", arguments: [name])
                    fieldIDs[i] = db.lastInsertedRowID
                    result.fieldsCreated.append(name)
                }
            }
            let findContact = try db.cachedStatement(sql: "SELECT id FROM contact WHERE email = ?")
            let insertContact = try db.cachedStatement(sql: "INSERT INTO contact (email, created_at) VALUES (?, ?)")
            let setValue = try db.cachedStatement(sql: """
                INSERT INTO contact_value (contact_id, field_id, value) VALUES (?, ?, ?)
                ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value
                """)
            // An imported opt-in is as new as the import: an older opt-in event replayed later
            // doesn't overwrite it.
            let setOptInTime = try db.cachedStatement(sql: """
                INSERT INTO optin_time (contact_id, field_id, at) VALUES (?, ?, ?)
                ON CONFLICT (contact_id, field_id) DO UPDATE SET at = MAX(at, excluded.at)
                """)
            for record in records {
                let contactID: Int64
                if let id = try Int64.fetchOne(findContact, arguments: [record.email]) {
                    contactID = id
                    result.updated += 1
                } else {
                    try insertContact.execute(arguments: [record.email, now])
                    contactID = db.lastInsertedRowID
                    result.created += 1
                }
                for (column, value) in record.values {
                    try setValue.execute(arguments: [contactID, fieldIDs[column], value])
                    if optInColumns.contains(column) {
                        try setOptInTime.execute(arguments: [contactID, fieldIDs[column], now])
                        result.optInsSet += 1
                    }
                }
            }
            return result
        }
    }

    /// Data field names: a letter, then letters, digits and underscores, at most 50 in all.
    static func validateFieldName(_ name: String) throws {
        guard let first = name.first, first.isASCII, first.isLetter, name.count <= 50,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            throw DomainError("line 1: \(Display.quoted(name)) is not a data field name (letters, digits and _, starting with a letter)")
        }
    }

    static func validateEmail(_ email: String, line: Int) throws {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              email.count <= maxEmailLength,
              !email.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control || $0.properties.generalCategory == .format })
        else {
            throw DomainError("line \(line): \(Display.quoted(email)) is not an email address")
        }
    }

    public func fields() throws -> [DataField] {
        try database.read { db in try Self.fields(db) }
    }

    static func fields(_ db: Database) throws -> [DataField] {
        try Row.fetchAll(db, sql: "SELECT id, name, kind, default_value FROM data_field ORDER BY kind DESC, name").map {
            DataField(id: $0["id"], name: $0["name"], isOptIn: ($0["kind"] as String) == "optin", defaultValue: $0["default_value"])
        }
    }

    /// Sets a text field's default value, used when a contact has no value (R5).
    public func setDefault(field: String, value: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE data_field SET default_value = ? WHERE name = ? AND kind = 'text'", arguments: [value, field.uppercased()])
            if db.changesCount == 0 { throw DomainError("no text data field named \(Display.quoted(field))") }
        }
    }

    /// Creates a text field (the demo's FIRSTNAME and the like) if it doesn't exist.
    public func ensureField(_ name: String, defaultValue: String = "") throws {
        try Self.validateFieldName(name.uppercased())
        try database.write { db in
            try db.execute(sql: "INSERT INTO data_field (name, kind, default_value) VALUES (?, 'text', ?) ON CONFLICT (name) DO NOTHING",
                           arguments: [name.uppercased(), defaultValue])
        }
    }
}

/// A contact to preview a message for: its data field values and whether it has opted in to the
/// node's profile (R4), so the composer shows the message or the warning it would get.
public struct SampleContact: Equatable, Sendable {
    public let id: Int64
    public let email: String
    public let values: [String: String]
    public let optedIn: Bool
}

extension ContactService {
    /// The contact after (`forward`) or before `id`, wrapping around; nil when there are none.
    public func sample(around id: Int64?, forward: Bool, optInField: String?) throws -> SampleContact? {
        try database.read { db in
            let next = forward
                ? try Int64.fetchOne(db, sql: "SELECT id FROM contact WHERE id > ? ORDER BY id LIMIT 1", arguments: [id ?? 0])
                    ?? Int64.fetchOne(db, sql: "SELECT id FROM contact ORDER BY id LIMIT 1")
                : try Int64.fetchOne(db, sql: "SELECT id FROM contact WHERE id < ? ORDER BY id DESC LIMIT 1", arguments: [id ?? Int64.max])
                    ?? Int64.fetchOne(db, sql: "SELECT id FROM contact ORDER BY id DESC LIMIT 1")
            guard let next, let email = try String.fetchOne(db, sql: "SELECT email FROM contact WHERE id = ?", arguments: [next]) else { return nil }
            var values: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT data_field.name, contact_value.value FROM contact_value
                JOIN data_field ON data_field.id = contact_value.field_id WHERE contact_value.contact_id = ?
                """, arguments: [next]) {
                values[(row["name"] as String).uppercased()] = row["value"]
            }
            let optedIn = optInField.map { !(values[$0.uppercased()] ?? "").isEmpty } ?? false
            return SampleContact(id: next, email: email, values: values, optedIn: optedIn)
        }
    }
}
