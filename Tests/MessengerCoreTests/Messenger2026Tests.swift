import Foundation
import GRDB
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// Messenger as it is in 2026: the three tags retired on 2026-04-27 (R12), utility templates (R13).
final class Messenger2026Tests: StoreTestCase {
    // MARK: R12: the retirement, by the account's clock

    func testTheSandboxAnswersARetiredTagWithError100FromTheRetirementDay() throws {
        let berlin = AccountCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)
        let message = OutgoingMessage(
            pageID: "1", pageToken: nil, recipientPSID: "12345", tag: "POST_PURCHASE_UPDATE",
            text: "Your order shipped.", enrolmentID: 1, nodeID: 1)
        func answer(_ iso: String) -> SendResult {
            let millis = Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970 * 1000)
            return SandboxTransport(clock: FixedClock(millis: millis), calendar: berlin).send(message)
        }
        // 2026-04-26T23:30 in Berlin is still the 26th there: sent.
        guard case .sent = answer("2026-04-26T21:30:00Z") else { return XCTFail("the day before, a tag still sends") }
        // 22:30 UTC on the 26th is already the 27th in Berlin: retired.
        guard case .failed(let error) = answer("2026-04-26T22:30:00Z") else { return XCTFail("from the day, Facebook refuses the tag") }
        XCTAssertEqual(error.code, 100)
        XCTAssertEqual(error.subcode, TagRetirement.subcode)
        XCTAssertTrue(error.reason.contains("retired by Meta on 2026-04-27"), error.reason)
        let utility = OutgoingMessage(
            pageID: "1", pageToken: nil, recipientPSID: "12345",
            utility: UtilityTemplateRef(name: "orders_v1", language: "en_US", parameterNames: []),
            parameters: [], text: "Your order shipped.", enrolmentID: 1, nodeID: 1)
        guard case .sent = SandboxTransport(clock: FixedClock(millis: 1_795_000_000_000)).send(utility) else {
            return XCTFail("a utility template is sent after the retirement")
        }
    }

    func testFromTheRetirementDayATaggedProgramCantBeActivatedOrRunAndSaysHowToConvert() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, now: Fixture.beforeRetirement)
            try f.standardSetup(tag: "Post_purchase_update")
            XCTAssertEqual(try f.run().sent, 2, "before the day the seed's flow works")
            f.clock.set(f.millis("2026-04-27T08:00:00Z"))
            XCTAssertEqual(try f.workspace.programs.summary(named: "Orders").tagRetired, "retired 2026-04-27")
            XCTAssertThrowsError(try f.run(reenrol: true)) { error in
                let line = "\(error)"
                XCTAssertTrue(
                    line.contains("Post_purchase_update") && line.contains("2026-04-27") && line.contains("programs convert Orders"), line)
                XCTAssertFalse(line.contains("\n"))
            }
            try f.workspace.programs.pause(name: "Orders")
            XCTAssertThrowsError(try f.workspace.programs.activate(name: "Orders")) { error in
                XCTAssertTrue("\(error)".contains("programs convert Orders"), "\(error)")
            }
            XCTAssertThrowsError(
                try f.workspace.programs.setNode(
                    program: "Orders", profile: "Shop", tag: "Account_update",
                    message: "Your account changed.", acceptFlags: false)
            ) { error in
                XCTAssertTrue("\(error)".contains("can't be picked"), "\(error)")
            }
            XCTAssertEqual(f.transport.sent.count, 2, "nothing more went out")
        }
    }

    func testConvertingKeepsTheTextAndProfileAndTheProgramRunsAgain() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, now: Fixture.beforeRetirement)
            try f.standardSetup(tag: "Post_purchase_update")
            try f.workspace.programs.pause(name: "Orders")
            f.clock.set(f.millis("2026-11-25T11:00:00Z"))
            let result = try f.workspace.programs.convert(program: "Orders", acceptFlags: false)
            XCTAssertTrue(result.submitted)
            XCTAssertEqual(result.latest?.status, .approved)
            let program = try f.workspace.programs.summary(named: "Orders")
            XCTAssertEqual(program.kind, .utility)
            XCTAssertEqual(program.message, "Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped.")
            XCTAssertEqual(program.profile, "Shop")
            XCTAssertNil(program.tag)
            try f.workspace.programs.activate(name: "Orders")
            XCTAssertEqual(try f.run().sent, 2)
            XCTAssertEqual(f.transport.sent.last?.utility?.name, "orders_v1")
            XCTAssertThrowsError(try f.workspace.programs.convert(program: "Orders", acceptFlags: false), "already utility")
        }
    }

    func testMigrationV6RetiresTheThreeTagsFromTheirDateAndKeepsOldNodesTagged() throws {
        let f = try Fixture()
        let tags = try f.workspace.programs.tags()
        XCTAssertEqual(tags.count, 3)
        XCTAssertTrue(tags.allSatisfy { $0.retiredOn == TagRetirement.day && $0.retiredNote?.contains("2026-04-27") == true })
        XCTAssertTrue(tags.allSatisfy { !$0.isRetired(on: TagRetirement.day - 1) && $0.isRetired(on: TagRetirement.day) })
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM pragma_table_info('node') WHERE name = 'send_as' AND dflt_value = '''tag'''"), 1)
    }

    // MARK: R13: Meta's template rules, locally

    func draft(_ message: String, examples: [String: String] = ["FIRSTNAME": "Ann", "ORDERNUMBER": "A-1"]) throws -> UtilityTemplateDraft {
        UtilityTemplateDraft(message: try MessageTemplate(message), name: "orders_v1", language: "en_US", examples: examples)
    }

    func testFieldsBecomeNamedParametersWithExamples() throws {
        let d = try draft("Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped; thanks @firstname@ (@@shop).")
        XCTAssertEqual(d.body, "Hi {{firstname}}, order {{ordernumber}} has shipped; thanks {{firstname}} (@shop).")
        XCTAssertEqual(d.parameters.map(\.name), ["firstname", "ordernumber"])
        XCTAssertEqual(d.parameters.map(\.example), ["Ann", "A-1"])
        XCTAssertEqual(UtilityRules.check(d), [], "a clean template passes")
    }

    func testEachRejectionRuleFlagsWithMetasReasonAndTheFix() throws {
        func reasons(_ message: String, examples: [String: String] = ["FIRSTNAME": "Ann", "ORDERNUMBER": "A-1"]) throws -> [String?] {
            UtilityRules.check(try draft(message, examples: examples)).map(\.metaReason)
        }
        XCTAssertEqual(try reasons("@FIRSTNAME@, your order has shipped today."), [UtilityRules.incorrectParams])
        XCTAssertEqual(
            try reasons("Your order has shipped, @FIRSTNAME@!"), [UtilityRules.incorrectParams],
            "trailing punctuation still ends on the parameter")
        XCTAssertEqual(
            try reasons("Your order shipped, {{first}} says hi."), [UtilityRules.incorrectParams], "braces are not ours to write")
        XCTAssertEqual(
            try reasons("Hi @FIRSTNAME@, your order has shipped.", examples: [:]), [UtilityRules.incorrectParams], "no example, no default")
        XCTAssertEqual(try reasons("Hi @FIRSTNAME@ @ORDERNUMBER@ now."), [UtilityRules.ratio])
        XCTAssertEqual(try reasons("Hi @FIRSTNAME@, your order shipped: 20% off your next one."), [UtilityRules.marketing])
        let start = UtilityRules.check(try draft("@FIRSTNAME@, your order has shipped.")).first!
        XCTAssertEqual(start.words, ["@FIRSTNAME@"])
        XCTAssertEqual(start.fix, "put words before @FIRSTNAME@, e.g. \"Hi @FIRSTNAME@\"")
    }

    func testTheSandboxReviewsAsMetaWould() throws {
        let registry = SandboxTemplateRegistry()
        XCTAssertEqual(
            try registry.submit(try draft("Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped."), pageID: "1", pageToken: nil).status,
            .approved)
        let rejected = try registry.submit(try draft("Hi @FIRSTNAME@, buy now and save big."), pageID: "1", pageToken: nil)
        XCTAssertEqual(rejected.status, .rejected)
        XCTAssertEqual(rejected.reason, UtilityRules.marketing)
        XCTAssertEqual(
            try registry.submit(try draft("Hi @FIRSTNAME@, buy now and save big."), pageID: "1", pageToken: nil), rejected,
            "deterministic")
    }

    func testAFlaggedTemplateIsRefusedUnlessConfirmedAndThenMetaRejectsIt() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            XCTAssertThrowsError(
                try f.workspace.programs.setUtilityNode(
                    program: "Orders", profile: "Shop", message: "@FIRSTNAME@ sale today only",
                    acceptFlags: false)
            ) { error in
                XCTAssertTrue("\(error)".contains("put words before @FIRSTNAME@"), "\(error)")
            }
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM message_template"), 1, "nothing submitted")
            let result = try f.workspace.programs.setUtilityNode(
                program: "Orders", profile: "Shop", message: "@FIRSTNAME@ sale today only, truly",
                acceptFlags: true)
            XCTAssertEqual(result.latest?.status, .rejected)
            XCTAssertEqual(result.latest?.reason, UtilityRules.incorrectParams)
            XCTAssertEqual(result.sending?.version, 1, "the approved version 1 sends meanwhile")
        }
    }

    // MARK: R13: versions

    func testAnApprovedTemplateIsNeverEditedAndTheLastApprovedOneSendsMeanwhile() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let v1 = try f.workspace.programs.summary(named: "Orders")
            XCTAssertEqual(v1.latestTemplate?.name, "orders_v1")
            XCTAssertEqual(v1.latestTemplate?.status, .approved)
            // The same text again submits nothing.
            XCTAssertFalse(
                try f.workspace.programs.setUtilityNode(program: "Orders", profile: "Shop", message: v1.message, acceptFlags: false)
                    .submitted)
            // A changed text is version 2; Meta keeps it pending, so version 1 still sends.
            let pending = PendingRegistry()
            let ws = Workspace(
                database: f.database, clock: f.clock, calendar: f.calendar, appID: "42", transport: f.transport, templates: pending)
            let result = try ws.programs.setUtilityNode(
                program: "Orders", profile: "Shop", message: "Hi @FIRSTNAME@, parcel @ORDERNUMBER@ left our depot.",
                acceptFlags: false)
            XCTAssertEqual(result.latest?.name, "orders_v2")
            XCTAssertEqual(result.latest?.status, .pending)
            XCTAssertEqual(result.sending?.name, "orders_v1")
            XCTAssertEqual(try ProgramRunner(workspace: ws).run(program: "Orders").sent, 2)
            XCTAssertEqual(f.transport.sent.last?.utility?.name, "orders_v1")
            XCTAssertTrue(f.transport.sent.last!.text.hasSuffix("has shipped."), "the approved text, not the pending one")
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM message_template WHERE status = 'APPROVED' AND message = ?", [v1.message]), 1)
            // Meta approves version 2 (the webhook); runs send it from then on.
            let approved =
                #"{"object":"page","entry":[{"id":"1001","time":\#(f.clock.nowMillis() + 1000),"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":"9001","message_template_name":"orders_v2","message_template_language":"en_US","reason":"NONE"}}]}]}"#
            XCTAssertEqual(try ws.messageTemplates.ingest(try WebhookPayload.parse(lines: Data(approved.utf8))).updated, 1)
            XCTAssertEqual(try ws.programs.summary(named: "Orders").sendingTemplate?.name, "orders_v2")
        }
    }

    func testARefreshAsksOnlyAboutPendingTemplatesAndRecordsTheReview() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let pending = PendingRegistry()
            let ws = Workspace(
                database: f.database, clock: f.clock, calendar: f.calendar, appID: "42", transport: f.transport, templates: pending)
            try ws.programs.setUtilityNode(
                program: "Orders", profile: "Shop", message: "Hi @FIRSTNAME@, parcel @ORDERNUMBER@ left our depot.", acceptFlags: false)
            pending.answer = TemplateReview(graphID: "77", status: .rejected, reason: "INCORRECT_PARAMS")
            let refreshed = try ws.messageTemplates.refresh()
            XCTAssertEqual(refreshed.asked, 1)
            XCTAssertEqual(refreshed.changes.map(\.to), [.rejected])
            XCTAssertEqual(pending.asked, ["orders_v2"], "the approved version 1 is not asked about")
            XCTAssertEqual(try ws.programs.summary(named: "Orders").latestTemplate?.reason, "INCORRECT_PARAMS")
            XCTAssertEqual(try ws.messageTemplates.refresh().asked, 0)
        }
    }

    func testAReplayedOrOlderStatusEventNeverTakesAStatusBack() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            func event(_ status: String, at time: Int64) -> String {
                #"{"object":"page","entry":[{"id":"1001","time":\#(time),"changes":[{"field":"message_template_status_update","value":{"event":"\#(status)","message_template_id":"1","message_template_name":"orders_v1","message_template_language":"en_US","reason":"SCAM"}}]}]}"#
            }
            let now = f.clock.nowMillis()
            let ingest = { (line: String) in try f.workspace.messageTemplates.ingest(try WebhookPayload.parse(lines: Data(line.utf8))) }
            XCTAssertEqual(try ingest(event("PAUSED", at: now + 10_000)).updated, 1)
            XCTAssertEqual(try f.workspace.programs.summary(named: "Orders").latestTemplate?.status, .paused)
            XCTAssertEqual(try ingest(event("APPROVED", at: now + 5_000)).unchanged, 1, "older than what is known")
            XCTAssertEqual(try ingest(event("PAUSED", at: now + 10_000)).unchanged, 1, "a replay changes nothing")
            XCTAssertEqual(try f.workspace.programs.summary(named: "Orders").latestTemplate?.status, .paused)
            XCTAssertThrowsError(try ProgramRunner(workspace: f.workspace).run(program: "Orders"), "a paused template does not send")
            XCTAssertEqual(try ingest(event("REINSTATED", at: (now + 20_000) / 1000)).updated, 1, "seconds are read as seconds")
            XCTAssertEqual(try f.workspace.programs.summary(named: "Orders").latestTemplate?.status, .approved)
            XCTAssertEqual(try ingest(event("SOMETHING_NEW", at: now + 30_000)).unknown, 1)
        }
    }

    func testTemplateNamesAreUniquePerPage() throws {
        try onEachEngine { database in
            XCTAssertEqual(UtilityTemplateDraft.slug("Order updates — Été 2026!"), "order_updates_t_2026")
            XCTAssertEqual(UtilityTemplateDraft.slug("!!!"), "program")
            let f = try Fixture(database: database)
            try f.standardSetup()
            try f.workspace.programs.create(name: "Orders!")
            let other = try f.workspace.programs.setUtilityNode(
                program: "Orders!", profile: "Shop", message: "Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped.",
                acceptFlags: false)
            XCTAssertNotEqual(other.latest?.name, "orders_v1", "another program's template already has that name on this page")
            XCTAssertThrowsError(
                try f.workspace.programs.setUtilityNode(
                    program: "Orders", profile: "Shop", language: "english",
                    message: "Hi there, all good.", acceptFlags: false))
        }
    }
}

/// A registry that keeps every template pending until told otherwise, and remembers what it was asked.
final class PendingRegistry: TemplateRegistry, @unchecked Sendable {
    private let lock = NSLock()
    var answer: TemplateReview?
    private(set) var asked: [String] = []

    func submit(_ draft: UtilityTemplateDraft, pageID: String, pageToken: String?) throws -> TemplateReview {
        TemplateReview(graphID: "g-" + draft.name, status: .pending, reason: nil)
    }

    func review(name: String, language: String, pageID: String, pageToken: String?) throws -> TemplateReview? {
        lock.lock()
        defer { lock.unlock() }
        asked.append(name)
        return answer
    }
}
