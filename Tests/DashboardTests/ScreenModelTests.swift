import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

/// The screens' reducers: each takes its own messages and ignores the rest, so an answer that
/// arrives late (the user has moved on) can't change another screen.
final class ScreenModelTests: XCTestCase {
    private let context = ScreenContext(visibleRows: 10, profileNames: ["Shop"])

    func testAScreenRoundTripsThroughItsModel() {
        var screen = Screen.stats(StatsScreenState(profile: "Shop"))
        let commands = screen.update { $0.handle(.char("f"), context) }
        guard case .stats(let stats) = screen else { return XCTFail("the stats screen became \(screen)") }
        XCTAssertEqual(stats.filter, .warnings, "f moved the filter on, and the change was stored back")
        XCTAssertEqual(commands, [.run(stats.reload)])
        XCTAssertEqual(screen.title, "Stats (warnings)")
    }

    func testAnAnswerForAnotherProfileIsIgnored() {
        var page = ProfilePageState(name: "Shop")
        let other = details("Events")
        XCTAssertEqual(page.receive(.profileLoaded(other, days: []), context), [])
        XCTAssertNil(page.details, "the page of Shop kept no details of Events")
        _ = page.receive(.profileLoaded(details("shop"), days: []), context)
        XCTAssertEqual(page.details?.summary.name, "shop", "names match case-insensitively (R1) and the page takes the stored spelling")
        XCTAssertEqual(page.name, "shop")
    }

    func testTheNodeEditorIgnoresAnotherScreensMessage() {
        var editor = NodeEditorState(program: "Welcome")
        XCTAssertEqual(editor.receive(.sampleLoaded(nil), context), [])
        XCTAssertEqual(editor.receive(.programsLoaded([]), context), [], "another screen's message changes nothing")
        XCTAssertEqual(Screen.nodeEditor(editor), .nodeEditor(NodeEditorState(program: "Welcome")))
    }

    func testTheContactPageReloadsOnlyForItsOwnLift() {
        var detail = ContactDetailState(sendID: 7)
        XCTAssertEqual(detail.receive(.suppressionLifted(email: "a@example.com", sendID: 8), context), [])
        XCTAssertEqual(
            detail.receive(.suppressionLifted(email: "a@example.com", sendID: 7), context),
            [.run(.loadContactDetail(sendID: 7))])
    }

    /// #27: a table's scroll is decided where it is drawn and fed back (ratatui's StatefulWidget):
    /// PgDn steps by the rows the table really showed, whatever height the reducer was told, and
    /// the frame drawn always shows the cursor.
    func testPgDnStepsByTheHeightTheTableWasDrawnAt() {
        var state = AppState(theme: Theme.fallback, width: 80, height: 24)
        _ = App.update(&state, .profilesLoaded((1...100).map { summary(Int64($0), "Profile \($0)") }))
        let wrong = ScreenContext(visibleRows: 50, profileNames: [])
        _ = state.updateCurrent { $0.handle(.pageDown, wrong) }
        XCTAssertEqual(state.current.tableCursor, 50, "before a draw the reducer's hint is the step")
        _ = App.draw(&state)
        guard case .profiles(let drawn) = state.current else { return XCTFail("\(state.current)") }
        let rows = drawn.table.page
        XCTAssertEqual(rows, 24 - 1 - 1 - 1 - 1, "breadcrumb, key bar, status line and header take four rows")
        XCTAssertEqual(drawn.table.offset, 50 - rows + 1, "scrolled the least that shows the cursor")
        _ = state.updateCurrent { $0.handle(.pageDown, wrong) }
        XCTAssertEqual(state.current.tableCursor, 50 + rows, "PgDn stepped by the drawn page, not the hint")
        let frame = App.draw(&state).lines().joined(separator: "\n")
        XCTAssertTrue(frame.contains("Profile \(51 + rows)"), frame)
    }

    private func details(_ name: String) -> ProfileDetails {
        ProfileDetails(summary: summary(1, name), optInCode: "", sent7d: 0, read7d: 0, notSent: [], connectionError: nil)
    }
}
