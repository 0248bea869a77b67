import GRDB
import XCTest
@testable import MessengerCore

final class StoreTests: XCTestCase {
    func testBackgroundCheckpointerCopiesTheWALBesideTheWriter() throws {
        let database = try AppDatabase.temporary()
        try database.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        try database.writer.write { db in
            try db.execute(sql: "CREATE TABLE t (x TEXT)")
            for i in 0..<2_000 { try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: ["row \(i) " + String(repeating: "x", count: 200)]) }
        }
        func fileSize() throws -> Int { try FileManager.default.attributesOfItem(atPath: database.path)[.size] as! Int }
        let before = try fileSize()
        XCTAssertLessThan(before, 100_000, "the rows are only in the WAL so far")
        let checkpointer = try BackgroundCheckpointer(database: database, limitBytes: 1 << 30)
        XCTAssertFalse(checkpointer.writerCommitted(), "under the limit: the writer need not checkpoint")
        checkpointer.stop()
        XCTAssertGreaterThan(try fileSize(), 400_000, "the checkpointer copied the rows into the database file")
        let small = try BackgroundCheckpointer(database: database, limitBytes: 1)
        XCTAssertTrue(small.writerCommitted(), "over the limit: the writer is told to checkpoint")
        small.stop()
    }

    func testARunLeavesTheWriterCheckpointingAsUsual() throws {
        let f = try Fixture()
        try f.standardSetup()
        _ = try f.run()
        let pages = try f.database.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
        XCTAssertEqual(pages, 1_000)
    }
}
