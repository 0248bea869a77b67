import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

/// A list never shows rows under a filter they don't match, and keys pressed before the newest
/// answer arrives act on that answer's rows (#23): what `stats.sh` typed as a person would.
final class ListLoadTests: XCTestCase {
    let today = DayNumber(20_787)  // 2026-11-30

    func row(_ id: Int64, _ email: String) -> ContactOutcome {
        ContactOutcome(
            sendID: id, email: email, at: 1_000 - id, deliveredAt: nil, readAt: nil, status: .failed, reason: "551 person unavailable",
            errorCode: 551, messageID: nil)
    }

    /// The stats screen, then the warned contacts of a day with two rows: omar first, guest second.
    func contactsApp() -> (AppState, ContactsQuery) {
        var s = appWithProfiles()
        s.press(.char("j"), .enter, .char("s"))
        let days = (0..<7).map { k in DayStats(day: today - k, sent: 10, delivered: 9, read: 5, warnings: 2, reasons: []) }
        _ = App.update(
            &s, .statsLoaded(StatsDetails(profile: "Northwind Shop", from: today - 6, to: today, filter: .all, days: days), today: today))
        s.press(.right, .right)
        guard case .loadContacts(let query, _)? = s.press(.enter).first else {
            XCTFail("no contacts asked for")
            return (s, ContactsQuery(profile: "", kind: .warning, day: today))
        }
        let page = ContactPage(rows: [row(1, "omar.469@example.com"), row(2, "guest.200@example.com")], next: nil)
        _ = App.update(&s, .contactsLoaded(query, page: page, times: ["t1", "t2"]))
        XCTAssertTrue(s.screenText.contains("omar.469@example.com"))
        return (s, query)
    }

    func testEnterBeforeTheSearchsAnswerOpensWhatTheSearchFound() {
        var (s, query) = contactsApp()
        s.press(.char("/"))
        var searched = query
        searched.search = "guest.200"
        // Filtered as you type (#27): each key asks for the rows that match so far.
        XCTAssertEqual(s.type("guest.200").last, .loadContacts(searched, page: .first))
        XCTAssertEqual(s.press(.enter), [], "Enter keeps the filter")
        // The filter is in the breadcrumb; the rows of the list before it are not on screen.
        XCTAssertTrue(s.screenText.contains("/guest.200"))
        XCTAssertFalse(s.screenText.contains("omar.469"), "rows that don't match the search never show under it")
        XCTAssertTrue(s.screenText.contains("Searching for \"guest.200\"…"), s.screenText)
        // Enter, 0.3 s later, before the answer: nothing opens yet, and the screen says it waits.
        XCTAssertEqual(s.press(.enter), [], "no row of the unfiltered list opens")
        XCTAssertTrue(s.screenText.contains("searching… (1 key waits for it)"), s.screenText)
        let found = ContactPage(rows: [row(2, "guest.200@example.com")], next: nil)
        // The answer arrives: the held Enter opens the contact the search found.
        XCTAssertEqual(App.update(&s, .contactsLoaded(searched, page: found, times: ["t2"])), [.loadContactDetail(sendID: 2)])
        guard case .contactDetail(let detail) = s.current else { return XCTFail("no contact opened: \(s.current.title)") }
        XCTAssertEqual(detail.sendID, 2)
    }

