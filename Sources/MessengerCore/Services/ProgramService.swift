import Foundation
import GRDB

public enum ProgramStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case draft, active, paused
}

/// How a Messenger node's message goes out: with a message tag (R5, retired by Meta on
/// 2026-04-27) or as a utility template (R13).
public enum NodeKind: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case tag
    case utility
}

/// One submitted version of a node's utility template.
public struct TemplateVersion: Equatable, Sendable {
    public let name: String
    public let language: String
    public let version: Int
    public let status: TemplateStatus
    /// Meta's rejection reason (or why it was paused or disabled).
    public let reason: String?
    /// The `@FIELD@` text it was made from.
    public let message: String

    public init(name: String, language: String, version: Int, status: TemplateStatus, reason: String?, message: String) {
        self.name = name
        self.language = language
        self.version = version
        self.status = status
        self.reason = reason
        self.message = message
    }

    /// "order_updates_v2 REJECTED (INCORRECT_PARAMS: …)".
    public var described: String {
        "\(name) \(status.rawValue)" + (reason.map { " (\(UtilityRules.explain($0)))" } ?? "")
    }
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
    public var kind: NodeKind = .tag
    /// "retired 2026-04-27" when the node's tag is retired today (R12).
    public var tagRetired: String?
    /// The newest version submitted, and the newest APPROVED one: the one that sends.
    public var latestTemplate: TemplateVersion?
    public var sendingTemplate: TemplateVersion?
    /// When `serve` runs it by itself, and when next (#25).
    public var schedule: ProgramSchedule?
    public var nextRunAt: Int64?

    public init(
        id: Int64, name: String, status: ProgramStatus, profile: String?, profileEnabled: Bool?, tag: String?,
        message: String, enrolled: Int, lastRunAt: Int64?, kind: NodeKind = .tag, tagRetired: String? = nil,
        latestTemplate: TemplateVersion? = nil, sendingTemplate: TemplateVersion? = nil
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.profile = profile
        self.profileEnabled = profileEnabled
        self.tag = tag
        self.message = message
        self.enrolled = enrolled
        self.lastRunAt = lastRunAt
        self.kind = kind
        self.tagRetired = tagRetired
        self.latestTemplate = latestTemplate
        self.sendingTemplate = sendingTemplate
    }

