import Foundation
import XCTest

@testable import MessengerCore

/// R1, R2, R3, R10, R11: profiles, pages, opt-in fields, deletion and disabling.
final class ProfileRulesTests: XCTestCase {
    // MARK: R1

    func testProfileNameIsTrimmedAndMustHave1To100Characters() throws {
        XCTAssertEqual(try ProfileName("  Shop  ").value, "Shop")
        XCTAssertThrowsError(try ProfileName("   "))
        XCTAssertNoThrow(try ProfileName(String(repeating: "é", count: 100)))
        XCTAssertThrowsError(try ProfileName(String(repeating: "a", count: 101))) { error in
            XCTAssertEqual((error as? DomainError)?.message, "profile name is 101 characters long; the limit is 100")
        }
    }

    func testProfileNameRefusesControlAndInvisibleCharacters() {
        for bad in ["a\u{0}b", "a\nb", "a\u{1B}[31mb", "a\u{202E}b", "a\u{200B}b", "a\u{7F}b", "a\u{2066}b"] {
            XCTAssertThrowsError(try ProfileName(bad), "accepted \(bad.debugDescription)")
        }
        XCTAssertEqual(try ProfileName("店舗 👨‍👩‍👧 Shop").value, "店舗 👨‍👩‍👧 Shop")
    }

