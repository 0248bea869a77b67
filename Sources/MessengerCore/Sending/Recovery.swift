import GRDB

/// What a dead run left, settled by the next run in its first transaction (R6), with the answer
/// journal (`AnswerJournal`): answered messages are recorded as answered, asked ones without an
/// answer as unknown (never resent), and ones never asked are left to this run to send. Every row
/// is written through the ledger.
struct Recovery {
    /// Recorded now: as Facebook answered (`answered` of them) or as unknown.
    var recorded = 0
    var answered = 0
    var sent = 0
    var failed: [WarningReason: Int] = [:]
    var unknown = 0
    /// Never asked of Facebook (the journal says so): left for this run to send.
    var notAsked = 0

    func add(to summary: inout RunSummary, reasons: inout [WarningReason: Int]) {
        summary.recovered = recorded
        summary.recoveredAnswered = answered
        summary.recoveredNotAsked = notAsked
        summary.sent += sent
        for (reason, count) in failed { reasons[reason, default: 0] += count }
        if unknown > 0 { reasons[.unknown, default: 0] += unknown }
    }

    /// Settles the dead runs' `claims` as their journal at `path` says, and counts what it did.
    static func settle(_ db: any StoreConnection, _ plan: NodePlan, claims: [Claim], journal path: String, day: DayNumber, at now: Int64)
        throws
        -> Recovery
    {
        var recovery = Recovery()
        try SendLedger.writing(db) { ledger in
            for claim in claims {
                let journal = AnswerJournal.read(path, claim: claim)
                let unanswered = try db.rows(
                    """
                    SELECT e.id, e.contact_id, o.value FROM enrolment e
                    LEFT JOIN contact_value o ON o.contact_id = e.contact_id AND o.field_id = ?
                    WHERE e.program_id = ? AND e.id > ? AND e.id <= ? AND e.finished_at IS NULL AND e.next_position = 1
                      AND NOT EXISTS (SELECT 1 FROM send s WHERE s.enrolment_id = e.id AND s.node_id = ?)
                    """, [plan.optInFieldID, plan.programID, claim.after, claim.through, claim.node])
                var notAsked = 0
                for row in unanswered {
                    let enrolment: Int64 = row[0]
                    let answer = journal.answers[enrolment].flatMap { $0.psid == nil ? nil : $0 }
                    if answer == nil, journal.knowsWhatWasAsked, !journal.asked.contains(enrolment) {
                        notAsked += 1  // never left the machine: this run sends it
                        continue
                    }
                    // Answered: as Facebook answered. Asked and never answered: unknown, never resent.
                    let outcome = answer.map(Self.outcome) ?? .warning(.unknown)
                    if answer == nil {
                        recovery.unknown += 1
                    } else {
                        recovery.answered += 1
                        switch outcome {
                        case .sent: recovery.sent += 1
                        case .warning(let reason, _): recovery.failed[reason, default: 0] += 1
                        }
                    }
                    let to = plan.recipient(enrolment: enrolment, node: claim.node, contact: row[1], psid: answer?.psid ?? row[2])
                    try ledger.record(to, outcome, message: answer?.text, day: day, at: now)
                }
                recovery.recorded += unanswered.count - notAsked
                recovery.notAsked += notAsked
                // Only the enrolments that now have their row move on; the never-asked stay for this run.
                // (On PostgreSQL the rows just recorded are written first: the advance reads them.)
                try ledger.flush()
                try ProgramRunner.advance(db, plan, after: claim.after, through: claim.through, at: now, onlyRecordedFor: claim.node)
            }
        }
        return recovery
    }

    /// What a journal's answer line says came of a message.
    static func outcome(of answer: AnswerJournal.Line) -> SendLedger.Outcome {
        if let messageID = answer.mid { return .sent(messageID: messageID) }
        let error = GraphError(code: answer.code ?? GraphError.unexpectedAnswer, subcode: answer.sub)
        return .warning(error.warning, detail: answer.reason ?? error.reason)
    }
}
