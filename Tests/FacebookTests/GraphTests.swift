import Foundation
import XCTest

@testable import MessengerCore

/// The Graph page directory and the Send API transport against a fake Graph API on 127.0.0.1.
final class GraphTests: XCTestCase {
    var fake: FakeGraph!

    override func setUp() async throws {
        fake = try await FakeGraph.start()
    }

    override func tearDown() async throws {
        await fake.stop()
    }

    func config(_ edit: (inout GraphConfig) -> Void = { _ in }) throws -> GraphConfig {
        var config = try GraphConfig(baseURL: fake.base, version: "v21.0")
        config.backoff = 0.01
        edit(&config)
        return config
    }

    // MARK: Page directory

    func testMeAccountsFollowsEveryPageAndDerivesRolesFromTasks() async throws {
        let base = fake.base
        fake.script { request, n in
            if n == 1 {
                return (
                    200,
                    #"{"data":[{"id":"1","name":"Shop","tasks":["ANALYZE","ADVERTISE","MODERATE","CREATE_CONTENT","MANAGE","MESSAGING"],"access_token":"PT-1-SECRET"}],"paging":{"cursors":{"after":"A"},"next":"\#(base)/v21.0/me/accounts?fields=id,name,tasks,access_token&limit=100&after=A"}}"#
                )
            }
            return (
                200,
                #"{"data":[{"id":"2","name":"Ads","tasks":["ANALYZE","ADVERTISE"],"access_token":"PT-2-SECRET"}],"paging":{"cursors":{"before":"A"}}}"#
            )
        }
        let directory = try GraphPageDirectory(config: try config(), userToken: "USER-TOKEN-SECRET\n")
        let pages = try await blocking { try directory.pages() }
        XCTAssertEqual(pages.map(\.id), ["1", "2"])
        XCTAssertEqual(pages.map(\.role), [.admin, .advertiser])
        XCTAssertNil(pages[0].eligibility.reason)
        XCTAssertNotNil(pages[1].eligibility.reason, "an Advertiser can't link a page (R2)")
        XCTAssertEqual(pages.map(\.accessToken), ["PT-1-SECRET", "PT-2-SECRET"])

        let requests = fake.requests
        XCTAssertEqual(requests.count, 2)
        XCTAssertEqual(requests.map(\.method), ["GET", "GET"])
        XCTAssertEqual(requests.map(\.path), ["/v21.0/me/accounts", "/v21.0/me/accounts"])
        XCTAssertEqual(requests[0].query["fields"], "id,name,tasks,access_token")
        XCTAssertEqual(requests[1].query["after"], "A")
        for request in requests {
            XCTAssertEqual(request.headers["authorization"], "Bearer USER-TOKEN-SECRET", "the token goes in the header")
            XCTAssertNil(request.query["access_token"], "and never in the URL")
        }
    }

