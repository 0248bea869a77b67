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

    private func details(_ name: String) -> ProfileDetails {
        ProfileDetails(summary: summary(1, name), optInCode: "", sent7d: 0, read7d: 0, notSent: [], connectionError: nil)
    }
}
