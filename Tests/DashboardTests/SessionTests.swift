import DashboardFuzz
import Foundation
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

/// The real screens over a real database on a VirtualTerminal, effects run inline.
final class SessionTests: XCTestCase {
    func makeWorkspace() throws -> Workspace {
        let db = try AppDatabase.temporary()
        // The machine's day, or MESSENGER_DASH_NOW's (`make test-dates`).
        let now = try PinnedNow.clock(ProcessInfo.processInfo.environment).nowMillis()
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
        _ = try Demo.build(database: db, calendar: calendar, appID: "1", now: now, options: DemoOptions(contacts: 200, seed: 3))
        return Workspace(database: db, clock: FixedClock(millis: now), calendar: calendar)
    }

    func testCreateAProfileThroughThePickerThenDeleteIt() throws {
        let workspace = try makeWorkspace()
        let terminal = VirtualTerminal(width: 100, height: 30)
        let runtime = Runtime(workspace: workspace, terminal: terminal, themeName: "default", themeFolders: [], synchronousEffects: true)
        terminal.enqueue(keys: .char("n"))
        terminal.type("Café ☕")
        terminal.enqueue(keys: .enter, .enter)
        runtime.run(until: { !terminal.hasPendingEvents })
        XCTAssertTrue(terminal.text.contains("Northwind Café 東京"), terminal.text)
        // The first choosable page is the café's; the Advertiser page above it can't be picked.
        terminal.enqueue(keys: .enter, .enter)
        runtime.run(until: { !terminal.hasPendingEvents })
        XCTAssertTrue(terminal.text.contains("Opt-in data field: FBOPTIN_"), terminal.text)
        XCTAssertEqual(try workspace.profiles.list().count, 4)
        terminal.enqueue(keys: .enter, .char("g"), .char("d"), .tab, .enter)
        runtime.run(until: { !terminal.hasPendingEvents })
        XCTAssertEqual(try workspace.profiles.list().map(\.name).contains("Café ☕"), false, terminal.text)
        terminal.enqueue(keys: .char("q"))
        runtime.run()
        XCTAssertTrue(runtime.state.quitting)
    }

    /// A short run of the UI fuzz (DashboardFuzz) on every `swift test`; `make test` also runs
    /// 100,000 events from a release build and `make soak` 1,000,000. FUZZ_SEED replays a run.
    /// #28: a run is known by one `RunID` from the key to the lease: the app lists it while it goes,
    /// the runtime's cancel flag for it is removed when it ends, and a retry of the program (the
    /// same lease) waits for it.
    func testARunIsOneRunIDFromTheKeyToTheLeaseAndLeavesNoFlagBehind() throws {
        let workspace = try makeWorkspace()
        let terminal = VirtualTerminal(width: 100, height: 30)
        let runtime = Runtime(workspace: workspace, terminal: terminal, themeName: "default", themeFolders: [], synchronousEffects: true)
        let program = try XCTUnwrap(try workspace.programs.list().first { $0.status == .active }).name
        var state = runtime.state
        _ = App.guardRuns(&state, effects: [.runProgram(name: program, reenrol: false)])
        XCTAssertEqual(state.runs, [RunID(.run, program: program.uppercased())], "one id, the program's name as unique")
        let refused = App.guardRuns(&state, effects: [.retryDay(profile: "Shop", day: DayNumber(0), programs: [program])])
        XCTAssertEqual(refused, [], "a retry of a program that runs is refused in the app, as its lease would")
        let toast = state.toast?.message ?? ""
        XCTAssertTrue(toast.contains(program) && toast.contains("is going"), toast)

        let before = try workspace.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM send") ?? 0 }
        terminal.type(":programs")
        terminal.enqueue(keys: .enter)
        terminal.type("/" + program)
        terminal.enqueue(keys: .enter)
        runtime.run(until: { !terminal.hasPendingEvents })
        terminal.enqueue(keys: .char("R"), .tab, .enter)
        runtime.run(until: { !terminal.hasPendingEvents })
        XCTAssertTrue(terminal.text.contains("Finished."), terminal.text)
        let after = try workspace.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM send") ?? 0 }
        XCTAssertGreaterThan(after, before, "the run sent")
        XCTAssertTrue(runtime.state.runs.isEmpty, "the app lists no run once it ended")
        XCTAssertEqual(runtime.runs.count, 0, "and its cancel flag is gone")
    }

    func testRandomEventsNeverBreakTheFrameOrTheState() throws {
        let env = ProcessInfo.processInfo.environment
        let events = env["FUZZ_EVENTS"].flatMap(Int.init) ?? 2_000
        let seed = env["FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("fuzz: \(events) events, FUZZ_SEED=\(seed)")
        let outcome = Fuzz.run(workspace: try Fuzz.workspace(), events: events, seed: seed)
        XCTAssertNil(outcome.failure, "FUZZ_SEED=\(seed)")
        XCTAssertEqual(outcome.events, events)
    }
}
