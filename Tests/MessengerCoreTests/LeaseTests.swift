import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// A program's one lease across hosts (#30 step 3), on both engines: a process on this host is
/// alive while its pid is; one on another host while its heartbeat, on the database's clock, is
/// younger than `Lease.expiry`; the heartbeat goes on between batches on its own thread.
final class LeaseTests: StoreTestCase {
    /// The standard setup's program, and an unfinished `program_run` row of it owned by `host`'s
    /// process `pid`, last heard from `silent` ms ago by the lease's clock, with a claim.
    func otherRun(_ f: Fixture, host: String, pid: Int64, silent: Int64) throws -> (program: Int64, row: Int64) {
        try f.database.transaction { db in
            let program = try XCTUnwrap(try db.value(Int64.self, "SELECT id FROM program WHERE name = 'Orders'"))
            let node = try XCTUnwrap(try db.value(Int64.self, "SELECT id FROM node WHERE program_id = ?", [program]))
            let clock = try Lease.clock(db, now: f.clock.nowMillis())
            let row = try db.insert(
                """
                INSERT INTO program_run (program_id, host, pid, started_at, heartbeat_at, claim_node_id, claim_after, claim_through)
                VALUES (?, ?, ?, 0, ?, ?, 0, 7)
                """, [program, host, pid, clock - silent, node])
            return (program, row)
        }
    }

    func take(_ f: Fixture, program: Int64) throws -> (runID: Int64, deadClaims: [Claim]) {
        try f.database.transaction { db in
            try Lease.take(db, programID: program, for: RunID(.run, program: "Orders"), at: f.clock.nowMillis())
        }
    }

    func testAnotherHostsRunHeardFromRecentlyRefusesAndASilentOneIsTakenOver() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            // Its pid is this process's: on another host a pid says nothing.
            let (program, row) = try otherRun(f, host: "batch-2", pid: Int64(getpid()), silent: 5_000)
            XCTAssertThrowsError(try take(f, program: program)) {
                XCTAssertEqual(
                    "\($0)",
                    #"program "Orders" is already running on host "batch-2" (process \#(getpid()), heard from 5 s ago); a run silent for 60 s is taken as dead"#
                )
            }
            XCTAssertEqual(try f.count("SELECT count(*) FROM program_run"), 1, "a refusal writes nothing")
            try f.database.transaction { db in
                try db.exec("UPDATE program_run SET heartbeat_at = heartbeat_at - ? WHERE id = ?", [Lease.expiry - 5_000, row])
            }
            let taken = try take(f, program: program)
            XCTAssertEqual(taken.deadClaims.map(\.through), [7], "the silent run's claim is this run's to recover")
            XCTAssertEqual(try f.count("SELECT count(*) FROM program_run WHERE finished_at IS NULL"), 1)
            XCTAssertEqual(
                try f.database.snapshot { try $0.value(String.self, "SELECT host FROM program_run WHERE id = ?", [taken.runID]) },
                Lease.thisHost)
        }
    }

    func testThisHostsRunIsToldByItsPidWhateverItsHeartbeat() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            // Silent for an hour, but its process (this test's parent) is alive: still running.
            for host in [Lease.thisHost, ""] {
                let (program, row) = try otherRun(f, host: host, pid: Int64(getppid()), silent: 3_600_000)
                XCTAssertThrowsError(try take(f, program: program)) {
                    XCTAssertEqual("\($0)", #"program "Orders" is already running in process \#(getppid())"#, "host \(host)")
                }
                try f.database.transaction { db in try db.exec("DELETE FROM program_run WHERE id = ?", [row]) }
            }
            // Heard from a second ago, but its process is gone: dead.
            let (program, _) = try otherRun(f, host: Lease.thisHost, pid: 2_147_483_000, silent: 1_000)
            XCTAssertEqual(try take(f, program: program).deadClaims.count, 1)
        }
    }

    func testTheHeartbeatBeatsOnItsOwnThreadUntilStoppedAndNeverRevivesAClosedRun() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let program = try f.database.snapshot { try $0.value(Int64.self, "SELECT id FROM program") }
            let run = try take(f, program: try XCTUnwrap(program)).runID
            try f.database.transaction { db in try db.exec("UPDATE program_run SET heartbeat_at = 0 WHERE id = ?", [run]) }
            let heartbeat = LeaseHeartbeat(database: f.database, runID: run, clock: f.clock, interval: 0.02)
            defer { heartbeat.stop() }
            XCTAssertTrue(heartbeat.waitForBeats(2, timeout: 30), "beats without a batch to write them: \(heartbeat.lastError ?? "")")
            let heard = try f.database.snapshot {
                try $0.value(Int64.self, "SELECT heartbeat_at FROM program_run WHERE id = ?", [run])
            }
            XCTAssertGreaterThan(try XCTUnwrap(heard), 0)
            heartbeat.stop()
            let beats = heartbeat.beats
            try f.database.transaction { db in
                try Lease.close(db, runID: run, at: f.clock.nowMillis())
                try db.exec("UPDATE program_run SET heartbeat_at = 0 WHERE id = ?", [run])
                try Lease.beat(db, runID: run, at: f.clock.nowMillis())
            }
            XCTAssertEqual(
                try f.database.snapshot { try $0.value(Int64.self, "SELECT heartbeat_at FROM program_run WHERE id = ?", [run]) }, 0,
                "a closed run's row is not made alive again")
            XCTAssertEqual(heartbeat.beats, beats, "no beat after stop returned")
        }
    }
}
