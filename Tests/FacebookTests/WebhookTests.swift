import Foundation
import MessengerCore
import WebhookServer
import XCTest

/// The webhook receiver on a real socket (127.0.0.1, a port the system picks).
final class WebhookTests: XCTestCase {
    static let secret = "app-secret-0123456789"
    static let verifyToken = "verify-me-please"
    var fixture: GraphFixture!
    var url = ""
    var serving: Task<Void, any Error>?
    let log = WaitLogLines()

    override func setUp() async throws {
        fixture = try GraphFixture(transport: SandboxTransport(clock: FixedClock(millis: GraphFixture.now)), psids: ["P1", "P2", ""])
        _ = try await blocking { [fixture] in try ProgramRunner(workspace: fixture!.workspace).run(program: "Orders") }
        let receiver = try WebhookReceiver(workspace: fixture.workspace, verifyToken: Self.verifyToken, appSecret: Self.secret) { [log] in log.add($0) }
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
    }

    func post(_ body: Data, signature: String?) async throws -> (Int, String) {
        var headers = ["Content-Type": "application/json"]
        if let signature { headers["X-Hub-Signature-256"] = signature }
        return try await http("POST", url, headers: headers, body: body)
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
        return Data(#"{"object":"page","entry":[{"id":"4001","time":\#(sentAt + 5000),"messaging":[{"sender":{"id":"\#(psid)"},"recipient":{"id":"4001"},"timestamp":\#(sentAt + 5000),"delivery":{"watermark":\#(sentAt + 1000)}}]}]}"#.utf8)
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
        let afterFirst = try state()
        XCTAssertNotEqual(afterFirst, before)

        let optin = Data(#"{"object":"page","entry":[{"id":"4001","time":1,"messaging":[{"sender":{"id":"P3"},"recipient":{"id":"4001"},"timestamp":1764000000000,"optin":{"ref":"c2@example.com"}}]}]}"#.utf8)
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
        for (body, signature) in [(delivery, Optional(wrongSecret)), (delivery, nil), (tampered, signed(delivery)),
                                  (delivery, "sha1=abc"), (delivery, "sha256=zz")] {
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
            try workspace.programs.setUtilityNode(program: "Notices", profile: "Shop", message: "Hi @FIRSTNAME@, your account settings changed today.",
                                                  acceptFlags: false)
        }
        let status = { try workspace.programs.summary(named: "Notices").latestTemplate?.status }
        XCTAssertEqual(try status(), .approved)
        // Meta's documented shape: entry[].changes[] with field and value, next to a field we don't use.
        let body = Data(#"{"object":"page","entry":[{"id":"4001","time":1764000099000,"changes":[{"field":"feed","value":{"item":"status"}},{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":123456,"message_template_name":"notices_v1","message_template_language":"en_US","reason":"LOW_QUALITY"}}]}]}"#.utf8)
        let first = try await post(body, signature: signed(body))
        XCTAssertEqual(first.0, 200)
        XCTAssertEqual(try status(), .paused)
        XCTAssertEqual(try workspace.programs.summary(named: "Notices").latestTemplate?.reason, "LOW_QUALITY")
        let replay = try await post(body, signature: signed(body))
        XCTAssertEqual(replay.0, 200)
        XCTAssertEqual(try status(), .paused)
        XCTAssertTrue(log.all.contains { $0.contains("templates 1 (unchanged 0") }, log.all.joined(separator: "\n"))
        XCTAssertTrue(log.all.contains { $0.contains("templates 0 (unchanged 1") }, log.all.joined(separator: "\n"))
        let unsigned = try await post(body, signature: nil)
        XCTAssertEqual(unsigned.0, 403)
    }

    func testMalformedJSONIsRefusedEvenWhenSigned() async throws {
        let before = try state()
        for text in ["{not json", #"{"object":"page","entry":"nope"}"#, "[]", ""] {
            let body = Data(text.utf8)
            let answer = try await post(body, signature: signed(body))
            XCTAssertEqual(answer.0, 400, text)
        }
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
    func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
