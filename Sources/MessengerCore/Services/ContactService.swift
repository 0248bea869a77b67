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
    /// The most text data fields an account may have (#26): a file of a million columns made a
    /// million permanent fields. A profile's opt-in field is not counted: there is one a profile.
    public static let maxFields = 1_000

    /// Imports RFC 4180 CSV with a header of `EMAIL` and data field names. A new name creates a text
    /// field; a `FBOPTIN_<CODE>` column sets opt-ins (R4). An existing email is updated; an empty
    /// cell leaves the contact's value as it was. Any bad row refuses the whole file.
    @discardableResult
    public func importCSV(_ data: Data) throws -> ContactImportResult {
        try ContactImport(workspace: workspace).run(totalBytes: data.count, next: data.asOneChunk, progress: nil)
    }

    /// The same from a file, read a megabyte at a time whatever its size: memory stays bounded,
    /// and `progress` hears of each 50,000 rows.
    @discardableResult
    public func importCSV(file path: String, progress: ((ImportProgress) -> Void)? = nil) throws -> ContactImportResult {
        try InputFile.withChunks(path) { size, next in
            try ContactImport(workspace: workspace).run(totalBytes: size, next: next, progress: progress)
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
        try database.snapshot { db in try Self.fields(db) }
    }

    static func fields(_ db: any StoreConnection) throws -> [DataField] {
        try db.rows("SELECT id, name, kind, default_value FROM data_field ORDER BY kind DESC, name").map {
            DataField(id: $0["id"], name: $0["name"], isOptIn: ($0["kind"] as String) == "optin", defaultValue: $0["default_value"])
        }
    }

    /// Sets a text field's default value, used when a contact has no value (R5).
    public func setDefault(field: String, value: String) throws {
        try database.transaction { db in
            let changed = try db.exec(
                "UPDATE data_field SET default_value = ? WHERE name = ? AND kind = 'text'", [value, field.uppercased()])
            if changed == 0 { throw DomainError("no text data field named \(Display.quoted(field))") }
        }
    }

    /// Creates a text field (the demo's FIRSTNAME and the like) if it doesn't exist.
    public func ensureField(_ name: String, defaultValue: String = "") throws {
        try Self.validateFieldName(name.uppercased())
        try database.transaction { db in
            if try db.value(Bool.self, "SELECT 1 FROM data_field WHERE name = ?", [name.uppercased()]) == true { return }
            try Self.checkRoom(db, adding: 1)
            try db.exec("INSERT INTO data_field (name, kind, default_value) VALUES (?, 'text', ?)", [name.uppercased(), defaultValue])
        }
    }

    /// Refuses, with one line, `adding` more text fields than the account has room for.
    static func checkRoom(_ db: any StoreConnection, adding: Int, line: Int? = nil) throws {
        guard adding > 0 else { return }
        let existing = try db.value(Int.self, "SELECT count(*) FROM data_field WHERE kind = 'text'") ?? 0
        guard existing + adding > maxFields else { return }
        let at = line.map { "line \($0): " } ?? ""
        throw DomainError(
            "\(at)\(adding) new data field\(adding == 1 ? "" : "s") would make \(existing + adding); an account may have at most \(maxFields) (contacts fields delete NAME removes one)"
        )
    }

    /// A text field with what uses it: how many contacts have a value, and the programs whose
    /// Messenger node's message names it.
    public struct FieldUse: Equatable, Sendable {
        public let field: DataField
        public let contacts: Int
        /// Programs whose node's message, or a template of it still in use, names the field.
        public let programs: [String]
        /// The profile whose opt-in field this is (R3), for an opt-in field.
        public let profile: String?
    }

    /// Every data field with its use, text fields first, then opt-in fields (as `fields()` orders them).
    public func fieldUses() throws -> [FieldUse] {
        try database.snapshot { db in
            let counts = Dictionary(
                try db.rows("SELECT field_id, count(*) AS n FROM contact_value GROUP BY field_id").map {
                    ($0["field_id"] as Int64, $0["n"] as Int)
                }, uniquingKeysWith: { a, _ in a })
            return try Self.uses(db, of: try Self.fields(db)) { counts[$0] ?? 0 }
        }
    }

    /// One field's use (`contacts fields delete` asks about it); nil when there is none so named.
    /// Only its own values are counted, not every field's.
    public func fieldUse(named name: String) throws -> FieldUse? {
        try database.snapshot { db in
            guard let field = try Self.fields(db).first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else { return nil }
            return try Self.uses(db, of: [field]) { id in
                try db.value(Int.self, "SELECT count(*) FROM contact_value WHERE field_id = ?", [id]) ?? 0
            }.first
        }
    }

    private static func uses(_ db: any StoreConnection, of fields: [DataField], contacts: (Int64) throws -> Int) throws -> [FieldUse] {
        let users = try fieldUsers(db)
        let profiles = Dictionary(
            try db.rows("SELECT optin_field_id, name FROM profile").map { ($0["optin_field_id"] as Int64, $0["name"] as String) },
            uniquingKeysWith: { a, _ in a })
        return try fields.map {
            FieldUse(
                field: $0, contacts: try contacts($0.id), programs: Set((users[$0.name.uppercased()] ?? []).map(\.program)).sorted(),
                profile: profiles[$0.id])
        }
    }

    /// Deletes a text field and every contact's value of it, refused (changing nothing) while a
    /// node's message or a template in use names it, or when it is a profile's opt-in field.
    /// Returns how many contacts' values went with it.
    @discardableResult
    public func deleteField(_ name: String) throws -> Int {
        try database.transaction { db in
            guard let row = try db.row("SELECT id, name, kind FROM data_field WHERE name = ?", [name.uppercased()]) else {
                throw DomainError("no data field named \(Display.quoted(name))")
            }
            let fieldName: String = row["name"]
            if (row["kind"] as String) == "optin" {
                let profile = try db.value(String.self, "SELECT name FROM profile WHERE optin_field_id = ?", [row["id"] as Int64])
                throw DomainError(
                    "\(fieldName) is the opt-in field of profile \(Display.quoted(profile ?? "?")): it goes when the profile is deleted")
            }
            let users = try Self.fieldUsers(db)[fieldName.uppercased()] ?? []
            let messages = Set(users.filter { $0.template == nil }.map(\.program)).sorted()
            if !messages.isEmpty {
                let list = messages.map { Display.quoted($0) }.joined(separator: ", ")
                throw DomainError(
                    "\(fieldName) is used by the message of \(messages.count == 1 ? "program" : "programs") \(list): change the message first"
                )
            }
            if let user = users.sorted(by: { ($0.program, $0.template ?? "") < ($1.program, $1.template ?? "") }).first {
                throw DomainError(
                    "\(fieldName) is used by template \(user.template ?? "") of program \(Display.quoted(user.program)), which runs send until a newer version is approved"
                )
            }
            let values =
                try db.value(Int.self, "SELECT count(*) FROM contact_value WHERE field_id = ?", [row["id"] as Int64]) ?? 0
            try db.exec("DELETE FROM data_field WHERE id = ?", [row["id"] as Int64])
            return values
        }
    }

    /// What names a field: a program's node's message, or a template Meta may send for it.
    struct FieldUser: Hashable {
        let program: String
        /// Nil for the node's message; else the template's name (one a run sends, or a newer one
        /// pending review, which will be).
        let template: String?
    }

    /// Field name → what names it: each node's message, and each node's templates from the one a
    /// run sends (the newest approved) on, while approved, pending or paused. An older approved
    /// version, superseded, names nothing a run could use.
    static func fieldUsers(_ db: any StoreConnection) throws -> [String: Set<FieldUser>] {
        var users: [String: Set<FieldUser>] = [:]
        let rows = try db.rows(
            """
            SELECT program.name AS program, NULL AS template, node.message FROM node
            JOIN program ON program.id = node.program_id WHERE node.message <> ''
            UNION ALL
            SELECT program.name, t.name, t.message FROM message_template t
            JOIN node ON node.id = t.node_id JOIN program ON program.id = node.program_id
            WHERE t.status IN ('APPROVED', 'PENDING', 'PAUSED')
              AND t.version >= COALESCE(
                  (SELECT max(version) FROM message_template a WHERE a.node_id = t.node_id AND a.status = 'APPROVED'), 0)
            """)
        for row in rows {
            // A message that no longer parses names no field a run could use.
            guard let template = try? MessageTemplate(row["message"] as String) else { continue }
            for name in template.fieldNames {
                users[name, default: []].insert(FieldUser(program: row["program"], template: row["template"]))
            }
        }
        return users
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
        try database.snapshot { db in
            let next =
                forward
                ? try db.value(Int64.self, "SELECT id FROM contact WHERE id > ? ORDER BY id LIMIT 1", [id ?? 0])
                    ?? db.value(Int64.self, "SELECT id FROM contact ORDER BY id LIMIT 1")
                : try db.value(Int64.self, "SELECT id FROM contact WHERE id < ? ORDER BY id DESC LIMIT 1", [id ?? Int64.max])
                    ?? db.value(Int64.self, "SELECT id FROM contact ORDER BY id DESC LIMIT 1")
            guard let next, let email = try db.value(String.self, "SELECT email FROM contact WHERE id = ?", [next]) else {
                return nil
            }
            var values: [String: String] = [:]
            for row in try db.rows(
                """
                SELECT data_field.name, contact_value.value FROM contact_value
                JOIN data_field ON data_field.id = contact_value.field_id WHERE contact_value.contact_id = ?
                """, [next])
            {
                values[(row["name"] as String).uppercased()] = row["value"]
            }
            let optedIn = optInField.map { !(values[$0.uppercased()] ?? "").isEmpty } ?? false
            return SampleContact(id: next, email: email, values: values, optedIn: optedIn)
        }
    }
}
