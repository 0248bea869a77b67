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

    func testRandomKeysNeverBreakTheFrame() throws {
        let workspace = try makeWorkspace()
        let terminal = VirtualTerminal(width: 80, height: 24)
        let runtime = Runtime(workspace: workspace, terminal: terminal, themeName: "default", themeFolders: [], synchronousEffects: true)
        var rng = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        var generator = SeededGenerator(state: seed)
        let keys: [Key] = [.char("j"), .char("k"), .char("g"), .char("G"), .enter, .escape, .char(" "), .char("/"), .char("x"), .char("n"),
                           .char("e"), .char("d"), .char("s"), .char("f"), .tab, .char("?"), .char(":"), .backspace, .pageDown, .char("東")]
        for step in 0..<800 {
            let r = Int(generator.next() % 100)
            if r < 3 {
                terminal.resize(width: 10 + Int(generator.next() % 200), height: 3 + Int(generator.next() % 60))
            } else {
                let key = keys[Int(generator.next() % UInt64(keys.count))]
                terminal.enqueue(keys: key)
            }
            runtime.run(until: { !terminal.hasPendingEvents })
            if runtime.state.quitting { break }
            XCTAssertLessThanOrEqual(terminal.screen.widestLine(), terminal.width, "seed \(seed), step \(step)")
            XCTAssertEqual(terminal.screen.height, terminal.height, "seed \(seed)")
        }
        XCTAssertGreaterThan(try workspace.profiles.list().count, 0)
    }
}
