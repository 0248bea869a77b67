import GoldenSupport
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

/// Programs and node-editor states the screen tests start from.
protocol ProgramFixtures {}

extension ProgramFixtures {
    var tags: [MessageTag] {
        [
            MessageTag(
                name: "Account_update", apiName: "ACCOUNT_UPDATE", allows: "Account changes.", example: "Your password changed.",
                contextWords: ["account", "password"], retiredNote: nil),
            MessageTag(
                name: "Confirmed_event_update", apiName: "CONFIRMED_EVENT_UPDATE", allows: "Event reminders.", example: "See you tomorrow.",
                contextWords: ["event", "reminder"], retiredNote: "Retired by Meta in 2026"),
            MessageTag(
                name: "Post_purchase_update", apiName: "POST_PURCHASE_UPDATE", allows: "Orders.", example: "Your order shipped.",
                contextWords: ["order", "shipped"], retiredNote: nil),
        ]
    }
    var fields: [DataField] {
        [
            DataField(id: 1, name: "FBOPTIN_0001", isOptIn: true, defaultValue: ""),
            DataField(id: 2, name: "FIRSTNAME", isOptIn: false, defaultValue: "there"),
            DataField(id: 3, name: "ORDERNUMBER", isOptIn: false, defaultValue: "your order"),
        ]
    }

    func program(
        _ name: String = "Orders", status: ProgramStatus = .active, message: String = "Hi @FIRSTNAME@, order @ORDERNUMBER@ shipped."
    ) -> ProgramSummary {
        ProgramSummary(
            id: 1, name: name, status: status, profile: "Shop", profileEnabled: true, tag: "Post_purchase_update",
            message: message, enrolled: 10, lastRunAt: nil)
    }

    func editorApp(width: Int = 80, height: Int = 24) -> AppState {
        var s = appWithProfiles(width: width, height: height)
        s.press(.char(":"))
        s.type("programs")
        s.press(.enter)
        _ = App.update(&s, .programsLoaded([program()]))
        XCTAssertEqual(s.press(.enter), [.loadNodeEditor(program: "Orders")])
        let data = NodeEditorData(
            program: program(), profiles: [("Shop", true, "FBOPTIN_0001"), ("Old", false, "FBOPTIN_0002")], tags: tags, fields: fields)
        XCTAssertEqual(App.update(&s, .nodeEditorLoaded(data)), [.loadSample(after: nil, forward: true, optInField: "FBOPTIN_0001")])
        _ = App.update(
            &s,
            .sampleLoaded(
                SampleContact(id: 7, email: "ann@example.com", values: ["FIRSTNAME": "Ann", "FBOPTIN_0001": "p1"], optedIn: true)))
        return s
    }

    func editor(_ s: AppState) -> NodeEditorState? {
        if case .nodeEditor(let e) = s.current { return e }
        return nil
    }
}

final class ProgramsScreenTests: XCTestCase, ProgramFixtures {
    /// #25: a program's schedule shows on the Programs screen: its own column on a wide screen,
    /// a ↻ after the status on a narrow one, where the columns have no room for it.
    func testTheScheduleShowsInTheProgramsList() {
        for (width, needle) in [(140, "every 15m"), (80, "active ↻")] {
            var s = appWithProfiles(width: width, height: 24)
            s.press(.char(":"))
            s.type("programs")
            s.press(.enter)
            var p = program()
            p.schedule = .every(minutes: 15)
            _ = App.update(&s, .programsLoaded([p, program("Notices", status: .paused)]))
            let text = s.screenText
            XCTAssertTrue(text.contains(needle), "\(width): \(text)")
            XCTAssertEqual(text.components(separatedBy: "↻").count - 1, width < 110 ? 1 : 0, "only the scheduled one")
        }
    }

    func testTypingUpdatesCountsPreviewAndFlags() {
        var s = editorApp()
        XCTAssertTrue(s.screenText.contains("Hi Ann, order your order shipped."), s.screenText)
        s.press(.down, .end)
        s.type(" Free shipping next time!")
        let e = editor(s)!
        XCTAssertTrue(e.isDirty)
        XCTAssertEqual(e.live?.check.templateLength, 69)
        XCTAssertEqual(e.live?.check.flags.first?.words, ["free shipping"])
        XCTAssertTrue(s.screenText.contains("free shipping"))
        XCTAssertFalse(e.highlights(e.live!.check.flags).isEmpty, "the flagged words are highlighted in the editor")
        s.press(.ctrl("z"))
        XCTAssertEqual(editor(s)!.editor.text.count, 68, "undo takes back the last character")
        assertGolden("node-editor-80x24", App.view(s))
    }

