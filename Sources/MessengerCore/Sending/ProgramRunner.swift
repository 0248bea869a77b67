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
    /// Messages a killed run had claimed and not recorded, now recorded: as unknown (never resent)
    /// when no answer had arrived, else (`recoveredAnswered` of them) as Facebook answered.
    public var recovered = 0
    public var recoveredAnswered = 0
    /// Claimed by a killed run but never asked of Facebook (its journal says so): sent by this run.
    public var recoveredNotAsked = 0
    public var cancelled = false
    /// Set when the page's token was refused (190): the run stopped there (R11).
    public var stoppedBecause: String?

    public var warned: Int { warnings.reduce(0) { $0 + $1.count } }

    /// The run in one line, as the command line prints it and the dashboard's toast says it:
    /// "Enrolled 5; processed 5: 3 sent, 2 warnings."
    public var headline: String {
        "Enrolled \(enrolled); processed \(processed): \(sent) sent, \(Display.count(warned, "warning"))."
    }

    /// What recovering an interrupted run did, when it did anything.
    public var recoveryLine: String? {
        guard recovered > 0 || recoveredNotAsked > 0 else { return nil }
        return "Recovered an interrupted run: \(recoveredAnswered) recorded as Facebook had answered, "
            + "\(recovered - recoveredAnswered) unknown (asked, never answered; not resent), \(recoveredNotAsked) never asked (sent now)."
    }

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
/// Crash safety: before Facebook is asked, the run commits a *claim* for the batch (the range of
/// enrolment ids, and the node) in its `program_run` row. When the answers are in, one
/// transaction writes each contact's send row with its outcome, moves the contacts on, adds the
/// rollups and claims the next batch (or clears the claim): one commit a batch.
/// `UNIQUE (enrolment_id, node_id)` forbids a second row. A run that dies, or stops on an error,
/// leaves its claim: the next run records the claimed contacts that have no row as unknown (a
/// warning) and never asks Facebook again, so nothing is sent twice and nothing is lost. One
/// process runs a program at a time.
///
/// Each contact costs one indexed read, one insert and one update; the batch's rollups, claim and
/// advance are one statement each. Two cores: the writer records and claims while the next batch
/// is read and personalised on a reader connection, and the WAL is checkpointed on a third
/// connection (`BackgroundCheckpointer`).
public struct ProgramRunner: Sendable {
    let workspace: Workspace
    public let chunkSize: Int

    /// `chunkSize` bounds what a crash can leave unknown: a killed run loses at most one batch of
    /// claimed-but-unanswered sends (recorded as unknown, never resent).
    /// By default a batch is what the transport prefers (1,000 for the sandbox, about a second's
    /// worth for Graph).
    public init(workspace: Workspace, chunkSize: Int? = nil) {
        self.workspace = workspace
        self.chunkSize = max(1, chunkSize ?? workspace.transport.preferredBatchSize)
    }

