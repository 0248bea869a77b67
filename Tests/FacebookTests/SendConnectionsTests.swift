import FakeSendAPI
import Foundation
import NIOCore
import XCTest

@testable import MessengerCore

/// The Send API's own HTTP/2 connections (#29) against the fake Send API over TLS: flow control
/// over thousands of answers, a long answer, the server's stream limit, a server without HTTP/2,
/// a dropped connection, GOAWAY and REFUSED_STREAM, an answer that never comes, an error answer.
final class SendConnectionsTests: CertificateTestCase {
    func fake(latencyMS: Int64 = 1, _ change: (inout FakeSendAPI.Options) -> Void = { _ in }) throws -> FakeSendAPI {
        var options = FakeSendAPI.Options(latency: .milliseconds(latencyMS), certificateFile: certificate, keyFile: key)
        change(&options)
        return try FakeSendAPI(options: options)
    }

    /// A transport to the fake with the limit out of the way (these tests are about the wire).
    func transport(_ server: FakeSendAPI, _ change: (inout GraphConfig) -> Void = { _ in }) throws -> GraphTransport {
        var config = try GraphConfig(baseURL: "https://127.0.0.1:\(server.port)", version: "v25.0", caFile: certificate)
        config.connectTimeout = 2
        config.messagesPerWindow = 100_000
        change(&config)
        return GraphTransport(config: config)
    }

    func batch(_ count: Int, page: String = "7001") -> [OutgoingMessage] {
        (0..<count).map { TLSTests.message(page: page, psid: "p\($0)") }
    }

    func sentCount(_ results: [SendResult]) -> Int {
        results.filter { if case .sent = $0 { return true } else { return false } }.count
    }

    func testThousandsOfAnswersOnOneConnectionKeepItsWindowOpen() throws {
        // 3,000 answers of ~45 bytes are twice the 65,535 bytes a connection's window starts
        // with: without WINDOW_UPDATE the server would stop sending and the run would stall.
        let server = try fake()
        defer { server.stop() }
        // At most 50 in flight: all on one connection (the fake allows 100 streams).
        let results = try transport(server) { $0.concurrency = 50 }.send(batch: batch(3_000))
        XCTAssertEqual(sentCount(results), 3_000)
        XCTAssertEqual(server.connections, 1, "one connection carries the page")
        XCTAssertEqual(server.requests.filter { $0.httpMajor == 2 }.count, 3_000)
    }