    /// One short phrase for lists: "utility · APPROVED", "⚑ Post_purchase_update retired 2026-04-27".
    public var sendsAs: String {
        switch kind {
        case .utility:
            guard let latest = latestTemplate else { return "utility · not submitted" }
            if latest.status != .approved, let sending = sendingTemplate {
                return "utility v\(latest.version) \(latest.status.rawValue) (v\(sending.version) sends)"
            }
            return "utility v\(latest.version) \(latest.status.rawValue)"
        case .tag:
            guard let tag else { return "-" }
            return tagRetired.map { "⚑ \(tag) \($0)" } ?? tag
        }
    }
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
        try database.transaction { db in
            if let other = try db.value(String.self, "SELECT name FROM program WHERE name_key = ?", [name.key]) {
                throw DomainError("a program named \(Display.quoted(other)) already exists")
            }
            try db.exec(
                "INSERT INTO program (name, name_key, status, created_at) VALUES (?, ?, 'draft', ?)",
                [name.value, name.key, workspace.clock.nowMillis()])
        }
        return try summary(named: name.value)
    }

    public func list() throws -> [ProgramSummary] {
        let today = workspace.today
        return try database.snapshot { db in
            try db.rows(Self.summarySQL + " ORDER BY program.name_key").map { try Self.summary(db, $0, today: today) }
        }
    }

    public func summary(named name: String) throws -> ProgramSummary {
        let today = workspace.today
        return try database.snapshot { db in try Self.summary(db, programID: try Self.id(db, named: name), today: today) }
    }

    static func summary(_ db: any StoreConnection, programID: Int64, today: DayNumber) throws -> ProgramSummary {
        try summary(db, try db.row(Self.summarySQL + " WHERE program.id = ?", [programID])!, today: today)
    }

    private static let summarySQL = """
        SELECT program.id, program.name, program.status, program.last_run_at,
               profile.name AS profile_name, profile.enabled AS profile_enabled, node.tag,
               COALESCE(node.message, '') AS message, node.id AS node_id, COALESCE(node.send_as, 'tag') AS send_as,
               message_tag.retired_note, message_tag.retired_on,
               program.enrolled, program_schedule.kind AS schedule_kind, program_schedule.minutes AS schedule_minutes,
               program_schedule.next_at AS schedule_next_at
        FROM program
        LEFT JOIN program_schedule ON program_schedule.program_id = program.id
        LEFT JOIN node ON node.program_id = program.id AND node.position = 1
        LEFT JOIN profile ON profile.id = node.profile_id
        LEFT JOIN message_tag ON message_tag.name = node.tag
        """

    static func summary(_ db: any StoreConnection, _ row: StoreRow, today: DayNumber) throws -> ProgramSummary {
        let kind = NodeKind(rawValue: row["send_as"]) ?? .tag
        var retired: String?
        let note: String? = row["retired_note"]
        let retiredOn = Self.retiredDay(row["retired_on"])
        if kind == .tag, (row["tag"] as String?) != nil, MessageTag.isRetired(note: note, on: retiredOn, day: today) {
            retired = MessageTag.state(note: note, on: retiredOn, day: today)
        }
        var latest: TemplateVersion?
        var sending: TemplateVersion?
        if let nodeID: Int64 = row["node_id"] {
            latest = try TemplateService.latest(db, nodeID: nodeID)
            sending = latest?.status == .approved ? latest : try TemplateService.sending(db, nodeID: nodeID)
        }
        var summary = ProgramSummary(
            id: row["id"], name: row["name"], status: ProgramStatus(rawValue: row["status"]) ?? .draft,
            profile: row["profile_name"], profileEnabled: row["profile_enabled"], tag: kind == .tag ? row["tag"] : nil,
            message: row["message"], enrolled: row["enrolled"], lastRunAt: row["last_run_at"],
            kind: kind, tagRetired: retired, latestTemplate: latest, sendingTemplate: sending)
        if let kind: String = row["schedule_kind"], let minutes: Int = row["schedule_minutes"] {
            summary.schedule = ProgramSchedule(kind: kind, minutes: minutes)
            summary.nextRunAt = row["schedule_next_at"]
        }
        return summary
    }

    static func retiredDay(_ text: String?) -> DayNumber? {
        text.flatMap { AccountCalendar(timeZone: .gmt).parseDay($0) }
    }

    static func id(_ db: any StoreConnection, named name: String) throws -> Int64 {
        guard
            let id = try db.value(
                Int64.self, "SELECT id FROM program WHERE name_key = ?",
                [ProfileName.key(name.trimmingCharacters(in: .whitespacesAndNewlines))])
        else {
            throw DomainError("no program named \(Display.quoted(name))")
        }
        return id
    }

    // MARK: Status

    /// Activation needs a Messenger node with an Enabled profile, a message, and a tag that is
    /// not retired today (R12) or an APPROVED utility template (R13).
    public func activate(name: String) throws {
        let today = workspace.today
        try database.transaction { db in
            let id = try Self.id(db, named: name)
            let program = try Self.summary(db, programID: id, today: today)
            guard let profile = program.profile else {
                throw DomainError("program \(Display.quoted(program.name)) has no Messenger node profile: set one with `programs node`")
            }
            if program.profileEnabled != true {
                throw DomainError(
                    "program \(Display.quoted(program.name)) can't be activated: its profile \(Display.quoted(profile)) is disabled")
            }
            try Self.requireSendable(program, doing: "activated")
            if program.message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw DomainError("program \(Display.quoted(program.name)) can't be activated: its Messenger node has no message")
            }
            try db.exec("UPDATE program SET status = 'active' WHERE id = ?", [id])
        }
    }

    /// Why a program's node can't send today, as one line naming the fix: a retired tag (the tag,
    /// the date and the command that converts it) or a utility template that is not approved.
    static func requireSendable(_ program: ProgramSummary, doing: String) throws {
        let name = Display.quoted(program.name)
        switch program.kind {
        case .tag:
            guard let tag = program.tag else {
                throw DomainError("program \(name) can't be \(doing): its Messenger node has no tag")
            }
            if let retired = program.tagRetired {
                let why = "program \(name) can't be \(doing): its tag \(tag) was \(retired) by Meta; convert it to a utility template"
                throw DomainError(
                    why + " with `messenger-dash programs convert \(Self.shellQuoted(program.name))`",
                    inDashboard: why + ": Enter opens its node, u converts it")
            }
        case .utility:
            guard program.sendingTemplate == nil else { return }
            guard let latest = program.latestTemplate else {
                throw DomainError("program \(name) can't be \(doing): its utility template was never submitted; save the node again")
            }
            switch latest.status {
            case .pending:
                throw DomainError(
                    "program \(name) can't be \(doing): its utility template \(latest.name) is PENDING at Meta; check with `messenger-dash programs templates refresh`"
                )
            default:
                throw DomainError(
                    "program \(name) can't be \(doing): its utility template \(latest.described); change the message and save it again")
            }
        }
    }

    /// A program name as one shell word, for the commands our messages suggest.
    static func shellQuoted(_ name: String) -> String {
        name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
            ? name : "'" + name.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public func pause(name: String) throws {
        try database.transaction { db in
            let id = try Self.id(db, named: name)
            let status = try db.value(String.self, "SELECT status FROM program WHERE id = ?", [id])
            guard status == "active" else {
                throw DomainError("program \(Display.quoted(name)) is \(status ?? "?"); only an active program can be paused")
            }
            try db.exec("UPDATE program SET status = 'paused' WHERE id = ?", [id])
        }
    }

    // MARK: The Messenger node (R5, R7, R10)

    public func tags() throws -> [MessageTag] {
        try database.snapshot { db in try Self.tags(db) }
    }

    static func tags(_ db: any StoreConnection) throws -> [MessageTag] {
        try db.rows("SELECT * FROM message_tag ORDER BY name").map(Self.tag)
    }

    static func tag(_ row: StoreRow) -> MessageTag {
        MessageTag(
            name: row["name"], apiName: row["api_name"], allows: row["allows"], example: row["example"],
            contextWords: (row["context_words"] as String).split(separator: ",").map(String.init),
            retiredNote: row["retired_note"], retiredOn: retiredDay(row["retired_on"]))
    }

    /// Finds a tag by its shown or sent name, ignoring case.
    static func tag(_ db: any StoreConnection, named name: String, today: DayNumber) throws -> MessageTag {
        let all = try tags(db)
        guard
            let tag = all.first(where: {
                $0.name.caseInsensitiveCompare(name) == .orderedSame || $0.apiName.caseInsensitiveCompare(name) == .orderedSame
            })
        else {
            let current = all.filter { !$0.isRetired(on: today) }.map(\.name)
            throw DomainError(
                "unknown tag \(Display.quoted(name)); "
                    + (current.isEmpty
                        ? "every tag is retired: send a utility template (`--utility`)"
                        : "use one of " + current.joined(separator: ", ")))
        }
        return tag
    }

    /// Marks a tag retired (Meta has been retiring tags); nodes that use it can't be activated.
    public func retireTag(_ name: String, note: String) throws {
        let today = workspace.today
        try database.transaction { db in
            let tag = try Self.tag(db, named: name, today: today)
            try db.exec("UPDATE message_tag SET retired_note = ?, retired_on = NULL WHERE name = ?", [note, tag.name])
        }
    }

    /// The checks the composer shows live; refusals (a bad template) throw.
    public func check(message: String, tag tagName: String) throws -> MessageCheck {
        let today = workspace.today
        return try database.snapshot { db in try Self.check(db, message: message, tag: try Self.tag(db, named: tagName, today: today)) }
    }

    static func check(_ db: any StoreConnection, message: String, tag: MessageTag) throws -> MessageCheck {
        _ = try MessageTemplate(message)  // a malformed template is refused, not just flagged
        return check(message: message, tag: tag, allTags: try tags(db), fields: try ContactService.fields(db), sample: nil).check
    }

    /// Sets the program's Messenger node with a tag (R5). Only an Enabled profile can be picked; a
    /// Disabled one already on the node may be kept. A flagged message needs `acceptFlags` (R7).
    /// From the day a tag retires it can't be newly picked (R12).
    public func setNode(
        program programName: String, profile profileName: String, tag tagName: String,
        message: String, acceptFlags: Bool
    ) throws -> MessageCheck {
        let today = workspace.today
        return try database.transaction { db in
            let target = try Self.nodeTarget(db, program: programName, profile: profileName)
            let tag = try Self.tag(db, named: tagName, today: today)
            if tag.isRetired(on: today), target.node?.tag != tag.name || target.node?.kind != .tag {
                throw DomainError("tag \(tag.name) can't be picked: \(tag.retiredNote ?? "retired")")
            }
            let check = try Self.check(db, message: message, tag: tag)
            try Self.requireValid(check, message: message, acceptFlags: acceptFlags)
            try db.exec(
                """
                INSERT INTO node (program_id, position, kind, profile_id, tag, message, send_as) VALUES (?, 1, 'messenger', ?, ?, ?, 'tag')
                ON CONFLICT (program_id, position) DO UPDATE SET
                    profile_id = excluded.profile_id, tag = excluded.tag, message = excluded.message, send_as = 'tag', language = NULL
                """, [target.programID, target.profileID, tag.name, message])
            return check
        }
    }

    /// Sets the program's Messenger node as a utility template (R13): the `@FIELD@` text becomes a
    /// page message template with NAMED parameters, checked against Meta's rules (flags need
    /// `acceptFlags`), submitted and tracked. An unchanged text keeps its template; a changed one is
    /// a new version (an approved template is never edited), and the last approved one sends
    /// until the new one is approved.
    @discardableResult
    public func setUtilityNode(
        program programName: String, profile profileName: String, language: String = "en_US",
        message: String, acceptFlags: Bool
    ) throws -> UtilityNodeResult {
        try UtilityTemplateDraft.validateLanguage(language)
        let now = workspace.clock.nowMillis()
        // Checked and drafted in a read; submitted to Meta outside any transaction (the network);
        // recorded in a write that checks again that nobody changed the node meanwhile.
        let plan = try database.snapshot { db in
            try TemplateService.plan(db, program: programName, profile: profileName, language: language, message: message)
        }
        try Self.requireValid(plan.check, message: message, acceptFlags: acceptFlags)
        var review: TemplateReview?
        if let draft = plan.draft {
            review = try workspace.templates.submit(draft, pageID: plan.pageID, pageToken: plan.pageToken)
        }
        try database.transaction { db in
            let target = try Self.nodeTarget(db, program: programName, profile: profileName)
            let latest = try target.node.map { try TemplateService.latest(db, nodeID: $0.id) } ?? nil
            if latest?.version != plan.latestVersion {
                throw DomainError("the node of \(Display.quoted(programName)) changed while its template was submitted; save it again")
            }
            try db.exec(
                """
                INSERT INTO node (program_id, position, kind, profile_id, tag, message, send_as, language) VALUES (?, 1, 'messenger', ?, NULL, ?, 'utility', ?)
                ON CONFLICT (program_id, position) DO UPDATE SET
                    profile_id = excluded.profile_id, tag = NULL, message = excluded.message, send_as = 'utility', language = excluded.language
                """, [target.programID, target.profileID, message, language])
            if let draft = plan.draft, let review {
                let nodeID = try db.value(Int64.self, "SELECT id FROM node WHERE program_id = ? AND position = 1", [target.programID])!
                try db.exec(
                    """
                    INSERT INTO message_template (node_id, page_id, name, language, version, message, body, graph_id, status, reason, submitted_at, status_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        nodeID, plan.pageID, draft.name, draft.language, plan.version, message, draft.body,
                        review.graphID, review.status, review.reason, now, now,
                    ])
            }
        }
        let summary = try summary(named: programName)
        return UtilityNodeResult(
            check: plan.check, submitted: plan.draft != nil, latest: summary.latestTemplate, sending: summary.sendingTemplate)
    }

    /// A tagged node becomes a utility template in one step, keeping its profile and text (R13).
    @discardableResult
    public func convert(program programName: String, language: String = "en_US", acceptFlags: Bool) throws -> UtilityNodeResult {
        let program = try summary(named: programName)
        guard let profile = program.profile, !program.message.isEmpty else {
            throw DomainError(
                "program \(Display.quoted(program.name)) has no Messenger node to convert: set one with `programs node --utility`")
        }
        guard program.kind == .tag else {
            throw DomainError("program \(Display.quoted(program.name)) already sends a utility template")
        }
        return try setUtilityNode(
            program: program.name, profile: profile, language: language, message: program.message, acceptFlags: acceptFlags)
    }

    /// The program, the profile it may pick (R5, R10) and the node as it is.
    static func nodeTarget(_ db: any StoreConnection, program programName: String, profile profileName: String) throws
        -> (programID: Int64, profileID: Int64, node: (id: Int64, profileID: Int64?, tag: String?, kind: NodeKind)?)
    {
        let programID = try Self.id(db, named: programName)
        let profileID = try ProfileService.id(db, named: profileName)
        let node = try db.row(
            "SELECT id, profile_id, tag, send_as FROM node WHERE program_id = ? AND position = 1", [programID]
        )
        .map {
            (
                id: $0["id"] as Int64, profileID: $0["profile_id"] as Int64?, tag: $0["tag"] as String?,
                kind: NodeKind(rawValue: $0["send_as"]) ?? .tag
            )
        }
        let enabled = try db.value(Bool.self, "SELECT enabled FROM profile WHERE id = ?", [profileID]) ?? false
        if !enabled && node?.profileID != profileID {
            throw DomainError(
                "profile \(Display.quoted(profileName)) is disabled; only Enabled profiles can be picked for a Messenger node")
        }
        return (programID, profileID, node)
    }

    /// The refusals every node shares: empty, unknown fields, too long, flagged without consent.
    static func requireValid(_ check: MessageCheck, message: String, acceptFlags: Bool) throws {
        if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw DomainError("message is empty")
        }
        if !check.unknownFields.isEmpty {
            throw DomainError(
                "message uses unknown data field\(check.unknownFields.count > 1 ? "s" : "") "
                    + check.unknownFields.map { "@\($0)@" }.joined(separator: ", "))
        }
        if check.previewLength > MessageTemplate.maxLength {
            throw DomainError(
                "message is \(check.previewLength) characters after personalisation; the limit is \(MessageTemplate.maxLength)")
        }
        if !check.flags.isEmpty && !acceptFlags {
            throw DomainError("message is flagged: " + Self.describe(check.flags) + "; confirm with --confirm-flags to save it anyway")
        }
    }

    public static func describe(_ flags: [PolicyFlag]) -> String {
        flags.map { flag in
            (flag.words.isEmpty ? flag.explanation : "\(flag.explanation) (\(flag.words.joined(separator: ", ")))")
                + (flag.fix.map { ": \($0)" } ?? "")
        }.joined(separator: "; ")
    }
}

/// What the Messenger-node editor needs to open: the node, the pickers' choices, the fields.
public struct NodeEditorData: Equatable, Sendable {
    public var program: ProgramSummary
    /// Every profile with whether it is Enabled (only those can be picked, R5/R10).
    public let profiles: [(name: String, enabled: Bool, optInField: String)]
    public let tags: [MessageTag]
    public let fields: [DataField]
    /// Today in the account's calendar: which tags are retired (R12).
    public var today = DayNumber(0)
    /// Examples for the template's parameters, by field: a real contact's value (R13).
    public var examples: [String: String] = [:]

    public init(
        program: ProgramSummary, profiles: [(name: String, enabled: Bool, optInField: String)], tags: [MessageTag],
        fields: [DataField], today: DayNumber = DayNumber(0), examples: [String: String] = [:]
    ) {
        self.program = program
        self.profiles = profiles
        self.tags = tags
        self.fields = fields
        self.today = today
        self.examples = examples
    }

    public static func == (a: NodeEditorData, b: NodeEditorData) -> Bool {
        a.program == b.program && a.tags == b.tags && a.fields == b.fields && a.today == b.today && a.examples == b.examples
            && a.profiles.map(\.name) == b.profiles.map(\.name) && a.profiles.map(\.enabled) == b.profiles.map(\.enabled)
    }
}

extension ProgramService {
    public func editorData(program name: String) throws -> NodeEditorData {
        let program = try summary(named: name)
        return try database.snapshot { db in
            let profiles = try db.rows(
                """
                SELECT profile.name, profile.enabled, data_field.name AS field FROM profile
                JOIN data_field ON data_field.id = profile.optin_field_id ORDER BY profile.name_key
                """
            ).map { (name: $0["name"] as String, enabled: $0["enabled"] as Bool, optInField: $0["field"] as String) }
            let fields = try ContactService.fields(db)
            return NodeEditorData(
                program: program, profiles: profiles, tags: try Self.tags(db), fields: fields, today: workspace.today,
                examples: try TemplateService.examples(db))
        }
    }

    /// The checks of `setNode`, computed without the database, for the composer to show live.
    public static func check(
        message: String, tag: MessageTag, allTags: [MessageTag], fields: [DataField],
        sample: SampleContact?
    ) -> (check: MessageCheck, preview: String?, templateError: String?) {
        let template: MessageTemplate
        do {
            template = try MessageTemplate(message)
        } catch {
            return (
                MessageCheck(
                    flags: PolicyCheck.check(message: message, tag: tag, allTags: allTags), unknownFields: [],
                    templateLength: message.count, previewLength: message.count), nil, "\(error)"
            )
        }
        let byName = Dictionary(fields.map { ($0.name.uppercased(), $0) }, uniquingKeysWith: { a, _ in a })
        let preview = template.personalise(values: { sample?.values[$0] }, defaults: { byName[$0]?.defaultValue ?? "" })
        let check = MessageCheck(
            flags: PolicyCheck.check(message: message, tag: tag, allTags: allTags),
            unknownFields: template.fieldNames.filter { byName[$0] == nil },
            templateLength: message.count, previewLength: preview.count)
        return (check, preview, nil)
    }

    /// The checks of `setUtilityNode`, without the database: Meta's template rules (R13) with
    /// examples from `examples` (a real contact's values) or the fields' defaults.
    public static func checkUtility(
        message: String, fields: [DataField], examples: [String: String],
        sample: SampleContact?
    ) -> (check: MessageCheck, preview: String?, templateError: String?) {
        let template: MessageTemplate
        do {
            template = try MessageTemplate(message)
        } catch {
            return (
                MessageCheck(flags: [], unknownFields: [], templateLength: message.count, previewLength: message.count), nil, "\(error)"
            )
        }
        let byName = Dictionary(fields.map { ($0.name.uppercased(), $0) }, uniquingKeysWith: { a, _ in a })
        let preview = template.personalise(values: { sample?.values[$0] }, defaults: { byName[$0]?.defaultValue ?? "" })
        let draft = UtilityTemplateDraft(
            message: template, name: "preview", language: "en_US",
            examples: TemplateService.exampleValues(template, examples: examples, fields: byName))
        let check = MessageCheck(
            flags: UtilityRules.check(draft), unknownFields: template.fieldNames.filter { byName[$0] == nil },
            templateLength: message.count, previewLength: preview.count)
        return (check, preview, nil)
    }
}

/// What saving a utility node did: the checks, whether a new version went to Meta, and which
/// version is newest and which one sends.
public struct UtilityNodeResult: Equatable, Sendable {
    public let check: MessageCheck
    public let submitted: Bool
    public let latest: TemplateVersion?
    public let sending: TemplateVersion?
}
