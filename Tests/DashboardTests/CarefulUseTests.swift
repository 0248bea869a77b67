import GoldenSupport
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

/// The dashboard as a careful person uses it (#27): nothing goes to Facebook on one keystroke,
/// Ctrl-C quits by the path that asks, `/` filters every list the same way, the key bar keeps
/// "? help" when it has to cut.
final class CarefulUseTests: XCTestCase, ProgramFixtures {
    func programsApp() -> AppState {
        appOnPrograms([
            ProgramSummary(
                id: 1, name: "Order updates", status: .active, profile: "Shop", profileEnabled: true, tag: nil, message: "Hi",
                enrolled: 0, lastRunAt: nil, kind: .utility),
            ProgramSummary(
                id: 2, name: "Event reminders", status: .active, profile: "Events", profileEnabled: true, tag: nil, message: "Hi",
                enrolled: 0, lastRunAt: nil, kind: .utility),
        ])
    }

    /// Goldens of what #27 changed: the run's question, and a list filtered by `/` with its key
    /// bar, at 80x24, 100x30 and 200x60.
    func testGoldensOfTheRunQuestionAndAFilteredList() {
        for (w, h) in [(80, 24), (100, 30), (200, 60)] {
            var s = appOnPrograms(
                [
                    ProgramSummary(
                        id: 1, name: "Order updates", status: .active, profile: "Northwind Shop", profileEnabled: true, tag: nil,
                        message: "Hi", enrolled: 2_004, lastRunAt: 1_764_000_000_000, kind: .utility),
                    ProgramSummary(
                        id: 2, name: "Event reminders", status: .paused, profile: "Northwind Events", profileEnabled: true, tag: nil,
                        message: "Hi", enrolled: 0, lastRunAt: nil, kind: .utility),
                ],
                width: w, height: h)
            s.press(.char("/"))
            s.type("order")
            assertGolden("programs-filtering-\(w)x\(h)", App.view(s))
            s.press(.enter)
            s.press(.char("r"))
            _ = App.update(
                &s,
                .runPlanned(
                    RunPreview(
                        program: "Order updates", profile: "Northwind Shop", sendsAs: "template order_updates_v1", contacts: 2_004,
                        messaged: 1_295, reenrol: false)))
            assertGolden("run-question-\(w)x\(h)", App.view(s))
        }
    }

    func testTypingSlashOrderOnProgramsFiltersAndRunsNothing() {
        var s = programsApp()
        s.press(.char("/"))
        // "/order" ran the program (`r`) before #27: every key of it is the filter's now.
        XCTAssertEqual(s.type("order"), [])
        XCTAssertTrue(s.current.isTyping)
        guard case .programs(let p) = s.current else { return XCTFail("on Programs") }
        XCTAssertEqual(p.visible.map(\.name), ["Order updates"])
        XCTAssertTrue(s.screenText.contains("/order"), s.screenText)
        XCTAssertEqual(s.press(.enter), [], "Enter keeps the filter; it opens nothing")
        XCTAssertTrue(s.screenText.contains("1 of 2 programs · filter: order (Esc clears)"), s.screenText)
        XCTAssertEqual(s.press(.char("r")), [.planRun(name: "Order updates", reenrol: false)], "r acts on the row the filter shows")
        XCTAssertNil(s.overlay)
        XCTAssertEqual(s.press(.escape), [], "Esc clears the kept filter first")
        guard case .programs(let cleared) = s.current else { return XCTFail("still on Programs") }
        XCTAssertEqual(cleared.visible.count, 2)
        XCTAssertEqual(s.press(.escape), [.loadProfiles], "a second Esc goes back")
    }

