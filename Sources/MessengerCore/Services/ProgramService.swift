import Foundation
import GRDB

public enum ProgramStatus: String, Sendable, Codable, CaseIterable {
    case draft, active, paused
}

public struct ProgramSummary: Equatable, Sendable {
    public let id: Int64
    public let name: String
    public let status: ProgramStatus
    public let profile: String?
    public let profileEnabled: Bool?
    public let tag: String?
    public let message: String
    public let enrolled: Int
    public let lastRunAt: Int64?
}

/// What the composer and `programs node` learn of a message before it is saved (R5, R7).
public struct MessageCheck: Equatable, Sendable {
    public let flags: [PolicyFlag]
    /// Fields written `@NAME@` that no data field has.
    public let unknownFields: [String]
    /// Characters of the template, and of the message personalised with the fields' defaults.
    public let templateLength: Int
    public let previewLength: Int
}

public struct ProgramService: Sendable {
    let workspace: Workspace
    var database: AppDatabase { workspace.database }

    @discardableResult
    public func create(name rawName: String) throws -> ProgramSummary {
        let name = try ProfileName(rawName, what: "program name")
        try database.write { db in
            if let other = try String.fetchOne(db, sql: "SELECT name FROM program WHERE name_key = ?", arguments: [name.key]) {
                throw DomainError("a program named \(Display.quoted(other)) already exists")
            }
            try db.execute(sql: "INSERT INTO program (name, name_key, status, created_at) VALUES (?, ?, 'draft', ?)",
                           arguments: [name.value, name.key, workspace.clock.nowMillis()])
        }
        return try summary(named: name.value)
    }

    public func list() throws -> [ProgramSummary] {
        try database.read { db in
            try Row.fetchAll(db, sql: Self.summarySQL + " ORDER BY program.name_key").map(Self.summary)
        }
    }

    public func summary(named name: String) throws -> ProgramSummary {
        try database.read { db in
            let id = try Self.id(db, named: name)
            return Self.summary(try Row.fetchOne(db, sql: Self.summarySQL + " WHERE program.id = ?", arguments: [id])!)
        }
    }

    private static let summarySQL = """
        SELECT program.id, program.name, program.status, program.last_run_at,
               profile.name AS profile_name, profile.enabled AS profile_enabled, node.tag,
               COALESCE(node.message, '') AS message,
               program.enrolled
        FROM program
        LEFT JOIN node ON node.program_id = program.id AND node.position = 1
        LEFT JOIN profile ON profile.id = node.profile_id
        """

    static func summary(_ row: Row) -> ProgramSummary {
        ProgramSummary(
            id: row["id"], name: row["name"], status: ProgramStatus(rawValue: row["status"]) ?? .draft,
            profile: row["profile_name"], profileEnabled: row["profile_enabled"], tag: row["tag"],
            message: row["message"], enrolled: row["enrolled"], lastRunAt: row["last_run_at"])
    }

