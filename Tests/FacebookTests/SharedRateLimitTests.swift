import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// The per-page limit across hosts (#30 step 4): two transports that share only a PostgreSQL
/// database stay under the page's 300 a second together, and a database that can't be reached
/// sends nothing (a message not counted is not sent).
final class SharedRateLimitTests: PostgresTestCase {
    var fake: FakeGraph!

    override func setUp() async throws {
        fake = try await FakeGraph.start()
    }

    override func tearDown() async throws {
        await fake.stop()
    }

    func config(_ address: PostgresAddress) throws -> GraphConfig {
        var config = try GraphConfig(baseURL: fake.base, version: "v21.0")
        config.backoff = 0.01
        config.sharedRateDatabase = address
        return config
    }

    func batch(_ from: Int, count: Int) -> [OutgoingMessage] {
        (from..<(from + count)).map { i in
            OutgoingMessage(
                pageID: "4001", pageToken: GraphFixture.pageToken, recipientPSID: "P\(i)", tag: "ACCOUNT_UPDATE",
                text: "x", enrolmentID: Int64(i), nodeID: 1)
        }
    }

    func testTwoHostsForOnePageShareItsLimitThroughTheDatabase() async throws {
        fake.script { _, _ in (200, #"{"message_id":"m_x"}"#) }
        let address = try PostgresAddress(try makeDatabase(.postgres).location)
        let starts = WaitLog()
        let written: @Sendable (String) -> Void = { _ in starts.add(Double(DispatchTime.now().uptimeNanoseconds) / 1e9) }
        // Two transports with nothing in common but the database, as two hosts have.
        let one = GraphTransport(config: try config(address), onWritten: written)
        let two = GraphTransport(config: try config(address), onWritten: written)
        let (a, b) = (batch(0, count: 450), batch(1000, count: 450))
        async let first = blocking { one.send(batch: a) }
        async let second = blocking { two.send(batch: b) }
        let results = try await first + second
        XCTAssertEqual(results.count, 900)
        XCTAssertTrue(results.allSatisfy { if case .sent = $0 { return true } else { return false } }, "both finish")
        let times = starts.all.sorted()
        XCTAssertEqual(times.count, 900)
        for i in 0..<(times.count - 300) {
            XCTAssertGreaterThanOrEqual(times[i + 300] - times[i], 1.0, "together, 301 starts within a second from \(i)")
        }
    }

    func testADatabaseThatCantBeReachedSendsNothingAndStopsTheRunAsUnreachable() async throws {
        fake.script { _, _ in (200, #"{"message_id":"m_x"}"#) }
        // A port nothing listens on: the cluster's own, once stopped, is not ours to stop here.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var bound = sockaddr_in()
        bound.sin_family = sa_family_t(AF_INET)
        bound.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: bound.sin_port))
        close(listener)
        let address = try PostgresAddress("postgresql://messenger@127.0.0.1:\(port)/nowhere?connect_timeout=2")
        let transport = GraphTransport(config: try config(address))
        let messages = batch(0, count: 5)
        let results = try await blocking { transport.send(batch: messages) }
        XCTAssertEqual(results.count, 5)
        XCTAssertEqual(results.unreachable.map { $0.reason.contains("rate limit shared in PostgreSQL") }, true, "\(results)")
        XCTAssertTrue(
            results.allSatisfy { if case .failed(let error) = $0 { return error.isUnreachable } else { return false } }, "\(results)")
        XCTAssertEqual(fake.requests.count, 0, "nothing not counted is sent")
    }
}
