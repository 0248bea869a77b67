import Foundation
import GRDB

/// Which warnings a retry sends again (R16): the answers that say "not now", never the ones that
/// say "not this person" (551, 100/2018001) or "not this message" (10/2018278), which would fail
/// again and count against the page.
public enum RetryReason: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A Graph error that passes: 613 (the page's rate limit), 4 (the app's), 2 (service
    /// unavailable), 1200 (temporary send failure), -1 (no answer: network error or timeout).
    case code(Int)
    /// A run stopped between asking Facebook and hearing back (R6): it may have gone.
    case unknown

    public static let retryableCodes = [613, 4, 2, 1200, -1]

    /// `613`, `-1` (or `no-answer`), `unknown`, … as `--reason` takes them.
    public init(parsing text: String) throws {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch text {
        case "unknown": self = .unknown
        case "no-answer", "timeout": self = .code(-1)
        default:
            guard let code = Int(text) else {
                throw DomainError("--reason \(Display.quoted(text)) is not a code: give one of \(Self.choices)")
            }
            guard Self.retryableCodes.contains(code) else {
                throw DomainError("--reason \(code) is not retryable: Facebook would answer it again; retry takes \(Self.choices)")
            }
            self = .code(code)
        }
    }

    public static var choices: String { retryableCodes.map(String.init).joined(separator: ", ") + " or unknown" }

    public var description: String {
        switch self {
        case .code(-1): return "no-answer"
        case .code(let code): return String(code)
        case .unknown: return "unknown"
        }
    }

    /// The SQL condition on a `send s` row that a retry for this reason (or, nil, any of them)
    /// sends again: a warning with that status or code, with a PSID to send to, whose contact is
    /// not suppressed for the page (R15). A literal, with the codes as arguments; the counts and
    /// the retry itself all use it, so what the dashboard offers is what a retry sends.
    static func condition(_ reason: RetryReason?) -> (sql: String, arguments: StoreArguments) {
        // The states as the enums store them, bound as arguments, and one placeholder a retryable
        // code (from the list's count). The outcome stays written out: it is what lets SQLite use
        // the partial index `send_warnings_by_node` (WHERE outcome = 'warning'), which a bound
        // value can't match when the statement is prepared.
        let (which, arguments): (String, StoreArguments)
        switch reason {
        case .unknown?: (which, arguments) = ("s.status = ?", [SendStatus.unknown])
        case .code(let code)?: (which, arguments) = ("(s.status = ? AND s.error_code = ?)", [SendStatus.failed, code])
        case nil:
            let placeholders = Array(repeating: "?", count: retryableCodes.count).joined(separator: ", ")
            (which, arguments) = (
                "(s.status = ? OR (s.status = ? AND s.error_code IN (\(placeholders))))",
                [SendStatus.unknown, SendStatus.failed] + retryableCodes.map { $0 as (any DatabaseValueConvertible)? }
            )
        }
        let sql = """
            s.outcome = 'warning' AND \(which) AND s.psid IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM suppression sp WHERE sp.page_id = s.page_id AND sp.contact_id = s.contact_id)
            """
        return (sql, arguments)
    }
}

public struct RetrySummary: Sendable, Equatable {
    /// Warnings sent again.
    public var retried = 0
    /// Of them, how many had an unknown outcome: those may have reached the person twice.
    public var wereUnknown = 0
    public var sent = 0
    /// What the retried ones got instead, by reason.
    public var warnings: [ReasonCount] = []
    public var cancelled = false
    /// Set when the page's token was refused (190): the retry stopped there (R11).
    public var stoppedBecause: String?

    public var warned: Int { warnings.reduce(0) { $0 + $1.count } }

    public init() {}
}

/// Sends a program's retryable warnings of one day again (R16).
///
/// The send row is the one record of a contact at a node, so a retry changes it in place and the
/// day's statistics count the contact once: the warning's count goes down as the new outcome's
/// goes up, both on the send's own day. What the row said before goes to `send_attempt`.
///
/// Crash safety, as for runs: before a batch is asked, one transaction keeps each row's attempt
/// in `send_attempt` and marks the row unknown (moving its count to "unknown"); the answers are
/// recorded in a second. A retry killed in between leaves that batch unknown: counted once,
/// never sent again on its own, and retryable (`--reason unknown`) by a person who accepts that
/// it may have gone already.
public struct RetryService: Sendable {
    let workspace: Workspace
    public let chunkSize: Int

    public init(workspace: Workspace, chunkSize: Int? = nil) {
        self.workspace = workspace
        self.chunkSize = max(1, chunkSize ?? workspace.transport.preferredBatchSize)
    }

