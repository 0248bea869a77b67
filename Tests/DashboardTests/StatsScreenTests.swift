import GoldenSupport
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

final class StatsScreenTests: XCTestCase {
    let today = DayNumber(20_417)  // 2025-11-25

    func details(filter: StatsFilter = .all) -> StatsDetails {
        StatsDetails(
            profile: "Northwind Shop", from: today - 6, to: today, filter: filter,
            days: (0..<7).map { k in
                DayStats(
                    day: today - k, sent: 100 + k, delivered: 90 + k, read: 50, warnings: k,
                    reasons: k == 0 ? [] : [ReasonCount(reason: "no opt-in: the FBOPTIN field is empty", count: k)])
            })
    }

    func statsApp(width: Int = 80, height: Int = 24) -> AppState {
        var s = appWithProfiles(width: width, height: height)
        s.press(.char("j"), .enter, .char("s"))
        _ = App.update(&s, .statsLoaded(details(), today: today))
        return s
    }

    var stats: (AppState) -> StatsScreenState? = {
        if case .stats(let s) = $0.current { return s }
        return nil
    }

    func testColumnCursorOpensTheContactsBehindTheNumber() {
        var s = statsApp()
        s.press(.char("j"), .right, .right)
        let effects = s.press(.enter)
        guard case .loadContacts(let query, .first)? = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(query.kind, .warning)
        XCTAssertEqual(query.day, today - 1)
        XCTAssertEqual(query.profile, "Northwind Shop")
        s.press(.escape)
        s.press(.left, .left, .left)
        guard case .loadContacts(let q2, _)? = s.press(.enter).first else { return XCTFail() }
        XCTAssertEqual(q2.kind, .sent)
    }

    func testFilterCyclesAndShowsInTitleAndBreadcrumbs() {
        var s = statsApp()
        XCTAssertEqual(s.press(.char("f")), [.loadStats(profile: "Northwind Shop", filter: .warnings)])
        _ = App.update(&s, .statsLoaded(details(filter: .warnings), today: today))
        XCTAssertTrue(s.screenText.contains("Stats (warnings)"))
        guard case .loadContacts(let q, _)? = s.press(.enter).first else { return XCTFail() }
        XCTAssertEqual(q.kind, .warning, "with the warnings filter the only number is the warnings")
    }

    func testDatePickerChoosesADayOrARange() {
        var s = statsApp()
        s.press(.char("D"))
        XCTAssertTrue(s.screenText.contains("All 7 days"))
        XCTAssertEqual(
            s.press(.char("j"), .char("j"), .enter), [.loadStats(profile: "Northwind Shop", filter: .all, from: today - 1, to: today - 1)])
        XCTAssertEqual(s.press(.enter), [], "no row of the old dates opens while the new ones load")
        s.press(.char("D"), .char("j"), .char(" "), .char("j"), .char("j"), .char("j"))
        XCTAssertEqual(s.press(.enter), [.loadStats(profile: "Northwind Shop", filter: .all, from: today - 3, to: today)])
        XCTAssertTrue(stats(s)!.title.contains("to"))
        s.press(.char("D"))
        XCTAssertEqual(s.press(.enter), [.loadStats(profile: "Northwind Shop", filter: .all, from: nil, to: nil)])
        XCTAssertEqual(s.press(.char("x")), [.exportStats(profile: "Northwind Shop", filter: .all, from: nil, to: nil)])
    }