    func testSlashFiltersTheStatsDaysAsYouType() {
        var s = appWithProfiles()
        s.press(.char("j"), .enter, .char("s"))
        let today = DayNumber(20_417)
        let days = (0..<7).map { k in
            DayStats(
                day: today - k, sent: 10, delivered: 9, read: 5, warnings: k == 2 ? 3 : 0,
                reasons: k == 2 ? [ReasonCount(reason: "551 person unavailable", count: 3)] : [])
        }
        _ = App.update(
            &s, .statsLoaded(StatsDetails(profile: "Northwind Shop", from: today - 6, to: today, filter: .all, days: days), today: today))
        s.press(.char("/"))
        XCTAssertEqual(s.type("unavail"), [])
        guard case .stats(let stats) = s.current else { return XCTFail("on Stats") }
        XCTAssertEqual(stats.visibleDays.map(\.day), [today - 2])
        s.press(.enter)
        // Enter on the one day left opens its contacts; R asks about that day.
        XCTAssertEqual(s.press(.char("R")), [.planRetry(profile: "Northwind Shop", day: today - 2)])
    }

    func testTheStatsReasonsColumnGoesWithTheWarnings() {
        var s = appWithProfiles(width: 100, height: 30)
        s.press(.char("j"), .enter, .char("s"))
        let today = DayNumber(20_417)
        let days = [DayStats(day: today, sent: 10, delivered: 9, read: 5, warnings: 1, reasons: [ReasonCount(reason: "551 x", count: 1)])]
        _ = App.update(
            &s, .statsLoaded(StatsDetails(profile: "Northwind Shop", from: today - 6, to: today, filter: .all, days: days), today: today))
        XCTAssertTrue(s.screenText.contains("REASONS"))
        _ = s.press(.char("f"))
        _ = App.update(
            &s,
            .statsLoaded(StatsDetails(profile: "Northwind Shop", from: today - 6, to: today, filter: .warnings, days: days), today: today))
        XCTAssertTrue(s.screenText.contains("REASONS"), "warnings keep their reasons")
        _ = s.press(.char("f"))
        _ = App.update(
            &s, .statsLoaded(StatsDetails(profile: "Northwind Shop", from: today - 6, to: today, filter: .sent, days: days), today: today))
        XCTAssertFalse(s.screenText.contains("REASONS"), "sent has no reasons: the CSV has none either")
    }

    /// One word per count at every width (#27): the Profiles list says DELIVERED and WARNINGS, as
    /// the stats screen, the CLI and the CSV do; a narrow screen drops "7D" and says it below.
    func testTheProfilesCountsKeepTheirWordsAtEveryWidth() {
        for (w, h) in [(80, 24), (100, 30), (200, 60)] {
            let text = appWithProfiles(width: w, height: h).screenText
            XCTAssertTrue(text.contains("DELIVERED") && text.contains("WARNINGS"), "\(w)x\(h)\n\(text)")
            XCTAssertFalse(text.contains("WARN ") || text.contains("DELIV ") || text.contains("WARNI…"), "\(w)x\(h)\n\(text)")
            XCTAssertTrue(text.contains("7D") || text.contains("counts of the last 7 days"), "\(w)x\(h): the span is said")
        }
    }

