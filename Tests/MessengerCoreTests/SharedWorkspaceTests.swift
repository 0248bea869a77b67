import Foundation
import XCTest

@testable import MessengerCore

/// `serve`'s workspace (R18): the webhook answers while the database can't be opened, so the
/// threads that need the database wait for it, say why once per reason, and stop when told.
final class SharedWorkspaceTests: XCTestCase {
    /// Openings that fail with the given reasons, then succeed; counts the attempts.
    final class Opener: @unchecked Sendable {
        private let lock = NSLock()
        private var failures: [String]
        private var count = 0
        var attempts: Int { lock.withLock { count } }
        init(failing failures: [String]) { self.failures = failures }
        func open() throws -> Workspace {
            try lock.withLock {
                count += 1
                if !failures.isEmpty { throw DomainError(failures.removeFirst()) }
                return Workspace(database: try AppDatabase.temporary())
            }
        }
    }

    func testAThreadWaitsForTheDatabaseSayingEachReasonOnceAndEveryThreadSharesOneWorkspace() throws {
        let opener = Opener(failing: ["connection refused", "connection refused", "the database is starting up"])
        let shared = SharedWorkspace { try opener.open() }
        XCTAssertNil(shared.current)
        XCTAssertThrowsError(try shared.get())
        var said: [String] = []
        let workspace = try XCTUnwrap(shared.wait(until: CancelFlag(), every: 0.001, log: { said.append($0) }))
        XCTAssertEqual(
            said,
            [
                "waiting for the database (connection refused)", "waiting for the database (the database is starting up)",
                "the database is open",
            ])
        XCTAssertEqual(opener.attempts, 4)
        // Opened once: every later ask, from any thread, is the same workspace.
        let others = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: others) {
                XCTAssertTrue((try? shared.get())?.database === workspace.database)
            }
        }
        others.wait()
        XCTAssertTrue(shared.current?.database === workspace.database)
        XCTAssertEqual(opener.attempts, 4)
    }

    func testAWaitStopsWhenTheServiceStops() {
        let opener = Opener(failing: Array(repeating: "connection refused", count: 1000))
        let shared = SharedWorkspace { try opener.open() }
        let stop = CancelFlag()
        let stopped = expectation(description: "the wait returns")
        let result = Box()
        DispatchQueue.global().async {
            result.value = shared.wait(until: stop, every: 0.01)
            stopped.fulfill()
        }
        // Wait for the state (some attempts made), not for a time.
        while opener.attempts < 3 { usleep(1000) }
        stop.set()
        wait(for: [stopped], timeout: 10)
        XCTAssertNil(result.value)
        XCTAssertNil(shared.current)
        let attempts = opener.attempts
        XCTAssertFalse(stop.wait(0.05))
        XCTAssertEqual(opener.attempts, attempts, "no attempt after the stop")
    }

    final class Box: @unchecked Sendable { var value: Workspace? }
}