    static func id(_ db: Database, named name: String) throws -> Int64 {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM program WHERE name_key = ?",
                                          arguments: [ProfileName.key(name.trimmingCharacters(in: .whitespacesAndNewlines))]) else {
            throw DomainError("no program named \(Display.quoted(name))")
        }
        return id
    }

    // MARK: Status

    /// Activation needs a Messenger node with an Enabled profile, a current tag and a message.
    public func activate(name: String) throws {
        try database.write { db in
            let id = try Self.id(db, named: name)
            let row = try Row.fetchOne(db, sql: Self.summarySQL + " WHERE program.id = ?", arguments: [id])!
            let program = Self.summary(row)
            guard let profile = program.profile else {
                throw DomainError("program \(Display.quoted(program.name)) has no Messenger node profile: set one with `programs node`")
            }
            if program.profileEnabled != true {
                throw DomainError("program \(Display.quoted(program.name)) can't be activated: its profile \(Display.quoted(profile)) is disabled")
            }
            guard let tagName = program.tag else {
                throw DomainError("program \(Display.quoted(program.name)) can't be activated: its Messenger node has no tag")
            }
            if let note = try String.fetchOne(db, sql: "SELECT retired_note FROM message_tag WHERE name = ?", arguments: [tagName]) {
                throw DomainError("program \(Display.quoted(program.name)) can't be activated: tag \(tagName) is retired (\(note))")
            }
            if program.message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw DomainError("program \(Display.quoted(program.name)) can't be activated: its Messenger node has no message")
            }
            try db.execute(sql: "UPDATE program SET status = 'active' WHERE id = ?", arguments: [id])
        }
    }

    public func pause(name: String) throws {
        try database.write { db in
            let id = try Self.id(db, named: name)
            let status = try String.fetchOne(db, sql: "SELECT status FROM program WHERE id = ?", arguments: [id])
            guard status == "active" else {
                throw DomainError("program \(Display.quoted(name)) is \(status ?? "?"); only an active program can be paused")
            }
            try db.execute(sql: "UPDATE program SET status = 'paused' WHERE id = ?", arguments: [id])
        }
    }

    // MARK: The Messenger node (R5, R7, R10)

    public func tags() throws -> [MessageTag] {
        try database.read { db in try Self.tags(db) }
    }

    static func tags(_ db: Database) throws -> [MessageTag] {
        try Row.fetchAll(db, sql: "SELECT * FROM message_tag ORDER BY name").map(Self.tag)
    }

    static func tag(_ row: Row) -> MessageTag {
        MessageTag(name: row["name"], apiName: row["api_name"], allows: row["allows"], example: row["example"],
                   contextWords: (row["context_words"] as String).split(separator: ",").map(String.init),
                   retiredNote: row["retired_note"])
    }

    /// Finds a tag by its shown or sent name, ignoring case.
    static func tag(_ db: Database, named name: String) throws -> MessageTag {
        let all = try tags(db)
        guard let tag = all.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame || $0.apiName.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw DomainError("unknown tag \(Display.quoted(name)); use one of " + all.filter { !$0.isRetired }.map(\.name).joined(separator: ", "))
        }
        return tag
    }

    /// Marks a tag retired (Meta has been retiring tags); nodes that use it can't be activated.
    public func retireTag(_ name: String, note: String) throws {
        try database.write { db in
            let tag = try Self.tag(db, named: name)
            try db.execute(sql: "UPDATE message_tag SET retired_note = ? WHERE name = ?", arguments: [note, tag.name])
        }
    }

    /// The checks the composer shows live; refusals (a bad template) throw.
    public func check(message: String, tag tagName: String) throws -> MessageCheck {
        try database.read { db in try Self.check(db, message: message, tag: try Self.tag(db, named: tagName)) }
    }

    static func check(_ db: Database, message: String, tag: MessageTag) throws -> MessageCheck {
        _ = try MessageTemplate(message) // a malformed template is refused, not just flagged
        return check(message: message, tag: tag, allTags: try tags(db), fields: try ContactService.fields(db), sample: nil).check
    }

    /// Sets the program's Messenger node. Only an Enabled profile can be picked; a Disabled one
    /// already on the node may be kept. A flagged message needs `acceptFlags` (R7).
    public func setNode(program programName: String, profile profileName: String, tag tagName: String,
                        message: String, acceptFlags: Bool) throws -> MessageCheck {
        try database.write { db in
            let programID = try Self.id(db, named: programName)
            let profileID = try ProfileService.id(db, named: profileName)
            let node = try Row.fetchOne(db, sql: "SELECT profile_id, tag FROM node WHERE program_id = ? AND position = 1", arguments: [programID])
            let enabled = try Bool.fetchOne(db, sql: "SELECT enabled FROM profile WHERE id = ?", arguments: [profileID]) ?? false
            if !enabled && (node?["profile_id"] as Int64?) != profileID {
                throw DomainError("profile \(Display.quoted(profileName)) is disabled; only Enabled profiles can be picked for a Messenger node")
            }
            let tag = try Self.tag(db, named: tagName)
            if let note = tag.retiredNote, (node?["tag"] as String?) != tag.name {
                throw DomainError("tag \(tag.name) is retired and can't be picked: \(note)")
            }
            if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw DomainError("message is empty")
            }
            let check = try Self.check(db, message: message, tag: tag)
            if !check.unknownFields.isEmpty {
                throw DomainError("message uses unknown data field\(check.unknownFields.count > 1 ? "s" : "") " + check.unknownFields.map { "@\($0)@" }.joined(separator: ", "))
            }
            if check.previewLength > MessageTemplate.maxLength {
                throw DomainError("message is \(check.previewLength) characters after personalisation; the limit is \(MessageTemplate.maxLength)")
            }
            if !check.flags.isEmpty && !acceptFlags {
                throw DomainError("message is flagged: " + Self.describe(check.flags) + "; confirm with --confirm-flags to save it anyway")
            }
            try db.execute(sql: """
                INSERT INTO node (program_id, position, kind, profile_id, tag, message) VALUES (?, 1, 'messenger', ?, ?, ?)
                ON CONFLICT (program_id, position) DO UPDATE SET
                    profile_id = excluded.profile_id, tag = excluded.tag, message = excluded.message
                """, arguments: [programID, profileID, tag.name, message])
            return check
        }
    }

    public static func describe(_ flags: [PolicyFlag]) -> String {
        flags.map { flag in
            flag.words.isEmpty ? flag.explanation : "\(flag.explanation) (\(flag.words.joined(separator: ", ")))"
        }.joined(separator: "; ")
    }
}