    func testRAndCapitalRAskWithWhatWillGoAndCancelIsTheDefault() {
        var s = programsApp()
        XCTAssertEqual(s.press(.char("R")), [.planRun(name: "Order updates", reenrol: true)])
        _ = App.update(
            &s,
            .runPlanned(
                RunPreview(
                    program: "Order updates", profile: "Shop", sendsAs: "template order_updates_v1", contacts: 2_004, messaged: 1_295,
                    reenrol: true)))
        guard case .confirm(let dialog, let then)? = s.overlay else { return XCTFail("R asks first") }
        XCTAssertEqual(then, .runProgram(name: "Order updates", reenrol: true))
        XCTAssertEqual(dialog.focus, .cancel)
        XCTAssertEqual(dialog.confirmLabel, "Send")
        XCTAssertTrue(dialog.message.hasPrefix(#"Send to 1,295 opted-in contacts of "Order updates" now"#), dialog.message)
        XCTAssertTrue(dialog.message.contains("709 other contacts would be warned, not sent"), dialog.message)
        XCTAssertTrue(dialog.message.contains("Everyone is enrolled again"), dialog.message)
        XCTAssertEqual(s.press(.enter), [], "Enter on the default sends nothing")
        XCTAssertTrue(s.runs.isEmpty)
        // Nobody opted in: the question says nothing would be sent.
        let none = RunPreview(program: "P", profile: "Shop", sendsAs: "tag X", contacts: 3, messaged: 0, reenrol: false)
        XCTAssertEqual(none.question, #"Run "P"? None of its 3 contacts is opted in to "Shop": nothing would be sent."#)
    }

    func testTheRunSummaryAddsUpAlignsItsReasonsAndSaysWhatItCut() {
        var s = programsApp()
        s.runConfirmed()
        var summary = RunSummary()
        summary.enrolled = 11_000
        summary.sent = 80
        summary.recovered = 357
        summary.warnings = (1...8).map { ReasonCount(reason: "reason \($0)", count: $0 == 1 ? 10_000 : 20 * $0) }
        _ = App.update(&s, .runFinished(name: "Order updates", summary))
        let text = s.screenText
        XCTAssertTrue(text.contains("10,780 contacts: sent 80 · warnings 10,700 · 11,000 newly enrolled"), text)
        XCTAssertTrue(text.contains("357 of them from an interrupted run"), text)
        XCTAssertTrue(text.contains("  10000  reason 1"), text)
        XCTAssertTrue(text.contains("     40  reason 2"), "counts are aligned: \(text)")
        XCTAssertTrue(text.contains("more reasons ("), "a list cut short says how many more: \(text)")
        let shown = (1...8).filter { text.contains("reason \($0)\n") || text.contains("reason \($0) ") }.count
        XCTAssertLessThan(shown, 8)
    }

    func testCtrlCDuringARunAsksAndStopsAfterTheBatch() {
        var s = programsApp()
        XCTAssertEqual(s.runConfirmed(), [.runProgram(name: "Order updates", reenrol: false)])
        XCTAssertEqual(s.press(.ctrl("c")), [])
        XCTAssertFalse(s.quitting, "Ctrl-C during a run asks, as :q does")
        guard case .confirm(_, .stopRunsAndQuit)? = s.overlay else { return XCTFail("no question") }
        XCTAssertEqual(s.press(.ctrl("c")), [], "a second Ctrl-C asks again; it never force-quits")
        guard case .confirm(_, .stopRunsAndQuit)? = s.overlay else { return XCTFail("no question") }
        XCTAssertEqual(s.press(.char("y")), [.stopRunsAndQuit])
        XCTAssertFalse(s.quitting, "the run records its batch first")
        _ = App.update(&s, .runFinished(name: "Order updates", RunSummary()))
        XCTAssertTrue(s.quitting)
    }

    func testCtrlCInTheNodeEditorWithAnUnsavedEditAsks() {
        var s = editorApp()
        s.press(.down, .end)
        s.type(" Track it.")
        XCTAssertEqual(s.press(.ctrl("c")), [])
        XCTAssertFalse(s.quitting, "an unsaved edit is never dropped by Ctrl-C")
        guard case .confirm(let dialog, .discardAndQuit)? = s.overlay else { return XCTFail("Ctrl-C asks about the edit") }
        XCTAssertEqual(dialog.focus, .cancel)
        XCTAssertTrue(dialog.message.contains(#"the unsaved edit of the node of "Orders""#), dialog.message)
        XCTAssertEqual(s.press(.enter), [], "Cancel: back to the edit")
        XCTAssertTrue(editor(s)!.isDirty, "the edit is still there")
        s.press(.ctrl("c"))
        XCTAssertEqual(s.press(.tab, .enter), [])
        XCTAssertTrue(s.quitting, "Discard and quit")
        // Without an edit, Ctrl-C quits at once, from any screen.
        var clean = editorApp()
        clean.press(.ctrl("c"))
        XCTAssertTrue(clean.quitting)
        XCTAssertNil(clean.overlay)
    }

    func testQOnTheFirstScreenAndColonQAskAboutAnUnsavedEditToo() {
        var s = editorApp()
        s.type("x")
        s.press(.char(":"))
        // The editor's message takes `:` as text; Ctrl-C and the command line are the way out.
        if case .commandLine = s.overlay { XCTFail("':' was typed into the message, it opens no command line") }
        s.press(.escape)
        guard case .confirm(_, .popScreen)? = s.overlay else { return XCTFail("Esc asks before leaving an edit") }
        s.press(.escape)
        XCTAssertEqual(App.runCommand(&s, "q"), [])
        guard case .confirm(_, .discardAndQuit)? = s.overlay else { return XCTFail(":q asks about the edit") }
        s.overlay = nil
        _ = App.runCommand(&s, "q!")
        XCTAssertTrue(s.quitting, ":q! discards without asking")
    }

    func testAThemeThatCantLoadKeepsTheOneOnScreen() {
        var s = appWithProfiles()
        let before = s.theme
        _ = App.update(
            &s, .themeLoaded(Theme.fallback, name: "nope", warning: "theme \"nope\" not found in themes; using the default theme"))
        XCTAssertEqual(s.theme, before)
        XCTAssertEqual(s.themeName, "default")
        XCTAssertEqual(s.toast?.message, "theme \"nope\" not found in themes; keeping default")
    }

    func testTabListsTheCandidatesWhenTheyDiffer() {
        var s = appWithProfiles()
        s.press(.char(":"))
        s.type("pro")
        s.press(.tab)
        XCTAssertEqual(s.toast?.message, "profiles  programs", "Tab on an ambiguous word shows what it could be")
        guard case .commandLine(let field)? = s.overlay else { return XCTFail("the command line stays open") }
        XCTAssertEqual(field.text, "pro")
        s.type("g")
        s.press(.tab)
        guard case .commandLine(let done)? = s.overlay else { return XCTFail("the command line stays open") }
        XCTAssertEqual(done.text, "programs")
        s.press(.escape)
        s.press(.char(":"))
        s.type("stats Northwind S")
        s.press(.tab)
        XCTAssertEqual(s.toast?.message, "Northwind Shop  Northwind Support")
    }

    func testTheHelpNamesEachKeyOnceWithQAndCtrlC() {
        var s = appWithProfiles()
        s.press(.char("?"))
        let keys = App.helpKeys(for: s).map(\.key)
        XCTAssertEqual(keys.count, Set(keys).count, "\(keys)")
        XCTAssertTrue(keys.contains("q") && keys.contains("Ctrl-C") && keys.contains("Esc"), "\(keys)")
        XCTAssertTrue(App.helpKeys(for: s).contains { $0.key == ":" && $0.action.hasPrefix("command line") })
    }

    /// #27: a screen's keys are declared once (`Binding`): its bar and its help come from them, no
    /// two bindings answer to one key, and none hides a move every list shares.
    func testEachScreensBindingsAreItsBarAndHelpAndAnswerToOneKeyEach() {
        func check<S>(
            _ name: String, _ bindings: [Binding<S>], bar: [(key: String, action: String)], help: [(key: String, action: String)],
            ownMoves: Bool = false
        ) {
            let keys = bindings.flatMap(\.keys)
            XCTAssertEqual(keys.count, Set(keys).count, "\(name): a key answers to two bindings")
            if !ownMoves { for key in keys { XCTAssertNil(ListKeys.movement(key, page: 1), "\(name): \(key) hides a move") } }
            for entry in bindings.keyBar() { XCTAssertTrue(bar.contains { $0 == entry }, "\(name): \(entry) is not on the bar") }
            for binding in bindings {
                XCTAssertTrue(help.contains { $0.key == binding.label }, "\(name): \(binding.label) is not in the help")
            }
        }
        check("Profiles", ProfilesState.bindings, bar: ProfilesState().keyBar, help: ProfilesState().help)
        check("Programs", ProgramsState.bindings, bar: ProgramsState().keyBar, help: ProgramsState().help)
        check("Profile page", ProfilePageState.bindings, bar: ProfilePageState(name: "x").keyBar, help: ProfilePageState(name: "x").help)
        check("Stats", StatsScreenState.bindings, bar: StatsScreenState(profile: "x").keyBar, help: StatsScreenState(profile: "x").help)
        // The contacts page through the database (keyset): their moves are their own.
        let contacts = ContactsState(query: ContactsQuery(profile: "x", kind: .sent, day: DayNumber(1)))
        check("Contacts", ContactsState.bindings, bar: contacts.keyBar, help: contacts.help, ownMoves: true)
        // The node editor's keys depend on the focus: the bar and the help show what works there.
        var editor = editorApp()
        guard case .nodeEditor(var state) = editor.current else { return XCTFail("in the editor") }
        for focus in [NodeEditorState.Focus.profile, .tag, .message, .preview] {
            state.focus = focus
            let bar = state.keyBar.map(\.key)
            XCTAssertEqual(bar.contains("p"), focus != .message, "\(focus): \(bar)")
            XCTAssertEqual(bar.contains("@"), focus == .message, "\(focus): \(bar)")
            XCTAssertEqual(bar.contains("[/]"), focus == .preview, "\(focus): \(bar)")
            XCTAssertEqual(state.help.contains { $0.key == "u" }, focus != .message && state.kind == .tag, "\(focus)")
        }
        state.focus = .message
        editor.replaceCurrent(.nodeEditor(state))
        editor.type("p")
        guard case .nodeEditor(let typed) = editor.current else { return XCTFail("in the editor") }
        XCTAssertNil(typed.picker, "in the message, p is text")
        XCTAssertTrue(typed.editor.text.contains("p"))
        // And the help overlay shows each of them.
        var s = programsApp()
        s.press(.char("?"))
        let text = s.screenText
        for binding in ProgramsState.bindings { XCTAssertTrue(text.contains(binding.help), "help lacks \(binding.help): \(text)") }
    }

    /// #27: at 100x30 the node editor's notes all show, wrapped at words: "(+1)" hid the line
    /// about Ctrl-S submitting to Meta.
    func testTheNodeEditorShowsEveryNoteOnANarrowScreen() {
        var s = editorApp(width: 100, height: 30)
        s.press(.tab, .char("u"))
        s.press(.tab)
        s.press(.end)
        s.type(" 50% off, buy now!")
        let text = s.screenText
        XCTAssertFalse(text.contains("(+"), text)
        XCTAssertTrue(text.contains("Ctrl-S submits"), text)
        XCTAssertTrue(text.contains("⚑"), "the flag shows beside the note: \(text)")
        assertGolden("node-editor-notes-100x30", App.view(s))
    }

    func testTheKeyBarShortensLabelsThenCutsButKeepsHelp() {
        let bindings: [(key: String, action: String)] = [
            ("Enter", "edit node"), ("a", "activate/pause"), ("r", "run now"), ("R", "re-enrol all, run"), ("/", "filter"), ("Esc", "back"),
            ("?", "help"),
        ]
        let line = { (b: [(key: String, action: String)]) in
            b.map { $0.key + ($0.action.isEmpty ? "" : " " + $0.action) }.joined(separator: "  ")
        }
        XCTAssertEqual(line(KeyBar.fitted(bindings, width: 200)), line(bindings), "whole when it fits")
        XCTAssertEqual(
            line(KeyBar.fitted(bindings, width: 80)), "Enter edit  a activate/pause  r run  R re-enrol  / filter  Esc back  ? help")
        let cut = line(KeyBar.fitted(bindings, width: 40))
        XCTAssertEqual(cut, "Enter edit  a activate/pause  …  ? help")
        XCTAssertLessThanOrEqual(DisplayWidth.of(cut), 40)
        // Every screen's bar at 80x24 ends in "? help" when `?` works there.
        var s = appWithProfiles()
        s.press(.char("j"), .enter, .char("s"))
        XCTAssertTrue(s.screenText.split(separator: "\n").last!.contains("? help"), s.screenText)
    }
}
