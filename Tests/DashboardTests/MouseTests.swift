import DashboardFuzz
import Foundation
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

/// The mouse (`mouse = true`): presses act on what the frame shows under them.
final class MouseTests: XCTestCase {
    func session() throws -> (Runtime, VirtualTerminal) {
        let workspace = try Fuzz.workspace()
        let terminal = VirtualTerminal(width: 200, height: 60)
        let runtime = Runtime(workspace: workspace, terminal: terminal, themeName: "default", themeFolders: [], synchronousEffects: true)
        runtime.start()
        return (runtime, terminal)
    }

    func press(_ runtime: Runtime, _ terminal: VirtualTerminal, _ kind: MouseEvent.Kind = .press, x: Int, y: Int) {
        terminal.enqueue([.mouse(MouseEvent(kind, x: x, y: y))])
        while terminal.hasPendingEvents { runtime.handle(terminal.nextEvent(timeoutMilliseconds: 0)) }
    }

    func row(_ terminal: VirtualTerminal, containing text: String) -> Int? {
        terminal.text.components(separatedBy: "\n").firstIndex { $0.contains(text) }
    }

    func testAPressSelectsARowAndADoublePressOpensIt() throws {
        let (runtime, terminal) = try session()
        let y = try XCTUnwrap(row(terminal, containing: "Northwind Support"))
        press(runtime, terminal, x: 5, y: y)
        guard case .profiles(let s) = runtime.state.current else { return XCTFail("left the list") }
        XCTAssertEqual(s.current?.name, "Northwind Support")
        let shop = try XCTUnwrap(row(terminal, containing: "Northwind Shop"))
        press(runtime, terminal, .doublePress, x: 5, y: shop)
        guard case .profilePage(let page) = runtime.state.current else { return XCTFail("not opened: \(terminal.text)") }
        XCTAssertEqual(page.name, "Northwind Shop")
        XCTAssertNotNil(page.details, "the page loads what it shows")
    }

    func testAKeyBarEntryActsAsItsKeyAndTheWheelMovesTheCursor() throws {
        let (runtime, terminal) = try session()
        let lines = terminal.text.components(separatedBy: "\n")
        let bar = lines.count - 1
        let x = try XCTUnwrap(lines[bar].range(of: "? help")).lowerBound.utf16Offset(in: lines[bar])
        press(runtime, terminal, x: x, y: bar)
        XCTAssertEqual(runtime.state.overlay, .help)
        press(runtime, terminal, x: 0, y: 1)
        XCTAssertNil(runtime.state.overlay, "a press beside the help closes it")
        press(runtime, terminal, .wheelDown, x: 10, y: 5)
        guard case .profiles(let s) = runtime.state.current else { return XCTFail() }
        XCTAssertEqual(s.table.cursor, 2, "three rows down, stopped at the last of three")
        press(runtime, terminal, .wheelUp, x: 10, y: 5)
        guard case .profiles(let t) = runtime.state.current else { return XCTFail() }
        XCTAssertEqual(t.table.cursor, 0)
    }

    func testADialogsButtonsActAndItsBodyCoversWhatIsUnderIt() throws {
        let (runtime, terminal) = try session()
        // Mark Northwind Support and ask to delete it: the dialog opens.
        let support = try XCTUnwrap(row(terminal, containing: "Northwind Support"))
        press(runtime, terminal, x: 5, y: support)
        terminal.enqueue(keys: .char(" "), .char("d"))
        while terminal.hasPendingEvents { runtime.handle(terminal.nextEvent(timeoutMilliseconds: 0)) }
        guard case .confirm = runtime.state.overlay else { return XCTFail("no dialog: \(terminal.text)") }
        let lines = terminal.text.components(separatedBy: "\n")
        let y = try XCTUnwrap(lines.firstIndex { $0.contains("[ Cancel ]") })
        // A press on the dialog's text does nothing; on Cancel it cancels and deletes nothing.
        press(
            runtime, terminal, x: try XCTUnwrap(lines[y - 2].firstIndex { $0 != " " && $0 != "│" }).utf16Offset(in: lines[y - 2]) + 3,
            y: y - 2)
        XCTAssertNotNil(runtime.state.overlay)
        let cancelX = try XCTUnwrap(lines[y].range(of: "[ Cancel ]")).lowerBound.utf16Offset(in: lines[y])
        press(runtime, terminal, x: cancelX + 2, y: y)
        XCTAssertNil(runtime.state.overlay)
        XCTAssertEqual(try runtime.workspace.profiles.list().count, 3)
    }

    func testDoublePressesAreTheSameCellWithinTheInterval() {
        var detector = DoublePressDetector()
        XCTAssertEqual(detector.kind(x: 1, y: 1, at: 10.0), .press)
        XCTAssertEqual(detector.kind(x: 1, y: 1, at: 10.3), .doublePress)
        XCTAssertEqual(detector.kind(x: 1, y: 1, at: 10.5), .press, "a third press starts over")
        XCTAssertEqual(detector.kind(x: 2, y: 1, at: 10.6), .press, "another cell")
        XCTAssertEqual(detector.kind(x: 2, y: 1, at: 11.1), .press, "too late")
        XCTAssertEqual(Key(label: "Ctrl-S"), .ctrl("s"))
        XCTAssertEqual(Key(label: "Esc"), .escape)
        XCTAssertNil(Key(label: "j/k"))
    }
}
