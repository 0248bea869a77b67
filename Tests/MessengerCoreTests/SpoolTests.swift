import Foundation
import GRDB
import XCTest

@testable import MessengerCore

/// The webhook's spool and its ingester (#25): what is answered 200 is on disk, a crash's torn
/// record is skipped, appends share syncs, the cap refuses, and the ingester applies each POST
/// exactly once with its position in the same transaction.
final class SpoolTests: XCTestCase {
    var folder = ""

    override func setUp() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    func body(_ n: Int) -> Data { Data(#"{"object":"page","entry":[],"n":\#(n)}"#.utf8) }

    func testAppendedRecordsAreReadBackInOrderFromTheirPositions() async throws {
        let spool = try WebhookSpool(folder: folder)
        defer { spool.shutDown() }
        for n in 0..<5 { try await spool.append(body(n), receivedAt: 1000 + Int64(n)) }
        let (records, next) = spool.read(from: .start)
        XCTAssertEqual(records.map(\.body), (0..<5).map(body))
        XCTAssertEqual(records.map(\.receivedAt), [1000, 1001, 1002, 1003, 1004])
        XCTAssertEqual(next, spool.syncedEnd)
        XCTAssertEqual(records[1].start, records[0].next, "each record starts where the last ended")
        let (rest, _) = spool.read(from: records[2].next)
        XCTAssertEqual(rest.map(\.body), [body(3), body(4)])
        XCTAssertTrue(spool.read(from: next).records.isEmpty)
    }

    /// Group commit: 400 appends at once are all durable when answered, with far fewer syncs.
    func testConcurrentAppendsShareSyncs() async throws {
        let spool = try WebhookSpool(folder: folder)
        defer { spool.shutDown() }
        let bodies = (0..<400).map(body)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for b in bodies { group.addTask { try await spool.append(b, receivedAt: 1) } }
            try await group.waitForAll()
        }
        XCTAssertEqual(spool.appends, 400)
        XCTAssertEqual(spool.read(from: .start, maxRecords: 1000).records.count, 400)
        XCTAssertLessThan(spool.syncs, 400, "syncs are shared")
        XCTAssertEqual(spool.syncedEnd, SpoolPosition(segment: spool.firstSegment, offset: spool.bytes))
    }

    /// A process killed mid-write leaves a torn record at the end of its segment; the next process
    /// writes a segment of its own, and the reader skips the torn bytes to it.
    func testATornRecordLeftByACrashIsSkipped() async throws {
        let first = try WebhookSpool(folder: folder)
        for n in 0..<3 { try await first.append(body(n), receivedAt: 1) }
        first.shutDown()
        let segment = try XCTUnwrap(first.segments().last)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: folder + "/\(segment).seg"))
        try handle.seekToEnd()
        try handle.write(contentsOf: WebhookSpool.encode(body(99), receivedAt: 1).prefix(30))
        try handle.close()
        let second = try WebhookSpool(folder: folder)
        defer { second.shutDown() }
        XCTAssertGreaterThan(second.firstSegment, segment)
        try await second.append(body(3), receivedAt: 2)
        let (records, _) = second.read(from: .start)
        XCTAssertEqual(records.map(\.body), (0..<4).map(body), "the torn record is skipped, nothing else")
    }

    func testACorruptRecordIsNotRead() async throws {
        let first = try WebhookSpool(folder: folder)
        try await first.append(body(0), receivedAt: 1)
        try await first.append(body(1), receivedAt: 1)
        first.shutDown()
        let path = folder + "/\(first.firstSegment).seg"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let second = WebhookSpool.headerBytes + body(0).count + WebhookSpool.headerBytes + 3
        bytes[second] ^= 0xFF  // a flipped bit in the second body
        try bytes.write(to: URL(fileURLWithPath: path))
        let reader = try WebhookSpool(folder: folder)
        defer { reader.shutDown() }
        XCTAssertEqual(reader.read(from: .start).records.map(\.body), [body(0)])
    }

    func testOverItsCapTheSpoolRefusesAndKeepsNothing() async throws {
        let spool = try WebhookSpool(folder: folder, maxBytes: 200)
        defer { spool.shutDown() }
        try await spool.append(body(0), receivedAt: 1)
        let before = spool.bytes
        do {
            try await spool.append(Data(repeating: 65, count: 300), receivedAt: 1)
            XCTFail("over the cap")
        } catch let full as WebhookSpool.Full {
            XCTAssertTrue(full.description.contains("cap"), full.description)
        }
        XCTAssertEqual(spool.bytes, before)
        XCTAssertEqual(spool.read(from: .start).records.count, 1)
    }

    func testSegmentsRotateAndAppliedOnesAreDeleted() async throws {
        let spool = try WebhookSpool(folder: folder, segmentBytes: 200)
        defer { spool.shutDown() }
        for n in 0..<10 { try await spool.append(body(n), receivedAt: 1) }
        XCTAssertGreaterThan(spool.segments().count, 3)
        let (records, next) = spool.read(from: .start, maxRecords: 100)
        XCTAssertEqual(records.map(\.body), (0..<10).map(body), "read across segments")
        spool.removeSegments(before: next)
        XCTAssertEqual(spool.segments(), [next.segment], "only the segment being written is left")
    }

    /// A spool's id stays with its folder; a folder spooled into before spools had ids is "", the
    /// key its one position was migrated to (Schema v14), so an upgrade resumes where it was.
    func testASpoolKeepsItsIdAndAnOlderFolderResumesFromItsMigratedPosition() async throws {
        let spool = try WebhookSpool(folder: folder)
        let id = spool.id
        XCTAssertEqual(id.count, 36)
        spool.shutDown()
        let again = try WebhookSpool(folder: folder)
        XCTAssertEqual(again.id, id)
        again.shutDown()

        // Before ids: a segment and no id file, and a v13 database with its one position.
        let old = FileManager.default.temporaryDirectory.appendingPathComponent("old-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: old) }
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        let legacy = try WebhookSpool(folder: old.path + "/messenger.db.spool")
        try await legacy.append(optin("psid-cat-1", at: 1_764_000_000_000), receivedAt: 1)
        let applied = legacy.syncedEnd
        try await legacy.append(optin("psid-cat-2", at: 1_764_000_100_000), receivedAt: 2)
        legacy.shutDown()
        try FileManager.default.removeItem(atPath: legacy.folder + "/id")
        let queue = try DatabaseQueue(path: old.path + "/messenger.db")
        try Schema.migrator.migrate(queue, upTo: "v13-run-hosts")
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO webhook_spool (id, segment, offset) VALUES (1, ?, ?)", arguments: [applied.segment, applied.offset])
        }
        try queue.close()

        let f = try Fixture(database: try AppDatabase(path: old.path + "/messenger.db", mode: .mustExist))
        try f.standardSetup()
        let upgraded = try WebhookSpool(folder: legacy.folder)
        defer { upgraded.shutDown() }
        XCTAssertEqual(upgraded.id, "")
        let workspace = f.workspace
        let batch = try WebhookIngester(spool: upgraded, workspace: { workspace }, log: { _ in }).drain()
        XCTAssertEqual(batch.posts, 1, "only what the old position did not cover")
        XCTAssertEqual(batch.optedIn, 1)
    }

    func testOneProcessSpoolsIntoAFolder() throws {
        let spool = try WebhookSpool(folder: folder)
        defer { spool.shutDown() }
        XCTAssertThrowsError(try WebhookSpool(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("another messenger-dash is receiving webhooks"), "\(error)")
        }
    }

    // MARK: The ingester

    func optin(_ psid: String, at: Int64) -> Data {
        Data(
            #"{"object":"page","entry":[{"id":"1001","time":\#(at),"messaging":[{"sender":{"id":"\#(psid)"},"recipient":{"id":"1001"},"timestamp":\#(at),"optin":{"ref":"cat@example.com"}}]}]}"#
                .utf8)
    }

    /// The position is committed with the events: a failure to store it rolls the events back,
    /// and a new ingester (a restart) starts where the last committed batch ended.
    func testEachPostIsAppliedExactlyOnceAcrossFailuresAndRestarts() async throws {
        let f = try Fixture()
        try f.standardSetup()
        let spool = try WebhookSpool(folder: folder)
        defer { spool.shutDown() }
        let workspace = f.workspace
        let ingester = WebhookIngester(spool: spool, workspace: { workspace }, log: { _ in })
        try await spool.append(optin("psid-cat-1", at: 1_764_000_000_000), receivedAt: f.clock.nowMillis())
        try await f.database.writer.write { db in
            try db.execute(sql: "CREATE TRIGGER nope BEFORE INSERT ON webhook_spool BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
        }
        XCTAssertThrowsError(try ingester.drain())
        let optIns = { () throws -> Int in
            try f.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM optin_time") ?? 0 }
        }
        let before = try optIns()
        try await f.database.writer.write { db in try db.execute(sql: "DROP TRIGGER nope") }
        XCTAssertEqual(try ingester.drain().optedIn, 1)
        XCTAssertEqual(try optIns(), before + 1)
        try await spool.append(optin("psid-cat-2", at: 1_764_000_100_000), receivedAt: f.clock.nowMillis())
        let restarted = WebhookIngester(spool: spool, workspace: { workspace }, log: { _ in })
        let batch = try restarted.drain()
        XCTAssertEqual(batch.posts, 1, "a restart applies only what the last commit didn't cover")
        XCTAssertEqual(batch.optedIn, 1)
        XCTAssertEqual(try restarted.drain().posts, 0)
        XCTAssertEqual(restarted.lag().bytes, 0)
        // The page heard from Facebook when the POST was received.
        let lastEvent = try await f.database.writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT last_event_at FROM page WHERE id = '1001'")
        }
        XCTAssertEqual(lastEvent, f.clock.nowMillis())
    }

    func testASpooledBodyThatIsNotAWebhookIsDroppedAndTheRestApplied() async throws {
        let f = try Fixture()
        try f.standardSetup()
        let spool = try WebhookSpool(folder: folder)
        defer { spool.shutDown() }
        let workspace = f.workspace
        let lines = LogLines()
        let ingester = WebhookIngester(spool: spool, workspace: { workspace }, log: { lines.add($0) })
        try await spool.append(Data("not json".utf8), receivedAt: 1)
        try await spool.append(optin("psid-cat", at: 1_764_000_000_000), receivedAt: 1)
        let batch = try ingester.drain()
        XCTAssertEqual(batch.refused, 1)
        XCTAssertEqual(batch.optedIn, 1)
        XCTAssertTrue(lines.all.contains { $0.contains("not a webhook payload") })
    }
}

final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
