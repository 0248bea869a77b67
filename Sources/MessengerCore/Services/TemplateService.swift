import Foundation
import GRDB

public struct TemplateRefreshResult: Equatable, Sendable {
    public struct Change: Equatable, Sendable {
        public let program: String
        public let template: String
        public let from: TemplateStatus
        public let to: TemplateStatus
        public let reason: String?
    }
    /// Templates asked about (those PENDING at Meta).
    public var asked = 0
    public var changes: [Change] = []
}

public struct TemplateIngestResult: Equatable, Sendable {
    public var updated = 0
    /// Already known, or older than what is stored (a replay never goes back in time).
    public var unchanged = 0
    /// Templates this database never submitted (another tool's), and events with a status we don't act on.
    public var unknown = 0
}

/// Utility templates (R13): drafting a node's template, tracking its review through Graph or the
/// webhook's `message_template_status_update`.
public struct TemplateService: Sendable {
    let workspace: Workspace
    var database: AppDatabase { workspace.database }

    // MARK: Reading versions

    static let versionSQL = "SELECT name, language, version, status, reason, message FROM message_template"

    static func version(_ row: StoreRow) -> TemplateVersion {
        TemplateVersion(
            name: row["name"], language: row["language"], version: row["version"],
            status: row["status"], reason: row["reason"], message: row["message"])
    }

    static func latest(_ db: any StoreConnection, nodeID: Int64) throws -> TemplateVersion? {
        try db.row(versionSQL + " WHERE node_id = ? ORDER BY version DESC LIMIT 1", [nodeID]).map(version)
    }

    /// The newest APPROVED version for the node's current page: the one a run sends.
    static func sending(_ db: any StoreConnection, nodeID: Int64) throws -> TemplateVersion? {
        try db.row(
            versionSQL + """
                 WHERE node_id = ? AND status = 'APPROVED'
                   AND page_id = (SELECT profile.page_id FROM node JOIN profile ON profile.id = node.profile_id WHERE node.id = ?)
                 ORDER BY version DESC LIMIT 1
                """, [nodeID, nodeID]
        ).map(version)
    }

    // MARK: Drafting

    struct Plan {
        let check: MessageCheck
        /// Nil when the newest version already has this text, language and page: nothing to submit.
        let draft: UtilityTemplateDraft?
        let version: Int
        let latestVersion: Int?
        let pageID: String
        let pageToken: String?
    }

    static func plan(_ db: any StoreConnection, program: String, profile: String, language: String, message: String) throws -> Plan {
        let target = try ProgramService.nodeTarget(db, program: program, profile: profile)
        let template = try MessageTemplate(message)
        let fields = try ContactService.fields(db)
        let byName = Dictionary(fields.map { ($0.name.uppercased(), $0) }, uniquingKeysWith: { a, _ in a })
        let page = try db.row(
            "SELECT page.id, page.access_token FROM profile JOIN page ON page.id = profile.page_id WHERE profile.id = ?", [target.profileID]
        )!
        let pageID: String = page["id"]
        let latest =
            try target.node.map {
                try db.row(
                    "SELECT version, message, language, page_id FROM message_template WHERE node_id = ? ORDER BY version DESC LIMIT 1",
                    [$0.id])
            } ?? nil
        let latestVersion: Int? = latest?["version"]
        let unchanged =
            latest.map {
                ($0["message"] as String) == message && ($0["language"] as String) == language && ($0["page_id"] as String) == pageID
            } ?? false
        let version = unchanged ? latestVersion! : (latestVersion ?? 0) + 1
        let slug = UtilityTemplateDraft.slug(
            try db.value(String.self, "SELECT name FROM program WHERE id = ?", [target.programID]) ?? program)
        var name = "\(slug)_v\(version)"
        // Template names are unique per page and language: another program's may hold this one.
        if !unchanged,
            try db.value(
                Bool.self, "SELECT EXISTS (SELECT 1 FROM message_template WHERE page_id = ? AND name = ? AND language = ?)",
                [pageID, name, language]) == true
        {
            name = "\(slug)_\(target.programID)_v\(version)"
        }
        let examples = exampleValues(template, examples: try Self.examples(db, fields: template.fieldNames), fields: byName)
        let draft = UtilityTemplateDraft(message: template, name: name, language: language, examples: examples)
        let preview = template.personalise(values: { _ in nil }, defaults: { byName[$0]?.defaultValue ?? "" })
        let check = MessageCheck(
            flags: UtilityRules.check(draft), unknownFields: template.fieldNames.filter { byName[$0] == nil },
            templateLength: message.count, previewLength: preview.count)
        return Plan(
            check: check, draft: unchanged ? nil : draft, version: version, latestVersion: latestVersion,
            pageID: pageID, pageToken: page["access_token"])
    }

