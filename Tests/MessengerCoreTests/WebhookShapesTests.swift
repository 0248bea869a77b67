import Foundation
import XCTest

@testable import MessengerCore

/// Every Messenger webhook field a page can be subscribed to, in the shapes Meta's reference
/// documents (ids and texts are ours): the product acts on opt-ins, deliveries, reads and template
/// status updates and skips the rest, counted, instead of refusing the whole POST.
final class WebhookShapesTests: XCTestCase {
    static let page = "1001"

    /// One `messaging` event per documented field, keyed by the field's name.
    static let events: [(field: String, json: String)] = [
        (
            "messages (text)",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000001,"message":{"mid":"m_1","text":"hello"}}"#
        ),
        (
            "messages (attachment, quick reply, reply_to)",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000002,"message":{"mid":"m_2","quick_reply":{"payload":"YES"},"reply_to":{"mid":"m_1"},"attachments":[{"type":"image","payload":{"url":"https://example.com/a.png"}}]}}"#
        ),
        (
            "message_echoes",
            #"{"sender":{"id":"1001"},"recipient":{"id":"PSID1"},"timestamp":1700000000003,"message":{"is_echo":true,"app_id":1517776481860111,"metadata":"x","mid":"m_3","text":"our own message"}}"#
        ),
        (
            "message_deliveries",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000004,"delivery":{"mids":["m_9"],"watermark":1700000000000,"seq":37}}"#
        ),
        (
            "message_reads",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000005,"read":{"watermark":1700000000000,"seq":38}}"#
        ),
        (
            "messaging_postbacks",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000006,"postback":{"mid":"m_4","title":"Get started","payload":"START","referral":{"ref":"ann@example.com","source":"SHORTLINK","type":"OPEN_THREAD"}}}"#
        ),
        (
            "messaging_optins (send to messenger)",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000007,"optin":{"ref":"ann@example.com"}}"#
        ),
        (
            "messaging_optins (checkbox, no sender)",
            #"{"recipient":{"id":"1001"},"timestamp":1700000000008,"optin":{"ref":"ann@example.com","user_ref":"UREF-1"}}"#
        ),
        (
            "messaging_optins (notification messages)",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000009,"optin":{"type":"notification_messages","payload":"P","notification_messages_token":"T","notification_messages_frequency":"DAILY","token_expiry_timestamp":1800000000000,"user_token_status":"NOT_REFRESHED"}}"#
        ),
        (
            "messaging_referrals",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000010,"referral":{"ref":"ann@example.com","source":"SHORTLINK","type":"OPEN_THREAD"}}"#
        ),
        (
            "messages (after a checkbox opt-in: prior_message)",
            #"{"sender":{"id":"PSID2"},"recipient":{"id":"1001"},"timestamp":1700000000018,"message":{"mid":"m_5","text":"hi"},"prior_message":{"source":"checkbox_plugin","identifier":"UREF-1"}}"#
        ),
        (
            "message_reactions",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000011,"reaction":{"mid":"m_3","action":"react","emoji":"\u2764","reaction":"love"}}"#
        ),
        (
            "message_edits",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000012,"message_edit":{"mid":"m_1","text":"hello again","num_edit":1}}"#
        ),
        (
            "messaging_handovers",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000013,"pass_thread_control":{"new_owner_app_id":"123","metadata":"m"}}"#
        ),
        (
            "messaging_policy_enforcement (no sender)",
            #"{"recipient":{"id":"1001"},"timestamp":1700000000014,"policy-enforcement":{"action":"block","reason":"spam"}}"#
        ),
        (
            "messaging_account_linking",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000015,"account_linking":{"status":"linked","authorization_code":"C"}}"#
        ),
        (
            "messaging_game_plays",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000016,"game_play":{"game_id":"G","player_id":"P","context_type":"SOLO","score":3}}"#
        ),
        (
            "message_context / feedback",
            #"{"sender":{"id":"PSID1"},"recipient":{"id":"1001"},"timestamp":1700000000017,"messaging_feedback":{"feedback_screens":[{"screen_id":0,"questions":{}}]}}"#
        ),
    ]

    static func body(messaging: [String], extraEntries: [String] = []) -> String {
        let entry = #"{"id":"1001","time":1700000000100,"messaging":[\#(messaging.joined(separator: ","))]}"#
        return #"{"object":"page","entry":[\#(([entry] + extraEntries).joined(separator: ","))]}"#
    }

    static let standbyEntry =
        #"{"id":"1001","time":1570053170926,"standby":[{"sender":{"id":"1001"},"recipient":{"id":"PSID1"},"timestamp":1570053170673,"message":{"mid":"m_5","is_echo":true,"app_id":1,"attachments":[{"title":"","url":"https://www.facebook.com/commerce/update/","type":"template","payload":{"template_type":"media","elements":[{"media_type":"image","attachment_id":2457235337685388}]}}]}}]}"#
    static let changesEntry =
        #"{"id":"1001","time":1700000000200,"changes":[{"field":"feed","value":{"item":"status","verb":"add"}},{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":12345,"message_template_name":"orders_v1","message_template_language":"en_US","reason":"NONE"}}]}"#

    func testEveryDocumentedFieldIsAcceptedAndOnlyTheUsedOnesBecomeEvents() throws {
        for (field, json) in Self.events {
            XCTAssertNoThrow(try WebhookPayload.parseCounted(body: Data(Self.body(messaging: [json]).utf8)), field)
        }
        let all = Self.body(messaging: Self.events.map(\.json), extraEntries: [Self.standbyEntry, Self.changesEntry])
        let parsed = try WebhookPayload.parseCounted(body: Data(all.utf8))
        XCTAssertEqual(
            parsed.events,
            [
                .delivery(pageID: "1001", psid: "PSID1", mids: ["m_9"], watermark: 1_700_000_000_000, timestamp: 1_700_000_000_004),
                .read(pageID: "1001", psid: "PSID1", watermark: 1_700_000_000_000, timestamp: 1_700_000_000_005),
                .optin(pageID: "1001", psid: "PSID1", ref: "ann@example.com", timestamp: 1_700_000_000_006),
                .optin(pageID: "1001", psid: "PSID1", ref: "ann@example.com", timestamp: 1_700_000_000_007),
                .optin(pageID: "1001", psid: "user_ref:UREF-1", ref: "ann@example.com", timestamp: 1_700_000_000_008),
                .optin(pageID: "1001", psid: "PSID1", ref: "ann@example.com", timestamp: 1_700_000_000_010),
                .userRefLinked(pageID: "1001", psid: "PSID2", userRef: "UREF-1", timestamp: 1_700_000_000_018),
                .templateStatus(
                    pageID: "1001", templateID: "12345", name: "orders_v1", language: "en_US", event: "APPROVED", reason: "NONE",
                    time: 1_700_000_000_200),
            ])
        // 18 events, 7 used (a delivery, a read, opt-ins by plugin, checkbox, m.me referral and a
        // first conversation's postback referral, a checkbox's user_ref linked to a PSID); 1
        // standby event; 2 changes, 1 used.
        XCTAssertEqual(parsed.skipped, 11 + 1 + 1)
    }

    func testAFileOfEveryShapeIngestsTheUsedEventsAndCountsTheRest() throws {
        let f = try Fixture()
        try f.standardSetup()
        let lines =
            Self.events.map { Self.body(messaging: [$0.json]) } + [
                #"{"object":"page","entry":[\#(Self.standbyEntry)]}"#, #"{"object":"page","entry":[\#(Self.changesEntry)]}"#,
            ]
        let result = try f.workspace.receipts.ingest(jsonLines: Data(lines.joined(separator: "\n").utf8))
        // The four opt-ins, the link and the template update are other kinds for receipts; so are the 13 skipped.
        XCTAssertEqual(result.otherEvents, 6 + 13)
        let optins = try f.workspace.optIns.ingest(jsonLines: Data(lines.joined(separator: "\n").utf8))
        XCTAssertEqual(optins.unchanged + optins.optedIn + optins.linked, 5)
    }

    /// The checkbox plugin: an opt-in with `user_ref` and no sender opts the contact in; runs send
    /// to `recipient.user_ref` until a message's `prior_message` gives the PSID, which replaces it
    /// (in the sent rows too, so watermark receipts find them). A user_ref never replaces a PSID.
    func testACheckboxOptInSendsByUserRefUntilAPSIDArrives() throws {
        let f = try Fixture()
        try f.standardSetup()
        let checkbox =
            #"{"object":"page","entry":[{"id":"1001","time":1,"messaging":[{"recipient":{"id":"1001"},"timestamp":1764000000000,"optin":{"ref":"cat@example.com","user_ref":"UREF-CAT"}}]}]}"#
        let r = try f.workspace.optIns.ingest(jsonLines: Data(checkbox.utf8))
        XCTAssertEqual(r.optedIn, 1)
        _ = try f.run()
        let toCat = try XCTUnwrap(f.transport.sent.first { $0.recipientPSID == "user_ref:UREF-CAT" })
        let body = try JSONSerialization.jsonObject(with: GraphTransport.body(toCat)) as! [String: Any]
        XCTAssertEqual(body["recipient"] as? [String: String], ["user_ref": "UREF-CAT"])

        let reply =
            #"{"object":"page","entry":[{"id":"1001","time":2,"messaging":[{"sender":{"id":"PSID-CAT"},"recipient":{"id":"1001"},"timestamp":1764000001000,"message":{"mid":"m_c","text":"thanks"},"prior_message":{"source":"checkbox_plugin","identifier":"UREF-CAT"}}]}]}"#
        XCTAssertEqual(try f.workspace.optIns.ingest(jsonLines: Data(reply.utf8)).linked, 1)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM contact_value WHERE value = 'PSID-CAT'"), 1)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE psid = 'PSID-CAT' AND outcome = 'sent'"), 1)
        XCTAssertEqual(try f.workspace.optIns.ingest(jsonLines: Data(reply.utf8)).unchanged, 1, "a replay changes nothing")

        // A later checkbox opt-in for a contact with a PSID keeps the PSID.
        let again =
            #"{"object":"page","entry":[{"id":"1001","time":3,"messaging":[{"recipient":{"id":"1001"},"timestamp":1764000009000,"optin":{"ref":"cat@example.com","user_ref":"UREF-2"}}]}]}"#
        XCTAssertEqual(try f.workspace.optIns.ingest(jsonLines: Data(again.utf8)).unchanged, 1)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM contact_value WHERE value = 'PSID-CAT'"), 1)

        let bad =
            #"{"object":"page","entry":[{"id":"1001","time":1,"messaging":[{"recipient":{"id":"1001"},"timestamp":1,"optin":{"ref":"cat@example.com","user_ref":7}}]}]}"#
        XCTAssertThrowsError(try f.workspace.optIns.ingest(jsonLines: Data(bad.utf8))) { error in
            XCTAssertTrue("\(error)".contains("optin.user_ref must be a non-empty string"), "\(error)")
        }
    }

    func testAnEchoBesideADeliveryNoLongerRefusesThePost() throws {
        let body = Self.body(messaging: [Self.events[2].json, Self.events[3].json])
        XCTAssertEqual(try WebhookPayload.parseCounted(body: Data(body.utf8)).events.count, 1)
    }
}
