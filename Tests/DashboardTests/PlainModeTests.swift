import GoldenSupport
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

/// Plain mode (`--plain`): every screen at 80x24 (the profile page's chart needs 100x40) in ASCII, without colour, the focus marked with
/// `>` and the terminal's cursor on it, the chart as numbers. One golden per screen.
final class PlainModeTests: XCTestCase {
    let today = DayNumber(20_417)  // 2025-11-25

    func plainApp(width: Int = 80, height: Int = 24) -> AppState {
        var s = appWithProfiles(width: width, height: height)
        s.theme = Theme.fallback.plainMode()
        return s
    }

    /// ASCII only, no colour anywhere, and what must be said in words.
    func assertPlain(_ name: String, _ s: AppState, says needles: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
        let frame = App.view(s)
        let text = frame.lines().joined(separator: "\n")
        let foreign = text.unicodeScalars.filter { !$0.isASCII }
        XCTAssertTrue(
            foreign.isEmpty, "\(name): non-ASCII \(String(String.UnicodeScalarView(foreign))) in\n\(text)", file: file, line: line)
        let coloured = frame.cells.filter { $0.style.foreground != .default || $0.style.background != .default }
        XCTAssertTrue(coloured.isEmpty, "\(name): \(coloured.count) coloured cells", file: file, line: line)
        for needle in needles { XCTAssertTrue(text.contains(needle), "\(name): '\(needle)' not in\n\(text)", file: file, line: line) }
        assertGolden("plain-\(name)-\(frame.width)x\(frame.height)", frame, file: file, line: line)
    }

    func testProfilesAndTheFocusInWordsWithTheCursorOnIt() {
        var s = plainApp()
        s.press(.char("j"))
        assertPlain("profiles", s, says: ["> Northwind Shop", "Disabled"])
        let frame = App.view(s)
        let row = frame.lines().firstIndex { $0.contains("Northwind Shop") }
        XCTAssertEqual(frame.cursor?.y, row, "the terminal's cursor is on the focused row")
        XCTAssertNil(App.view(appWithProfiles()).cursor, "outside plain mode the cursor stays hidden")
        s.press(.char(" "), .char("d"))
        _ = App.update(&s, .deletionPlanned(DeletionPlan(profiles: ["Northwind Shop"], usageRecords: 12)))
        assertPlain("delete-confirm", s, says: ["[ Cancel ]", "[ Delete ]"])
        s.press(.escape)
        s.press(.char("?"))
        assertPlain("help", s)
    }

    func testProfilePageShowsTheChartAsNumbers() {
        var s = plainApp(width: 100, height: 40)
        s.press(.char("j"), .enter)
        let details = ProfileDetails(
            summary: summary(2, "Northwind Shop", delivered: 6564, warnings: 4290), optInCode: OptInCode.html(appID: "42", pageID: "102"),
            sent7d: 6990, read7d: 4242,
            notSent: [
                ReasonCount(.noOptIn, count: 3865),
                ReasonCount(GraphError(code: 551).warning, count: 145),
            ],
            connectionError: nil)
        let days = (0..<7).reversed().map {
            DayStats(day: today - $0, sent: 900 + $0 * 10, delivered: 850 + $0 * 10, read: 500, warnings: 600 - $0, reasons: [])
        }
        _ = App.update(&s, .profileLoaded(details, days: days))
        assertPlain("profile-page", s, says: ["960", "910", "594"])
    }