    func testAnOlderAnswerArrivingAfterANewerOneIsDropped() {
        var (s, query) = contactsApp()
        s.press(.char("/"))
        s.type("o")
        s.press(.enter)
        s.press(.char("/"))
        var older = query
        older.search = "o"
        var newer = query
        newer.search = "o" + "guest"
        XCTAssertEqual(s.type("guest").last, .loadContacts(newer, page: .first), "a second search extends the first")
        s.press(.enter)
        _ = App.update(&s, .contactsLoaded(newer, page: ContactPage(rows: [], next: nil), times: []))
        XCTAssertTrue(s.screenText.contains("No contact matches \"oguest\""), s.screenText)
        // The answer to "o" comes last: it is dropped, the rows stay those of "oguest".
        _ = App.update(&s, .contactsLoaded(older, page: ContactPage(rows: [row(1, "omar.469@example.com")], next: nil), times: ["t"]))
        XCTAssertFalse(s.screenText.contains("omar.469"), s.screenText)
        XCTAssertEqual(s.press(.enter), [], "Enter acts on the newest answer's rows: none")
        // An older page of the same search is dropped too.
        _ = App.update(
            &s,
            .contactsLoaded(
                newer, page: ContactPage(rows: [row(1, "omar.469@example.com")], next: nil), times: ["t"],
                request: .after(ContactCursor(at: 5, sendID: 5))))
        XCTAssertFalse(s.screenText.contains("omar.469"), s.screenText)
    }

    func testPagesTypedAheadAreTurnedInOrderAndEscForgetsThem() {
        var (s, query) = contactsApp()
        let cursor = ContactCursor(at: 998, sendID: 2)
        let two = ContactPage(rows: [row(1, "a@example.com"), row(2, "b@example.com")], next: cursor)
        _ = App.update(&s, .contactsLoaded(query, page: two, times: ["t1", "t2"]))
        XCTAssertEqual(s.press(.pageDown), [.loadContacts(query, page: .after(cursor))])
        XCTAssertEqual(s.press(.char("j"), .enter), [], "held until the page arrives")
        XCTAssertTrue(s.screenText.contains("loading… (2 keys wait for it)"), s.screenText)
        let third = ContactPage(rows: [row(3, "c@example.com"), row(4, "d@example.com")], next: nil, hasPrevious: true)
        XCTAssertEqual(
            App.update(&s, .contactsLoaded(query, page: third, times: ["t3", "t4"], request: .after(cursor))),
            [.loadContactDetail(sendID: 4)], "j then Enter on the page that arrived")
        s.press(.escape)
        // Esc while a page is on its way forgets what was held, and goes back as it always does.
        let before = ContactPageRequest.before(ContactCursor(at: 997, sendID: 3))
        XCTAssertEqual(s.press(.pageUp), [.loadContacts(query, page: before)])
        s.press(.enter)
        XCTAssertEqual(s.press(.escape), [.loadStats(profile: "Northwind Shop", filter: .all)])
        guard case .stats = s.current else { return XCTFail("Esc stayed: \(s.current.title)") }
        XCTAssertEqual(App.update(&s, .contactsLoaded(query, page: two, times: ["t1", "t2"], request: before)), [], "nothing opens")
    }

    func testStatsKeysWaitForTheNewFiltersDays() {
        var s = appWithProfiles()
        s.press(.char("j"), .enter, .char("s"))
        let all = StatsDetails(
            profile: "Northwind Shop", from: today - 6, to: today, filter: .all,
            days: (0..<7).map { DayStats(day: today - $0, sent: 10, delivered: 9, read: 5, warnings: 1, reasons: []) })
        _ = App.update(&s, .statsLoaded(all, today: today))
        XCTAssertEqual(s.press(.char("f")), [.loadStats(profile: "Northwind Shop", filter: .warnings)])
        XCTAssertEqual(s.press(.char("j"), .enter), [], "the days of the old filter open nothing")
        XCTAssertTrue(s.screenText.contains("Loading the warnings days… (2 keys wait for them)"), s.screenText)
        // A late answer for the old filter is dropped.
        _ = App.update(&s, .statsLoaded(all, today: today))
        XCTAssertTrue(s.screenText.contains("Loading the warnings days…"), s.screenText)
        let warnings = StatsDetails(
            profile: "Northwind Shop", from: today - 6, to: today, filter: .warnings,
            days: [DayStats(day: today - 2, sent: 0, delivered: 0, read: 0, warnings: 3, reasons: [])] + [
                DayStats(day: today - 4, sent: 0, delivered: 0, read: 0, warnings: 1, reasons: [])
            ])
        let effects = App.update(&s, .statsLoaded(warnings, today: today))
        guard case .loadContacts(let query, .first)? = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(query.kind, .warning)
        XCTAssertEqual(query.day, today - 4, "j moved over the warnings days, then Enter opened the second")
    }

