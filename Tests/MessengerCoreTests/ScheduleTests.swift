import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// Program schedules (#25): what `programs schedule` accepts, when each is next due in the
/// account's zone (DST included), and what `serve`'s scheduler is told is due.
final class ScheduleTests: StoreTestCase {
    func testDurationsAndTimesAreParsedOrRefusedWithOneLine() throws {
        XCTAssertEqual(try ProgramSchedule.every("15m"), .every(minutes: 15))
        XCTAssertEqual(try ProgramSchedule.every("1h30m"), .every(minutes: 90))
        XCTAssertEqual(try ProgramSchedule.every("2d"), .every(minutes: 2880))
        XCTAssertEqual(try ProgramSchedule.every("1m"), .every(minutes: 1))
        for bad in ["0m", "30s", "m", "15", "1h1h", "5x", "", "-5m", "31d", "1.5h", "9999999m"] {
            XCTAssertThrowsError(try ProgramSchedule.every(bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("--every takes a duration"), "\(error)")
            }
        }
        XCTAssertEqual(try ProgramSchedule.daily("09:30"), .daily(minuteOfDay: 570))
        XCTAssertEqual(try ProgramSchedule.daily("00:00"), .daily(minuteOfDay: 0))
        for bad in ["24:00", "9:30", "09:60", "0930", "09:30:00", "ab:cd"] {
            XCTAssertThrowsError(try ProgramSchedule.daily(bad), bad)
        }
        XCTAssertEqual("\(ProgramSchedule.every(minutes: 90))", "every 1h30m")
        XCTAssertEqual("\(ProgramSchedule.daily(minuteOfDay: 570))", "daily 09:30")
    }

    func testDailyIsTheNextWallClockTimeInTheAccountsZoneAcrossDST() throws {
        let berlin = AccountCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)
        let f = ISO8601DateFormatter()
        func ms(_ iso: String) -> Int64 { Int64(f.date(from: iso)!.timeIntervalSince1970 * 1000) }
        let daily = try ProgramSchedule.daily("09:30")
        // 08:00 in Berlin (07:00Z, winter): today at 09:30 local.
        XCTAssertEqual(daily.next(after: ms("2026-11-25T07:00:00Z"), calendar: berlin), ms("2026-11-25T08:30:00Z"))
        // 10:00 local: tomorrow.
        XCTAssertEqual(daily.next(after: ms("2026-11-25T09:00:00Z"), calendar: berlin), ms("2026-11-26T08:30:00Z"))
        // Exactly at the time: the next one, not the same instant again.
        XCTAssertEqual(daily.next(after: ms("2026-11-25T08:30:00Z"), calendar: berlin), ms("2026-11-26T08:30:00Z"))
        // The night clocks go forward (2026-03-29): 09:30 is 07:30Z after it, 08:30Z before.
        XCTAssertEqual(daily.next(after: ms("2026-03-28T12:00:00Z"), calendar: berlin), ms("2026-03-29T07:30:00Z"))
        // 02:30 doesn't exist that night: it runs once, after the change.
        let night = try ProgramSchedule.daily("02:30").next(after: ms("2026-03-28T12:00:00Z"), calendar: berlin)
        XCTAssertGreaterThanOrEqual(night, ms("2026-03-29T01:00:00Z"))
        XCTAssertLessThan(night, ms("2026-03-29T03:00:00Z"))
        let every = try ProgramSchedule.every("15m")
        XCTAssertEqual(every.next(after: 1_000, calendar: berlin), 1_000 + 900_000)
    }

    func testTheSchedulerIsToldWhatIsDueAndEachRunMovesItOn() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let schedules = f.workspace.schedules
            let set = try XCTUnwrap(try schedules.set(program: "Orders", .every(minutes: 15)))
            XCTAssertEqual(set.nextAt, f.clock.nowMillis() + 900_000, "the first run one interval after it is set")
            XCTAssertEqual(try f.workspace.programs.summary(named: "Orders").schedule, .every(minutes: 15))
            XCTAssertTrue(try schedules.due(at: f.clock.nowMillis()).isEmpty)
            let due = try schedules.due(at: f.clock.nowMillis() + 900_000)
            XCTAssertEqual(due.map(\.program), ["Orders"])
            // The service was down for an hour: one run, then the next time from now.
            let late = f.clock.nowMillis() + 3_600_000
            try schedules.finished(due[0], result: "2 sent", at: late)
            let after = try XCTUnwrap(try schedules.all().first)
            XCTAssertEqual(after.nextAt, late + 900_000)
            XCTAssertEqual(after.lastResult, "2 sent")
            XCTAssertEqual(after.lastRunAt, late)
            XCTAssertNil(try schedules.set(program: "Orders", nil))
            XCTAssertTrue(try schedules.all().isEmpty)
            XCTAssertThrowsError(try schedules.set(program: "Nope", .every(minutes: 5)))
        }
    }

    /// `serve`'s scheduler: a due active program runs through the runner (its lease and all), a
    /// paused one is skipped; both move on to their next time.
    func testTheSchedulerRunsWhatIsDueAndSkipsAPausedProgram() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            try f.workspace.programs.create(name: "Later")
            try f.workspace.schedules.set(program: "Orders", .every(minutes: 15))
            try f.workspace.schedules.set(program: "Later", .daily(minuteOfDay: 0))
            let scheduler = ProgramScheduler(workspace: f.workspace)
            XCTAssertEqual(try scheduler.runDue(), [], "nothing is due yet")
            f.clock.set(f.clock.nowMillis() + 86_400_000)
            let outcomes = try scheduler.runDue()
            XCTAssertEqual(outcomes.map(\.program), ["Orders", "Later"], "the longest overdue first (12:15 before midnight)")
            XCTAssertEqual(outcomes.map(\.result), ["sent", "skipped"])
            XCTAssertEqual(outcomes[0].line, "2 sent, 1 warning of 3 enrolled")
            XCTAssertEqual(f.transport.sent.count, 2)
            XCTAssertEqual(try scheduler.runDue(), [], "each moved on to its next time")
            XCTAssertEqual(
                try f.workspace.schedules.all().map(\.lastResult), ["skipped: the program is draft", "2 sent, 1 warning of 3 enrolled"])
        }
    }
}