    func testContactsPagingSearchAndDetail() {
        var s = statsApp()
        guard case .loadContacts(let query, _)? = s.press(.enter).first else { return XCTFail() }
        let rows = (0..<3).map {
            ContactOutcome(
                sendID: Int64(10 - $0), email: "c\($0)@example.com", at: 1_000 - Int64($0), deliveredAt: nil,
                readAt: nil, status: .sent, reason: nil, errorCode: nil, messageID: "m_\($0)")
        }
        let page = ContactPage(rows: rows, next: ContactCursor(at: 998, sendID: 8), hasPrevious: false)
        _ = App.update(&s, .contactsLoaded(query, page: page, times: ["t0", "t1", "t2"]))
        XCTAssertTrue(s.screenText.contains("c1@example.com"))
        let header = query.kind == .delivered ? "DELIVERED" : query.kind == .sent ? "SENT" : "WARNED"
        XCTAssertTrue(s.screenText.contains(header), "the time column says which time it is")
        XCTAssertFalse(s.screenText.contains("TIME"))
        s.press(.char("j"), .char("j"))
        let next = ContactPageRequest.after(ContactCursor(at: 998, sendID: 8))
        XCTAssertEqual(s.press(.char("j")), [.loadContacts(query, page: next)], "j past the page loads the next")
        _ = App.update(&s, .contactsLoaded(query, page: page, times: ["t0", "t1", "t2"], request: next))
        XCTAssertEqual(s.press(.char("G")), [.loadContacts(query, page: .last)])
        _ = App.update(&s, .contactsLoaded(query, page: page, times: ["t0", "t1", "t2"], request: .last))
        XCTAssertEqual(s.press(.char("g")), [.loadContacts(query, page: .first)])
        _ = App.update(&s, .contactsLoaded(query, page: page, times: ["t0", "t1", "t2"]))
        s.press(.char("/"))
        var searched = query
        searched.search = "c1"
        XCTAssertEqual(s.type("c1").last, .loadContacts(searched, page: .first), "filtered as you type")
        XCTAssertEqual(s.press(.enter), [], "Enter keeps the filter")
        XCTAssertEqual(s.press(.char("x")), [.exportContacts(searched)])
        _ = App.update(&s, .contactsLoaded(searched, page: page, times: ["t0", "t1", "t2"]))
        XCTAssertEqual(s.press(.enter), [.loadContactDetail(sendID: 10)])
        let detail = StatsService.ContactDetail(
            email: "c0@example.com", at: 1_000, status: .failed, reason: "551 person unavailable",
            errorCode: 551, errorSubcode: nil, messageID: nil, message: "Hi Ann, your order shipped.",
            fields: [FieldValue(name: "FIRSTNAME", value: "Ann")])
        _ = App.update(&s, .contactDetailLoaded(detail, time: "2025-11-25T10:00:00Z"))
        let text = s.screenText
        for needle in ["551", "Hi Ann, your order shipped.", "FIRSTNAME", "Ann", "Warned        2025-11-25T10:00:00Z"] {
            XCTAssertTrue(text.contains(needle), needle)
        }
        assertGolden("contact-detail-80x24", App.view(s))
        // A sent, delivered and read message shows each time under its own name.
        let read = StatsService.ContactDetail(
            email: "c1@example.com", at: 1_000, status: .read, reason: nil, errorCode: nil, errorSubcode: nil,
            messageID: "m_1", message: "Hi.", fields: [], deliveredAt: 2_000, readAt: 3_000)
        _ = App.update(&s, .contactDetailLoaded(read, time: "T-sent", delivered: "T-delivered", read: "T-read"))
        for needle in ["Sent          T-sent", "Delivered     T-delivered", "Read          T-read"] {
            XCTAssertTrue(s.screenText.contains(needle), needle)
        }
        s.press(.escape)
        XCTAssertEqual(s.press(.escape), [.loadContacts(query, page: .first)], "Esc first clears the search")
    }

    func testGoldenStatsScreens() {
        for (w, h) in [(80, 24), (160, 48)] {
            var s = statsApp(width: w, height: h)
            s.press(.char("j"), .right)
            assertGolden("stats-\(w)x\(h)", App.view(s))
        }
    }

    /// The goldens hold styles: moving the column cursor changes no text, only styles, and the
    /// style map sees it (a text-only golden passed such a regression).
    func testTheColumnCursorShowsOnlyInTheStyles() {
        var s = statsApp()
        s.press(.char("j"), .right)
        let before = App.view(s)
        s.press(.right)
        let after = App.view(s)
        XCTAssertEqual(after.lines(), before.lines(), "the same text")
        XCTAssertNotEqual(StyleMap(after).text, StyleMap(before).text, "another cell is highlighted")
    }
}
