import Foundation
import GRDB

public struct RunProgress: Sendable, Equatable {
    public let done: Int
    public let total: Int
    public let sent: Int
    public let warned: Int

    public init(done: Int, total: Int, sent: Int, warned: Int) {
        self.done = done
        self.total = total
        self.sent = sent
        self.warned = warned
    }
}

public struct RunSummary: Sendable, Equatable {
    public var enrolled = 0
    public var processed = 0
    public var sent = 0
    /// Contacts not sent the message, by reason: no opt-in, Graph errors, unknown outcomes.
    public var warnings: [ReasonCount] = []
    /// Rows a killed run left in `sending`, now recorded as unknown outcomes (never resent).
    public var recovered = 0
    public var cancelled = false
    /// Set when the page's token was refused (190): the run stopped there (R11).
    public var stoppedBecause: String?

    public var warned: Int { warnings.reduce(0) { $0 + $1.count } }

    public init(stoppedBecause: String? = nil) {
        self.stoppedBecause = stoppedBecause
    }
}

/// Which contacts a run enrols. The demo takes a deterministic share so each day differs.
public enum EnrolmentSelection: Sendable {
    case all
    /// About `percent`% of contacts, chosen by a hash of the contact id and `salt`.
    case sample(percent: Int, salt: Int)
}

/// Moves enrolled contacts through a program's Messenger node (R6).
///
/// Crash safety: a send row is written as `sending` and committed *before* the transport is asked,
/// and `UNIQUE (enrolment_id, node_id)` forbids a second row. A run that dies leaves `sending` rows;
/// the next run marks them `unknown` (a warning) and never asks Facebook again, so nothing is sent
/// twice and nothing is lost. One process runs a program at a time.
public struct ProgramRunner: Sendable {
    public static let noOptInReason = "no opt-in: the FBOPTIN field is empty"
    public static let unknownReason = "unknown outcome: run stopped before Facebook answered"
    public static let tooLongReason = "message over 2000 characters after personalisation"

    let workspace: Workspace
    let chunkSize: Int

    /// `chunkSize` bounds what a crash can leave unknown: a killed run loses at most one batch of
    /// claimed-but-unanswered sends (recorded as unknown, never resent).
    public init(workspace: Workspace, chunkSize: Int = 1_000) {
        self.workspace = workspace
        self.chunkSize = chunkSize
    }

    struct NodePlan {
        let programID: Int64
        let runID: Int64
        let nodeID: Int64
        let profileID: Int64
        let pageID: String
        let pageToken: String?
        let optInFieldID: Int64
        let tagAPIName: String
        let template: MessageTemplate
        let fields: [(name: String, id: Int64?, defaultValue: String)]
    }

