import GRDB

/// Counts gathered while events are written, added to `daily_stat` in the same transaction so
/// the statistics never need to scan the events (R8, R9). Only `SendLedger` keeps one.
struct Rollup {
    struct Key: Hashable {
        let profile: Int64
        let day: DayNumber
        let outcome: StatOutcome
        /// The warning's code (`WarningReason.code`), '' for the other outcomes.
        let reason: String
    }

    private(set) var counts: [Key: Int] = [:]

    mutating func add(profile: Int64, day: DayNumber, outcome: StatOutcome, reason: WarningReason? = nil, count: Int = 1) {
        counts[Key(profile: profile, day: day, outcome: outcome, reason: reason?.code ?? ""), default: 0] += count
    }

    mutating func write(_ db: any StoreConnection) throws {
        guard !counts.isEmpty else { return }
        for (key, count) in counts where count != 0 {
            try db.execPrepared(
                """
                INSERT INTO daily_stat (profile_id, day, outcome, reason, count) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (profile_id, day, outcome, reason) DO UPDATE SET count = daily_stat.count + excluded.count
                """, [key.profile, key.day, key.outcome, key.reason, count])
            // A retry (R16) moves a warning to another outcome: a count taken to zero goes, so a
            // reason no contact has any more is not listed.
            if count < 0 {
                try db.execPrepared(
                    "DELETE FROM daily_stat WHERE profile_id = ? AND day = ? AND outcome = ? AND reason = ? AND count <= 0",
                    [key.profile, key.day, key.outcome, key.reason])
            }
        }
        counts.removeAll(keepingCapacity: true)
    }
}