    func testALongAnswerIsReadWhole() throws {
        // 200 KB in one stream: past its 65,535-byte window, so the stream's window is given back.
        let padding = String(repeating: "x", count: 200_000)
        let server = try fake { $0.respond = { _ in .init(status: 200, body: #"{"pad":"\#(padding)","message_id":"m_long"}"#) } }
        defer { server.stop() }
        XCTAssertEqual(try transport(server).send(TLSTests.message(page: "7001", psid: "p1")), .sent(messageID: "m_long"))
    }

    func testTheServersStreamLimitOpensAnotherConnection() throws {
        let server = try fake(latencyMS: 100) { $0.maxConcurrentStreams = 5 }
        defer { server.stop() }
        let results = try transport(server).send(batch: batch(60))
        XCTAssertEqual(sentCount(results), 60)
        XCTAssertGreaterThan(server.connections, 1, "more than 5 at once need a second connection")
        XCTAssertLessThanOrEqual(server.connections, SendConnections.maxConnections)
    }

    func testAServerWithoutHTTP2IsAskedOverHTTP1() throws {
        let server = try fake { $0.protocols = ["http/1.1"] }
        defer { server.stop() }
        let results = try transport(server).send(batch: batch(20))
        XCTAssertEqual(sentCount(results), 20)
        XCTAssertEqual(server.requests.count, 20, "each message asked once: the handshake told, before anything was written")
        XCTAssertTrue(server.requests.allSatisfy { $0.httpMajor == 1 })
    }

    func testADroppedConnectionLeavesItsMessagesUnansweredAndTheNextGoesOnANewOne() throws {
        let server = try fake(latencyMS: 300) { $0.dropConnectionAfter = 3 }
        defer { server.stop() }
        let transport = try transport(server)
        let first = transport.send(batch: batch(3))
        for result in first {
            guard case .failed(let error) = result else { return XCTFail("answered by a closed connection: \(result)") }
            XCTAssertEqual(error.code, GraphError.noAnswer, "may or may not have gone: never resent")
        }
        XCTAssertEqual(transport.send(TLSTests.message(page: "7001", psid: "after")), .sent(messageID: "m_fake"))
        XCTAssertEqual(server.connections, 2)
    }

    func testWhatAServerGoingAwayNeverTookGoesAgainOnAnotherConnection() throws {
        // Each connection sends GOAWAY at its third stream: the streams above it were never
        // processed (RFC 9113 6.8), so they go again, and each message reaches the server once.
        let server = try fake(latencyMS: 100) { $0.goAwayAfter = 3 }
        defer { server.stop() }
        let results = try transport(server).send(batch: batch(10))
        XCTAssertEqual(sentCount(results), 10)
        XCTAssertEqual(server.requests.count, 10, "each message processed once")
        XCTAssertEqual(Set(server.requests.map { String(decoding: $0.body, as: UTF8.self) }).count, 10)
        XCTAssertEqual(server.connections, 4, "3 + 3 + 3 + 1: a connection going away takes no new stream")
    }

    func testAStreamTheServerRefusesGoesAgainAndOneRefusedEveryTimeIsNotSent() throws {
        // REFUSED_STREAM: closed before any processing (RFC 9113 8.7), so safe to ask again.
        let server = try fake { $0.refuseStreams = 2 }
        defer { server.stop() }
        XCTAssertEqual(try transport(server).send(TLSTests.message(page: "7001", psid: "p1")), .sent(messageID: "m_fake"))
        XCTAssertEqual(server.requests.count, 1)
        // Refused at every try (5): not sent, known not to have gone (retried later), not "no answer".
        let stubborn = try fake { $0.refuseStreams = 1_000 }
        defer { stubborn.stop() }
        guard case .failed(let error) = try transport(stubborn).send(TLSTests.message(page: "7001", psid: "p1")) else {
            return XCTFail("sent by a server that refused it")
        }
        XCTAssertTrue(error.isUnreachable, "\(error)")
        XCTAssertEqual(stubborn.requests.count, 0)
    }

    func testARefusedAddressIsTriedAgainUntilTheConnectTimeout() throws {
        // A server that comes back within the connect timeout gets the message: nothing is lost
        // to a moment without network.
        let first = try fake()
        let port = first.port
        first.stop()
        var config = try GraphConfig(baseURL: "https://127.0.0.1:\(port)", version: "v25.0", caFile: certificate)
        config.connectTimeout = 10
        let transport = GraphTransport(config: config)
        let result = ResultBox()
        Thread.detachNewThread { result.set(transport.send(TLSTests.message(page: "7001", psid: "back"))) }
        // Once two attempts have been refused, the server comes back on its port.
        let pool = try XCTUnwrap(transport.lane("7001").h2)
        let deadline = Date().addingTimeInterval(5)
        while try pool.eventLoop.submit({ pool.refusedConnects }).wait() < 2, Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(try pool.eventLoop.submit({ pool.refusedConnects }).wait(), 2)
        let again = try fake { $0.port = port }
        defer { again.stop() }
        XCTAssertEqual(result.wait(seconds: 10), .sent(messageID: "m_fake"))
        XCTAssertEqual(again.requests.count, 1)
        // One that stays away: unanswered once the timeout has passed, not before.
        let away = try fake()
        away.stop()
        let started = Date()
        let gone = try self.transport(away) { $0.connectTimeout = 0.8 }.send(TLSTests.message(page: "7001", psid: "gone"))
        guard case .failed(let error) = gone else { return XCTFail("sent to nobody") }
        XCTAssertEqual(error.code, GraphError.noAnswer)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.7)
    }

    func testAnAnswerThatDoesNotComeInTimeIsUnanswered() throws {
        let server = try fake(latencyMS: 5_000)
        defer { server.stop() }
        let started = Date()
        let result = try transport(server) { $0.timeout = 0.5 }.send(TLSTests.message(page: "7001", psid: "p1"))
        guard case .failed(let error) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(error.code, GraphError.noAnswer)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "the request's timeout, not the server's latency")
        XCTAssertEqual(server.requests.count, 1)
    }

    func testAGraphErrorComesBackAsItsReason() throws {
        let server = try fake {
            $0.respond = { _ in .init(status: 400, body: #"{"error":{"message":"unavailable","code":551,"fbtrace_id":"x"}}"#) }
        }
        defer { server.stop() }
        guard case .failed(let error) = try transport(server).send(TLSTests.message(page: "7001", psid: "p1")) else {
            return XCTFail("sent")
        }
        XCTAssertEqual(error.code, 551)
    }

    func testTheRequestIsTheSendAPIsPOST() throws {
        let server = try fake()
        defer { server.stop() }
        XCTAssertEqual(
            try transport(server) { $0.appSecret = "app-secret" }.send(TLSTests.message(page: "7001", psid: "p1")),
            .sent(messageID: "m_fake"))
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(
            request.path, "/v25.0/7001/messages?appsecret_proof=" + AppCredentials.proof(token: "PAGE-TOKEN-7001", secret: "app-secret"))
        XCTAssertEqual(request.authorization, "Bearer PAGE-TOKEN-7001")
        let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        XCTAssertEqual(body["messaging_type"] as? String, "MESSAGE_TAG")
        XCTAssertEqual(body["recipient"] as? [String: String], ["id": "p1"])
    }
}

/// One result handed from a thread to the test.
final class ResultBox: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var value: SendResult?
    func set(_ result: SendResult) {
        lock.lock()
        value = result
        lock.unlock()
        done.signal()
    }
    func wait(seconds: Double) -> SendResult? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
