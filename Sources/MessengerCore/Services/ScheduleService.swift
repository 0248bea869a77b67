import Foundation
import GRDB

/// A program's schedule as stored, with when it next runs and how its last scheduled run went.
public struct ScheduledProgram: Equatable, Sendable {
    public var programID: Int64
    public var program: String
    public var schedule: ProgramSchedule
    public var nextAt: Int64
    public var lastRunAt: Int64?
    public var lastResult: String?
}

/// Program schedules (#25): the one writer of `program_schedule`. `programs schedule` sets one;
/// `serve`'s scheduler asks what is due and records each run's outcome and the next time.
public struct ScheduleService: Sendable {
    let workspace: Workspace
    var database: AppDatabase { workspace.database }

    /// Sets (or with nil, removes) a program's schedule; the first run is one interval from now
    /// (`--every`) or the next such wall-clock time (`--daily`). Returns it as stored.
    @discardableResult
    public func set(program name: String, _ schedule: ProgramSchedule?) throws -> ScheduledProgram? {
        let now = workspace.clock.nowMillis()
        let calendar = workspace.calendar
        return try database.transaction { db in
            let id = try ProgramService.id(db, named: name)
            guard let schedule else {
                try db.exec("DELETE FROM program_schedule WHERE program_id = ?", [id])
                return nil
            }
            let (kind, minutes) = schedule.stored
            try db.exec(
                """
                INSERT INTO program_schedule (program_id, kind, minutes, next_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (program_id) DO UPDATE SET kind = excluded.kind, minutes = excluded.minutes, next_at = excluded.next_at
                """, [id, kind, minutes, schedule.next(after: now, calendar: calendar)])
            return try Self.fetch(db, where: "s.program_id = ?", [id]).first
        }
    }

    /// Every schedule, by program name.
    public func all() throws -> [ScheduledProgram] {
        try database.snapshot { db in try Self.fetch(db, where: "TRUE", []) }
    }

    /// The schedules due at `now`, the longest overdue first.
    public func due(at now: Int64) throws -> [ScheduledProgram] {
        try database.snapshot { db in try Self.fetch(db, where: "s.next_at <= ?", [now]).sorted { $0.nextAt < $1.nextAt } }
    }

    /// Records a scheduled run's outcome and moves the schedule to its next time after `now`
    /// (a run missed while the service was down runs once, not once per missed time).
    public func finished(_ scheduled: ScheduledProgram, result: String, at now: Int64) throws {
        let next = scheduled.schedule.next(after: now, calendar: workspace.calendar)
        try database.transaction { db in
            try db.exec(
                "UPDATE program_schedule SET next_at = ?, last_run_at = ?, last_result = ? WHERE program_id = ?",
                [next, now, String(result.prefix(300)), scheduled.programID])
        }
    }

    static func fetch(_ db: any StoreConnection, where condition: String, _ arguments: StoreArguments) throws -> [ScheduledProgram] {
        try db.rows(
            """
            SELECT s.program_id, p.name, s.kind, s.minutes, s.next_at, s.last_run_at, s.last_result
            FROM program_schedule s JOIN program p ON p.id = s.program_id
            WHERE \(condition) ORDER BY p.name_key
            """, arguments
        ).compactMap { row in
            guard let schedule = ProgramSchedule(kind: row["kind"], minutes: row["minutes"]) else { return nil }
            return ScheduledProgram(
                programID: row["program_id"], program: row["name"], schedule: schedule, nextAt: row["next_at"],
                lastRunAt: row["last_run_at"], lastResult: row["last_result"])
        }
    }
}
