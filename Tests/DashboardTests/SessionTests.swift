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