    func testAtOpensTheFieldPickerAndInsertsTheField() {
        var s = editorApp()
        s.press(.char("@"))
        XCTAssertEqual(editor(s)?.picker, .field)
        XCTAssertTrue(s.screenText.contains("default: there"))
        s.press(.enter)
        XCTAssertTrue(editor(s)!.editor.text.hasSuffix("shipped.@FIRSTNAME@"))
        s.press(.char(" "), .char("@"), .escape)
        XCTAssertTrue(editor(s)!.editor.text.hasSuffix("@FIRSTNAME@ @"), "Esc keeps the typed @")
        s.type("NOPE")
        s.press(.char("@"), .escape)
        XCTAssertEqual(editor(s)?.live?.check.unknownFields, ["NOPE"])
        XCTAssertTrue(s.screenText.contains("unknown data field @NOPE@"))
    }

    func testTagPickerShowsRetiredTagsAndProfilePickerOnlyEnabled() {
        var s = editorApp(width: 160, height: 48)
        s.press(.tab)  // to the preview; t opens the tag picker from any field but the message
        s.press(.char("t"))
        XCTAssertEqual(editor(s)?.picker, .tag)
        XCTAssertTrue(s.screenText.contains("retired: Retired by Meta in 2026"))
        assertGolden("tag-picker-160x48", App.view(s))
        XCTAssertTrue(s.screenText.contains(NodeEditorState.utilityChoice), "the utility template is a choice beside the tags")
        s.press(.char("g"), .char("j"))
        s.press(.enter)
        XCTAssertEqual(editor(s)?.tag, "Account_update")
        XCTAssertTrue(
            editor(s)!.live!.check.flags.contains { $0.kind == .offTag }, "an order message under Account_update reads as another tag")
        s.press(.char("t"), .char("j"), .enter)
        XCTAssertEqual(editor(s)?.tag, "Account_update", "a retired tag can't be picked")
        XCTAssertEqual(s.toast?.kind, .error)
        s.press(.char("p"), .char("j"), .enter)
        XCTAssertEqual(editor(s)?.profile, "Shop", "a disabled profile can't be picked")
    }

    func testSavingAFlaggedMessageAsksFirstAndLeavingUnsavedAsks() {
        var s = editorApp()
        s.press(.down, .end)
        s.type(" 50% off")
        XCTAssertEqual(s.press(.ctrl("s")), [])
        guard case .confirm(let dialog, let then) = s.overlay else { return XCTFail("a flagged message asks first") }
        XCTAssertEqual(dialog.focus, .cancel)
        XCTAssertEqual(
            then,
            .saveNode(
                program: "Orders", profile: "Shop", tag: "Post_purchase_update",
                message: "Hi @FIRSTNAME@, order @ORDERNUMBER@ shipped. 50% off", acceptFlags: true))
        XCTAssertEqual(s.press(.tab, .enter), [then])
        _ = App.update(&s, .nodeSaved(program: "Orders"))
        XCTAssertFalse(editor(s)!.isDirty)
        s.type("!")
        XCTAssertEqual(s.press(.escape), [])
        guard case .confirm(_, .popScreen) = s.overlay else { return XCTFail("leaving with changes asks") }
        XCTAssertEqual(s.press(.tab, .enter), [.loadPrograms])
        if case .programs = s.current {} else { XCTFail("back on Programs") }
    }

    func testACleanMessageSavesWithoutAsking() {
        var s = editorApp()
        s.press(.down, .end)
        s.type(" Track it online.")
        XCTAssertEqual(
            s.press(.ctrl("s")),
            [
                .saveNode(
                    program: "Orders", profile: "Shop", tag: "Post_purchase_update",
                    message: "Hi @FIRSTNAME@, order @ORDERNUMBER@ shipped. Track it online.", acceptFlags: false)
            ])
    }

    // MARK: 2026: retired tags and utility templates (R12, R13)

    static let clean = "Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped."

    func template(_ version: Int, _ status: TemplateStatus, reason: String? = nil) -> TemplateVersion {
        TemplateVersion(
            name: "orders_v\(version)", language: "en_US", version: version, status: status, reason: reason, message: Self.clean)
    }