    /// How many warnings of `day` a retry of the program would send.
    public func retryable(program name: String, day: DayNumber, reason: RetryReason? = nil) throws -> Int {
        let condition = RetryReason.condition(reason)
        return try workspace.database.snapshot { db in
            let programID = try ProgramService.id(db, named: name)
            return try db.value(
                Int.self,
                """
                SELECT COUNT(*) FROM send s JOIN node ON node.id = s.node_id AND node.program_id = ? AND node.position = 1
                JOIN profile ON profile.id = node.profile_id
                WHERE s.day = ? AND s.page_id = profile.page_id AND \(condition.sql)
                """, [programID, day] + condition.arguments) ?? 0
        }
    }

    /// The programs with retryable warnings on `day` for a profile's page, and how many each has.
    public func retryable(profile name: String, day: DayNumber) throws -> [(program: String, count: Int)] {
        let condition = RetryReason.condition(nil)
        return try workspace.database.snapshot { db in
            let profileID = try ProfileService.id(db, named: name)
            return try db.rows(
                """
                SELECT program.name, COUNT(*) AS n FROM send s
                JOIN node ON node.id = s.node_id AND node.position = 1 AND node.profile_id = ?
                JOIN program ON program.id = node.program_id
                JOIN profile ON profile.id = node.profile_id
                WHERE s.day = ? AND s.page_id = profile.page_id AND \(condition.sql)
                GROUP BY program.id ORDER BY program.name
                """, [profileID, day] + condition.arguments
            ).map { ($0["name"], $0["n"]) }
        }
    }

    public func retry(
        program name: String,
        day: DayNumber,
        reason: RetryReason? = nil,
        progress: (@Sendable (RunProgress) -> Void)? = nil,
        shouldCancel: (@Sendable () -> Bool)? = nil
    ) throws -> RetrySummary {
        // A retry and a run of one program never overlap: the same hold in this process, the
        // same lease (`program_run`) across processes (`Lease`).
        let id = RunID(.retry, program: name)
        let hold = try Lease.hold(id, database: workspace.database.location)
        defer { hold.release() }
        let total = try retryable(program: name, day: day, reason: reason)
        let plan = try lease(id)
        defer {
            let now = workspace.clock.nowMillis()
            try? workspace.database.transaction { db in try Lease.close(db, runID: plan.runID, at: now) }
        }
        // As a run's (`ProgramRunner.run`): other hosts tell a live retry by its heartbeat.
        let heartbeat =
            workspace.database.isPostgres ? LeaseHeartbeat(database: workspace.database, runID: plan.runID, clock: workspace.clock) : nil
        defer { heartbeat?.stop() }
        var summary = RetrySummary()
        var reasons: [WarningReason: Int] = [:]
        var after: Int64 = 0
        while !(shouldCancel?() ?? false), let batch = try read(plan, day: day, reason: reason, after: after) {
            after = batch.through
            try claim(plan, batch)
            let messages = batch.messages.map(\.message)
            let results = messages.isEmpty ? [] : workspace.transport.send(batch: messages)
            try record(plan, batch, results: results, summary: &summary, reasons: &reasons)
            summary.retried += batch.rows.count
            summary.wereUnknown += batch.rows.filter { $0.wasUnknown }.count
            progress?(RunProgress(done: summary.retried, total: total, sent: summary.sent, warned: reasons.values.reduce(0, +)))
            if let broken = results.refusedToken {
                try workspace.pages.markStopped(pageID: plan.pageID, by: broken)
                summary.stoppedBecause = broken.reason
                break
            }
        }
        summary.cancelled = shouldCancel?() ?? false
        summary.warnings = ReasonCount.list(reasons)
        return summary
    }

    /// The program's node as it sends today, and its lease: a `program_run` row that a run of
    /// the program in another process sees as live. A dead run's claim is left for the next run.
    private func lease(_ id: RunID) throws -> NodePlan {
        let now = workspace.clock.nowMillis()
        return try workspace.database.transaction { db in
            let programID = try ProgramService.id(db, named: id.program)
            var plan = try NodePlan.load(
                db, programID: programID, name: id.program, day: workspace.calendar.day(ofMillis: now), doing: "retry")
            plan.runID = try Lease.take(db, programID: programID, for: id, at: now).runID
            return plan
        }
    }

    struct Retried {
        let sendID: Int64
        let profileID: Int64
        let contactID: Int64
        let enrolmentID: Int64
        let psid: String?
        /// What the row is counted under now: the count a retry takes back, whatever its words.
        let reason: WarningReason
        var wasUnknown: Bool { reason == .unknown }
        /// What goes out, or the text that is too long to.
        let composed: NodePlan.Composed
    }

