import GRDB
import XCTest

@testable import MessengerCore

final class StoreTests: XCTestCase {
    func testBackgroundCheckpointerCopiesTheWALBesideTheWriter() throws {
        let database = try AppDatabase.temporary()
        try database.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        try database.writer.write { db in
            try db.execute(sql: "CREATE TABLE t (x TEXT)")
            for i in 0..<2_000 {
                try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: ["row \(i) " + String(repeating: "x", count: 200)])
            }
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

    /// v5: a database written before it keeps its history. Each enrolment links to the contact's
    /// previous one in the program, `program_contact` points at the latest, the Programs count
    /// stays, and the index that grew with history is gone.
    func testV5LinksEarlierEnrolmentsAndKeepsTheCounts() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("v5-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("old.db").path
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v4-receipts-through-enrolments")
        try old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO program (id, name, name_key, status, created_at) VALUES (1, 'A', 'a', 'active', 0), (2, 'B', 'b', 'active', 0);
                    INSERT INTO contact (id, email, created_at) VALUES (1, 'x@example.com', 0), (2, 'y@example.com', 0);
                    -- contact 1: three enrolments in A and one in B; contact 2: one in A.
                    INSERT INTO enrolment (id, program_id, contact_id, enrolled_at) VALUES
                        (1, 1, 1, 0), (2, 1, 2, 0), (3, 2, 1, 0), (4, 1, 1, 0), (5, 1, 1, 0);
                    """)
        }
        try old.close()

        var upgrades = 0
        let database = try AppDatabase(path: path, mode: .mustExist) { upgrades += 1 }
        XCTAssertEqual(upgrades, 1, "an older database is upgraded, and the user told so")
        _ = try AppDatabase(path: path, mode: .mustExist) { upgrades += 1 }
        _ = try AppDatabase(path: folder.appendingPathComponent("new.db").path, mode: .createIfMissing) { upgrades += 1 }
        XCTAssertEqual(upgrades, 1, "a current or a new database is not")
        try database.writer.read { db in
            let previous = try Row.fetchAll(db, sql: "SELECT id, previous_id FROM enrolment ORDER BY id").map {
                [$0[0], $0[1]] as [Int64?]
            }
            XCTAssertEqual(previous, [[1, nil], [2, nil], [3, nil], [4, 1], [5, 4]])
            let latest = try Row.fetchAll(db, sql: "SELECT program_id, contact_id, last_enrolment_id FROM program_contact ORDER BY 1, 2")
                .map { [$0[0], $0[1], $0[2]] as [Int64] }
            XCTAssertEqual(latest, [[1, 1, 5], [1, 2, 2], [2, 1, 3]])
            XCTAssertEqual(try Int.fetchAll(db, sql: "SELECT enrolled FROM program ORDER BY id"), [4, 1])
            XCTAssertFalse(try db.indexes(on: "enrolment").contains { $0.name == "enrolment_by_contact" })
        }
        XCTAssertEqual(try Workspace(database: database).programs.list().map(\.enrolled), [4, 1])
    }

    /// A run adds to the chain and moves `program_contact` on: one row per (program, contact)
    /// whatever the history, pointing at the newest enrolment, which points at the one before.
    func testRunsKeepOneRowPerContactAndChainTheEnrolments() throws {
        let f = try Fixture()
        try f.standardSetup()
        _ = try f.run()
        _ = try f.run(reenrol: true)
        _ = try f.run(reenrol: true)
        let contacts = try f.count("SELECT COUNT(*) FROM contact")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM enrolment"), 3 * contacts)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM program_contact"), contacts)
        XCTAssertEqual(
            try f.count(
                """
                SELECT COUNT(*) FROM program_contact pc JOIN enrolment e ON e.id = pc.last_enrolment_id
                WHERE e.contact_id = pc.contact_id AND e.id = (SELECT MAX(id) FROM enrolment WHERE contact_id = pc.contact_id)
                """), contacts, "each row points at the contact's newest enrolment")
        XCTAssertEqual(
            try f.count(
                """
                SELECT COUNT(*) FROM enrolment e JOIN enrolment p ON p.id = e.previous_id
                WHERE p.contact_id = e.contact_id AND p.program_id = e.program_id AND p.id < e.id
                """), 2 * contacts, "every later enrolment links to the one before")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM enrolment WHERE previous_id IS NULL"), contacts)
        XCTAssertEqual(try f.workspace.programs.list().map(\.enrolled), [3 * contacts])
        XCTAssertEqual(try f.run().enrolled, 0, "without --reenrol nobody is enrolled twice")
    }
}