    /// The editor on a day after Meta retired the tags, over a node that still has one.
    func retiredEditorApp(width: Int = 80, height: Int = 24) -> AppState {
        var s = appWithProfiles(width: width, height: height)
        s.press(.char(":"))
        s.type("programs")
        s.press(.enter)
        var retiredTags = tags
        for i in retiredTags.indices {
            retiredTags[i].retiredOn = TagRetirement.day
            retiredTags[i].retiredNote = "Meta retired this tag on 2026-04-27"
        }
        var p = program(message: Self.clean)
        p.tagRetired = "retired 2026-04-27"
        _ = App.update(&s, .programsLoaded([p]))
        XCTAssertTrue(s.screenText.contains("⚑ Post_purchase_update"), "the Programs list flags the retired tag: \(s.screenText)")
        _ = s.press(.enter)
        let data = NodeEditorData(
            program: p, profiles: [("Shop", true, "FBOPTIN_0001")], tags: retiredTags, fields: fields,
            today: TagRetirement.day + 200, examples: ["FIRSTNAME": "Ann", "ORDERNUMBER": "A-1"])
        _ = App.update(&s, .nodeEditorLoaded(data))
        _ = App.update(
            &s,
            .sampleLoaded(
                SampleContact(id: 7, email: "ann@example.com", values: ["FIRSTNAME": "Ann", "FBOPTIN_0001": "p1"], optedIn: true)))
        return s
    }

    func testARetiredTagIsFlaggedAndCantBeSavedAndUConvertsKeepingTheText() {
        var s = retiredEditorApp()
        XCTAssertTrue(s.screenText.contains("retired 2026-04-27"), s.screenText)
        XCTAssertEqual(s.press(.ctrl("s")), [])
        XCTAssertEqual(s.toast?.kind, .error, "a retired tag can't be saved")
        s.press(.tab)  // to the preview: u is a key there, not a letter typed
        s.press(.char("u"))
        let e = editor(s)!
        XCTAssertEqual(e.kind, .utility)
        XCTAssertEqual(e.editor.text, Self.clean, "the text is kept")
        XCTAssertTrue(e.isDirty)
        XCTAssertEqual(e.live?.check.flags, [], "a clean message passes Meta's template rules")
        assertGolden("node-editor-converted-80x24", App.view(s))
        XCTAssertEqual(
            s.press(.ctrl("s")),
            [
                .saveUtilityNode(
                    program: "Orders", profile: "Shop", language: "en_US",
                    message: Self.clean, acceptFlags: false)
            ])
    }

    func testTheTagPickerOffersTheUtilityTemplateAndRefusesRetiredTags() {
        var s = retiredEditorApp(width: 160, height: 48)
        s.press(.tab)
        s.press(.char("t"))
        XCTAssertTrue(s.screenText.contains("[retired 2026-04-27]"), s.screenText)
        s.press(.char("g"), .char("j"), .enter)  // Account_update: retired and not this node's
        XCTAssertEqual(s.toast?.kind, .error)
        XCTAssertEqual(editor(s)?.picker, .tag, "the picker stays open")
        s.press(.char("g"), .enter)
        XCTAssertEqual(editor(s)?.kind, .utility)
    }

    func testAUtilityTemplateFlagsMetasRulesWithTheFixAndSaysWhichVersionSends() {
        var s = retiredEditorApp(width: 200, height: 60)
        s.press(.tab)
        s.press(.char("u"))
        s.press(.tab, .tab, .tab)  // back to the message
        s.press(.down, .end)
        s.type(" ")
        s.press(.char("@"), .escape)  // Esc keeps the @ typed
        s.type("ORDERNUMBER")
        s.press(.char("@"), .escape)
        let flags = editor(s)!.live!.check.flags
        XCTAssertEqual(flags.map(\.metaReason), [UtilityRules.incorrectParams])
        XCTAssertEqual(flags.first?.fix, "end the message with words after @ORDERNUMBER@")
        guard
            case .confirm(_, let then)? = {
                _ = s.press(.ctrl("s"))
                return s.overlay
            }()
        else { return XCTFail("a flagged template asks first") }
        XCTAssertEqual(
            then,
            .saveUtilityNode(
                program: "Orders", profile: "Shop", language: "en_US",
                message: Self.clean + " @ORDERNUMBER@", acceptFlags: true))
        _ = s.press(.escape)
        var saved = program()
        saved.kind = .utility
        saved.latestTemplate = template(2, .rejected, reason: UtilityRules.incorrectParams)
        saved.sendingTemplate = template(1, .approved)
        _ = App.update(
            &s,
            .utilityNodeSaved(
                program: "Orders",
                UtilityNodeResult(
                    check: editor(s)!.live!.check, submitted: true,
                    latest: saved.latestTemplate, sending: saved.sendingTemplate), saved))
        XCTAssertFalse(editor(s)!.isDirty)
        XCTAssertTrue(s.screenText.contains("orders_v2 REJECTED"), s.screenText)
        XCTAssertTrue(s.screenText.contains("v2 REJECTED · v1 sends"), s.screenText)
        XCTAssertTrue(editor(s)!.reviewNote!.0.contains("v1 (orders_v1) sends meanwhile"))
        assertGolden("node-editor-utility-200x60", App.view(s))
    }

