import FlyingFox
import Foundation
import GRDB
import WebhookServer
import XCTest

@testable import MessengerCore

/// The webhook receiver on a real socket (127.0.0.1, a port the system picks), answering from its
/// spool; the ingester applies the spool when a test says so (`post` drains it after a 200).
final class WebhookTests: XCTestCase {
    static let secret = "app-secret-0123456789"
    static let verifyToken = "verify-me-please"
    var fixture: GraphFixture!
    var url = ""
    var serving: Task<Void, any Error>?
    let log = WaitLogLines()
    var spool: WebhookSpool!
    var ingester: WebhookIngester!

    override func setUp() async throws {
        fixture = try GraphFixture(transport: SandboxTransport(clock: FixedClock(millis: GraphFixture.now)), psids: ["P1", "P2", ""])
        _ = try await blocking { [fixture] in try ProgramRunner(workspace: fixture!.workspace).run(program: "Orders") }
        spool = try WebhookSpool(folder: fixture.workspace.database.path + ".spool")
        let workspace = fixture.workspace
        ingester = WebhookIngester(spool: spool, workspace: { workspace }, log: { [log] in log.add($0) })
        let receiver = try WebhookReceiver(
            spool: spool, verifyToken: Self.verifyToken, appSecret: Self.secret, now: { GraphFixture.now }, log: { [log] in log.add($0) })
        let port = PortBox()
        let ready = DispatchSemaphore(value: 0)
        serving = Task.detached {
            try await WebhookListener.run(receiver, host: "127.0.0.1", port: 0) { bound in
                port.value = bound
                ready.signal()
            }
        }
        try await blocking { _ = ready.wait(timeout: .now() + 10) }
        url = "http://127.0.0.1:\(port.value)/webhook"
    }

    override func tearDown() async throws {
        serving?.cancel()
        spool?.shutDown()
    }

    /// POSTs, and once it is answered 200 applies the spool (as the service's ingester does behind).
    func post(_ body: Data, signature: String?, ingest: Bool = true) async throws -> (Int, String) {
        var headers = ["Content-Type": "application/json"]
        if let signature { headers["X-Hub-Signature-256"] = signature }
        let answer = try await http("POST", url, headers: headers, body: body)
        if ingest, answer.0 == 200 { try await blocking { [ingester] in _ = try ingester!.drain() } }
        return answer
    }

    func signed(_ body: Data) -> String { WebhookReceiver.signature(of: body, secret: Self.secret) }

    /// Everything a webhook can change.
    func state() throws -> [Int] {
        try [
            fixture.count("SELECT COUNT(*) FROM send WHERE delivered_at IS NOT NULL"),
            fixture.count("SELECT COUNT(*) FROM send WHERE read_at IS NOT NULL"),
            fixture.count("SELECT COALESCE(SUM(count), 0) FROM daily_stat"),
            fixture.count("SELECT COUNT(*) FROM contact_value"),
        ]
    }

    func deliveryBody(psid: String = "P1") throws -> Data {
        let sentAt = try fixture.count("SELECT MAX(at) FROM send")
        return Data(
            #"{"object":"page","entry":[{"id":"4001","time":\#(sentAt + 5000),"messaging":[{"sender":{"id":"\#(psid)"},"recipient":{"id":"4001"},"timestamp":\#(sentAt + 5000),"delivery":{"watermark":\#(sentAt + 1000)}}]}]}"#
                .utf8)
    }

