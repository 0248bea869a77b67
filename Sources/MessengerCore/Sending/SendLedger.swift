import GRDB

/// The one writer of what was sent (#28): the `send` rows, their earlier attempts
/// (`send_attempt`), the day's counts (`daily_stat`) and the suppressions (`suppression`).
/// Runs, recovery, retries, receipts, opt-ins, compaction and profile deletion write them only
/// through here, inside their own write transaction (`SendLedger.writing`).
///
/// Each row's count is added in the same transaction as the row (R8, R9), so the statistics never
/// scan the sends; a warning is counted under its code (`WarningReason`), never its words.
struct SendLedger {
    let db: any StoreConnection
    private var rollup = Rollup()
    /// SQLite's connection, for the run's hot path: a send row through one prepared statement
    /// stepped by SQLite's C API (#29). Nil on PostgreSQL.
    private let sqlite: Database?
    private var insert: BulkStatement?
    /// PostgreSQL's connection, for the same path: send rows wait in `pending` and go in one
    /// `COPY` (one round trip for a batch, not one a row), before anything reads or changes
    /// `send` in the transaction (`flush`). Nil on SQLite.
    private let postgres: PostgresConnection?
    private var pending: [[PostgresValue]] = []

    private init(_ db: any StoreConnection) {
        self.db = db
        sqlite = db as? Database
        postgres = (db as? PostgresStoreConnection)?.connection
    }

    /// Runs `body` with a ledger on `db` (inside a write transaction), then writes the counts it
    /// gathered, in that transaction.
    static func writing<T>(_ db: any StoreConnection, _ body: (inout SendLedger) throws -> T) throws -> T {
        var ledger = SendLedger(db)
        let result = try body(&ledger)
        try ledger.flush()
        try ledger.rollup.write(db)
        return result
    }

    // MARK: A contact's row at a node

    /// Who a row is about: the contact at a node, through one enrolment, from one page.
    struct Recipient {
        let enrolmentID: Int64
        let nodeID: Int64
        let profileID: Int64
        let contactID: Int64
        let pageID: String
        let psid: String?
    }

    /// What came of a contact at a node.
    enum Outcome {
        /// Facebook took it, with this message id.
        case sent(messageID: String)
        /// Not sent; `detail` is the row's words of the moment (Facebook's message, the day a
        /// suppression began), nil for the reason's own text.
        case warning(WarningReason, detail: String? = nil)
    }

    /// One contact's row for the node, once: `UNIQUE (enrolment_id, node_id)` refuses a second.
    /// A warning that suppresses the contact for the page (R15) notes the suppression too.
    mutating func record(_ to: Recipient, _ outcome: Outcome, message: String?, day: DayNumber, at now: Int64) throws {
        if insert == nil, let sqlite {
            insert = try BulkStatement(sqlite, sql: Self.insertSQL)
        }
        // The outcome's columns first, then one array of every value: one allocation a row.
        let tail: (outcome: SendOutcome, status: SendStatus, reason: String?, code: String?, error: GraphError?, messageID: String?)
        switch outcome {
        case .sent(let messageID): tail = (.sent, .sent, nil, nil, nil, messageID)
        case .warning(let reason, let detail): tail = (.warning, reason.status, detail ?? reason.text, reason.code, reason.graphError, nil)
        }
        let values: [Int64OrText] = [
            .int(to.enrolmentID), .int(to.nodeID), .int(to.profileID), .int(to.contactID), .text(to.pageID), Int64OrText(to.psid),
            .int(Int64(day.rawValue)), .int(now), .text(tail.outcome.rawValue), .text(tail.status.rawValue), Int64OrText(tail.reason),
            Int64OrText(tail.code), Int64OrText(tail.error?.code), Int64OrText(tail.error?.subcode), Int64OrText(tail.messageID),
            Int64OrText(message),
        ]
        if let insert {
            try insert.execute(values)
        } else if postgres != nil {
            pending.append(values.map(\.postgresValue))
            if pending.count >= Self.pendingLimit { try flush() }
        } else {
            try db.execPrepared(Self.insertSQL, values.map(\.storeValue))
        }
        switch outcome {
        case .sent: rollup.add(profile: to.profileID, day: day, outcome: .sent)
        case .warning(let reason, _): rollup.add(profile: to.profileID, day: day, outcome: .warning, reason: reason)
        }
        if let error = tail.error { try noteSuppression(page: to.pageID, contact: to.contactID, error: error, day: day, at: now) }
    }

