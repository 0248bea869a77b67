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
        var pending: Data? = data
        return try ContactImport(workspace: workspace).run(
            totalBytes: data.count,
            next: {
                defer { pending = nil }
                return pending
            }, progress: nil)
    }

    /// The same from a file, read a megabyte at a time whatever its size: memory stays bounded,
    /// and `progress` hears of each 50,000 rows.
    @discardableResult
    public func importCSV(file path: String, progress: ((ImportProgress) -> Void)? = nil) throws -> ContactImportResult {
        let size = try InputFile.check(path)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DomainError("can't read \(Display.safe(path))") }
        defer { try? handle.close() }
        return try ContactImport(workspace: workspace).run(
            totalBytes: size, next: { try handle.read(upToCount: 1 << 20) }, progress: progress)
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
            email.utf8.count <= maxEmailLength || email.count <= maxEmailLength,
            // Printable ASCII has no whitespace, control or format character: the common case
            // skips the per-character property lookups (a million rows' worth of them).
            email.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
                || !email.unicodeScalars.contains(where: {
                    $0.properties.isWhitespace || $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
                })
        else {
            throw DomainError("line \(line): \(Display.quoted(email)) is not an email address")
        }
    }

    /// A control character other than tab and line breaks (C0, DEL, C1), found in the UTF-8
    /// bytes: C1 controls are U+0080–U+009F, 0xC2 0x80–0x9F.
    static func hasControlCharacter(_ value: String) -> Bool {
        var afterC2 = false
        for byte in value.utf8 {
            if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D { return true }
            if byte == 0x7F { return true }
            if afterC2 && byte >= 0x80 && byte <= 0x9F { return true }
            afterC2 = byte == 0xC2
        }
        return false
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
            try db.execute(
                sql: "UPDATE data_field SET default_value = ? WHERE name = ? AND kind = 'text'", arguments: [value, field.uppercased()])
            if db.changesCount == 0 { throw DomainError("no text data field named \(Display.quoted(field))") }
        }
    }

    /// Creates a text field (the demo's FIRSTNAME and the like) if it doesn't exist.
    public func ensureField(_ name: String, defaultValue: String = "") throws {
        try Self.validateFieldName(name.uppercased())
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO data_field (name, kind, default_value) VALUES (?, 'text', ?) ON CONFLICT (name) DO NOTHING",
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
            let next =
                forward
                ? try Int64.fetchOne(db, sql: "SELECT id FROM contact WHERE id > ? ORDER BY id LIMIT 1", arguments: [id ?? 0])
                    ?? Int64.fetchOne(db, sql: "SELECT id FROM contact ORDER BY id LIMIT 1")
                : try Int64.fetchOne(db, sql: "SELECT id FROM contact WHERE id < ? ORDER BY id DESC LIMIT 1", arguments: [id ?? Int64.max])
                    ?? Int64.fetchOne(db, sql: "SELECT id FROM contact ORDER BY id DESC LIMIT 1")
            guard let next, let email = try String.fetchOne(db, sql: "SELECT email FROM contact WHERE id = ?", arguments: [next]) else {
                return nil
            }
            var values: [String: String] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT data_field.name, contact_value.value FROM contact_value
                    JOIN data_field ON data_field.id = contact_value.field_id WHERE contact_value.contact_id = ?
                    """, arguments: [next])
            {
                values[(row["name"] as String).uppercased()] = row["value"]
            }
            let optedIn = optInField.map { !(values[$0.uppercased()] ?? "").isEmpty } ?? false
            return SampleContact(id: next, email: email, values: values, optedIn: optedIn)
        }
    }
}