    func testPreviewStepsContactsAndShowsTheWarningForNoOptIn() {
        var s = editorApp()
        s.press(.tab)
        XCTAssertEqual(s.press(.char("]")), [.loadSample(after: 7, forward: true, optInField: "FBOPTIN_0001")])
        XCTAssertEqual(s.press(.char("[")), [.loadSample(after: 7, forward: false, optInField: "FBOPTIN_0001")])
        _ = App.update(&s, .sampleLoaded(SampleContact(id: 8, email: "bob@example.com", values: [:], optedIn: false)))
        XCTAssertTrue(s.screenText.contains("bob@example.com has no opt-in"))
    }

    func testRunShowsProgressCancelsAndSummarises() {
        var s = appWithProfiles(width: 80, height: 24)
        s.press(.char(":"))
        s.type("programs")
        s.press(.enter)
        _ = App.update(&s, .programsLoaded([program()]))
        XCTAssertEqual(s.press(.char("r")), [.planRun(name: "Orders", reenrol: false)], "r asks first; nothing is sent")
        XCTAssertNil(s.overlay, "the question waits for the count")
        _ = App.update(
            &s,
            .runPlanned(
                RunPreview(
                    program: "Orders", profile: "Shop", sendsAs: "template orders_v1", contacts: 30_000, messaged: 1_295, reenrol: false)))
        guard case .confirm(let dialog, .runProgram(name: "Orders", reenrol: false))? = s.overlay else { return XCTFail("no confirmation") }
        XCTAssertEqual(dialog.focus, .cancel, "Enter alone sends nothing")
        XCTAssertTrue(s.screenText.contains("Send to 1,295 opted-in contacts of \"Orders\" now"), s.screenText)
        assertGolden("run-confirm-80x24", App.view(s))
        XCTAssertEqual(s.press(.enter), [], "Cancel")
        XCTAssertNil(s.overlay)
        guard case .programs(let cancelled) = s.current else { return XCTFail("on Programs") }
        XCTAssertNil(cancelled.run, "no run view for a run that never started")
        XCTAssertEqual(s.runConfirmed(), [.runProgram(name: "Orders", reenrol: false)])
        _ = App.update(&s, .runProgress(name: "Orders", RunProgress(done: 2_000, total: 8_000, sent: 1_500, warned: 500), elapsed: 2))
        let text = s.screenText
        XCTAssertTrue(text.contains("2000 / 8000 contacts · 1000 a second · 6 s left"), text)
        assertGolden("run-progress-80x24", App.view(s))
        XCTAssertEqual(s.press(.escape), [.cancelRun(name: "Orders")])
        XCTAssertEqual(s.press(.escape), [], "one cancel is enough")
        var summary = RunSummary()
        summary.enrolled = 8_000
        summary.processed = 2_000
        summary.sent = 1_500
        summary.cancelled = true
        summary.warnings = [ReasonCount(.noOptIn, count: 500)]
        XCTAssertEqual(App.update(&s, .runFinished(name: "Orders", summary)), [.loadPrograms])
        XCTAssertTrue(s.screenText.contains("Cancelled"))
        XCTAssertTrue(s.screenText.contains("500  no opt-in"))
        XCTAssertEqual(s.press(.enter), [.loadPrograms])
        XCTAssertEqual(s.runConfirmed(.char("R")), [.runProgram(name: "Orders", reenrol: true)])
        XCTAssertEqual(
            App.update(&s, .runFinished(name: "Orders", RunSummary(stoppedBecause: "program \"Orders\" is paused"))), [.loadPrograms])
        XCTAssertTrue(s.screenText.contains("Stopped: program \"Orders\" is paused"))
    }
}
