import GoldenSupport
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

final class ProfilesScreenTests: XCTestCase {
    func testMovementKeys() {
        var s = appWithProfiles()
        s.press(.char("j"))
        XCTAssertEqual(s.profiles?.current?.name, "Northwind Shop")
        s.press(.char("G"))
        XCTAssertEqual(s.profiles?.current?.name, "Northwind Support")
        s.press(.char("k"), .up)
        XCTAssertEqual(s.profiles?.current?.name, "Northwind Events")
        s.press(.down, .pageDown)
        XCTAssertEqual(s.profiles?.current?.name, "Northwind Support")
        s.press(.char("g"))
        XCTAssertEqual(s.profiles?.table.cursor, 0)
        s.press(.pageUp)
        XCTAssertEqual(s.profiles?.table.cursor, 0)
    }

    func testFilterAsYouTypeEnterKeepsEscClears() {
        var s = appWithProfiles()
        s.press(.char("/"))
        s.type("sho")
        XCTAssertEqual(s.profiles?.visible.map(\.name), ["Northwind Shop"])
        XCTAssertTrue(s.screenText.contains("/sho"))
        s.press(.enter)
        XCTAssertEqual(s.profiles?.filter.text, "sho")
        XCTAssertEqual(s.profiles?.filter.isTyping, false)
        s.press(.escape)
        XCTAssertEqual(s.profiles?.visible.count, 3)
        s.press(.char("/"))
        s.type("x")
        s.press(.escape)
        XCTAssertEqual(s.profiles?.filter.text, "")
        XCTAssertFalse(s.quitting)
    }

    func testSpaceMarksAndActionsApplyToMarkedRows() {
        var s = appWithProfiles()
        s.press(.char(" "))
        s.press(.char(" "))
        XCTAssertEqual(s.profiles?.marked, [1, 2])
        XCTAssertEqual(s.press(.char("d")), [.planDeletion(names: ["Northwind Events", "Northwind Shop"])])
        _ = App.update(&s, .deletionPlanned(DeletionPlan(profiles: ["Northwind Events", "Northwind Shop"], usageRecords: 1234)))
        guard case .confirm(let dialog, let then) = s.overlay else { return XCTFail("no confirmation") }
        XCTAssertEqual(dialog.focus, .cancel, "every confirmation starts on Cancel")
        XCTAssertTrue(dialog.message.contains("1234 usage records"))
        XCTAssertEqual(then, .delete(names: ["Northwind Events", "Northwind Shop"]))
        XCTAssertEqual(s.press(.enter), [], "Enter on Cancel deletes nothing")
        XCTAssertNil(s.overlay)
    }

    func testDeleteConfirmedRunsTheDeleteAndReloads() {
        var s = appWithProfiles()
        s.press(.char("d"))
        _ = App.update(&s, .deletionPlanned(DeletionPlan(profiles: ["Northwind Events"], usageRecords: 2)))
        XCTAssertEqual(s.press(.tab, .enter), [.delete(names: ["Northwind Events"])])
        XCTAssertEqual(App.update(&s, .deleted(DeletionPlan(profiles: ["Northwind Events"], usageRecords: 2))), [.loadProfiles])
        XCTAssertEqual(s.toast?.kind, .success)
    }

    func testDisablingAsksFirstEnablingDoesNot() {
        var s = appWithProfiles()
        // Checked before it asks (#27): a refusal comes as a toast, with no dialog first.
        XCTAssertEqual(s.press(.char("e")), [.planDisable(names: ["Northwind Events"])])
        XCTAssertNil(s.overlay)
        _ = App.update(&s, .failed("profile \"Northwind Events\" can't be disabled: it is used by the active program \"Events\""))
        XCTAssertNil(s.overlay, "a refused disable asks nothing")
        XCTAssertEqual(s.toast?.kind, .error)
        _ = App.update(&s, .disablePlanned(names: ["Northwind Events"]))
        guard case .confirm(_, let then) = s.overlay else { return XCTFail("disable must ask") }
        XCTAssertEqual(then, .setEnabled(names: ["Northwind Events"], enabled: false))
        s.press(.escape)
        XCTAssertNil(s.overlay)
        s.press(.char("G"))
        XCTAssertEqual(s.press(.char("e")), [.setEnabled(names: ["Northwind Support"], enabled: true)])
    }

    func testRefusalsShowAsToasts() {
        var s = appWithProfiles()
        _ = App.update(&s, .failed("profile \"Northwind Shop\" can't be deleted: it is used by the active program \"Orders\""))
        XCTAssertEqual(s.toast?.kind, .error)
        XCTAssertTrue(s.screenText.contains("\"Orders\""))
    }