    func testStatsContactsAndAContact() {
        var s = plainApp()
        s.press(.char("j"), .enter, .char("s"))
        let stats = StatsDetails(
            profile: "Northwind Shop", from: today - 6, to: today, filter: .all,
            days: (0..<7).map { k in
                DayStats(
                    day: today - k, sent: 100 + k, delivered: 90 + k, read: 50, warnings: k,
                    reasons: k == 0 ? [] : [ReasonCount(.noOptIn, count: k)])
            })
        _ = App.update(&s, .statsLoaded(stats, today: today))
        s.press(.char("j"))
        assertPlain("stats", s, says: ["> 2025-11-24"])
        guard case .loadContacts(let query, _)? = s.press(.enter).first else { return XCTFail("no contacts") }
        let rows = (0..<3).map {
            ContactOutcome(
                sendID: Int64(10 - $0), email: "c\($0)@example.com", at: 1_000 - Int64($0), deliveredAt: nil,
                readAt: nil, status: .sent, reason: nil, errorCode: nil, messageID: "m_\($0)")
        }
        _ = App.update(&s, .contactsLoaded(query, page: ContactPage(rows: rows, next: nil), times: ["t0", "t1", "t2"]))
        assertPlain("contacts", s, says: ["> t0"])
        s.press(.enter)
        var detail = StatsService.ContactDetail(
            email: "c0@example.com", at: 1_000, status: .failed, reason: "551 person unavailable",
            errorCode: 551, errorSubcode: nil, messageID: nil, message: "Hi Ann, your order shipped.",
            fields: [FieldValue(name: "FIRSTNAME", value: "Ann")])
        detail.suppression = SuppressedContact(
            email: "c0@example.com", pageID: "102", pageName: "Shop", contactID: 1, since: today, code: "551")
        _ = App.update(&s, .contactDetailLoaded(detail, time: "2025-11-25T10:00:00Z"))
        assertPlain("contact-detail", s, says: ["Suppressed", "for Shop since 2025-11-25 (551)"])
    }

    func testProgramsTheRunAndTheNodeEditor() {
        var s = plainApp()
        s.press(.char(":"))
        s.type("programs")
        s.press(.enter)
        let program = ProgramSummary(
            id: 1, name: "Orders", status: .active, profile: "Shop", profileEnabled: true, tag: "Post_purchase_update",
            message: "Hi @FIRSTNAME@, order @ORDERNUMBER@ shipped.", enrolled: 10, lastRunAt: nil)
        _ = App.update(&s, .programsLoaded([program]))
        assertPlain("programs", s, says: ["> Orders"])
        s.runConfirmed()
        _ = App.update(&s, .runProgress(name: "Orders", RunProgress(done: 2_000, total: 8_000, sent: 1_500, warned: 500), elapsed: 2))
        assertPlain("run-progress", s, says: ["2000 / 8000 contacts"])
        _ = App.update(&s, .runFinished(name: "Orders", RunSummary()))
        s.press(.escape)
        s.press(.enter)
        let tags = [
            MessageTag(
                name: "Post_purchase_update", apiName: "POST_PURCHASE_UPDATE", allows: "Orders.", example: "Your order shipped.",
                contextWords: ["order", "shipped"], retiredNote: nil)
        ]
        let fields = [
            DataField(id: 1, name: "FBOPTIN_0001", isOptIn: true, defaultValue: ""),
            DataField(id: 2, name: "FIRSTNAME", isOptIn: false, defaultValue: "there"),
            DataField(id: 3, name: "ORDERNUMBER", isOptIn: false, defaultValue: "your order"),
        ]
        _ = App.update(
            &s, .nodeEditorLoaded(NodeEditorData(program: program, profiles: [("Shop", true, "FBOPTIN_0001")], tags: tags, fields: fields)))
        _ = App.update(
            &s,
            .sampleLoaded(
                SampleContact(id: 7, email: "ann@example.com", values: ["FIRSTNAME": "Ann", "FBOPTIN_0001": "p1"], optedIn: true)))
        assertPlain("node-editor", s, says: ["Hi Ann, order your order shipped."])
    }

    func testNewProfileSteps() {
        var s = plainApp()
        s.press(.char("n"))
        s.type("Cafe")
        assertPlain("new-profile-name", s, says: ["Cafe"])
        XCTAssertNotNil(App.view(s).cursor, "the cursor is on the text field's caret")
    }

    func testPlainModeSurvivesAThemeChange() {
        var s = plainApp()
        _ = App.update(&s, .themeLoaded(Theme.fallback, name: "default", warning: nil))
        XCTAssertTrue(s.theme.plain)
        assertPlain("profiles-after-theme", s)
    }
}