    func testTheSubscriptionHandshakeEchoesTheChallengeOnlyForTheRightToken() async throws {
        let good = try await http("GET", url + "?hub.mode=subscribe&hub.verify_token=\(Self.verifyToken)&hub.challenge=1158201444")
        XCTAssertEqual(good.0, 200)
        XCTAssertEqual(good.1, "1158201444")
        let bad = try await http("GET", url + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444")
        XCTAssertEqual(bad.0, 403)
        XCTAssertFalse(bad.1.contains("1158201444"))
        let elsewhere = try await http("GET", url.replacingOccurrences(of: "/webhook", with: "/other"))
        XCTAssertEqual(elsewhere.0, 404)
    }

    func testASignedDeliveryAndOptInAreIngestedAndAReplayChangesNothing() async throws {
        let before = try state()
        let delivery = try deliveryBody()
        let first = try await post(delivery, signature: signed(delivery))
        XCTAssertEqual(first.0, 200)
        XCTAssertEqual(try fixture.count("SELECT COUNT(*) FROM send WHERE psid = 'P1' AND delivered_at IS NOT NULL"), 1)
        // The page heard from Facebook now (`doctor`, the profile page's "event 2 min ago"; #24).
        XCTAssertEqual(try fixture.count("SELECT COUNT(*) FROM page WHERE id = '4001' AND last_event_at = \(GraphFixture.now)"), 1)
        let afterFirst = try state()
        XCTAssertNotEqual(afterFirst, before)

        let optin = Data(
            #"{"object":"page","entry":[{"id":"4001","time":1,"messaging":[{"sender":{"id":"P3"},"recipient":{"id":"4001"},"timestamp":1764000000000,"optin":{"ref":"c2@example.com"}}]}]}"#
                .utf8)
        let opted = try await post(optin, signature: signed(optin))
        XCTAssertEqual(opted.0, 200)
        XCTAssertEqual(try fixture.count("SELECT COUNT(*) FROM contact_value WHERE value = 'P3'"), 1)
        let afterOptin = try state()

        // Facebook delivers again when it isn't sure: the same bodies change nothing.
        for body in [delivery, optin] {
            let again = try await post(body, signature: signed(body))
            XCTAssertEqual(again.0, 200)
        }
        XCTAssertEqual(try state(), afterOptin)
    }

    func testABadOrMissingSignatureIsRefusedAndNothingIsRecorded() async throws {
        let before = try state()
        let delivery = try deliveryBody()
        let wrongSecret = WebhookReceiver.signature(of: delivery, secret: "not-the-secret")
        var tampered = delivery
        tampered.append(contentsOf: Array(" ".utf8))
        for (body, signature) in [
            (delivery, Optional(wrongSecret)), (delivery, nil), (tampered, signed(delivery)),
            (delivery, "sha1=abc"), (delivery, "sha256=zz"),
        ] {
            let answer = try await post(body, signature: signature)
            XCTAssertEqual(answer.0, 403, "signature \(signature ?? "none")")
        }
        XCTAssertEqual(try state(), before)
        XCTAssertFalse(log.all.joined().contains(Self.secret), "the secret is never logged")
    }

    func testATenMegabyteBodyIsRefused() async throws {
        let before = try state()
        let huge = Data(repeating: UInt8(ascii: "a"), count: 10 << 20)
        let answer = try await post(huge, signature: signed(huge))
        XCTAssertEqual(answer.0, 413)
        XCTAssertEqual(try state(), before)
    }

    func testASignedTemplateStatusUpdateIsIngestedBesideOtherChangesAndAReplayChangesNothing() async throws {
        let workspace = fixture.workspace
        try await blocking {
            try workspace.programs.create(name: "Notices")
            try workspace.programs.setUtilityNode(
                program: "Notices", profile: "Shop", message: "Hi @FIRSTNAME@, your account settings changed today.",
                acceptFlags: false)
        }
        let status = { try workspace.programs.summary(named: "Notices").latestTemplate?.status }
        XCTAssertEqual(try status(), .approved)
        // Meta's documented shape: entry[].changes[] with field and value, next to a field we don't use.
        let body = Data(
            #"{"object":"page","entry":[{"id":"4001","time":1764000099000,"changes":[{"field":"feed","value":{"item":"status"}},{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":123456,"message_template_name":"notices_v1","message_template_language":"en_US","reason":"LOW_QUALITY"}}]}]}"#
                .utf8)
        let first = try await post(body, signature: signed(body))
        XCTAssertEqual(first.0, 200)
        XCTAssertEqual(try status(), .paused)
        XCTAssertEqual(try workspace.programs.summary(named: "Notices").latestTemplate?.reason, "LOW_QUALITY")
        let replay = try await post(body, signature: signed(body))
        XCTAssertEqual(replay.0, 200)
        XCTAssertEqual(try status(), .paused)
        let ingested = try await blocking { [ingester] in ingester!.totals }
        XCTAssertEqual(ingested.templates, 1, "the replay changed no template")
        XCTAssertEqual(ingested.kinds["template_status"], 2)
        let unsigned = try await post(body, signature: nil)
        XCTAssertEqual(unsigned.0, 403)
        // Meta's other spelling of the field (the webhooks reference's) is read the same (#24).
        let other = Data(
            String(decoding: body, as: UTF8.self).replacingOccurrences(
                of: "message_template_status_update", with: "messenger_template_status_update"
            )
            .replacingOccurrences(of: "PAUSED", with: "APPROVED").utf8)
        let otherAnswer = try await post(other, signature: signed(other))
        XCTAssertEqual(otherAnswer.0, 200)
        XCTAssertEqual(try status(), .approved)
        // #25: a review names its page's template: another page's entry with this template's id
        // changes nothing (a template id is matched within the entry's page).
        let elsewhere = Data(
            String(decoding: body, as: UTF8.self).replacingOccurrences(of: #""id":"4001""#, with: #""id":"4999""#)
                .replacingOccurrences(of: "1764000099000", with: "1764000999000").utf8)
        let elsewhereAnswer = try await post(elsewhere, signature: signed(elsewhere))
        XCTAssertEqual(elsewhereAnswer.0, 200)
        XCTAssertEqual(try status(), .approved, "another page's entry can't pause this page's template")
        // #26: Meta's reason is stored as the screens and `--json` show it: no controls, no bidi.
        let hostile = Data(
            String(decoding: body, as: UTF8.self).replacingOccurrences(of: "LOW_QUALITY", with: #"bad\u001b[2J\u009b31m\u202eevil\nline"#)
                .replacingOccurrences(of: "1764000099000", with: "1764009999000").utf8)
        let hostileAnswer = try await post(hostile, signature: signed(hostile))
        XCTAssertEqual(hostileAnswer.0, 200)
        let reason = try XCTUnwrap(try workspace.programs.summary(named: "Notices").latestTemplate?.reason)
        XCTAssertFalse(
            reason.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }, reason
        )
        XCTAssertTrue(reason.hasPrefix("bad"), reason)
    }

    // MARK: Never drop an event (issue: trust)

    func testEventsForAnUnlinkedPageAreSkippedAndLoggedWhileTheRestAreRecorded() async throws {
        let at =
            try await fixture.workspace.database.writer.read { db in
                try Int64.fetchOne(db, sql: "SELECT MAX(at) FROM send WHERE psid = 'P1'")
            } ?? 0
        let body = Data(
            #"{"object":"page","entry":[{"id":"9999","time":\#(at + 5000),"messaging":[{"sender":{"id":"X"},"recipient":{"id":"9999"},"timestamp":\#(at + 5000),"delivery":{"watermark":\#(at + 1000)}}]},{"id":"4001","time":\#(at + 5000),"messaging":[{"sender":{"id":"4001"},"recipient":{"id":"P1"},"timestamp":\#(at + 4000),"message":{"is_echo":true,"mid":"m_echo","text":"ours"}},{"sender":{"id":"P1"},"recipient":{"id":"4001"},"timestamp":\#(at + 5000),"delivery":{"watermark":\#(at + 1000)}}]}]}"#
                .utf8)
        let answer = try await post(body, signature: signed(body))
        XCTAssertEqual(answer.0, 200)
        XCTAssertEqual(
            try fixture.count("SELECT COUNT(*) FROM send WHERE psid = 'P1' AND delivered_at IS NOT NULL"), 1,
            "the linked page's delivery is recorded beside the unlinked page's and the echo")
        XCTAssertTrue(
            log.all.contains { $0.contains("pages no profile is linked to: 9999") && $0.contains("skipped 1 of other kinds") },
            log.all.joined(separator: "\n"))
    }

    /// #25: a failing store never reaches Facebook: the POST is answered 200 from the spool, the
    /// ingester's batch fails whole (events and position roll back together) and is applied once
    /// the store works again, exactly once.
    func testAStorageFailureDoesntReachFacebookAndTheBatchIsAppliedOnceTheStoreWorks() async throws {
        // The store refuses every write to `send` (as a full disk or an I/O error would).
        try await fixture.workspace.database.writer.write { db in
            try db.execute(sql: "CREATE TRIGGER broken BEFORE UPDATE ON send BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
        }
        let before = try state()
        let delivery = try deliveryBody()
        let answered = try await post(delivery, signature: signed(delivery), ingest: false)
        XCTAssertEqual(answered.0, 200, "the spool has it: Facebook needn't send it again")
        do {
            _ = try await blocking { [ingester] in try ingester!.drain() }
            XCTFail("the batch can't be applied while the store refuses it")
        } catch {}
        XCTAssertEqual(try state(), before)
        XCTAssertEqual(try fixture.count("SELECT COUNT(*) FROM webhook_spool"), 0, "the position rolled back with the events")
        try await fixture.workspace.database.writer.write { db in try db.execute(sql: "DROP TRIGGER broken") }
        let applied = try await blocking { [ingester] in try ingester!.drain() }
        XCTAssertEqual(applied.delivered, 1)
        XCTAssertEqual(try fixture.count("SELECT COUNT(*) FROM send WHERE psid = 'P1' AND delivered_at IS NOT NULL"), 1)
        let again = try await blocking { [ingester] in try ingester!.drain() }
        XCTAssertEqual(again.posts, 0, "nothing is applied twice")
    }

    /// #25: the answer doesn't wait for the database: another process holding the write lock (an
    /// import) leaves POSTs answered at once; they are applied when the lock is released.
    func testPostsAreAnsweredWhileAnotherProcessHoldsTheWriteLock() async throws {
        // Another process's writer: holds the write lock until told to let go.
        let other = try DatabaseQueue(path: fixture.workspace.database.path)
        let locked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = Thread {
            try? other.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                locked.signal()
                release.wait()
                try db.execute(sql: "ROLLBACK")
            }
            locked.signal()
        }
        holder.start()
        try await blocking { locked.wait() }
        let delivery = try deliveryBody()
        let started = Date()
        for _ in 0..<20 {
            let answer = try await post(delivery, signature: signed(delivery), ingest: false)
            XCTAssertEqual(answer.0, 200)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "20 POSTs answered while the database is locked")
        release.signal()
        try await blocking { locked.wait() }
        let applied = try await blocking { [ingester] in try ingester!.drain() }
        XCTAssertEqual(applied.posts, 20)
        XCTAssertEqual(applied.delivered, 1, "the same delivery twenty times marks one send")
    }

    /// #25: a spool that can't take a POST answers 503 (Facebook retries) and keeps nothing of it.
    func testASpoolOverItsCapAnswers503() async throws {
        let folder = try fixture.workspace.database.path + ".small-spool"
        let small = try WebhookSpool(folder: folder, maxBytes: 64)
        defer { small.shutDown() }
        let receiver = try WebhookReceiver(
            spool: small, verifyToken: Self.verifyToken, appSecret: Self.secret, now: { 1 }, log: { [log] in log.add($0) })
        let delivery = try deliveryBody()
        let request = HTTPRequest(
            method: .POST, version: .http11, path: "/webhook", query: [],
            headers: [HTTPHeader("X-Hub-Signature-256"): signed(delivery)], body: delivery)
        let answer = await receiver.handle(request)
        XCTAssertEqual(answer.statusCode, .serviceUnavailable)
        XCTAssertEqual(small.bytes, 0)
        XCTAssertTrue(log.all.contains { $0.contains("503 not spooled") && $0.contains("cap") }, log.all.joined(separator: "\n"))
    }

    func testAnOlderOptInReplayedNeverOverwritesANewerPSID() async throws {
        func optin(_ psid: String, at: Int64) -> Data {
            Data(
                #"{"object":"page","entry":[{"id":"4001","time":\#(at),"messaging":[{"sender":{"id":"\#(psid)"},"recipient":{"id":"4001"},"timestamp":\#(at),"optin":{"ref":"c2@example.com"}}]}]}"#
                    .utf8)
        }
        let value = {
            try self.fixture.workspace.database.writer.read { db in
                try String.fetchOne(
                    db,
                    sql:
                        "SELECT value FROM contact_value JOIN contact ON contact.id = contact_id JOIN data_field ON data_field.id = field_id WHERE email = 'c2@example.com' AND data_field.kind = 'optin'"
                )
            }
        }
        let older = optin("P-OLD", at: 1_764_000_100_000)
        let newer = optin("P-NEW", at: 1_764_000_200_000)
        for body in [newer, older] {
            let answer = try await post(body, signature: signed(body))
            XCTAssertEqual(answer.0, 200)
        }
        XCTAssertEqual(try value(), "P-NEW", "Facebook's retry of the older opt-in came last and changed nothing")
        let newest = optin("P-NEWEST", at: 1_764_000_300_000)
        _ = try await post(newest, signature: signed(newest))
        XCTAssertEqual(try value(), "P-NEWEST")
    }

    func testTheLogNeverCarriesRawBytesFromTheRequestNotEvenTheMethod() async throws {
        let receiver = try WebhookReceiver(
            spool: spool, verifyToken: Self.verifyToken, appSecret: Self.secret, now: { GraphFixture.now }, log: { [log] in log.add($0) })
        let request = HTTPRequest(
            method: HTTPMethod("G\u{1B}[2J\u{07}ET"), version: .http11, path: "/webhook\u{1B}]52;c;QUFB\u{07}",
            query: [], headers: [:], body: Data())
        _ = await receiver.handle(request)
        let request2 = HTTPRequest(
            method: HTTPMethod("P\u{1B}[31mUT"), version: .http11, path: "/webhook", query: [], headers: [:], body: Data())
        _ = await receiver.handle(request2)
        XCTAssertFalse(log.all.isEmpty)
        XCTAssertFalse(
            log.all.contains { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }, log.all.joined(separator: "\n"))
    }

    /// A signed body that isn't a JSON object is 400; one that is, but isn't a webhook, is taken
    /// (only Meta can sign: sending it again won't change it) and dropped by the ingester, logged.
    func testMalformedJSONIsRefusedOrDroppedEvenWhenSigned() async throws {
        let before = try state()
        for text in ["{not json", "[]", "", "   ", "{"] {
            let body = Data(text.utf8)
            let answer = try await post(body, signature: signed(body))
            XCTAssertEqual(answer.0, 400, text)
        }
        let shapeless = Data(#"{"object":"page","entry":"nope"}"#.utf8)
        let taken = try await post(shapeless, signature: signed(shapeless))
        XCTAssertEqual(taken.0, 200)
        let refused = try await blocking { [ingester] in ingester!.totals.refused }
        XCTAssertEqual(refused, 1)
        XCTAssertTrue(log.all.contains { $0.contains("is not a webhook payload; dropped") }, log.all.joined(separator: "\n"))
        XCTAssertEqual(try state(), before)
    }

    func testOtherMethodsAreRefused() async throws {
        let answer = try await http("PUT", url, body: Data("{}".utf8))
        XCTAssertEqual(answer.0, 405)
    }
}

final class PortBox: @unchecked Sendable {
    var value: UInt16 = 0
}

final class WaitLogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}