    func testProfilesKeysBeforeTheFirstListActOnIt() {
        var s = AppState(theme: Theme.fallback, width: 80, height: 24)
        XCTAssertEqual(s.press(.char("j"), .enter), [])
        let effects = App.update(&s, .profilesLoaded([summary(1, "Northwind Events"), summary(2, "Northwind Shop")]))
        XCTAssertEqual(effects, [.loadProfile(name: "Northwind Shop")])
    }

    func testAProfilesOwnWriteShowsBeforeTheReload() {
        var s = appWithProfiles()
        s.press(.char("j"), .char("e"))
        _ = App.update(&s, .disablePlanned(names: ["Northwind Shop"]))
        guard case .confirm(_, .setEnabled(["Northwind Shop"], false))? = s.overlay else { return XCTFail("no confirmation") }
        s.press(.enter)
        _ = App.update(&s, .enabledChanged(names: ["Northwind Shop"], enabled: false))
        XCTAssertEqual(s.profiles?.current?.enabled, false)
        XCTAssertEqual(s.press(.char("e")), [.setEnabled(names: ["Northwind Shop"], enabled: true)], "the second e enables again")
        _ = App.update(&s, .deleted(DeletionPlan(profiles: ["Northwind Shop"], usageRecords: 0)))
        XCTAssertEqual(s.profiles?.all.map(\.name), ["Northwind Events", "Northwind Support"], "a deleted profile leaves at once")
    }

    func testASecondActivateWaitsForTheListTheFirstChanged() {
        var s = appWithProfiles()
        s.press(.char(":"))
        s.type("programs")
        s.press(.enter)
        XCTAssertEqual(s.press(.char("a")), [], "before the first list, a waits")
        let paused = ProgramSummary(
            id: 1, name: "Orders", status: .paused, profile: "Shop", profileEnabled: true, tag: nil, message: "Hi.", enrolled: 0,
            lastRunAt: nil)
        XCTAssertEqual(App.update(&s, .programsLoaded([paused])), [.setProgramActive(name: "Orders", active: true)])
        XCTAssertEqual(s.press(.char("a")), [], "the second a waits for the first one's list")
        // A list read before the write was answered is dropped, and so is the key with it.
        XCTAssertEqual(App.update(&s, .programsLoaded([paused])), [])
        XCTAssertEqual(App.update(&s, .programChanged(name: "Orders", active: true)), [.loadPrograms])
        var active = paused
        active = ProgramSummary(
            id: 1, name: "Orders", status: .active, profile: "Shop", profileEnabled: true, tag: nil, message: "Hi.", enrolled: 0,
            lastRunAt: nil)
        XCTAssertEqual(App.update(&s, .programsLoaded([active])), [.setProgramActive(name: "Orders", active: false)], "it pauses")
        // A refused write drops what was typed after it.
        XCTAssertEqual(s.press(.char("a")), [])
        _ = App.update(&s, .failed("program \"Orders\" can't be paused"))
        XCTAssertEqual(s.press(.char("j")), [], "the list is usable again")
        XCTAssertEqual(s.press(.char("a")), [.setProgramActive(name: "Orders", active: false)])
    }

    func testHeldKeysAreBounded() {
        var load = ListLoad(asking: 1)
        for _ in 0..<100 { load.hold(.char("j")) }
        XCTAssertEqual(load.held.count, ListLoad<Int>.holdLimit)
        XCTAssertFalse(load.accept(2), "an answer to another question")
        XCTAssertTrue(load.isWaiting)
        XCTAssertTrue(load.accept(1))
        XCTAssertFalse(load.isWaiting)
    }
}
