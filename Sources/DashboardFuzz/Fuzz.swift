import Dashboard
import Foundation
import MessengerCore
import TerminalKit

/// Random keys, pastes, mouse presses and wheel turns, and resizes (10x3 up to 400x120) driven through the real screens over a
/// real database on a VirtualTerminal, with the state's invariants checked after every event.
/// Shared by the XCTest (a short run) and `messenger-fuzz` (100,000 in `make test`, 1,000,000 in
/// `make soak`, release build). A seed replays a run exactly.
public enum Fuzz {
    public struct Outcome: Sendable {
        public let events: Int
        public let quits: Int
        /// nil when every invariant held; else the step and what broke.
        public let failure: String?
    }

    static let keys: [Key] = [
        .char("j"), .char("k"), .char("g"), .char("G"), .enter, .escape, .char(" "), .char("/"), .char("x"), .char("n"),
        .char("e"), .char("d"), .char("s"), .char("f"), .char("D"), .char("r"), .char("a"), .char("t"), .char("p"),
        .char("@"), .char("["), .char("]"), .tab, .backTab, .char("?"), .char(":"), .backspace, .pageDown, .pageUp,
        .left, .right, .up, .down, .home, .end, .ctrl("s"), .ctrl("z"), .char("東"), .char("👍"), .char("q"), .char("y"),
    ]
    static let pastes = [
        "Northwind", "stats Northwind Shop", "\u{1B}[2J\u{1B}]52;c;aGk=\u{07}", "東京 👨‍👩‍👧 e\u{301}",
        String(repeating: "z", count: 300),
    ]

    /// A demo workspace of `contacts` contacts in a temporary database.
    public static func workspace(contacts: Int = 200) throws -> Workspace {
        let db = try AppDatabase.temporary()
        // The machine's day, or MESSENGER_DASH_NOW's (`make test-dates`).
        let now = try PinnedNow.clock(ProcessInfo.processInfo.environment).nowMillis()
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
        _ = try Demo.build(database: db, calendar: calendar, appID: "1", now: now, options: DemoOptions(contacts: contacts, seed: 3))
        return Workspace(database: db, clock: FixedClock(millis: now), calendar: calendar)
    }

    public static func run(workspace: Workspace, events: Int, seed: UInt64) -> Outcome {
        let terminal = VirtualTerminal(width: 80, height: 24)
        let runtime = Runtime(workspace: workspace, terminal: terminal, themeName: "default", themeFolders: [], synchronousEffects: true)
        var generator = SeededGenerator(state: seed)
        var quits = 0
        runtime.start()
        for step in 0..<events {
            let r = Int(generator.next() % 1000)
            if r < 5 {
                terminal.resize(width: 10 + Int(generator.next() % 391), height: 3 + Int(generator.next() % 118))
            } else if r < 15 {
                terminal.enqueue([.paste(pastes[Int(generator.next() % UInt64(pastes.count))])])
            } else if r < 100 {
                // Anywhere on the screen and a little beyond it (a resize can race a press).
                let kinds: [MouseEvent.Kind] = [.press, .press, .doublePress, .wheelUp, .wheelDown]
                let kind = kinds[Int(generator.next() % UInt64(kinds.count))]
                let x = Int(generator.next() % UInt64(terminal.width + 2)) - 1
                let y = Int(generator.next() % UInt64(terminal.height + 2)) - 1
                terminal.enqueue([.mouse(MouseEvent(kind, x: x, y: y))])
            } else {
                terminal.enqueue(keys: keys[Int(generator.next() % UInt64(keys.count))])
            }
            while terminal.hasPendingEvents { runtime.handle(terminal.nextEvent(timeoutMilliseconds: 0)) }
            if runtime.state.quitting {
                // q on the top screen quits; start again where a user would.
                quits += 1
                runtime.restartForFuzz()
            }
            if let problem = invariantBroken(runtime.state, terminal: terminal) {
                return Outcome(events: step + 1, quits: quits, failure: "step \(step): \(problem)")
            }
        }
        return Outcome(events: events, quits: quits, failure: nil)
    }

    /// What must hold after every event, or a description of what broke.
    public static func invariantBroken(_ state: AppState, terminal: VirtualTerminal) -> String? {
        if state.stack.isEmpty { return "empty navigation stack" }
        guard case .profiles = state.stack[0] else { return "the first screen is not Profiles" }
        if terminal.screen.width != terminal.width || terminal.screen.height != terminal.height {
            return "frame \(terminal.screen.width)x\(terminal.screen.height) on a \(terminal.width)x\(terminal.height) screen"
        }
        if terminal.screen.widestLine() > terminal.width {
            let line = terminal.screen.lines().max { DisplayWidth.of($0) < DisplayWidth.of($1) } ?? ""
            return
                "a line wider than the screen (\(terminal.width)x\(terminal.height), screen \(state.current.title)): \(line.debugDescription)"
        }
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