    public func run(
        program name: String,
        reenrol: Bool = false,
        selection: EnrolmentSelection = .all,
        progress: (@Sendable (RunProgress) -> Void)? = nil,
        shouldCancel: (@Sendable () -> Bool)? = nil
    ) throws -> RunSummary {
        // One run of a program per process first (see `Lease`), then the lease in `start`.
        let hold = try Lease.hold(RunID(.run, program: name), database: workspace.database.location)
        defer { hold.release() }
        var summary = RunSummary()
        var reasons: [WarningReason: Int] = [:]
        // The writer doesn't stop to checkpoint during the run: the WAL is copied back on another
        // connection, on the other core (checkpoints on the writer were about a sixth of a run).
        // Afterwards the writer checkpoints what is left and goes back to SQLite's default.
        // The writer's page cache is 16 MB for the run (SQLite's default is 2 MB): at 1,000,000
        // contacts the pages a batch touches (the send table and its indexes' right edges, the
        // enrolments it finishes and their partial index) outgrow 2 MB and were read back from
        // the OS each batch (`messenger-bench --run-only --contacts 1000000`: 0.72 / 0.74 of the
        // floor in one run; with 16 MB, three runs: 0.86 / 0.84, 0.74 / 0.86, 0.72 / 0.69: this
        // machine's noise is as large as the gain, so measure again on a quiet one). Back to 2 MB
        // after, for the dashboard's memory.
        // SQLite's only: PostgreSQL has no WAL of ours to copy back, and its cache is the server's.
        let sqlite = workspace.database.isPostgres ? nil : try workspace.database.writer
        let checkpointer = try sqlite.map { _ in try BackgroundCheckpointer(database: workspace.database) }
        try sqlite?.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            try db.execute(sql: "PRAGMA cache_size = -16384")
        }
        defer {
            checkpointer?.stop()
            try? sqlite?.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA cache_size = -2000")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 1000")
                _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
        let (plan, total) = try start(program: name, reenrol: reenrol, selection: selection, summary: &summary, reasons: &reasons)
        // Other hosts tell a live run by its heartbeat (`Lease`): it goes on between batches,
        // however long one waits on Facebook. On SQLite a run is told by its pid.
        let heartbeat =
            workspace.database.isPostgres ? LeaseHeartbeat(database: workspace.database, runID: plan.runID, clock: workspace.clock) : nil
        defer { heartbeat?.stop() }
        // Progress counts contacts, one outcome each (#27: "3000 / 30000 contacts" beside 3,348
        // outcomes): the contacts whose dead claim recovery just recorded are done before the
        // loop starts, so sent + not sent = done in every report.
        let recovered = summary.sent + reasons.values.reduce(0, +)
        try checkpointed(checkpointer)
        var done = 0
        var completed = false
        let journal = AnswerJournal(path: AnswerJournal.path(database: workspace.database.sideFilesBase, programID: plan.programID))
        // The next batch is read and personalised on a reader connection, on the other core,
        // while the writer records the one before: `ahead` runs one batch in front of the claim.
        var ahead: ReadAhead?
        defer {
            _ = try? ahead?.wait()
            try? finish(plan, completed: completed)
        }
        func readAhead(after: Int64) -> ReadAhead { ReadAhead { [self] in try read(plan, after: after) } }