    func testPagingThatLeavesTheBaseURLIsNotFollowed() async throws {
        fake.script { _, _ in (200, #"{"data":[],"paging":{"next":"http://example.com/steal?x=1"}}"#) }
        let directory = try GraphPageDirectory(config: try config(), userToken: "USER-TOKEN-SECRET")
        do {
            _ = try await blocking { try directory.pages() }
            XCTFail("followed a next page elsewhere")
        } catch let error as DomainError {
            XCTAssertTrue(error.message.contains("not under"), error.message)
        }
        XCTAssertEqual(fake.requests.count, 1)
    }

    func testARefusedUserTokenIsOneLineWithoutTheToken() async throws {
        fake.script { _, _ in
            (400, #"{"error":{"message":"Invalid OAuth access token USER-TOKEN-SECRET.","type":"OAuthException","code":190}}"#)
        }
        let directory = try GraphPageDirectory(config: try config(), userToken: "USER-TOKEN-SECRET")
        do {
            _ = try await blocking { try directory.pages() }
            XCTFail("a refused token listed pages")
        } catch let error as DomainError {
            XCTAssertTrue(error.message.contains("190"), error.message)
            XCTAssertFalse(error.message.contains("USER-TOKEN-SECRET"), error.message)
            XCTAssertFalse(error.message.contains("\n"))
        }
    }

    func testBadSettingsAreRefused() {
        XCTAssertThrowsError(try GraphConfig(baseURL: "ftp://graph.facebook.com", version: "v21.0"))
        XCTAssertThrowsError(try GraphConfig(baseURL: "https://graph.facebook.com", version: "21"))
        XCTAssertThrowsError(
            try GraphPageDirectory(config: try GraphConfig(baseURL: "https://x.test", version: "v21.0"), userToken: "two words"))
    }

    // MARK: Send API

    func message(_ psid: String = "PSID-1", token: String? = GraphFixture.pageToken) -> OutgoingMessage {
        OutgoingMessage(
            pageID: "4001", pageToken: token, recipientPSID: psid, tag: "POST_PURCHASE_UPDATE",
            text: "Hi Ann, your order has shipped. «ok»", enrolmentID: 7, nodeID: 1)
    }

    func testASendIsThePOSTTheSendAPITakesAndRecordsTheMessageID() async throws {
        fake.script { _, _ in (200, #"{"recipient_id":"PSID-1","message_id":"m_abc123"}"#) }
        let transport = GraphTransport(config: try config())
        let message = message()
        let result = try await blocking { transport.send(message) }
        XCTAssertEqual(result, .sent(messageID: "m_abc123"))
        let request = try XCTUnwrap(fake.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.path, "/v21.0/4001/messages")
        XCTAssertEqual(request.headers["authorization"], "Bearer \(GraphFixture.pageToken)")
        XCTAssertEqual(request.headers["content-type"], "application/json")
        XCTAssertTrue(request.query.isEmpty, "nothing, and no token, in the URL")
        let body = try XCTUnwrap(request.json)
        XCTAssertEqual(body["messaging_type"] as? String, "MESSAGE_TAG")
        XCTAssertEqual(body["tag"] as? String, "POST_PURCHASE_UPDATE")
        XCTAssertEqual((body["recipient"] as? [String: String]), ["id": "PSID-1"])
        XCTAssertEqual((body["message"] as? [String: String]), ["text": "Hi Ann, your order has shipped. «ok»"])
        XCTAssertEqual(body.keys.sorted(), ["message", "messaging_type", "recipient", "tag"])
    }

    // MARK: Utility templates (R13)

    func testAUtilitySendIsTheTemplatePOSTWithEachContactsNamedParameters() async throws {
        fake.script { _, _ in (200, #"{"recipient_id":"PSID-1","message_id":"m_u1"}"#) }
        let transport = GraphTransport(config: try config())
        let message = OutgoingMessage(
            pageID: "4001", pageToken: GraphFixture.pageToken, recipientPSID: "PSID-1",
            utility: UtilityTemplateRef(name: "orders_v2", language: "en_US", parameterNames: ["firstname", "ordernumber"]),
            parameters: ["Ann", "A-1"], text: "Hi Ann, order A-1 has shipped.", enrolmentID: 7, nodeID: 1)
        let result = try await blocking { transport.send(message) }
        XCTAssertEqual(result, .sent(messageID: "m_u1"))
        let body = try XCTUnwrap(fake.requests.first?.json)
        XCTAssertEqual(body.keys.sorted(), ["message", "messaging_type", "recipient"], "no tag")
        XCTAssertEqual(body["messaging_type"] as? String, "UTILITY")
        let template = try XCTUnwrap((body["message"] as? [String: Any])?["template"] as? [String: Any])
        XCTAssertEqual(template["name"] as? String, "orders_v2")
        XCTAssertEqual(template["language"] as? [String: String], ["code": "en_US"])
        let components = try XCTUnwrap(template["components"] as? [[String: Any]])
        XCTAssertEqual(components.first?["type"] as? String, "body")
        XCTAssertEqual(
            components.first?["parameters"] as? [[String: String]],
            [
                ["type": "text", "parameter_name": "firstname", "text": "Ann"],
                ["type": "text", "parameter_name": "ordernumber", "text": "A-1"],
            ])
    }

    func testATemplateIsSubmittedAsMetaTakesItAndItsStatusIsRead() async throws {
        fake.script { request, _ in
            request.method == "POST"
                ? (200, #"{"id":"5550001","status":"PENDING","category":"UTILITY"}"#)
                : (
                    200,
                    #"{"data":[{"id":"5550001","name":"orders_v1","language":"en_US","status":"REJECTED","rejected_reason":"INCORRECT_PARAMS"}]}"#
                )
        }
        let registry = GraphTemplateRegistry(config: try config { $0.version = "v25.0" })
        let draft = UtilityTemplateDraft(
            message: try MessageTemplate("Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped."), name: "orders_v1",
            language: "en_US", examples: ["FIRSTNAME": "Ann", "ORDERNUMBER": "A-1"])
        let submitted = try await blocking { try registry.submit(draft, pageID: "4001", pageToken: GraphFixture.pageToken) }
        XCTAssertEqual(submitted, TemplateReview(graphID: "5550001", status: .pending, reason: nil))
        let post = try XCTUnwrap(fake.requests.first)
        XCTAssertEqual(post.path, "/v25.0/4001/message_templates")
        XCTAssertEqual(post.headers["authorization"], "Bearer \(GraphFixture.pageToken)")
        let body = try XCTUnwrap(post.json)
        XCTAssertEqual(body["name"] as? String, "orders_v1")
        XCTAssertEqual(body["language"] as? String, "en_US")
        XCTAssertEqual(body["category"] as? String, "UTILITY")
        XCTAssertEqual(body["parameter_format"] as? String, "NAMED")
        let component = try XCTUnwrap((body["components"] as? [[String: Any]])?.first)
        XCTAssertEqual(component["type"] as? String, "BODY")
        XCTAssertEqual(component["text"] as? String, "Hi {{firstname}}, order {{ordernumber}} has shipped.")
        XCTAssertEqual(
            (component["example"] as? [String: Any])?["body_text_named_params"] as? [[String: String]],
            [
                ["param_name": "firstname", "example": "Ann"], ["param_name": "ordernumber", "example": "A-1"],
            ])
        let review = try await blocking {
            try registry.review(name: "orders_v1", language: "en_US", pageID: "4001", pageToken: GraphFixture.pageToken)
        }
        XCTAssertEqual(review, TemplateReview(graphID: "5550001", status: .rejected, reason: "INCORRECT_PARAMS"))
        let get = try XCTUnwrap(fake.requests.last)
        XCTAssertEqual(get.method, "GET")
        XCTAssertEqual(get.path, "/v25.0/4001/message_templates")
        XCTAssertEqual(get.query["name"], "orders_v1")
        XCTAssertEqual(get.query["fields"], "id,name,language,status,rejected_reason")
        // A template Meta files as marketing can't send as utility.
        fake.script { _, _ in (200, #"{"id":"5550002","status":"APPROVED","category":"MARKETING"}"#) }
        let marketing = try await blocking { try registry.submit(draft, pageID: "4001", pageToken: GraphFixture.pageToken) }
        XCTAssertEqual(marketing.status, .rejected)
        // A Graph error is one clean line, without the token or an escape.
        fake.script { _, _ in (400, #"{"error":{"message":"bad \u001b[31m PAGE-TOKEN-SECRET-1234","code":100}}"#) }
        XCTAssertThrowsError(try registry.submit(draft, pageID: "4001", pageToken: GraphFixture.pageToken)) { error in
            XCTAssertFalse("\(error)".contains("PAGE-TOKEN"))
            XCTAssertFalse("\(error)".contains("\u{1B}"))
        }
    }

    // MARK: Tokens stay on the base URL (R14)

    func testARedirectIsNotFollowedSoTheTokenNeverReachesAnotherHost() async throws {
        let elsewhere = try await FakeGraph.start()
        elsewhere.script { _, _ in (200, #"{"recipient_id":"PSID-1","message_id":"m_stolen"}"#) }
        let target = elsewhere.base + "/v21.0/4001/messages"
        for status in [301, 302, 307, 308] {
            fake.script { _, _ in (status, target) }
            let transport = GraphTransport(config: try config { $0.maxAttempts = 1 })
            let message = message()
            let result = try await blocking { transport.send(message) }
            guard case .failed(let error) = result else { return XCTFail("a \(status) is not a send") }
            XCTAssertEqual(error.code, GraphError.unexpectedAnswer, "\(status)")
        }
        let directory = try GraphPageDirectory(config: try config(), userToken: "USER-TOKEN-123")
        fake.script { _, _ in (302, elsewhere.base + "/v21.0/me/accounts") }
        XCTAssertThrowsError(try directory.pages())
        XCTAssertEqual(elsewhere.requests.count, 0, "nothing, and no token, went to the other host")
        XCTAssertEqual(fake.requests.count, 5)
        await elsewhere.stop()
    }

    func testPlainHTTPOnlyOnThisMachineAndTokensWithLineBreaksAreRefused() throws {
        XCTAssertThrowsError(try GraphConfig(baseURL: "http://graph.example.com", version: "v25.0")) { error in
            XCTAssertTrue("\(error)".contains("only on this machine"), "\(error)")
        }
        XCTAssertNoThrow(try GraphConfig(baseURL: "http://127.0.0.1:9", version: "v25.0"))
        XCTAssertNoThrow(try GraphConfig(baseURL: "http://localhost:9", version: "v25.0"))
        XCTAssertNoThrow(try GraphConfig(baseURL: "https://graph.facebook.com", version: "v25.0"))
        XCTAssertThrowsError(try GraphConfig(baseURL: "https://user:pw@graph.facebook.com", version: "v25.0"))
        for token in ["PAGE\r\nX-Evil: 1", "PAGE TOKEN", "PAGE\u{7F}"] {
            let accounts = try JSONSerialization.data(withJSONObject: [
                "data": [["id": "1", "name": "Shop", "tasks": ["MANAGE"], "access_token": token]]
            ])
            XCTAssertThrowsError(try MeAccountsResponse.parse(accounts), token.debugDescription)
        }
        let transport = GraphTransport(config: try config())
        let message = OutgoingMessage(
            pageID: "4001", pageToken: "PAGE\r\nX-Evil: 1", recipientPSID: "P", tag: "X", text: "t", enrolmentID: 1, nodeID: 1)
        guard case .failed = transport.send(message) else { return XCTFail("a token with a line break is never sent") }
        XCTAssertEqual(fake.requests.count, 0)
    }

    func testEachErrorCodeMapsToItsStableReasonWithoutTheToken() async throws {
        let cases: [(Int, Int?)] = [
            (2, nil), (4, nil), (10, 2_018_278), (100, 2_018_001), (190, nil), (200, nil), (551, nil), (613, nil), (1200, nil),
        ]
        for (code, subcode) in cases {
            let sub = subcode.map { #","error_subcode":\#($0)"# } ?? ""
            fake.script { _, _ in
                (
                    400,
                    #"{"error":{"message":"token PAGE-TOKEN-SECRET-1234 said no","type":"OAuthException","code":\#(code)\#(sub),"fbtrace_id":"x"}}"#
                )
            }
            let transport = GraphTransport(config: try config { $0.maxAttempts = 1 })
            let message = message()
            let result = try await blocking { transport.send(message) }
            guard case .failed(let error) = result else { return XCTFail("code \(code) was not a failure") }
            XCTAssertEqual(error.code, code)
            XCTAssertEqual(error.subcode, subcode)
            XCTAssertEqual(error.reason, GraphError(code: code, subcode: subcode).reason)
            XCTAssertTrue(error.reason.hasPrefix(String(code)), error.reason)
            XCTAssertFalse(error.reason.contains("PAGE-TOKEN"), error.reason)
        }
        // Answers that aren't Graph errors, and no answer at all.
        fake.script { _, _ in (502, "<html>bad gateway</html>") }
        let transport = GraphTransport(config: try config())
        let message = message()
        guard case .failed(let proxy) = try await blocking({ transport.send(message) }) else { return XCTFail() }
        XCTAssertEqual(proxy.code, GraphError.unexpectedAnswer)
        var unreachable = try GraphConfig(baseURL: "http://127.0.0.1:9", version: "v21.0")
        unreachable.connectTimeout = 0.5
        let nowhere = GraphTransport(config: unreachable)
        guard case .failed(let none) = try await blocking({ nowhere.send(message) }) else { return XCTFail() }
        XCTAssertEqual(none.code, GraphError.noAnswer)
    }

    func testRateLimitsBackOffAndRetryWithinABound() async throws {
        fake.script { _, n in n <= 2 ? (400, #"{"error":{"message":"slow down","code":613}}"#) : (200, #"{"message_id":"m_late"}"#) }
        let waits = WaitLog()
        let transport = GraphTransport(config: try config { $0.backoff = 0.05 }) { waits.add($0) }
        let message = message()
        let result = try await blocking { transport.send(message) }
        XCTAssertEqual(result, .sent(messageID: "m_late"))
        XCTAssertEqual(waits.all, [0.05, 0.1], "waits double")
        XCTAssertEqual(fake.requests.count, 3)

        // Always limited: it gives up after maxAttempts tries, with the rate-limit reason.
        fake.script { _, _ in (400, #"{"error":{"message":"app limit","code":4}}"#) }
        let bounded = GraphTransport(config: try config { $0.maxAttempts = 4 }) { _ in }
        let before = fake.requests.count
        guard case .failed(let error) = try await blocking({ bounded.send(message) }) else { return XCTFail() }
        XCTAssertEqual(error.code, 4)
        XCTAssertEqual(fake.requests.count - before, 4)
    }

    func testNoMoreThan300MessagesStartInAnySecondPerPage() async throws {
        fake.script { _, _ in (200, #"{"message_id":"m_x"}"#) }
        let starts = WaitLog()
        let transport = GraphTransport(
            config: try config { $0.concurrency = 16 }, onWritten: { _ in starts.add(Double(DispatchTime.now().uptimeNanoseconds) / 1e9) })
        let batch = (0..<700).map { i in
            OutgoingMessage(
                pageID: "4001", pageToken: GraphFixture.pageToken, recipientPSID: "P\(i)", tag: "ACCOUNT_UPDATE",
                text: "x", enrolmentID: Int64(i), nodeID: 1)
        }
        let results = try await blocking { transport.send(batch: batch) }
        XCTAssertEqual(results.count, 700)
        XCTAssertTrue(results.allSatisfy { if case .sent = $0 { return true } else { return false } })
        let times = starts.all.sorted()
        for i in 0..<(times.count - 300) {
            XCTAssertGreaterThanOrEqual(times[i + 300] - times[i], 1.0, "301 written within a second from \(i)")
        }
        // At the server, a loaded machine's scheduling adds jitter of its own: still no bunching.
        let arrivals = fake.requests.map(\.arrived).sorted()
        XCTAssertEqual(arrivals.count, 700)
        for i in 0..<(arrivals.count - 300) {
            XCTAssertGreaterThanOrEqual(arrivals[i + 300] - arrivals[i], 950_000_000, "301 requests within 0.95 s from \(i)")
        }
    }

    func testEachGroupIsAnnouncedBeforeAnyOfItGoes() async throws {
        // The journal's rule: a message is named as asked before it reaches Facebook, so a kill
        // can make one look asked that never went, never the other way round.
        fake.script { _, _ in (200, #"{"message_id":"m_x"}"#) }
        let transport = GraphTransport(config: try config())
        let batch = (0..<40).map { i in
            OutgoingMessage(
                pageID: "4001", pageToken: GraphFixture.pageToken, recipientPSID: "P\(i)", tag: "ACCOUNT_UPDATE",
                text: "x", enrolmentID: Int64(i), nodeID: 1)
        }
        let groups = WaitLogLines()
        let announced = WaitLog()
        let results = try await blocking {
            transport.send(
                batch: batch,
                asking: { range in
                    groups.add("\(range.lowerBound)..<\(range.upperBound)")
                    for _ in range { announced.add(Double(DispatchTime.now().uptimeNanoseconds)) }
                }, answered: { _, _ in })
        }
        XCTAssertEqual(results.count, 40)
        XCTAssertEqual(groups.all, ["0..<16", "16..<32", "32..<40"], "one call a group, in order, covering the batch once")
        let times = announced.all
        XCTAssertEqual(times.count, 40)
        for request in fake.requests {
            let psid = try XCTUnwrap((request.json?["recipient"] as? [String: String])?["id"])
            let index = try XCTUnwrap(Int(psid.dropFirst()))
            XCTAssertLessThan(times[index], Double(request.arrived), "\(psid) reached the server before it was announced")
        }
    }

    func testAt200MillisecondsAPageStillGetsNearlyItsWholeRateBecauseInFlightFollowsLatency() async throws {
        fake.latency = 0.2
        fake.script { _, _ in (200, #"{"message_id":"m_x"}"#) }
        let starts = WaitLog()
        let transport = GraphTransport(
            config: try config(), onWritten: { _ in starts.add(Double(DispatchTime.now().uptimeNanoseconds) / 1e9) })
        let batch = (0..<900).map { i in
            OutgoingMessage(
                pageID: "4001", pageToken: GraphFixture.pageToken, recipientPSID: "P\(i)", tag: "ACCOUNT_UPDATE",
                text: "x", enrolmentID: Int64(i), nodeID: 1)
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let results = try await blocking { transport.send(batch: batch) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        XCTAssertTrue(results.allSatisfy { if case .sent = $0 { return true } else { return false } })
        let rate = Double(batch.count) / seconds
        // 297/s is the most the limiter allows; 8 fixed requests in flight gave 40/s here.
        XCTAssertGreaterThan(rate, 230, "\(Int(rate)) messages/s")
        // Never more than 300 starts in a second. (Arrivals at the server can bunch a little in
        // the first second, while new connections are set up; see README.)
        let times = starts.all.sorted()
        XCTAssertEqual(times.count, 900)
        for i in 0..<(times.count - 300) {
            XCTAssertGreaterThanOrEqual(times[i + 300] - times[i], 1.0, "301 written within a second from \(i)")
        }
        XCTAssertGreaterThan(transport.lane("4001").gate.target, 50, "in flight follows the round trip: 300/s × 0.2 s")
    }

    func testEachSenderSharingAPageReservesItsUnwrittenRequests() throws {
        // Limit 10, 2 unwritten a sender: one sender alone counts to 8; with a second one in the
        // window, 10 − 2 × 2 = 6, so after 7 of the first the second waits for the window to pass
        // (with one reserve for all, it would have gone at once: 7 < 8).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // An older version's file (8 bytes a start) reads as empty and is rewritten.
        try Data(repeating: 7, count: 24).write(to: URL(fileURLWithPath: folder + "/.messenger-dash-rate-4001"))
        let one = RateLimiter(limit: 10, reserve: 2, window: 0.4, folder: folder)
        let two = RateLimiter(limit: 10, reserve: 2, window: 0.4, folder: folder)
        let started = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<7 { one.acquire(page: "4001") }
        XCTAssertLessThan(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, 0.3, "7 at once for one sender")
        two.acquire(page: "4001")
        XCTAssertGreaterThanOrEqual(
            Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, 0.39, "the second sender waited for the window")
        // Alone, a sender still gets its 8 (and no more) in a window.
        let alone = RateLimiter(limit: 10, reserve: 2, window: 0.4)
        let before = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<9 { alone.acquire(page: "4001") }
        XCTAssertGreaterThanOrEqual(Double(DispatchTime.now().uptimeNanoseconds - before) / 1e9, 0.39, "the 9th waits")
    }

    func testTwoSendersForOnePageShareItsLimitThroughTheirFolder() async throws {
        // Two transports with their own limiters, as two processes have: only the folder is shared.
        fake.script { _, _ in (200, #"{"message_id":"m_x"}"#) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let starts = WaitLog()
        let written: @Sendable (String) -> Void = { _ in starts.add(Double(DispatchTime.now().uptimeNanoseconds) / 1e9) }
        let one = GraphTransport(config: try config { $0.sharedRateFolder = folder }, onWritten: written)
        let two = GraphTransport(config: try config { $0.sharedRateFolder = folder }, onWritten: written)
        func batch(_ from: Int) -> [OutgoingMessage] {
            (from..<(from + 450)).map { i in
                OutgoingMessage(
                    pageID: "4001", pageToken: GraphFixture.pageToken, recipientPSID: "P\(i)", tag: "ACCOUNT_UPDATE",
                    text: "x", enrolmentID: Int64(i), nodeID: 1)
            }
        }
        let (a, b) = (batch(0), batch(1000))
        async let first = blocking { one.send(batch: a) }
        async let second = blocking { two.send(batch: b) }
        let results = try await first + second
        XCTAssertEqual(results.count, 900)
        XCTAssertTrue(results.allSatisfy { if case .sent = $0 { return true } else { return false } }, "both finish")
        let times = starts.all.sorted()
        for i in 0..<(times.count - 300) {
            XCTAssertGreaterThanOrEqual(times[i + 300] - times[i], 1.0, "together, 301 starts within a second from \(i)")
        }
    }

    // MARK: Runs through Graph

    func testARunSendsThroughGraphAndRecordsMessageIDs() async throws {
        fake.script { request, _ in
            let psid = ((request.json?["recipient"] as? [String: String])?["id"]) ?? "?"
            return psid == "P551" ? (400, #"{"error":{"message":"unavailable","code":551}}"#) : (200, #"{"message_id":"m_\#(psid)"}"#)
        }
        let f = try GraphFixture(transport: GraphTransport(config: try config()), psids: ["P1", "P2", "P551", ""])
        let summary = try await blocking { try ProgramRunner(workspace: f.workspace).run(program: "Orders") }
        XCTAssertEqual(summary.sent, 2)
        XCTAssertEqual(summary.warned, 2)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE message_id IN ('m_P1', 'm_P2') AND outcome = 'sent'"), 2)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE error_code = 551"), 1)
        XCTAssertEqual(fake.requests.count, 3, "no request for the contact without an opt-in")
        XCTAssertEqual(
            Set(fake.requests.compactMap { ($0.json?["message"] as? [String: String])?["text"] }),
            ["Hi N0, your order has shipped.", "Hi N1, your order has shipped.", "Hi N2, your order has shipped."])
    }

    func testAGraphRunClaimsTwoWindowsOfTheLimitersAllowanceAtATime() throws {
        let graph = try GraphFixture(transport: GraphTransport(config: try config()), psids: [])
        XCTAssertEqual(
            ProgramRunner(workspace: graph.workspace).chunkSize, 592,
            "2 × (300 − 4): a batch ends on a window's edge, so its last answers and the next claim fall in the limiter's wait")
        let sandbox = try GraphFixture(transport: SandboxTransport(), psids: [])
        XCTAssertEqual(ProgramRunner(workspace: sandbox.workspace).chunkSize, 1_000)
    }

    func testAGraphAPIThatCantBeReachedStopsTheRunAtOnceWithoutMarkingThePage() async throws {
        // Nothing listens on port 9: each connection is refused, tried again until the connect
        // timeout. Without the stop, a batch of 4,500 waited that long for each 4 of its messages.
        var unreachable = try GraphConfig(baseURL: "http://127.0.0.1:9", version: "v21.0")
        unreachable.connectTimeout = 0.3
        let transport = GraphTransport(config: unreachable)
        let batch = (0..<200).map { i in
            OutgoingMessage(
                pageID: "4001", pageToken: GraphFixture.pageToken, recipientPSID: "P\(i)", tag: "ACCOUNT_UPDATE", text: "x",
                enrolmentID: Int64(i), nodeID: 1)
        }
        let started = Date()
        let results = try await blocking { transport.send(batch: batch) }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "one connect timeout, not one a group")
        XCTAssertEqual(results.count, 200)
        for result in results {
            guard case .failed(let error) = result else { return XCTFail("sent to nobody") }
            XCTAssertTrue(error.isUnreachable)
            XCTAssertEqual(error.code, GraphError.noAnswer, "retryable (R16)")
            XCTAssertTrue(error.reason.contains("not sent: can't connect to http://127.0.0.1:9"), error.reason)
        }
        // Through a run: it stops with the line, and the page is not marked (its token is fine).
        let f = try GraphFixture(transport: GraphTransport(config: unreachable), psids: ["P1", "P2", "P3"])
        let summary = try await blocking { try ProgramRunner(workspace: f.workspace).run(program: "Orders") }
        XCTAssertTrue(summary.stoppedBecause?.contains("not sent: can't connect") == true, "\(summary.stoppedBecause ?? "nil")")
        XCTAssertNil(try f.workspace.profiles.details(named: "Shop").connectionError)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE error_code = -1"), 3)
    }

    func testToken190MarksThePageBrokenAndStopsTheRun() async throws {
        fake.script { _, n in
            n == 2
                ? (400, #"{"error":{"message":"Error validating access token","code":190,"error_subcode":460}}"#)
                : (200, #"{"message_id":"m_ok"}"#)
        }
        let f = try GraphFixture(transport: GraphTransport(config: try config { $0.concurrency = 1 }), psids: (1...6).map { "P\($0)" })
        let summary = try await blocking { try ProgramRunner(workspace: f.workspace).run(program: "Orders") }
        XCTAssertEqual(summary.stoppedBecause, GraphError(code: 190).reason)
        XCTAssertEqual(fake.requests.count, 2, "nothing more is asked of Facebook after 190")
        XCTAssertEqual(try f.workspace.profiles.details(named: "Shop").connectionError, GraphError(code: 190).reason)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE outcome = 'sent'"), 1)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE error_code = 190"), 5)
        XCTAssertFalse(summary.stoppedBecause!.contains(GraphFixture.pageToken))
    }
}

final class WaitLog: @unchecked Sendable {
    private let lock = NSLock()
    private var waits: [TimeInterval] = []
    func add(_ wait: TimeInterval) {
        lock.lock()
        waits.append(wait)
        lock.unlock()
    }
    var all: [TimeInterval] {
        lock.lock()
        defer { lock.unlock() }
        return waits
    }
}