    struct RetryBatch {
        /// The day of every row: the day being retried.
        let day: DayNumber
        var rows: [Retried] = []
        var through: Int64 = 0
        var messages: [(row: Int, message: OutgoingMessage)] {
            rows.indices.compactMap { i in
                if case .message(let message) = rows[i].composed { return (i, message) }
                return nil
            }
        }
    }

    /// The next warnings after send id `after`, with each contact's values, personalised anew.
    private func read(_ plan: NodePlan, day: DayNumber, reason: RetryReason?, after: Int64) throws -> RetryBatch? {
        try workspace.database.snapshot { db -> RetryBatch? in
            let (joins, columns) = plan.fieldJoins(contact: "s.contact_id")
            var arguments: StoreArguments = plan.fieldIDs.map { $0 ?? -1 }
            let condition = RetryReason.condition(reason)
            arguments += [plan.nodeID, day, plan.pageID, after]
            arguments += condition.arguments
            arguments += [chunkSize]
            var batch = RetryBatch(day: day)
            // SQLite is told the partial index of warnings; PostgreSQL's planner finds it.
            let indexed = db.engine == .sqlite ? " INDEXED BY send_warnings_by_node" : ""
            let rows = try db.rows(
                """
                SELECT s.id, s.profile_id, s.contact_id, s.enrolment_id, s.psid, s.reason_code, s.attempts\(columns)
                FROM send s\(indexed)\(joins)
                WHERE s.node_id = ? AND s.day = ? AND s.page_id = ? AND s.id > ? AND \(condition.sql)
                ORDER BY s.id LIMIT ?
                """, arguments)
            for row in rows {
                let values = plan.fieldIDs.indices.map { i -> String? in row[7 + i] }
                let attempts: Int = row["attempts"]
                let composed = plan.compose(enrolmentID: row["enrolment_id"], psid: row["psid"], values: values, attempt: attempts + 1)
                batch.rows.append(
                    Retried(
                        sendID: row["id"], profileID: row["profile_id"], contactID: row["contact_id"],
                        enrolmentID: row["enrolment_id"], psid: row["psid"],
                        reason: WarningReason(code: row["reason_code"] ?? ""), composed: composed))
                batch.through = row["id"]
            }
            return batch.rows.isEmpty ? nil : batch
        }
    }

    /// Before anything of the batch leaves: each row's attempt goes to `send_attempt` and the row
    /// becomes unknown (its count moves with it), in one commit.
    private func claim(_ plan: NodePlan, _ batch: RetryBatch) throws {
        let now = workspace.clock.nowMillis()
        try workspace.database.transaction { db in
            try SendLedger.writing(db) { ledger in
                for row in batch.rows {
                    try ledger.reopen(send: row.sendID, profile: row.profileID, day: batch.day, was: row.reason, at: now)
                }
            }
            try Lease.beat(db, runID: plan.runID, at: now)
        }
    }

    /// What Facebook answered, on each row, with the counts moved from "unknown" to it.
    private func record(
        _ plan: NodePlan, _ batch: RetryBatch, results: [SendResult],
        summary: inout RetrySummary, reasons: inout [WarningReason: Int]
    ) throws {
        let now = workspace.clock.nowMillis()
        let today = workspace.calendar.day(ofMillis: now)
        var resultByRow: [Int: SendResult] = [:]
        for (index, pair) in batch.messages.enumerated() { resultByRow[pair.row] = results[index] }
        try workspace.database.transaction { db in
            try SendLedger.writing(db) { ledger in
                for (i, row) in batch.rows.enumerated() {
                    let to = SendLedger.Recipient(
                        enrolmentID: row.enrolmentID, nodeID: plan.nodeID, profileID: row.profileID, contactID: row.contactID,
                        pageID: plan.pageID, psid: row.psid)
                    let (outcome, text): (SendLedger.Outcome, String)
                    switch (row.composed, resultByRow[i]) {
                    case (.message(let message), .sent(let messageID)?):
                        (outcome, text) = (.sent(messageID: messageID), message.text)
                        summary.sent += 1
                    case (.message(let message), .failed(let error)?):
                        (outcome, text) = (.warning(error.warning, detail: error.reason), message.text)
                        reasons[error.warning, default: 0] += 1
                    case (.tooLong(let long), _):
                        (outcome, text) = (.warning(.tooLong), long)
                        reasons[.tooLong, default: 0] += 1
                    case (.message, nil):
                        preconditionFailure("every message of a batch has its answer")
                    }
                    try ledger.settle(send: row.sendID, to, day: batch.day, outcome, message: text, today: today, at: now)
                }
            }
            try Lease.beat(db, runID: plan.runID, at: now)
        }
    }
}