    func testProfileNamesAreUniqueIgnoringCase() throws {
        let f = try Fixture()
        try f.importPages()
        try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
        XCTAssertThrowsError(try f.workspace.profiles.create(name: "sHOP", pageID: Fixture.eventsPage)) { error in
            XCTAssertTrue("\(error)".contains("already exists"))
        }
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 1)
    }

    func testPageIsLinkedToAtMostOneProfile() throws {
        let f = try Fixture()
        try f.importPages()
        try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
        XCTAssertThrowsError(try f.workspace.profiles.create(name: "Other", pageID: Fixture.shopPage)) { error in
            XCTAssertEqual("\(error)", "page Shop is already linked to profile \"Shop\"")
        }
        XCTAssertEqual(try f.workspace.pages.list().first { $0.id == Fixture.shopPage }?.linkedProfile, "Shop")
    }

    func testProfileIsCreatedEnabledOrDisabled() throws {
        let f = try Fixture()
        try f.importPages()
        try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
        try f.workspace.profiles.create(name: "Events", pageID: Fixture.eventsPage, enabled: false)
        let byName = Dictionary(uniqueKeysWithValues: try f.workspace.profiles.list().map { ($0.name, $0.enabled) })
        XCTAssertEqual(byName, ["Shop": true, "Events": false])
    }

    // MARK: R2

    func testRoleComesFromTasksInOrder() {
        XCTAssertEqual(PageRole(tasks: ["ANALYZE", "MANAGE"]), .admin)
        XCTAssertEqual(PageRole(tasks: ["CREATE_CONTENT", "MODERATE"]), .editor)
        XCTAssertEqual(PageRole(tasks: ["MODERATE", "ADVERTISE"]), .moderator)
        XCTAssertEqual(PageRole(tasks: ["ADVERTISE", "ANALYZE"]), .advertiser)
        XCTAssertEqual(PageRole(tasks: ["ANALYZE"]), .analyst)
        XCTAssertEqual(PageRole(tasks: []), .analyst)
    }

    func testOnlyAdminEditorOrModeratorWithMessagingCanLink() throws {
        let f = try Fixture()
        try f.importPages()
        XCTAssertThrowsError(try f.workspace.profiles.create(name: "Ads", pageID: Fixture.adsPage)) { error in
            XCTAssertTrue("\(error)".contains("your role is Advertiser"), "\(error)")
        }
        XCTAssertThrowsError(try f.workspace.profiles.create(name: "Mods", pageID: Fixture.noMessagingPage)) { error in
            XCTAssertTrue("\(error)".contains("MESSAGING"), "\(error)")
        }
        let pages = try f.workspace.pages.list()
        XCTAssertEqual(pages.count, 4, "ineligible pages are still listed")
        XCTAssertNotNil(pages.first { $0.id == Fixture.adsPage }?.eligibility.reason)
        XCTAssertEqual(pages.first { $0.id == Fixture.eventsPage }?.eligibility, .eligible)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 0)
    }

    func testImportingAPageAgainUpdatesIt() throws {
        let f = try Fixture()
        try f.importPages()
        try f.workspace.pages.importAccounts(Data(#"{"data":[{"id":"1003","name":"Ads Renamed","tasks":["MANAGE","MESSAGING"]}]}"#.utf8))
        let page = try XCTUnwrap(f.workspace.pages.list().first { $0.id == "1003" })
        XCTAssertEqual(page.name, "Ads Renamed")
        XCTAssertEqual(page.role, .admin)
        XCTAssertTrue(page.hasToken, "an import without a token keeps the stored one")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM page"), 4)
    }

    func testBadAccountsFileChangesNothing() throws {
        let f = try Fixture()
        for bad in [
            "", "[]", #"{"data":[{"id":"x1","name":"A"}]}"#, #"{"data":[{"id":"1","name":"A","tasks":"MANAGE"}]}"#,
            #"{"data":[{"id":"1","name":"A"},{"id":"1","name":"B"}]}"#,
        ] {
            XCTAssertThrowsError(try f.workspace.pages.importAccounts(Data(bad.utf8)), bad)
        }
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM page"), 0)
    }

    // MARK: R3

    func testNewProfileGetsItsOwnOptInFieldAndCode() throws {
        let f = try Fixture()
        try f.importPages()
        let shop = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
        let events = try f.workspace.profiles.create(name: "Events", pageID: Fixture.eventsPage)
        XCTAssertTrue(shop.summary.optInField.hasPrefix("FBOPTIN_"))
        XCTAssertNotEqual(shop.summary.optInField, events.summary.optInField)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM data_field WHERE kind = 'optin'"), 2)
        XCTAssertTrue(shop.optInCode.contains(#"class="fb-send-to-messenger""#))
        XCTAssertTrue(shop.optInCode.contains(#"messenger_app_id="42""#))
        XCTAssertTrue(shop.optInCode.contains(#"page_id="1001""#))
        XCTAssertTrue(shop.optInCode.contains("data-ref="))
    }

    func testOptInFieldIsNeverReusedAfterDelete() throws {
        let f = try Fixture()
        try f.importPages()
        let first = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage).summary.optInField
        try f.workspace.profiles.delete(names: ["Shop"])
        let second = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage).summary.optInField
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(
            try f.count("SELECT COUNT(*) FROM data_field WHERE name = ?", [first]), 0, "the deleted profile's field went with it")
    }

    func testOptInCodesAreUniqueAcrossManyIDs() {
        let names = Set((1...50_000).map { OptInCode.fieldName(profileID: Int64($0)) })
        XCTAssertEqual(names.count, 50_000)
    }

    // MARK: R10

    func testProfileUsedByActiveProgramCantBeDeletedOrDisabled() throws {
        let f = try Fixture()
        try f.standardSetup()
        XCTAssertThrowsError(try f.workspace.profiles.delete(names: ["Shop"])) { error in
            XCTAssertTrue("\(error)".contains("\"Orders\""), "the refusal names the program: \(error)")
        }
        XCTAssertThrowsError(try f.workspace.profiles.setEnabled(false, names: ["Shop"])) { error in
            XCTAssertTrue("\(error)".contains("\"Orders\""))
        }
        XCTAssertEqual(try f.workspace.profiles.list().first?.enabled, true)
        try f.workspace.programs.pause(name: "Orders")
        XCTAssertNoThrow(try f.workspace.profiles.setEnabled(false, names: ["Shop"]))
    }

    func testDeletingAProfileDeletesItsStatisticsAndSaysHowMany() throws {
        let f = try Fixture()
        try f.standardSetup()
        _ = try f.run()
        try f.workspace.programs.pause(name: "Orders")
        let plan = try f.workspace.profiles.deletionPlan(names: ["Shop"])
        XCTAssertEqual(plan.usageRecords, 3)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 1, "a plan deletes nothing")
        try f.workspace.profiles.delete(names: ["Shop"])
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send"), 0)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM daily_stat"), 0)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM node WHERE profile_id IS NULL"), 1, "the program's node loses its profile")
    }

    func testSeveralProfilesAreDeletedAtOnceOrNotAtAll() throws {
        let f = try Fixture()
        try f.standardSetup()
        try f.workspace.profiles.create(name: "Events", pageID: Fixture.eventsPage)
        XCTAssertThrowsError(try f.workspace.profiles.delete(names: ["Events", "Shop"]))
        XCTAssertThrowsError(try f.workspace.profiles.delete(names: ["Events", "Nope"]))
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 2)
        try f.workspace.programs.pause(name: "Orders")
        XCTAssertEqual(try f.workspace.profiles.delete(names: ["events", "Shop"]).profiles.count, 2)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 0)
    }

    func testDisabledProfileCantBePickedButANodeKeepsIt() throws {
        let f = try Fixture()
        try f.standardSetup()
        try f.workspace.profiles.create(name: "Events", pageID: Fixture.eventsPage, enabled: false)
        try f.workspace.programs.create(name: "Reminders")
        XCTAssertThrowsError(
            try f.workspace.programs.setUtilityNode(
                program: "Reminders", profile: "Events",
                message: "Your event starts tomorrow.", acceptFlags: false)
        ) { error in
            XCTAssertTrue("\(error)".contains("disabled"))
        }
        try f.workspace.profiles.setEnabled(true, names: ["Events"])
        try f.workspace.programs.setUtilityNode(
            program: "Reminders", profile: "Events", message: "Your event starts tomorrow.", acceptFlags: false)
        try f.workspace.profiles.setEnabled(false, names: ["Events"])
        XCTAssertNoThrow(
            try f.workspace.programs.setUtilityNode(
                program: "Reminders", profile: "Events",
                message: "Your event starts at 10.", acceptFlags: false))
        XCTAssertEqual(try f.workspace.programs.summary(named: "Reminders").profile, "Events")
        XCTAssertThrowsError(try f.workspace.programs.activate(name: "Reminders"), "a disabled profile can't go live")
    }

    // MARK: R11

    func testGraphError190MarksThePageBrokenAndKeepsTheProfile() throws {
        let f = try Fixture()
        try f.importPages()
        let shop = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
        try f.workspace.contacts.importCSV(Data("EMAIL,\(shop.summary.optInField)\na@example.com,1234599190\nb@example.com,55\n".utf8))
        try f.workspace.programs.create(name: "Orders")
        try f.workspace.programs.setUtilityNode(
            program: "Orders", profile: "Shop", message: "Your account was updated.", acceptFlags: false)
        try f.workspace.programs.activate(name: "Orders")
        let summary = try f.run()
        XCTAssertNotNil(summary.stoppedBecause)
        let details = try f.workspace.profiles.details(named: "Shop")
        XCTAssertEqual(details.connectionError, GraphError(code: 190).reason)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 1)
        XCTAssertEqual(f.transport.sent.count, 1, "after 190 nothing more is asked of Facebook")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE status = 'sending'"), 0)
        XCTAssertFalse(ProfileDetails.repliesNote.isEmpty)
        XCTAssertTrue(ProfileDetails.repliesNote.contains("Facebook"))
    }
}
