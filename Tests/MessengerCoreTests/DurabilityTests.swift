import GRDB
import XCTest

@testable import MessengerCore

final class DurabilityTests: XCTestCase {
    /// The writing connection commits with synchronous=FULL (2): a commit survives a power cut.
    /// GRDB turns WAL on with NORMAL after `prepareDatabase`, so this would read 1 if the pragma
    /// were set there.
    func testTheWriterSyncsEveryCommit() throws {
        let database = try AppDatabase.temporary()
        XCTAssertEqual(try database.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }, 2)
        XCTAssertEqual(try database.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }, "wal")
    }
}