    func testEnterOpensTheProfilePageNAndQ() {
        var s = appWithProfiles()
        s.press(.char("j"))
        XCTAssertEqual(s.press(.enter), [.loadProfile(name: "Northwind Shop")])
        XCTAssertEqual(s.stack.count, 2)
        XCTAssertEqual(s.press(.char("s")), [.loadStats(profile: "Northwind Shop", filter: .all)])
        XCTAssertEqual(s.press(.char("f")), [.loadStats(profile: "Northwind Shop", filter: .warnings)])
        s.press(.escape, .escape, .escape, .escape)
        XCTAssertEqual(s.stack.count, 1)
        XCTAssertFalse(s.quitting, "Esc never quits")
        s.press(.char("n"))
        XCTAssertNotNil(s.newProfile)
        s.press(.escape)
        s.press(.char("q"))
        XCTAssertTrue(s.quitting)
    }

    func testQDoesNotQuitFromADeeperScreen() {
        var s = appWithProfiles()
        s.press(.enter, .char("s"), .char("q"))
        XCTAssertFalse(s.quitting)
    }

    func testLiveRefreshReloadsTheCurrentScreenAndKeepsTheCursor() {
        var s = appWithProfiles()
        s.press(.char("j"))
        XCTAssertEqual(App.update(&s, .databaseChanged), [.loadProfiles])
        _ = App.update(
            &s, .profilesLoaded([summary(9, "Aardvark"), summary(1, "Northwind Events"), summary(2, "Northwind Shop", delivered: 7000)]))
        XCTAssertEqual(s.profiles?.current?.name, "Northwind Shop", "the cursor follows the profile, not the row number")
        XCTAssertEqual(s.profiles?.current?.delivered7d, 7000)
        s.press(.enter)
        XCTAssertEqual(App.update(&s, .databaseChanged), [.loadProfile(name: "Northwind Shop")])
    }

    /// A change while a screen is hidden under another (a receipt arrives while a contact is
    /// open) only reloads what is shown; going back reloads the screen below, once.
    func testGoingBackReloadsTheScreenBelow() {
        var s = appWithProfiles()
        s.press(.enter)
        XCTAssertEqual(s.press(.escape), [.loadProfiles])
        XCTAssertEqual(s.press(.char(":")), [])
        s.type("programs")
        XCTAssertEqual(s.press(.enter), [.loadPrograms])
        XCTAssertEqual(s.press(.escape), [.loadProfiles])
    }

    func testHelpAndCommandLine() {
        var s = appWithProfiles()
        s.press(.char("?"))
        XCTAssertEqual(s.overlay, .help)
        XCTAssertTrue(s.screenText.contains("Profiles: keys"))
        s.press(.escape)
        XCTAssertNil(s.overlay)
        s.press(.char(":"))
        s.type("sta")
        s.press(.tab)
        s.type("northwind sh")
        s.press(.tab)
        guard case .commandLine(let field) = s.overlay else { return XCTFail("no command line") }
        XCTAssertEqual(field.text, "stats Northwind Shop")
        XCTAssertEqual(s.press(.enter), [.loadProfile(name: "Northwind Shop"), .loadStats(profile: "Northwind Shop", filter: .all)])
        XCTAssertEqual(s.stack.count, 3)
        s.press(.char(":"))
        s.type("profiles")
        s.press(.enter)
        XCTAssertEqual(s.stack.count, 1)
        s.press(.char(":"))
        s.type("bogus")
        s.press(.enter)
        XCTAssertEqual(s.toast?.kind, .error)
        XCTAssertEqual(s.press(.char(":")) + s.type("theme light") + s.press(.enter), [.loadTheme("light")])
        s.press(.char(":"))
        s.type("q")
        s.press(.enter)
        XCTAssertTrue(s.quitting)
    }

    func testEmptyStateSaysHowToStart() {
        var s = AppState(theme: .fallback, width: 80, height: 24)
        _ = App.update(&s, .profilesLoaded([]))
        XCTAssertTrue(s.screenText.contains("Press n to create the first one"))
    }

    func testTooSmallAndRecovery() {
        var s = appWithProfiles()
        _ = App.update(&s, .resize(width: 60, height: 20))
        XCTAssertTrue(s.screenText.contains("needs 80x24"))
        _ = App.update(&s, .resize(width: 80, height: 24))
        XCTAssertTrue(s.screenText.contains("Northwind Shop"))
    }

    func testGoldenScreens() {
        for (w, h) in [(80, 24), (160, 48)] {
            var s = appWithProfiles(width: w, height: h)
            s.press(.char("j"), .char(" "))
            assertGolden("profiles-\(w)x\(h)", App.view(s))
            s.press(.char("d"))
            _ = App.update(&s, .deletionPlanned(DeletionPlan(profiles: ["Northwind Shop"], usageRecords: 11_280)))
            assertGolden("delete-confirm-\(w)x\(h)", App.view(s))
        }
    }
}