        summary.cancelled = shouldCancel?() == true
        var next = summary.cancelled ? nil : try read(plan, after: 0)
        if let next { ahead = readAhead(after: next.through) }
        // One transaction a batch: what Facebook answered for the last batch, and the claim of
        // the next, commit together.
        if let next { journal.prepare(next.claim(of: plan.nodeID)) }
        try step(plan, recording: nil, claiming: next, summary: &summary, reasons: &reasons)
        if let next { journal.begin(next.claim(of: plan.nodeID)) }
        try checkpointed(checkpointer)
        // A claimed batch's warnings (no opt-in…) are written with its claim, before its messages
        // go: those contacts are done from then on, so every report counts them in `done`.
        var claimedWarned = next?.warnings.count ?? 0
        while let current = next {
            let messages = current.messages
            // A Graph batch is 2 s of messages: the answers show as they come, not once a batch.
            let live = progress.map { report in
                LiveProgress(
                    done: recovered + done + claimedWarned, total: recovered + total, sent: summary.sent,
                    warned: reasons.values.reduce(0, +),
                    report: report)
            }
            let results =
                messages.isEmpty
                ? []
                : workspace.transport.send(
                    batch: messages, asking: { group in journal.asking(messages[group]) },
                    answered: { i, result in
                        journal.answered(messages[i], result)
                        live?.answered(result)
                    })
            // The answers the journal still holds go to it before the batch is recorded.
            journal.flush()
            let brokenToken = results.refusedToken
            // No connection to the Graph API: the run stops (the page is not marked: nothing is
            // wrong with it); the rest of the batch carries the error, retryable (R16).
            let unreachable = brokenToken == nil ? results.unreachable : nil
            let cancelled = brokenToken == nil && unreachable == nil && shouldCancel?() == true
            next = nil
            if brokenToken == nil, unreachable == nil, !cancelled, let pending = ahead {
                next = try pending.wait()
                ahead = next.map { readAhead(after: $0.through) }
            }
            if let next { journal.prepare(next.claim(of: plan.nodeID)) }
            try step(plan, recording: (current, results), claiming: next, summary: &summary, reasons: &reasons)
            if let next { journal.begin(next.claim(of: plan.nodeID)) } else { journal.reset() }
            try checkpointed(checkpointer)
            done += current.count
            claimedWarned = next?.warnings.count ?? 0
            summary.processed = done
            live?.stop()
            progress?(
                RunProgress(
                    done: recovered + done + claimedWarned, total: recovered + total, sent: summary.sent,
                    warned: reasons.values.reduce(0, +)))
            if let broken = brokenToken {
                try workspace.pages.markStopped(pageID: plan.pageID, by: broken)
                summary.stoppedBecause = broken.reason
            }
            if let unreachable { summary.stoppedBecause = unreachable.reason }
            if cancelled { summary.cancelled = true }
        }
        completed = true
        journal.close()
        summary.warnings = ReasonCount.list(reasons)
        return summary
    }

    /// The answers of a batch as they come, reported five times a second at most; the batch's
    /// record replaces them with what was written (`stop`, then the runner's own report).
    final class LiveProgress: @unchecked Sendable {
        private let lock = NSLock()
        private let base: RunProgress
        private let report: @Sendable (RunProgress) -> Void
        private var answers = 0
        private var sent = 0
        private var last = Date.distantPast
        private var stopped = false

        init(done: Int, total: Int, sent: Int, warned: Int, report: @escaping @Sendable (RunProgress) -> Void) {
            base = RunProgress(done: done, total: total, sent: sent, warned: warned)
            self.report = report
        }

        func answered(_ result: SendResult) {
            lock.lock()
            defer { lock.unlock() }
            answers += 1
            if case .sent = result { sent += 1 }
            let now = Date()
            guard !stopped, now.timeIntervalSince(last) >= 0.2 else { return }
            last = now
            report(
                RunProgress(
                    done: base.done + answers, total: base.total, sent: base.sent + sent, warned: base.warned + answers - sent))
        }

        func stop() {
            lock.lock()
            stopped = true
            lock.unlock()
        }
    }

    // MARK: Start: lease, recovery, enrolment

    /// The run's first transaction: the node it sends (checked sendable today, R12/R13), the
    /// lease, what a dead run left, and the enrolment. Returns the plan and how many enrolments
    /// are left to go through the node.
    private func start(
        program name: String, reenrol: Bool, selection: EnrolmentSelection,
        summary: inout RunSummary, reasons: inout [WarningReason: Int]
    ) throws -> (NodePlan, Int) {
        let now = workspace.clock.nowMillis()
        let day = workspace.calendar.day(ofMillis: now)
        var recovery = Recovery()
        var enrolled = 0
        let result: (NodePlan, Int) = try workspace.database.transaction { db in
            let programID = try ProgramService.id(db, named: name)
            var plan = try NodePlan.load(db, programID: programID, name: name, day: day)
            let (runID, deadClaims) = try Lease.take(db, programID: programID, for: RunID(.run, program: name), at: now)
            plan.runID = runID
            let journalPath = AnswerJournal.path(database: workspace.database.sideFilesBase, programID: programID)
            recovery = try Recovery.settle(db, plan, claims: deadClaims, journal: journalPath, day: day, at: now)
            enrolled = try Self.enrol(db, programID: programID, reenrol: reenrol, selection: selection, at: now)
            let total = try db.value(Int.self, "SELECT COUNT(*) FROM enrolment WHERE program_id = ? AND finished_at IS NULL", [programID])
            return (plan, total ?? 0)
        }
        summary.enrolled = enrolled
        recovery.add(to: &summary, reasons: &reasons)
        return result
    }

    /// Enrols everyone not yet enrolled, or (`reenrol`) everyone again; returns how many. Each
    /// new enrolment links to the contact's last one in the program, and becomes it: both go
    /// through `program_contact` in contact order, one row per contact whatever the history.
    /// The new enrolments are the ids above the old maximum (a rowid table takes max + 1).
    static func enrol(_ db: any StoreConnection, programID: Int64, reenrol: Bool, selection: EnrolmentSelection, at now: Int64) throws
        -> Int
    {
        var filter = ""
        var arguments: StoreArguments = [programID, now]
        if case .sample(let percent, let salt) = selection {
            filter = " AND ((contact.id * 2654435761 + ?) % 100) < ?"
            arguments += [salt, percent]
        }
        if !reenrol { filter += " AND last.contact_id IS NULL" }
        // Writes are serialized on both engines (SQLite's one writer, PostgreSQL's write lock),
        // and an identity gives increasing ids as a rowid does: nothing else enrols meanwhile.
        let before = try db.value(Int64.self, "SELECT COALESCE(MAX(id), 0) FROM enrolment") ?? 0
        let enrolled = try db.exec(
            """
            INSERT INTO enrolment (program_id, contact_id, enrolled_at, previous_id)
            SELECT ?1, contact.id, ?2, last.last_enrolment_id FROM contact
            LEFT JOIN program_contact last ON last.program_id = ?1 AND last.contact_id = contact.id
            WHERE TRUE\(filter) ORDER BY contact.id
            """, arguments)
        if enrolled > 0 {
            try db.exec(
                """
                INSERT INTO program_contact (program_id, contact_id, last_enrolment_id)
                SELECT program_id, contact_id, id FROM enrolment WHERE id > ? ORDER BY id
                ON CONFLICT (program_id, contact_id) DO UPDATE SET last_enrolment_id = excluded.last_enrolment_id
                """, [before])
            try db.exec("UPDATE program SET enrolled = enrolled + ? WHERE id = ?", [enrolled, programID])
        }
        return enrolled
    }

    // MARK: Read ahead: the next batch, personalised, from a snapshot

    struct EnrolmentBatch: Sendable {
        /// The enrolment ids this batch covers: greater than `after`, at most `through`.
        var after: Int64
        var through: Int64
        /// The batch as the run's claim of `node`.
        func claim(of node: Int64) -> Claim { Claim(node: node, after: after, through: through) }
        var count = 0
        var messages: [OutgoingMessage] = []
        var contactIDs: [Int64] = []
        /// Contacts settled without asking Facebook: no opt-in, or a message over the limit.
        var warnings: [Warning] = []
    }

    struct Warning: Sendable {
        let enrolmentID: Int64
        let contactID: Int64
        let reason: WarningReason
        /// The row's words when they say more than the reason's text (the day a suppression began).
        var detail: String? = nil
        let psid: String?
        let message: String?
    }

    /// Reads the next batch of unfinished enrolments after `after`, with each contact's opt-in and
    /// field values, and personalises its message. Returns nil when no enrolment is left.
    ///
    /// It reads a snapshot, possibly while the writer records the batch before: that transaction
    /// only touches enrolments up to `after`, so what is read here is what the claim would see.
    private func read(_ plan: NodePlan, after: Int64) throws -> EnrolmentBatch? {
        try workspace.database.snapshot { db -> EnrolmentBatch? in
            let (joins, columns) = plan.fieldJoins(contact: "e.contact_id")
            var arguments: [Int64OrText] = [.int(plan.nodeID), .int(plan.optInFieldID), .text(plan.pageID)]
            arguments += plan.fieldIDs.map { .int($0 ?? -1) }
            arguments += [.int(plan.programID), .int(after), .int(Int64(chunkSize))]
            // SQLite is told the partial index that gives the unfinished in id order; PostgreSQL's
            // planner finds it.
            let indexed = db.engine == .sqlite ? " INDEXED BY enrolment_unfinished" : ""
            let sql = """
                SELECT e.id, e.contact_id, e.next_position,
                       EXISTS (SELECT 1 FROM send s WHERE s.enrolment_id = e.id AND s.node_id = ?), o.value,
                       sp.day, sp.error_code, sp.error_subcode\(columns)
                FROM enrolment e\(indexed)
                LEFT JOIN contact_value o ON o.contact_id = e.contact_id AND o.field_id = ?
                LEFT JOIN suppression sp ON sp.page_id = ? AND sp.contact_id = e.contact_id\(joins)
                WHERE e.program_id = ? AND e.finished_at IS NULL AND e.id > ?
                ORDER BY e.id LIMIT ?
                """
            var batch = EnrolmentBatch(after: after, through: after)
            var values = [String?](repeating: nil, count: plan.fieldIDs.count)
            func take(_ row: some BatchRow) {
                let enrolmentID = row.int64(0)
                let contactID = row.int64(1)
                batch.through = enrolmentID
                batch.count += 1
                // Moved past the node already, or its row exists: the range advance settles it.
                if row.int64(2) != 1 || row.int64(3) != 0 { return }
                guard let psid = row.text(4), !psid.isEmpty else {
                    batch.warnings.append(
                        Warning(enrolmentID: enrolmentID, contactID: contactID, reason: .noOptIn, psid: nil, message: nil))
                    return
                }
                // Suppressed for this page (R15): settled without asking Facebook again.
                if let since = row.optionalInt64(5) {
                    let (code, subcode) = (Int(row.int64(6)), row.optionalInt64(7).map(Int.init))
                    batch.warnings.append(
                        Warning(
                            enrolmentID: enrolmentID, contactID: contactID, reason: .suppressed(code: code, subcode: subcode),
                            detail: Suppression.reason(
                                since: workspace.calendar.string(for: DayNumber(Int(since))),
                                code: Suppression.codeText(code: code, subcode: subcode)),
                            psid: psid, message: nil))
                    return
                }
                for i in values.indices { values[i] = row.text(Int32(8 + i)) }
                switch plan.compose(enrolmentID: enrolmentID, psid: psid, values: values) {
                case .message(let message):
                    batch.messages.append(message)
                    batch.contactIDs.append(contactID)
                case .tooLong(let text):
                    batch.warnings.append(
                        Warning(enrolmentID: enrolmentID, contactID: contactID, reason: .tooLong, psid: psid, message: text))
                }
            }
            // SQLite's rows straight from its C API (a million of them, #29); PostgreSQL's as rows.
            if let sqlite = db as? Database {
                try BulkStatement(sqlite, sql: sql).forEachRow(arguments) { take($0) }
            } else {
                for row in try db.rows(sql, arguments.map(\.storeValue)) { take(row) }
            }
            return batch.count > 0 ? batch : nil
        }
    }

    // MARK: A step: record the last batch's answers, claim the next, in one transaction

    /// One write transaction: records what Facebook answered for `recording` (its send rows, the
    /// rollups, the range advance), then claims `claiming` before anything of it leaves: its
    /// warning rows are written and its range is set as the run's claim (cleared when nil).
    private func step(
        _ plan: NodePlan, recording: (batch: EnrolmentBatch, results: [SendResult])?, claiming next: EnrolmentBatch?,
        summary: inout RunSummary, reasons: inout [WarningReason: Int]
    ) throws {
        let now = workspace.clock.nowMillis()
        let day = workspace.calendar.day(ofMillis: now)
        try workspace.database.transaction { db in
            try SendLedger.writing(db) { ledger in
                if let (batch, results) = recording {
                    try record(&ledger, plan, batch: batch, results: results, day: day, at: now, summary: &summary, reasons: &reasons)
                    try Self.advance(db, plan, after: batch.after, through: batch.through, at: now)
                }
                for warning in next?.warnings ?? [] {
                    try ledger.record(
                        plan.recipient(enrolment: warning.enrolmentID, contact: warning.contactID, psid: warning.psid),
                        .warning(warning.reason, detail: warning.detail), message: warning.message, day: day, at: now)
                    reasons[warning.reason, default: 0] += 1
                }
            }
            try Lease.claim(db, runID: plan.runID, next?.claim(of: plan.nodeID), at: now)
        }
    }

    /// Each answered contact's send row, with its outcome (and its count, through the ledger).
    private func record(
        _ ledger: inout SendLedger, _ plan: NodePlan, batch: EnrolmentBatch, results: [SendResult], day: DayNumber, at now: Int64,
        summary: inout RunSummary, reasons: inout [WarningReason: Int]
    ) throws {
        for (index, message) in batch.messages.enumerated() {
            let to = plan.recipient(enrolment: message.enrolmentID, contact: batch.contactIDs[index], psid: message.recipientPSID)
            switch results[index] {
            case .sent(let messageID):
                try ledger.record(to, .sent(messageID: messageID), message: message.text, day: day, at: now)
                summary.sent += 1
            case .failed(let error):
                try ledger.record(to, .warning(error.warning, detail: error.reason), message: message.text, day: day, at: now)
                reasons[error.warning, default: 0] += 1
            }
        }
    }

    /// Closes the run. A run that ended in an error (a database failure after Facebook answered,
    /// say) keeps its claim: the next run records those contacts as unknown instead of asking
    /// Facebook again.
    private func finish(_ plan: NodePlan, completed: Bool) throws {
        let now = workspace.clock.nowMillis()
        try workspace.database.transaction { db in
            if completed { try Lease.claim(db, runID: plan.runID, nil, at: now) }
            try Lease.close(db, runID: plan.runID, at: now)
            try db.exec("UPDATE program SET last_run_at = ? WHERE id = ?", [now, plan.programID])
        }
    }

    /// After each commit: wakes the background checkpointer; if the WAL outgrew its limit anyway,
    /// the writer waits for a RESTART checkpoint so the next transaction starts the WAL over.
    private func checkpointed(_ checkpointer: BackgroundCheckpointer?) throws {
        guard let checkpointer, checkpointer.writerCommitted() else { return }
        try workspace.database.writer.writeWithoutTransaction { db in
            _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(RESTART)")
        }
    }

    /// The batch's contacts move on: to the next node, or (there is none after the Messenger node)
    /// they finish. Every unfinished enrolment of the program in the range has been handled.
    /// With `onlyRecordedFor` (recovering a dead run's claim), only the enrolments that have their
    /// row for that node move on: the ones its journal says were never asked stay for this run.
    static func advance(
        _ db: any StoreConnection, _ plan: NodePlan, after: Int64, through: Int64, at now: Int64, onlyRecordedFor node: Int64? = nil
    )
        throws
    {
        let finished: Int64? = plan.hasNext ? nil : now
        guard let node else {
            try db.execPrepared(
                """
                UPDATE enrolment SET next_position = next_position + 1, finished_at = ?
                WHERE program_id = ? AND finished_at IS NULL AND id > ? AND id <= ?
                """, [finished, plan.programID, after, through])
            return
        }
        try db.exec(
            """
            UPDATE enrolment SET next_position = next_position + 1, finished_at = ?
            WHERE program_id = ? AND finished_at IS NULL AND id > ? AND id <= ?
              AND EXISTS (SELECT 1 FROM send s WHERE s.enrolment_id = enrolment.id AND s.node_id = ?)
            """, [finished, plan.programID, after, through, node])
    }
}

/// A read running on another thread; `wait` gives its batch (or its error), as often as asked.
private final class ReadAhead: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<ProgramRunner.EnrolmentBatch?, Error> = .success(nil)

    init(_ body: @escaping @Sendable () throws -> ProgramRunner.EnrolmentBatch?) {
        DispatchQueue.global().async {
            self.result = Result { try body() }
            self.done.signal()
        }
    }

    func wait() throws -> ProgramRunner.EnrolmentBatch? {
        done.wait()
        done.signal()
        return try result.get()
    }
}