    public func run(
        program name: String,
        reenrol: Bool = false,
        selection: EnrolmentSelection = .all,
        progress: (@Sendable (RunProgress) -> Void)? = nil,
        shouldCancel: (@Sendable () -> Bool)? = nil
    ) throws -> RunSummary {
        var summary = RunSummary()
        var reasons: [String: Int] = [:]
        let (plan, total) = try start(program: name, reenrol: reenrol, selection: selection, summary: &summary, reasons: &reasons)
        var afterID: Int64 = 0
        var done = 0
        defer { try? finish(plan) }
        while true {
            if shouldCancel?() == true { summary.cancelled = true; break }
            let claimed = try claimChunk(plan, after: &afterID, summary: &summary, reasons: &reasons)
            guard let claimed else { break }
            var results: [(Int64, Int64, SendResult)] = []
            results.reserveCapacity(claimed.sending.count)
            var brokenToken: GraphError?
            for item in claimed.sending {
                if let broken = brokenToken {
                    results.append((item.sendID, item.enrolmentID, .failed(broken)))
                    continue
                }
                let result = workspace.transport.send(OutgoingMessage(
                    pageID: plan.pageID, pageToken: plan.pageToken, recipientPSID: item.psid,
                    tag: plan.tagAPIName, text: item.message, sendID: item.sendID))
                if case .failed(let error) = result, error.code == 190 { brokenToken = error }
                results.append((item.sendID, item.enrolmentID, result))
            }
            try record(plan, results: results, summary: &summary, reasons: &reasons)
            done += claimed.count
            summary.processed = done
            progress?(RunProgress(done: done, total: total, sent: summary.sent, warned: reasons.values.reduce(0, +)))
            if let broken = brokenToken {
                try workspace.pages.markBroken(pageID: plan.pageID, reason: broken.reason)
                summary.stoppedBecause = broken.reason
                break
            }
        }
        summary.warnings = reasons.map { ReasonCount(reason: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.reason < $1.reason }
        return summary
    }

    // MARK: Start: lease, recovery, enrolment

    private func start(program name: String, reenrol: Bool, selection: EnrolmentSelection,
                       summary: inout RunSummary, reasons: inout [String: Int]) throws -> (NodePlan, Int) {
        let now = workspace.clock.nowMillis()
        let pid = Int64(getpid())
        var recovered = 0
        var enrolled = 0
        var recoveredReasons: [String: Int] = [:]
        let result: (NodePlan, Int) = try workspace.database.write { db in
            let programID = try ProgramService.id(db, named: name)
            let status = try String.fetchOne(db, sql: "SELECT status FROM program WHERE id = ?", arguments: [programID]) ?? "draft"
            guard status == "active" else {
                throw DomainError("program \(Display.quoted(name)) is \(status): activate it before running (`programs activate`)")
            }
            guard let node = try Row.fetchOne(db, sql: """
                SELECT node.id, node.profile_id, node.message, message_tag.api_name,
                       profile.page_id, profile.optin_field_id, page.access_token
                FROM node JOIN profile ON profile.id = node.profile_id
                JOIN page ON page.id = profile.page_id
                JOIN message_tag ON message_tag.name = node.tag
                WHERE node.program_id = ? AND node.position = 1
                """, arguments: [programID]) else {
                throw DomainError("program \(Display.quoted(name)) has no complete Messenger node: set it with `programs node`")
            }
            // One process at a time: a live owner refuses; a dead one's run is closed.
            for run in try Row.fetchAll(db, sql: "SELECT id, pid FROM program_run WHERE program_id = ? AND finished_at IS NULL", arguments: [programID]) {
                let owner: Int64 = run["pid"]
                if owner != pid && Self.isAlive(pid: owner) {
                    throw DomainError("program \(Display.quoted(name)) is already running in process \(owner)")
                }
                try db.execute(sql: "UPDATE program_run SET finished_at = ? WHERE id = ?", arguments: [now, run["id"]])
            }
            try db.execute(sql: "INSERT INTO program_run (program_id, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?)",
                           arguments: [programID, pid, now, now])
            let runID = db.lastInsertedRowID

            // Recovery: whatever a dead run left in 'sending' is an unknown outcome, never resent.
            var rollup = Rollup()
            let stuck = try Row.fetchAll(db, sql: """
                SELECT send.id, send.enrolment_id, send.profile_id, send.day FROM send
                JOIN node ON node.id = send.node_id
                WHERE node.program_id = ? AND send.outcome = 'sending'
                """, arguments: [programID])
            for row in stuck {
                try db.execute(sql: "UPDATE send SET outcome = 'warning', status = 'unknown', reason = ? WHERE id = ?",
                               arguments: [Self.unknownReason, row["id"]])
                rollup.add(profile: row["profile_id"], day: row["day"], outcome: "warning", reason: Self.unknownReason)
                try Self.advance(db, enrolment: row["enrolment_id"], at: now)
            }
            try rollup.write(db)
            recovered = stuck.count
            if recovered > 0 { recoveredReasons[Self.unknownReason] = recovered }

            // Enrolment: everyone not yet enrolled, or (reenrol) everyone again.
            var filter = ""
            var arguments: StatementArguments = [programID, now]
            if case .sample(let percent, let salt) = selection {
                filter = " AND ((contact.id * 2654435761 + ?) % 100) < ?"
                arguments += [salt, percent]
            }
            if !reenrol {
                filter += " AND NOT EXISTS (SELECT 1 FROM enrolment e WHERE e.program_id = ?1 AND e.contact_id = contact.id)"
            }
            try db.execute(sql: "INSERT INTO enrolment (program_id, contact_id, enrolled_at) SELECT ?1, contact.id, ?2 FROM contact WHERE 1" + filter,
                           arguments: arguments)
            enrolled = db.changesCount

            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM enrolment WHERE program_id = ? AND finished_at IS NULL", arguments: [programID]) ?? 0
            let template = try MessageTemplate(node["message"])
            let fields = try template.fieldNames.map { fieldName -> (String, Int64?, String) in
                let row = try Row.fetchOne(db, sql: "SELECT id, default_value FROM data_field WHERE name = ?", arguments: [fieldName])
                return (fieldName, row?["id"], row?["default_value"] ?? "")
            }
            let plan = NodePlan(
                programID: programID, runID: runID, nodeID: node["id"], profileID: node["profile_id"],
                pageID: node["page_id"], pageToken: node["access_token"], optInFieldID: node["optin_field_id"],
                tagAPIName: node["api_name"], template: template, fields: fields)
            return (plan, total)
        }
        summary.enrolled = enrolled
        summary.recovered = recovered
        for (k, v) in recoveredReasons { reasons[k, default: 0] += v }
        return result
    }

    // MARK: Claim: write `sending` rows (and final warnings) before anything leaves

    struct Claimed {
        struct Item { let sendID: Int64; let enrolmentID: Int64; let psid: String; let message: String }
        var sending: [Item] = []
        var count = 0
    }

    private func claimChunk(_ plan: NodePlan, after afterID: inout Int64, summary: inout RunSummary,
                            reasons: inout [String: Int]) throws -> Claimed? {
        let now = workspace.clock.nowMillis()
        let day = workspace.calendar.day(ofMillis: now)
        let start = afterID
        var lastID = start
        let claimed: Claimed? = try workspace.database.write { db in
            // One LEFT JOIN per field the template uses: the SQL's shape comes from the template's
            // field count only; every value is a bound argument.
            var joins = ""
            var columns = ""
            var arguments: StatementArguments = [plan.optInFieldID]
            for (i, field) in plan.fields.enumerated() {
                joins += " LEFT JOIN contact_value f\(i) ON f\(i).contact_id = e.contact_id AND f\(i).field_id = ?"
                columns += ", f\(i).value"
                arguments += [field.id ?? -1]
            }
            arguments += [plan.programID, start, chunkSize]
            let rows = try Row.fetchAll(db, sql: """
                SELECT e.id, e.contact_id, e.next_position, o.value AS psid\(columns)
                FROM enrolment e INDEXED BY enrolment_unfinished
                LEFT JOIN contact_value o ON o.contact_id = e.contact_id AND o.field_id = ?\(joins)
                WHERE e.program_id = ? AND e.finished_at IS NULL AND e.id > ?
                ORDER BY e.id LIMIT ?
                """, arguments: arguments)
            guard let last = rows.last else { return nil }
            lastID = last["id"]
            var claimed = Claimed()
            claimed.count = rows.count
            var rollup = Rollup()
            let insert = try db.cachedStatement(sql: """
                INSERT INTO send (enrolment_id, node_id, profile_id, contact_id, page_id, psid, day, at,
                                  outcome, status, reason, message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (enrolment_id, node_id) DO NOTHING
                """)
            for row in rows {
                let enrolmentID: Int64 = row["id"]
                let contactID: Int64 = row["contact_id"]
                if (row["next_position"] as Int) != 1 {
                    try Self.advance(db, enrolment: enrolmentID, at: now)
                    continue
                }
                let psid: String? = row["psid"]
                guard let psid, !psid.isEmpty else {
                    try insert.execute(arguments: [enrolmentID, plan.nodeID, plan.profileID, contactID, plan.pageID, nil, day, now,
                                                   "warning", "no_optin", Self.noOptInReason, nil])
                    if db.changesCount > 0 {
                        rollup.add(profile: plan.profileID, day: day, outcome: "warning", reason: Self.noOptInReason)
                        reasons[Self.noOptInReason, default: 0] += 1
                    }
                    try Self.advance(db, enrolment: enrolmentID, at: now)
                    continue
                }
                var values: [String: String] = [:]
                for (i, field) in plan.fields.enumerated() {
                    if let v: String = row[4 + i] { values[field.name] = v }
                }
                let message = plan.template.personalise(
                    values: { values[$0] },
                    defaults: { name in plan.fields.first { $0.name == name }?.defaultValue ?? "" })
                if message.count > MessageTemplate.maxLength {
                    try insert.execute(arguments: [enrolmentID, plan.nodeID, plan.profileID, contactID, plan.pageID, psid, day, now,
                                                   "warning", "too_long", Self.tooLongReason, message])
                    if db.changesCount > 0 {
                        rollup.add(profile: plan.profileID, day: day, outcome: "warning", reason: Self.tooLongReason)
                        reasons[Self.tooLongReason, default: 0] += 1
                    }
                    try Self.advance(db, enrolment: enrolmentID, at: now)
                    continue
                }
                try insert.execute(arguments: [enrolmentID, plan.nodeID, plan.profileID, contactID, plan.pageID, psid, day, now,
                                               "sending", "sending", nil, message])
                if db.changesCount > 0 {
                    claimed.sending.append(.init(sendID: db.lastInsertedRowID, enrolmentID: enrolmentID, psid: psid, message: message))
                } else {
                    // This enrolment already has its row for the node: it has been handled.
                    try Self.advance(db, enrolment: enrolmentID, at: now)
                }
            }
            try rollup.write(db)
            try db.execute(sql: "UPDATE program_run SET heartbeat_at = ? WHERE id = ?", arguments: [now, plan.runID])
            return claimed
        }
        afterID = lastID
        return claimed
    }

    // MARK: Record: what Facebook answered, with the rollups, in one transaction

    private func record(_ plan: NodePlan, results: [(Int64, Int64, SendResult)], summary: inout RunSummary,
                        reasons: inout [String: Int]) throws {
        guard !results.isEmpty else { return }
        let now = workspace.clock.nowMillis()
        let day = workspace.calendar.day(ofMillis: now)
        try workspace.database.write { db in
            var rollup = Rollup()
            let sent = try db.cachedStatement(sql: """
                UPDATE send SET outcome = 'sent', status = 'sent', message_id = ?, at = ?, day = ? WHERE id = ? AND outcome = 'sending'
                """)
            let failed = try db.cachedStatement(sql: """
                UPDATE send SET outcome = 'warning', status = 'failed', reason = ?, error_code = ?, error_subcode = ?, at = ?, day = ?
                WHERE id = ? AND outcome = 'sending'
                """)
            for (sendID, enrolmentID, result) in results {
                switch result {
                case .sent(let messageID):
                    try sent.execute(arguments: [messageID, now, day, sendID])
                    rollup.add(profile: plan.profileID, day: day, outcome: "sent")
                    summary.sent += 1
                case .failed(let error):
                    try failed.execute(arguments: [error.reason, error.code, error.subcode, now, day, sendID])
                    rollup.add(profile: plan.profileID, day: day, outcome: "warning", reason: error.reason)
                    reasons[error.reason, default: 0] += 1
                }
                try Self.advance(db, enrolment: enrolmentID, at: now)
            }
            try rollup.write(db)
        }
    }

    private func finish(_ plan: NodePlan) throws {
        let now = workspace.clock.nowMillis()
        try workspace.database.write { db in
            try db.execute(sql: "UPDATE program_run SET finished_at = ? WHERE id = ?", arguments: [now, plan.runID])
            try db.execute(sql: "UPDATE program SET last_run_at = ? WHERE id = ?", arguments: [now, plan.programID])
        }
    }

    /// The contact moves on: to the next node, or (there is none after the Messenger node) it finishes.
    static func advance(_ db: Database, enrolment: Int64, at now: Int64) throws {
        let statement = try db.cachedStatement(sql: """
            UPDATE enrolment SET next_position = next_position + 1,
                finished_at = CASE WHEN EXISTS (SELECT 1 FROM node WHERE node.program_id = enrolment.program_id
                                                AND node.position = enrolment.next_position + 1)
                                   THEN NULL ELSE ? END
            WHERE id = ? AND finished_at IS NULL
            """)
        try statement.execute(arguments: [now, enrolment])
    }

    static func isAlive(pid: Int64) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        return kill(pid_t(pid), 0) == 0 || errno == EPERM
    }
}
