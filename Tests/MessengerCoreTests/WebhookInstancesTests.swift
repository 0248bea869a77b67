import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// Two webhook receivers on one database (#30): behind a load balancer, each host spools what it
/// answered and its ingester applies it. Each spool keeps its own position, and an event Meta
/// retries to the other instance (so it is in both spools) is applied once.
final class WebhookInstancesTests: StoreTestCase {
    var folders: [String] = []

    override func tearDown() {
        for folder in folders { try? FileManager.default.removeItem(atPath: folder) }
        super.tearDown()
    }

    func spool() throws -> WebhookSpool {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        folders.append(folder)
        return try WebhookSpool(folder: folder)
    }

    func testEachReceiverKeepsItsOwnPositionAndARetriedEventIsAppliedOnce() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            XCTAssertEqual(try f.run().sent, 2)
            let workspace = f.workspace
            // The first host's spool is older: its segment numbers are below the second's.
            let first = try spool()
            let second = try spool()
            defer {
                first.shutDown()
                second.shutDown()
            }
            XCTAssertNotEqual(first.id, second.id)
            let now = f.clock.nowMillis()
            let delivery = Data(f.deliveryLine(psid: "psid-ann", watermark: now).utf8)
            // Meta's first try reached the first host, which spooled it but answered too late;
            // the retry went to the second.
            try append(delivery, to: first, at: now)
            try append(delivery, to: second, at: now + 1)
            let secondIngester = WebhookIngester(spool: second, workspace: { workspace }, log: { _ in })
            XCTAssertEqual(try secondIngester.drain().delivered, 1)
            let firstIngester = WebhookIngester(spool: first, workspace: { workspace }, log: { _ in })
            let replay = try firstIngester.drain()
            XCTAssertEqual(replay.posts, 1)
            XCTAssertEqual(replay.delivered, 0, "the retried receipt changes nothing the second time")
            XCTAssertEqual(
                try f.count("SELECT count FROM daily_stat WHERE outcome = 'delivered'"), 1, "delivered counted once in the figures")
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE delivered_at IS NOT NULL"), 1)
            // More on the first host; the second restarts and finds its own position, not the
            // first host's (which, being older, would make it apply its spool again).
            try append(Data(f.optinLine(psid: "psid-cat", email: "cat@example.com").utf8), to: first, at: now + 2)
            XCTAssertEqual(try firstIngester.drain().optedIn, 1)
            let restarted = WebhookIngester(spool: second, workspace: { workspace }, log: { _ in })
            XCTAssertEqual(try restarted.drain().posts, 0, "the second spool's position is its own")
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM webhook_spool"), 2)
        }
    }

    func append(_ body: Data, to spool: WebhookSpool, at: Int64) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = Failure()
        Task {
            do { try await spool.append(body, receivedAt: at) } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw error }
    }

    final class Failure: @unchecked Sendable { var error: (any Error)? }
}
