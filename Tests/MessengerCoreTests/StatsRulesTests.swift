import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// R8, R9: the 7-day profile page, details per date, and the contacts behind each number.
final class StatsRulesTests: StoreTestCase {
    /// Runs at the given instants (ISO 8601), re-enrolling everyone each time.
    private func runs(_ f: Fixture, at instants: [String]) throws {
        for (i, instant) in instants.enumerated() {
            f.clock.set(f.millis(instant))
            _ = try f.run(reenrol: i > 0)
        }
    }

    func testWindowIsTodayAndSixDaysBeforeInTheAccountsZone() throws {
        // 23:30 UTC on the 24th is already the 25th in Berlin.
        let f = try Fixture(zone: "Europe/Berlin", now: "2026-11-24T23:30:00Z")
        XCTAssertEqual(f.calendar.string(for: f.workspace.today), "2026-11-25")
        XCTAssertEqual(f.workspace.stats.window, f.day("2026-11-19")...f.day("2026-11-25"))
    }

    func testSendsAreCountedOnTheAccountsDayAcrossMidnight() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, zone: "America/New_York", now: "2026-11-25T12:00:00Z")
            try f.standardSetup()
            // 04:59 UTC on the 25th is 23:59 on the 24th in New York; 05:00 UTC is midnight of the 25th.
            try runs(f, at: ["2026-11-25T04:59:00Z", "2026-11-25T05:00:00Z"])
            f.clock.set(f.millis("2026-11-25T12:00:00Z"))
            let days = try f.workspace.stats.details(profile: "Shop").days
            XCTAssertEqual(days.count, 7)
            XCTAssertEqual(f.calendar.string(for: days[0].day), "2026-11-25", "newest first")
            XCTAssertEqual(days[0].sent, 2)
            XCTAssertEqual(days[1].sent, 2)
            XCTAssertEqual(f.calendar.string(for: days[1].day), "2026-11-24")
            XCTAssertEqual(days[2].sent, 0, "a day with no sends is listed with zeros")
        }
    }

    func testSevenDayTotalsDropTheEighthDay() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, zone: "Europe/Berlin", now: "2026-11-25T11:00:00Z")
            try f.standardSetup()
            // The 18th (Berlin) is outside; the 19th is inside; 22:59 UTC on the 18th is 23:59 on the 18th in Berlin.
            try runs(f, at: ["2026-11-18T22:59:00Z", "2026-11-18T23:00:00Z", "2026-11-25T10:00:00Z"])
            f.clock.set(f.millis("2026-11-25T11:00:00Z"))
            let deliverAll = ["psid-ann", "psid-bob"].map { f.deliveryLine(psid: $0, watermark: f.millis("2026-11-25T10:30:00Z")) }.joined(
                separator: "\n")
            XCTAssertEqual(try f.workspace.receipts.ingest(jsonLines: Data(deliverAll.utf8)).delivered, 6)
            let shop = try XCTUnwrap(f.workspace.profiles.list().first)
            XCTAssertEqual(shop.delivered7d, 4, "2 on the 19th + 2 today; the 18th's 2 are out")
            XCTAssertEqual(shop.warnings7d, 2)
            let details = try f.workspace.profiles.details(named: "Shop")
            XCTAssertEqual(details.sent7d, 4)
            XCTAssertEqual(details.notSent, [ReasonCount(.noOptIn, count: 2)])
        }
    }

    func testErrorsAreListedWithReasonsAndCounts() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            try f.workspace.contacts.importCSV(
                Data(
                    """
                    EMAIL,\(shop.summary.optInField)
                    d@example.com,199551
                    e@example.com,299551
                    g@example.com,399278

                    """.utf8))
            _ = try f.run()
            let notSent = try f.workspace.profiles.details(named: "Shop").notSent
            XCTAssertEqual(
                notSent,
                [
                    ReasonCount(GraphError(code: 551).warning, count: 2),
                    // A utility template has no tag window: the sandbox answers it 10, not 10/2018278 (#27).
                    ReasonCount(GraphError(code: 10, subcode: nil).warning, count: 1),
                    ReasonCount(.noOptIn, count: 1),
                ])
        }
    }

    func testDetailsFilterAndDateRange() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            try runs(f, at: ["2026-11-22T10:00:00Z", "2026-11-24T10:00:00Z"])
            f.clock.set(f.millis("2026-11-25T11:00:00Z"))
            let range = try f.workspace.stats.range(from: f.day("2026-11-22"), to: f.day("2026-11-24"))
            let details = try f.workspace.stats.details(profile: "Shop", range: range, filter: .warnings)
            XCTAssertEqual(details.filter, .warnings)
            XCTAssertEqual(details.days.map { f.calendar.string(for: $0.day) }, ["2026-11-24", "2026-11-23", "2026-11-22"])
            XCTAssertEqual(details.days.map(\.warnings), [1, 0, 1])
            XCTAssertEqual(details.days.map(\.sent), [2, 0, 2])
            XCTAssertThrowsError(try f.workspace.stats.range(from: f.day("2026-11-18"), to: nil))
            XCTAssertThrowsError(try f.workspace.stats.range(from: f.day("2026-11-24"), to: f.day("2026-11-22")))
            XCTAssertEqual(StatsFilter.all.next, .warnings)
            XCTAssertEqual(StatsFilter.delivered.next, .all)
        }
    }

    func testContactsBehindEachNumber() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            _ = try f.run()
            _ = try f.workspace.receipts.ingest(jsonLines: Data(f.deliveryLine(psid: "psid-ann", watermark: f.clock.nowMillis()).utf8))
            let today = f.workspace.today
            XCTAssertEqual(
                Set(try f.workspace.stats.allContacts(profile: "Shop", kind: .sent, day: today).map(\.email)),
                ["ann@example.com", "bob@example.com"])
            XCTAssertEqual(
                try f.workspace.stats.allContacts(profile: "Shop", kind: .delivered, day: today).map(\.email), ["ann@example.com"])
            let warned = try f.workspace.stats.allContacts(profile: "Shop", kind: .warning, day: today)
            XCTAssertEqual(warned.map(\.email), ["cat@example.com"])
            XCTAssertEqual(warned.first?.reason, WarningReason.noOptIn.text)
            XCTAssertTrue(try f.workspace.stats.allContacts(profile: "Shop", kind: .sent, day: today - 1).isEmpty)
        }
    }

    func testKeysetPagingVisitsEveryContactOnceNewestFirst() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            var csv = "EMAIL,\(shop.summary.optInField)\n"
            for i in 0..<237 { csv += "p\(i)@example.com,psid-\(i)\n" }
            try f.workspace.contacts.importCSV(Data(csv.utf8))
            _ = try f.run()  // every send at the same instant: ties are broken by id
            var seen: [Int64] = []
            var cursor: ContactCursor?
            var pages = 0
            repeat {
                let page = try f.workspace.stats.contacts(profile: "Shop", kind: .sent, day: f.workspace.today, after: cursor, limit: 50)
                seen += page.rows.map(\.sendID)
                cursor = page.next
                pages += 1
            } while cursor != nil
            XCTAssertEqual(pages, 5)
            XCTAssertEqual(seen.count, 239)
            XCTAssertEqual(Set(seen).count, 239)
            XCTAssertEqual(seen, seen.sorted(by: >))
        }
    }

    func testStatsComeFromRollupsThatMatchARecount() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            try runs(f, at: ["2026-11-23T10:00:00Z", "2026-11-24T10:00:00Z", "2026-11-25T10:00:00Z"])
            _ = try f.workspace.receipts.ingest(jsonLines: Data(f.readLine(psid: "psid-bob", watermark: f.clock.nowMillis()).utf8))
            let recount = try f.count("SELECT COUNT(*) FROM send WHERE outcome = 'sent'")
            XCTAssertEqual(try f.count("SELECT SUM(count) FROM daily_stat WHERE outcome = 'sent'"), recount)
            XCTAssertEqual(
                try f.count("SELECT SUM(count) FROM daily_stat WHERE outcome = 'delivered'"),
                try f.count("SELECT COUNT(*) FROM send WHERE delivered_at IS NOT NULL"))
            XCTAssertEqual(
                try f.count("SELECT SUM(count) FROM daily_stat WHERE outcome = 'warning'"),
                try f.count("SELECT COUNT(*) FROM send WHERE outcome = 'warning'"))
        }
    }

    func testDemoIsDeterministicAndFillsEveryDay() throws {
        func build() throws -> (AppDatabase, [Int]) {
            let db = try AppDatabase.temporary()
            let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Tokyo")!)
            let now = Int64(1_764_064_800_000)  // 2025-11-25T10:00:00Z
            _ = try Demo.build(database: db, calendar: calendar, appID: "1", now: now, options: DemoOptions(contacts: 300, seed: 7))
            let ws = Workspace(database: db, clock: FixedClock(millis: now), calendar: calendar)
            let days = try ws.stats.details(profile: Demo.mainProfile).days
            XCTAssertTrue(days.allSatisfy { $0.sent > 0 && $0.delivered > 0 }, "\(days)")
            return (db, days.flatMap { [$0.sent, $0.delivered, $0.warnings] })
        }
        let (a, first) = try build()
        let (_, second) = try build()
        XCTAssertEqual(first, second)
        let profiles = try Workspace(database: a).profiles.list()
        XCTAssertEqual(profiles.count, 3)
        XCTAssertEqual(profiles.filter { !$0.enabled }.map(\.name), [Demo.disabledProfile])
        // 2026: the active programs send approved utility templates; one paused program keeps a
        // retired tag, flagged, to show the conversion.
        let programs = try Workspace(database: a, clock: FixedClock(millis: 1_795_000_000_000)).programs.list()
        XCTAssertEqual(programs.filter { $0.status == .active }.map(\.name), [Demo.activeProgram])
        XCTAssertTrue(
            programs.filter { $0.name != Demo.retiredTagProgram }.allSatisfy {
                $0.kind == .utility && $0.sendingTemplate?.status == .approved
            })
        let retired = try XCTUnwrap(programs.first { $0.name == Demo.retiredTagProgram })
        XCTAssertEqual(retired.status, .paused)
        XCTAssertEqual(retired.tagRetired, "retired 2026-04-27")
    }
}

