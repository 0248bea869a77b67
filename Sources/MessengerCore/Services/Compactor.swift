import Foundation
import GRDB

public struct CompactionResult: Equatable, Sendable {
    public var sends = 0
    public var enrolments = 0
    /// False when the time budget ran out first (the next compaction goes on from there).
    public var finished = true
}

/// History that stays bounded (`retention_days`, default 90): send rows older than that are
/// deleted, with the finished enrolments that no longer have any; the daily rollups stay forever,
/// so the statistics of older days still add up. At a million contacts a day `send` would gain
/// ~365 million rows a year; with compaction a run's cost, the database's size and every screen
/// stay flat (measured in `make bench`).
///
/// Deletes go in chunks of a few thousand rows, each its own short transaction, so a run or a
/// webhook writing meanwhile waits at most one chunk, and the dashboard, reading in WAL, not at
/// all. A run compacts for a few seconds after it finished; `messenger-dash compact` does it all.
public struct Compactor: Sendable {
    let workspace: Workspace
    public static let defaultRetentionDays = 90
    /// The 7-day screens need 7 days and today.
    public static let minimumRetentionDays = 8

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// The first day kept.
    public var firstKeptDay: DayNumber { workspace.today - workspace.retentionDays + 1 }

    /// How long the compaction that follows a run or a retry may take, from the command line and
    /// the dashboard alike (#28): what is left is done by the next run or `messenger-dash compact`.
    public static let afterRunBudget: TimeInterval = 5

    /// What follows a run: a few seconds of compaction. A failure here never fails the run: nil.
    public func afterRun() -> CompactionResult? { try? compact(budget: Self.afterRunBudget) }

    public func compact(budget: TimeInterval? = nil, chunk: Int = 5_000, progress: ((CompactionResult) -> Void)? = nil) throws
        -> CompactionResult
    {
        let deadline = budget.map { Date().addingTimeInterval($0) }
        var result = CompactionResult()
        let cutoffDay = firstKeptDay
        let cutoffMillis = workspace.calendar.startMillis(of: cutoffDay)
        let profiles = try workspace.database.snapshot { db in try db.values(Int64.self, "SELECT id FROM profile") }
        // Send rows, a profile at a time, through `send_by_outcome (profile_id, day, …)`.
        for profile in profiles {
            while true {
                if let deadline, Date() > deadline {
                    result.finished = false
                    return result
                }
                let deleted = try workspace.database.transaction { db -> Int in
                    try SendLedger.writing(db) { ledger in try ledger.deleteSends(profile: profile, before: cutoffDay, limit: chunk) }
                }
                result.sends += deleted
                progress?(result)
                if deleted < chunk { break }
            }
        }
        // Finished enrolments from before the cutoff that have no send row left. Enrolment ids
        // grow with time: the cutoff is an id, found by a binary search on the rowid.
        let boundary = try workspace.database.snapshot { db in try Self.firstEnrolment(db, atOrAfter: cutoffMillis) }
        var after: Int64 = 0
        while after < boundary {
            if let deadline, Date() > deadline {
                result.finished = false
                return result
            }
            let (deleted, last) = try workspace.database.transaction { db -> (Int, Int64) in
                let ids = try db.values(
                    Int64.self,
                    """
                    SELECT id FROM enrolment WHERE id > ? AND id < ? ORDER BY id LIMIT ?
                    """, [after, boundary, chunk])
                guard let last = ids.last else { return (0, boundary) }
                let deleted = try db.exec(
                    """
                    DELETE FROM enrolment WHERE id > ? AND id <= ? AND finished_at IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM send WHERE send.enrolment_id = enrolment.id)
                    """, [after, last])
                return (deleted, last)
            }
            result.enrolments += deleted
            after = last
            progress?(result)
        }
        return result
    }

    /// The smallest enrolment id enrolled at or after `millis` (ids grow with time), or one past
    /// the largest.
    static func firstEnrolment(_ db: any StoreConnection, atOrAfter millis: Int64) throws -> Int64 {
        guard var high = try db.value(Int64.self, "SELECT MAX(id) FROM enrolment"),
            var low = try db.value(Int64.self, "SELECT MIN(id) FROM enrolment")
        else { return 0 }
        high += 1
        while low < high {
            let middle = low + (high - low) / 2
            guard
                let row = try db.rowsPrepared("SELECT id, enrolled_at FROM enrolment WHERE id >= ? ORDER BY id LIMIT 1", [middle]).first
            else {
                high = middle
                continue
            }
            if (row["enrolled_at"] as Int64) < millis { low = (row["id"] as Int64) + 1 } else { high = middle }
        }
        return low
    }
}
