import Foundation
import XCTest
@testable import Dashboard
@testable import MessengerCore
import TerminalKit

/// The real screens over a real database on a VirtualTerminal, effects run inline.
final class SessionTests: XCTestCase {
    func makeWorkspace() throws -> Workspace {
        let db = try AppDatabase.temporary()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
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

    /// Random keys, pastes and resizes (10x3 up to 400x120) through the real screens over a real
    /// database. FUZZ_EVENTS sets how many (`make soak` runs 1,000,000), FUZZ_SEED replays a run;
    /// the seed is printed first.
    func testRandomEventsNeverBreakTheFrameOrTheState() throws {
        let env = ProcessInfo.processInfo.environment
        let events = env["FUZZ_EVENTS"].flatMap(Int.init) ?? 10_000
        let seed = env["FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("fuzz: \(events) events, FUZZ_SEED=\(seed)")
        let workspace = try makeWorkspace()
        let terminal = VirtualTerminal(width: 80, height: 24)
        let runtime = Runtime(workspace: workspace, terminal: terminal, themeName: "default", themeFolders: [], synchronousEffects: true)
        var generator = SeededGenerator(state: seed)
        let keys: [Key] = [.char("j"), .char("k"), .char("g"), .char("G"), .enter, .escape, .char(" "), .char("/"), .char("x"), .char("n"),
                           .char("e"), .char("d"), .char("s"), .char("f"), .char("D"), .char("r"), .char("a"), .char("t"), .char("p"),
                           .char("@"), .char("["), .char("]"), .tab, .backTab, .char("?"), .char(":"), .backspace, .pageDown, .pageUp,
                           .left, .right, .up, .down, .home, .end, .ctrl("s"), .ctrl("z"), .char("東"), .char("👍"), .char("q"), .char("y")]
        let pastes = ["Northwind", "stats Northwind Shop", "\u{1B}[2J\u{1B}]52;c;aGk=\u{07}", "東京 👨‍👩‍👧 e\u{301}", String(repeating: "z", count: 300)]
        var quits = 0
        for step in 0..<events {
            let r = Int(generator.next() % 1000)
            if r < 5 {
                terminal.resize(width: 10 + Int(generator.next() % 391), height: 3 + Int(generator.next() % 118))
            } else if r < 15 {
                terminal.enqueue([.paste(pastes[Int(generator.next() % UInt64(pastes.count))])])
            } else {
                terminal.enqueue(keys: keys[Int(generator.next() % UInt64(keys.count))])
            }
            runtime.run(until: { !terminal.hasPendingEvents })
            let state = runtime.state
            if state.quitting {
                // q on the top screen quits; start again where a user would.
                quits += 1
                runtime.restartForFuzz()
            }
            if let problem = Self.invariantBroken(state, terminal: terminal) {
                return XCTFail("FUZZ_SEED=\(seed) step \(step): \(problem)")
            }
        }
        print("fuzz: \(events) events survived, \(quits) quits, FUZZ_SEED=\(seed)")
        XCTAssertGreaterThan(try workspace.profiles.list().count, 0)
    }

    /// What must hold after every event, or a description of what broke.
    static func invariantBroken(_ state: AppState, terminal: VirtualTerminal) -> String? {
        if state.stack.isEmpty { return "empty navigation stack" }
        guard case .profiles = state.stack[0] else { return "the first screen is not Profiles" }
        if terminal.screen.width != terminal.width || terminal.screen.height != terminal.height {
            return "frame \(terminal.screen.width)x\(terminal.screen.height) on a \(terminal.width)x\(terminal.height) screen"
        }
        if terminal.screen.widestLine() > terminal.width { return "a line wider than the screen" }
        func check(_ table: TableState, count: Int, _ name: String) -> String? {
            table.cursor < 0 || (count > 0 && table.cursor >= count) ? "\(name) cursor \(table.cursor) of \(count)" : nil
        }
        switch state.current {
        case .profiles(let s): return check(s.table, count: s.visible.count, "profiles")
        case .programs(let s): return check(s.table, count: s.programs.count, "programs")
        case .stats(let s): return check(s.table, count: s.details?.days.count ?? 0, "stats")
        case .contacts(let s): return check(s.table, count: s.page?.rows.count ?? 0, "contacts")
        default: return nil
        }
    }
}