    /// A real contact's value for each text field named (or every text field, at most
    /// `ContactService.maxFields`), one line and short, as Meta's reviewers read examples. One
    /// query, bounded (#26: the node editor ran one per field, and sat on "Loading…" for 90 s over
    /// a million fields): each field looks at its first 50 non-empty values through
    /// `contact_value_by_field`, so a field whose values are all long costs 50 rows, not all of them.
    static func examples(_ db: any StoreConnection, fields: [String]? = nil) throws -> [String: String] {
        if fields?.isEmpty == true { return [:] }
        // The first 50 in the index's order (SQLite reads them so anyway; PostgreSQL's heap has no
        // order of its own). The names go in as one JSON array, so the SQL is the same text whatever they are. The
        // two engines spell "the array's elements" and "has no line break" differently.
        let names = try fields.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let (elements, oneLine) =
            db.engine == .sqlite
            ? ("SELECT value FROM json_each(?1)", "instr(value, char(10)) = 0 AND instr(value, char(13)) = 0")
            : (
                "SELECT json_array_elements_text(CAST(CAST(?1 AS text) AS json))",
                "strpos(value, chr(10)) = 0 AND strpos(value, chr(13)) = 0"
            )
        var out: [String: String] = [:]
        for row in try db.rows(
            """
            SELECT f.name, (
                SELECT value FROM (SELECT value FROM contact_value WHERE field_id = f.id AND value > '' ORDER BY value LIMIT 50) AS firsts
                WHERE \(oneLine) AND length(value) <= 100 LIMIT 1
            ) AS example
            FROM data_field f
            WHERE f.kind = 'text' AND (CAST(?1 AS text) IS NULL OR f.name IN (\(elements)))
            ORDER BY f.name LIMIT ?2
            """, [names, ContactService.maxFields])
        {
            if let example: String = row["example"] { out[(row["name"] as String).uppercased()] = example }
        }
        return out
    }

    /// Examples by field: the contact's value, else the field's default.
    static func exampleValues(_ template: MessageTemplate, examples: [String: String], fields: [String: DataField]) -> [String: String] {
        var out: [String: String] = [:]
        for field in template.fieldNames {
            out[field] = examples[field] ?? fields[field]?.defaultValue ?? ""
        }
        return out
    }

    // MARK: Review: Graph and the webhook

    /// Asks the registry for the status of every PENDING template (of one program, or all).
    public func refresh(program: String? = nil) throws -> TemplateRefreshResult {
        let pending = try database.snapshot { db -> [StoreRow] in
            var sql = """
                SELECT message_template.id, message_template.name, message_template.language, message_template.status,
                       message_template.page_id, page.access_token, program.name AS program
                FROM message_template JOIN node ON node.id = message_template.node_id JOIN program ON program.id = node.program_id
                LEFT JOIN page ON page.id = message_template.page_id
                WHERE message_template.status = 'PENDING'
                """
            var arguments: StoreArguments = []
            if let program {
                sql += " AND program.id = ?"
                arguments += [try ProgramService.id(db, named: program)]
            }
            return try db.rows(sql + " ORDER BY message_template.id", arguments)
        }
        var result = TemplateRefreshResult(asked: pending.count)
        for row in pending {
            guard
                let review = try workspace.templates.review(
                    name: row["name"], language: row["language"], pageID: row["page_id"],
                    pageToken: row["access_token"])
            else { continue }
            let now = workspace.clock.nowMillis()
            let changed = try database.transaction { db -> Bool in
                try db.exec(
                    """
                    UPDATE message_template SET status = ?, reason = ?, graph_id = COALESCE(?, graph_id), status_at = ?
                    WHERE id = ? AND (status <> ? OR COALESCE(reason, '') <> COALESCE(?, ''))
                    """, [review.status, review.reason, review.graphID, now, row["id"] as Int64, review.status, review.reason]) > 0
            }
            if changed {
                result.changes.append(
                    .init(program: row["program"], template: row["name"], from: row["status"], to: review.status, reason: review.reason))
            }
        }
        return result
    }

    /// `message_template_status_update` events: each updates the template it names, unless what
    /// is stored was learnt later (a replayed or late event never takes a status back).
    public func ingest(_ events: [(line: Int, event: WebhookEvent)]) throws -> TemplateIngestResult {
        // Most webhook POSTs carry none: no write transaction (and no write lock) for them.
        guard events.contains(where: { if case .templateStatus = $0.event { return true } else { return false } }) else {
            return TemplateIngestResult()
        }
        return try database.transaction { db in try Self.apply(db, events) }
    }

    /// The template reviews of `events`, inside the caller's transaction. A review applies only to
    /// a template of the entry's own page: a template id another page's entry names is unknown.
    static func apply(_ db: any StoreConnection, _ events: [(line: Int, event: WebhookEvent)]) throws -> TemplateIngestResult {
        var result = TemplateIngestResult()
        for (_, event) in events {
            guard case .templateStatus(let pageID, let templateID, let name, let language, let event, let reason, let time) = event
            else { continue }
            guard let status = TemplateStatus(graph: event) else {
                result.unknown += 1
                continue
            }
            // Graph ids first; else the name, language and page, which are unique.
            let row =
                try templateID.flatMap {
                    try db.row(
                        "SELECT id, status, reason, status_at FROM message_template WHERE graph_id = ? AND page_id = ?", [$0, pageID])
                }
                ?? db.row(
                    "SELECT id, status, reason, status_at FROM message_template WHERE page_id = ? AND name = ? AND language = ?",
                    [pageID, name, language ?? "en_US"])
            guard let row else {
                result.unknown += 1
                continue
            }
            // Meta's text, stored as the screens and `--json` show it: no controls, no bidi overrides (#26).
            let keptReason = status == .approved ? nil : reason.flatMap { $0.isEmpty || $0 == "NONE" ? nil : Display.safe($0, limit: 200) }
            let at = time < 100_000_000_000 ? time * 1000 : time  // Meta's `time` is seconds on some objects
            if (row["status_at"] as Int64) > at
                || ((row["status"] as TemplateStatus) == status && (row["reason"] as String?) == keptReason)
            {
                result.unchanged += 1
                continue
            }
            try db.exec(
                "UPDATE message_template SET status = ?, reason = ?, status_at = ?, graph_id = COALESCE(graph_id, ?) WHERE id = ?",
                [status, keptReason, at, templateID, row["id"] as Int64])
            result.updated += 1
        }
        return result
    }
}