/// What the Messenger-node editor needs to open: the node, the pickers' choices, the fields.
public struct NodeEditorData: Equatable, Sendable {
    public let program: ProgramSummary
    /// Every profile with whether it is Enabled (only those can be picked, R5/R10).
    public let profiles: [(name: String, enabled: Bool, optInField: String)]
    public let tags: [MessageTag]
    public let fields: [DataField]

    public static func == (a: NodeEditorData, b: NodeEditorData) -> Bool {
        a.program == b.program && a.tags == b.tags && a.fields == b.fields
            && a.profiles.map(\.name) == b.profiles.map(\.name) && a.profiles.map(\.enabled) == b.profiles.map(\.enabled)
    }
}

extension ProgramService {
    public func editorData(program name: String) throws -> NodeEditorData {
        let program = try summary(named: name)
        return try database.read { db in
            let profiles = try Row.fetchAll(db, sql: """
                SELECT profile.name, profile.enabled, data_field.name AS field FROM profile
                JOIN data_field ON data_field.id = profile.optin_field_id ORDER BY profile.name_key
                """).map { (name: $0["name"] as String, enabled: $0["enabled"] as Bool, optInField: $0["field"] as String) }
            return NodeEditorData(program: program, profiles: profiles, tags: try Self.tags(db), fields: try ContactService.fields(db))
        }
    }

    /// The checks of `setNode`, computed without the database, for the composer to show live.
    public static func check(message: String, tag: MessageTag, allTags: [MessageTag], fields: [DataField],
                             sample: SampleContact?) -> (check: MessageCheck, preview: String?, templateError: String?) {
        let template: MessageTemplate
        do {
            template = try MessageTemplate(message)
        } catch {
            return (MessageCheck(flags: PolicyCheck.check(message: message, tag: tag, allTags: allTags), unknownFields: [],
                                 templateLength: message.count, previewLength: message.count), nil, "\(error)")
        }
        let byName = Dictionary(fields.map { ($0.name.uppercased(), $0) }, uniquingKeysWith: { a, _ in a })
        let preview = template.personalise(values: { sample?.values[$0] }, defaults: { byName[$0]?.defaultValue ?? "" })
        let check = MessageCheck(flags: PolicyCheck.check(message: message, tag: tag, allTags: allTags),
                                 unknownFields: template.fieldNames.filter { byName[$0] == nil },
                                 templateLength: message.count, previewLength: preview.count)
        return (check, preview, nil)
    }
}
