import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// R1, R2, R3: what a name, a page's tasks and an opt-in code allow, before any database.
final class ProfileNameRulesTests: XCTestCase {
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

    func testRoleComesFromTasksInOrder() {
        XCTAssertEqual(PageRole(tasks: ["ANALYZE", "MANAGE"]), .admin)
        XCTAssertEqual(PageRole(tasks: ["CREATE_CONTENT", "MODERATE"]), .editor)
        XCTAssertEqual(PageRole(tasks: ["MODERATE", "ADVERTISE"]), .moderator)
        XCTAssertEqual(PageRole(tasks: ["ADVERTISE", "ANALYZE"]), .advertiser)
        XCTAssertEqual(PageRole(tasks: ["ANALYZE"]), .analyst)
        XCTAssertEqual(PageRole(tasks: []), .analyst)
    }

    func testOptInCodesAreUniqueAcrossManyIDs() {
        let names = Set((1...50_000).map { OptInCode.fieldName(profileID: Int64($0)) })
        XCTAssertEqual(names.count, 50_000)
    }
}

/// R1, R2, R3, R10, R11: profiles and pages as stored, each test on SQLite and on PostgreSQL (#30).
final class ProfileRulesTests: StoreTestCase {
    func testProfileNamesAreUniqueIgnoringCase() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
            XCTAssertThrowsError(try f.workspace.profiles.create(name: "sHOP", pageID: Fixture.eventsPage)) { error in
                XCTAssertTrue("\(error)".contains("already exists"))
            }
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 1)
        }
    }

    func testPageIsLinkedToAtMostOneProfile() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
            XCTAssertThrowsError(try f.workspace.profiles.create(name: "Other", pageID: Fixture.shopPage)) { error in
                XCTAssertEqual("\(error)", "page Shop is already linked to profile \"Shop\"")
            }
            XCTAssertEqual(try f.workspace.pages.list().first { $0.id == Fixture.shopPage }?.linkedProfile, "Shop")
        }
    }

    func testProfileIsCreatedEnabledOrDisabled() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
            try f.workspace.profiles.create(name: "Events", pageID: Fixture.eventsPage, enabled: false)
            let byName = Dictionary(uniqueKeysWithValues: try f.workspace.profiles.list().map { ($0.name, $0.enabled) })
            XCTAssertEqual(byName, ["Shop": true, "Events": false])
        }
    }

    func testOnlyAdminEditorOrModeratorWithMessagingCanLink() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
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
    }

    func testImportingAPageAgainUpdatesIt() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            try f.workspace.pages.importAccounts(
                Data(#"{"data":[{"id":"1003","name":"Ads Renamed","tasks":["MANAGE","MESSAGING"]}]}"#.utf8))
            let page = try XCTUnwrap(f.workspace.pages.list().first { $0.id == "1003" })
            XCTAssertEqual(page.name, "Ads Renamed")
            XCTAssertEqual(page.role, .admin)
            XCTAssertTrue(page.hasToken, "an import without a token keeps the stored one")
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM page"), 4)
        }
    }

    func testBadAccountsFileChangesNothing() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            for bad in [
                "", "[]", #"{"data":[{"id":"x1","name":"A"}]}"#, #"{"data":[{"id":"1","name":"A","tasks":"MANAGE"}]}"#,
                #"{"data":[{"id":"1","name":"A"},{"id":"1","name":"B"}]}"#,
            ] {
                XCTAssertThrowsError(try f.workspace.pages.importAccounts(Data(bad.utf8)), bad)
            }
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM page"), 0)
        }
    }

    func testNewProfileGetsItsOwnOptInFieldAndCode() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
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
    }

    func testOptInFieldIsNeverReusedAfterDelete() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            let first = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage).summary.optInField
            try f.workspace.profiles.delete(names: ["Shop"])
            let second = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage).summary.optInField
            XCTAssertNotEqual(first, second)
            XCTAssertEqual(
                try f.count("SELECT COUNT(*) FROM data_field WHERE name = ?", [first]), 0, "the deleted profile's field went with it")
        }
    }

    func testSeveralProfilesAreDeletedAllOrNothing() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
            try f.workspace.profiles.create(name: "Events", pageID: Fixture.eventsPage)
            XCTAssertThrowsError(try f.workspace.profiles.delete(names: ["Events", "Nope"])) { error in
                XCTAssertEqual("\(error)", "no profile named \"Nope\"")
            }
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 2, "one unknown name deletes nothing")
            XCTAssertEqual(try f.workspace.profiles.delete(names: ["events", "Shop"]).profiles, ["Events", "Shop"])
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 0)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM data_field WHERE kind = 'optin'"), 0, "their opt-in fields went too")
        }
    }

    /// The 7-day figures are the sums of the days in the window, and nothing outside it.
    func testDetailsSumTheLastSevenDaysByOutcomeAndReason() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            let shop = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage).summary.id
            let rows: [(String, String, String, Int)] = [
                ("2026-11-25", "sent", "", 5), ("2026-11-19", "sent", "", 2), ("2026-11-18", "sent", "", 100),
                ("2026-11-24", "delivered", "", 4), ("2026-11-24", "read", "", 3),
                ("2026-11-25", "warning", "no_optin", 2), ("2026-11-23", "warning", "no_optin", 1),
                ("2026-11-22", "warning", "graph:551", 2), ("2026-11-25", "warning", "too_long", 1),
            ]
            try f.database.transaction { db in
                for (day, outcome, reason, count) in rows {
                    try db.exec(
                        "INSERT INTO daily_stat (profile_id, day, outcome, reason, count) VALUES (?, ?, ?, ?, ?)",
                        [shop, f.day(day), outcome, reason, count])
                }
            }
            let details = try f.workspace.profiles.details(named: "Shop")
            XCTAssertEqual(details.sent7d, 7, "2026-11-18 is outside the 7 days ending 2026-11-25")
            XCTAssertEqual(details.read7d, 3)
            XCTAssertEqual(details.summary.delivered7d, 4)
            XCTAssertEqual(details.summary.warnings7d, 6)
            XCTAssertEqual(details.notSent.map(\.code), ["no_optin", "graph:551", "too_long"], "most contacts first")
            XCTAssertEqual(details.notSent.map(\.count), [3, 2, 1])
            XCTAssertEqual(try f.workspace.profiles.list().map(\.warnings7d), [6])
        }
    }

    /// R11: a refused token marks the page broken and keeps the profile; a new token clears it.
    func testABrokenConnectionShowsUntilANewTokenComes() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
            try f.workspace.pages.markStopped(pageID: Fixture.shopPage, by: GraphError(code: 190))
            XCTAssertEqual(try f.workspace.profiles.details(named: "Shop").connectionError, GraphError(code: 190).reason)
            XCTAssertFalse(try f.workspace.profiles.details(named: "Shop").facebook.tokenOK)
            XCTAssertEqual(try f.workspace.pages.list().first { $0.id == Fixture.shopPage }?.connectionError, GraphError(code: 190).reason)
            try f.importPages()
            XCTAssertEqual(
                try f.workspace.pages.list().first { $0.id == Fixture.shopPage }?.connectionError, GraphError(code: 190).reason,
                "the same token again is not a reconnection")
            try f.workspace.pages.importAccounts(
                Data(#"{"data":[{"id":"1001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"TOKEN-NEW"}]}"#.utf8))
            XCTAssertNil(try f.workspace.profiles.details(named: "Shop").connectionError)
            XCTAssertTrue(try f.workspace.profiles.details(named: "Shop").facebook.tokenOK)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 1)
        }
    }

    /// #24: a token without pages_messaging can't enable a profile; a disabled one can be made.
    func testAPageWithoutMessagingPermissionCantBeEnabled() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let page = DirectoryPage(id: Fixture.shopPage, name: "Shop", tasks: ["MANAGE", "MESSAGING"], accessToken: "TOKEN")
            try f.workspace.pages.store(
                [page], connection: PageConnection(via: "device login", lifetime: "long-lived", permissions: ["pages_show_list"]))
            XCTAssertThrowsError(try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)) { error in
                XCTAssertTrue("\(error)".contains("lacks the pages_messaging permission"), "\(error)")
            }
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 0)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM data_field"), 0, "the refusal changed nothing")
            try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage, enabled: false)
            XCTAssertThrowsError(try f.workspace.profiles.setEnabled(true, names: ["Shop"]))
            XCTAssertEqual(try f.workspace.profiles.list().map(\.enabled), [false])
            try f.workspace.pages.store(
                [page], connection: PageConnection(via: "device login", lifetime: "long-lived", permissions: ["pages_messaging"]))
            try f.workspace.profiles.setEnabled(true, names: ["shop"])
            XCTAssertEqual(try f.workspace.profiles.list().map(\.enabled), [true])
            XCTAssertEqual(
                try f.workspace.profiles.details(named: "Shop").facebook.permissionsOK, false, "pages_show_list is still missing")
        }
    }

    /// #24: creating a profile subscribes its page to the app's webhooks; deleting it unsubscribes.
    func testAProfilesPageIsSubscribedToWebhooksUntilItGoes() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
            let subscription = try f.workspace.subscriptions.subscription(profile: "Shop")
            XCTAssertTrue(subscription.subscribed)
            XCTAssertEqual(subscription.missingFields, [])
            XCTAssertEqual(subscription.checkedAt, f.clock.nowMillis())
            XCTAssertTrue(try f.workspace.profiles.details(named: "Shop").facebook.webhooksOK)
            XCTAssertEqual(try f.workspace.profiles.delete(names: ["Shop"]).unsubscribed, 1)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM page_subscription"), 0)
        }
    }

    /// The webhook notes when each page last heard from Facebook (`doctor`, the metrics).
    func testAPagesLastEventIsKept() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            try f.workspace.pages.noteEvents(pageIDs: [Fixture.shopPage, Fixture.eventsPage])
            let now = f.clock.nowMillis()
            XCTAssertEqual(try f.workspace.pages.lastEvents().map(\.page), [Fixture.shopPage, Fixture.eventsPage])
            XCTAssertEqual(try f.workspace.pages.lastEvents().map(\.at), [now, now])
        }
    }
}

/// R10, R11 where programs and runs come in, on both engines.
final class ProfileProgramRulesTests: StoreTestCase {
    func testProfileUsedByActiveProgramCantBeDeletedOrDisabled() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
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
    }

    func testDeletingAProfileDeletesItsStatisticsAndSaysHowMany() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
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
    }

    func testSeveralProfilesAreDeletedAtOnceOrNotAtAll() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            try f.workspace.profiles.create(name: "Events", pageID: Fixture.eventsPage)
            XCTAssertThrowsError(try f.workspace.profiles.delete(names: ["Events", "Shop"]))
            XCTAssertThrowsError(try f.workspace.profiles.delete(names: ["Events", "Nope"]))
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 2)
            try f.workspace.programs.pause(name: "Orders")
            XCTAssertEqual(try f.workspace.profiles.delete(names: ["events", "Shop"]).profiles.count, 2)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM profile"), 0)
        }
    }

    func testDisabledProfileCantBePickedButANodeKeepsIt() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
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
    }

    func testGraphError190MarksThePageBrokenAndKeepsTheProfile() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
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
}
