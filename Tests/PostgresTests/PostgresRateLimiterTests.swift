import FakeSendAPI
import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// The per-page limit shared by hosts through the database (#30): each limiter here is a host
/// of its own (its connection, its sender id); the starts are read on the database's clock.
final class PostgresRateLimiterTests: PostgresTestCase {
    func limiter() throws -> PostgresRateLimiter {
        let cluster = try self.cluster
        let limits = try cluster.address(database: "limits")
        if (try? PostgresConnection(limits)) == nil {
            try PostgresConnection(try cluster.address()).execute("CREATE DATABASE limits")
            try PostgresSchema.migrate(try PostgresConnection(limits))
        }
        return try PostgresRateLimiter(limits, limit: 300, reserve: 4, window: 1)
    }

    /// The most starts (µs) in any window of `window` µs.
    func most(_ times: [Int64], within window: Int64) -> Int {
        FakeSendAPI.mostInAnyWindow(times.map { UInt64($0) * 1_000 }.sorted(), nanoseconds: UInt64(window) * 1_000)
    }

    func testOneHostHasTheWindowLessItsReserve() throws {
        let limiter = try limiter()
        let times = try (0..<300).map { _ in try limiter.acquire(page: "p-one") }
        // 296 at once (300 less the 4 it may hold unwritten), the 297th a window after the first.
        XCTAssertLessThan(times[295] - times[0], 500_000, "the first 296 go at once")
        XCTAssertGreaterThanOrEqual(times[296] - times[0], 1_000_000, "the 297th waits for the first to leave the window")
        XCTAssertEqual(most(times, within: 1_000_000), 296)
    }

    func testTwoHostsForOnePageStayUnderItsLimitTogether() throws {
        let hosts = [try limiter(), try limiter()]
        let starts = Starts()
        let group = DispatchGroup()
        // Both have a start before either goes on: the reserve is for the senders in the window
        // (one host alone may take 296 before the other's first start, as with the file).
        let first = DispatchGroup()
        for host in hosts {
            first.enter()
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                guard let at = try? host.acquire(page: "p-shared") else {
                    first.leave()
                    return starts.fail()
                }
                starts.add(at)
                first.leave()
                first.wait()
                for _ in 1..<450 {
                    guard let at = try? host.acquire(page: "p-shared") else { return starts.fail() }
                    starts.add(at)
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(starts.failures, 0)
        XCTAssertEqual(starts.all.count, 900, "both hosts sent all they had")
        // Two senders: 300 − 2 × 4 in any second, together.
        XCTAssertLessThanOrEqual(most(starts.all, within: 1_000_000), 292)
        // Another page is not held by this one's window.
        let other = try limiter()
        let before = Date()
        for _ in 0..<50 { try other.acquire(page: "p-other") }
        XCTAssertLessThan(Date().timeIntervalSince(before), 0.9)
    }

    final class Starts: @unchecked Sendable {
        private let lock = NSLock()
        private var times: [Int64] = []
        private var failed = 0
        func add(_ at: Int64) { lock.withLock { times.append(at) } }
        func fail() { lock.withLock { failed += 1 } }
        var all: [Int64] { lock.withLock { times } }
        var failures: Int { lock.withLock { failed } }
    }
}