    private static let columns = [
        "enrolment_id", "node_id", "profile_id", "contact_id", "page_id", "psid", "day", "at",
        "outcome", "status", "reason", "reason_code", "error_code", "error_subcode", "message_id", "message",
    ]
    private static let insertSQL =
        "INSERT INTO send (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
    /// A run's batch is at most a few thousand rows; a recovery's claim can be bigger, so rows go
    /// in COPYs of at most this many, and memory stays bounded.
    private static let pendingLimit = 5_000

    /// The send rows recorded on PostgreSQL and not yet written, written now in one `COPY`. A
    /// second row for an (enrolment, node) fails it as the `INSERT` would (`UNIQUE`), and the
    /// transaction with it. Called before every statement of the ledger on `send`, at the end
    /// of `writing`, and by anyone reading `send` in the same transaction after recording.
    mutating func flush() throws {
        guard let postgres, !pending.isEmpty else { return }
        try postgres.copy(into: "send", columns: Self.columns, rows: pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// `count` contacts counted as `reason` on `day` whose rows are written otherwise.
    private mutating func count(_ reason: WarningReason?, outcome: StatOutcome, profile: Int64, day: DayNumber, by count: Int) {
        rollup.add(profile: profile, day: day, outcome: outcome, reason: reason, count: count)
    }

    // MARK: Retries (R16): a row sent again, in place

    /// Before a retried row is asked again: what it said goes to `send_attempt`, and it becomes
    /// unknown (its count moves with it) until the answer is recorded by `settle`.
    mutating func reopen(send id: Int64, profile: Int64, day: DayNumber, was reason: WarningReason, at now: Int64) throws {
        try flush()
        try db.execPrepared(
            """
            INSERT INTO send_attempt (send_id, attempt, at, outcome, status, reason, reason_code, error_code, error_subcode, message_id)
            SELECT id, attempts, at, outcome, status, reason, reason_code, error_code, error_subcode, message_id FROM send WHERE id = ?
            """, [id])
        try db.execPrepared(
            """
            UPDATE send SET status = ?, reason = ?, reason_code = ?, error_code = NULL, error_subcode = NULL,
                            attempts = attempts + 1, at = ?
            WHERE id = ?
            """, [SendStatus.unknown, WarningReason.unknown.text, WarningReason.unknown.code, now, id])
        if reason != .unknown {
            count(reason, outcome: .warning, profile: profile, day: day, by: -1)
            count(.unknown, outcome: .warning, profile: profile, day: day, by: 1)
        }
    }

    /// What the retried row got, on its own day's counts (moved from unknown); a suppressing
    /// answer suppresses the contact from `today`.
    mutating func settle(
        send id: Int64, _ to: Recipient, day: DayNumber, _ outcome: Outcome, message: String, today: DayNumber, at now: Int64
    ) throws {
        try flush()
        count(.unknown, outcome: .warning, profile: to.profileID, day: day, by: -1)
        switch outcome {
        case .sent(let messageID):
            try db.execPrepared(
                """
                UPDATE send SET outcome = ?, status = ?, reason = NULL, reason_code = NULL, message_id = ?, message = ?, at = ?
                WHERE id = ?
                """, [SendOutcome.sent, SendStatus.sent, messageID, message, now, id])
            count(nil, outcome: .sent, profile: to.profileID, day: day, by: 1)
        case .warning(let reason, let detail):
            let error = reason.graphError
            try db.execPrepared(
                """
                UPDATE send SET status = ?, reason = ?, reason_code = ?, error_code = ?, error_subcode = ?, message = ?, at = ?
                WHERE id = ?
                """, [reason.status, detail ?? reason.text, reason.code, error?.code, error?.subcode, message, now, id])
            count(reason, outcome: .warning, profile: to.profileID, day: day, by: 1)
            if let error { try noteSuppression(page: to.pageID, contact: to.contactID, error: error, day: today, at: now) }
        }
    }

    // MARK: Receipts (R9)

    /// A sent row delivered at `at`: counted on the send's day.
    mutating func delivered(send id: Int64, profile: Int64, day: DayNumber, at: Int64) throws {
        try flush()
        try db.execPrepared("UPDATE send SET delivered_at = ?, status = ? WHERE id = ?", [at, SendStatus.delivered, id])
        count(nil, outcome: .delivered, profile: profile, day: day, by: 1)
    }

    /// A sent row read at `at` (read implies delivered: counted too if it wasn't).
    mutating func read(send id: Int64, profile: Int64, day: DayNumber, at: Int64, wasDelivered: Bool) throws {
        try flush()
        try db.execPrepared(
            "UPDATE send SET read_at = ?, delivered_at = COALESCE(delivered_at, ?), status = ? WHERE id = ?", [at, at, SendStatus.read, id])
        if !wasDelivered { count(nil, outcome: .delivered, profile: profile, day: day, by: 1) }
        count(nil, outcome: .read, profile: profile, day: day, by: 1)
    }

    /// A user_ref opt-in became a PSID: the page's sent rows take it, so watermark receipts find them.
    mutating func repoint(page: String, from old: String, to psid: String) throws {
        try flush()
        try db.exec("UPDATE send SET psid = ? WHERE page_id = ? AND psid = ? AND outcome = ?", [psid, page, old, SendOutcome.sent])
    }

    // MARK: Forgetting

    /// Up to `limit` of a profile's rows from before `day` (compaction: their counts stay).
    mutating func deleteSends(profile: Int64, before day: DayNumber, limit: Int) throws -> Int {
        try flush()
        return try db.exec(
            "DELETE FROM send WHERE id IN (SELECT id FROM send WHERE profile_id = ? AND day < ? LIMIT ?)", [profile, day, limit])
    }

    /// Everything a deleted profile sent, and its counts (R10). No rollup: nothing is left to count.
    static func forget(_ db: any StoreConnection, profile: Int64) throws {
        try db.exec("DELETE FROM daily_stat WHERE profile_id = ?", [profile])
        try db.exec("DELETE FROM send WHERE profile_id = ?", [profile])
    }

    // MARK: Suppression (R15)

    /// Notes a suppression when `error` calls for one; the first answer's day and code stay.
    func noteSuppression(page: String, contact: Int64, error: GraphError, day: DayNumber, at now: Int64) throws {
        guard Suppression.suppresses(error) else { return }
        try db.execPrepared(
            """
            INSERT INTO suppression (page_id, contact_id, day, at, error_code, error_subcode) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (page_id, contact_id) DO NOTHING
            """, [page, contact, day, now, error.code, error.subcode])
    }

    /// Lifts a contact's suppression for one page or (nil) every page; how many were lifted.
    func lift(contact: Int64, page: String?) throws -> Int {
        if let page {
            return try db.exec("DELETE FROM suppression WHERE contact_id = ? AND page_id = ?", [contact, page])
        }
        return try db.exec("DELETE FROM suppression WHERE contact_id = ?", [contact])
    }
}

extension WarningReason {
    /// The row's status for this reason: one status per kind of warning.
    var status: SendStatus {
        switch self {
        case .noOptIn: return .noOptIn
        case .unknown: return .unknown
        case .tooLong: return .tooLong
        case .suppressed: return .suppressed
        case .graph, .text: return .failed
        }
    }

    /// Facebook's answer behind it, for the row's error columns and the suppression rule.
    var graphError: GraphError? {
        if case .graph(let code, let subcode) = self { return GraphError(code: code, subcode: subcode) }
        return nil
    }
}