/// Keyset paging in both directions, the last page, and search.
final class ContactPagingTests: StoreTestCase {
    func testPagesForwardBackwardAndLastAgree() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            var csv = "EMAIL,FIRSTNAME,\(shop.summary.optInField)\n"
            for i in 0..<95 { csv += "p\(i)@example.com,\(i == 42 ? "Zelda" : "N\(i)"),psid-\(i)\n" }
            try f.workspace.contacts.importCSV(Data(csv.utf8))
            _ = try f.run()
            let stats = f.workspace.stats
            let day = f.workspace.today
            let all = try stats.allContacts(profile: "Shop", kind: .sent, day: day).map(\.sendID)
            XCTAssertEqual(all.count, 97)
            let first = try stats.contacts(profile: "Shop", kind: .sent, day: day, page: .first, limit: 40)
            XCTAssertFalse(first.hasPrevious)
            let second = try stats.contacts(profile: "Shop", kind: .sent, day: day, page: .after(first.next!), limit: 40)
            XCTAssertEqual(second.rows.map(\.sendID), Array(all[40..<80]))
            XCTAssertTrue(second.hasPrevious)
            let back = try stats.contacts(
                profile: "Shop", kind: .sent, day: day,
                page: .before(ContactCursor(at: second.rows[0].at, sendID: second.rows[0].sendID)), limit: 40)
            XCTAssertEqual(back.rows.map(\.sendID), first.rows.map(\.sendID))
            XCTAssertFalse(back.hasPrevious)
            let last = try stats.contacts(profile: "Shop", kind: .sent, day: day, page: .last, limit: 40)
            XCTAssertEqual(last.rows.map(\.sendID), Array(all[57...]))
            XCTAssertNil(last.next)
            XCTAssertTrue(last.hasPrevious)
            let found = try stats.contacts(profile: "Shop", kind: .sent, day: day, page: .first, search: "zeld", limit: 40)
            XCTAssertEqual(found.rows.map(\.email), ["p42@example.com"])
            XCTAssertEqual(try stats.contacts(profile: "Shop", kind: .sent, day: day, page: .first, search: "p4", limit: 40).rows.count, 11)
            XCTAssertTrue(
                try stats.contacts(profile: "Shop", kind: .sent, day: day, page: .first, search: "%", limit: 40).rows.isEmpty,
                "a % in the search is a character, not a wildcard")
        }
    }

    func testContactDetailHasFieldsMessageAndError() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            try f.workspace.contacts.importCSV(Data("EMAIL,\(shop.summary.optInField)\ncat@example.com,1299551\n".utf8))
            _ = try f.run()
            let failed = try XCTUnwrap(f.workspace.stats.allContacts(profile: "Shop", kind: .warning, day: f.workspace.today).first)
            let detail = try f.workspace.stats.detail(sendID: failed.sendID)
            XCTAssertEqual(detail.errorCode, 551)
            XCTAssertEqual(detail.message, "Hi Cat, order C-3 has shipped.")
            XCTAssertTrue(detail.fields.contains(FieldValue(name: "FIRSTNAME", value: "Cat")))
            let sent = try XCTUnwrap(f.workspace.stats.allContacts(profile: "Shop", kind: .sent, day: f.workspace.today).first)
            XCTAssertNotNil(try f.workspace.stats.detail(sendID: sent.sendID).messageID)
        }
    }
}
