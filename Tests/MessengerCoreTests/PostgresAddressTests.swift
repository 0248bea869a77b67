import XCTest

@testable import MessengerCore

/// `--db postgresql://…` (#30): what names PostgreSQL, and the addresses refused before any
/// connection, each in one line.
final class PostgresAddressTests: XCTestCase {
    func testAnAddressNamesItsUserHostPortAndDatabase() throws {
        let address = try PostgresAddress("postgresql://dash@db.internal:5433/marketing")
        XCTAssertEqual(address.user, "dash")
        XCTAssertEqual(address.host, "db.internal")
        XCTAssertEqual(address.port, 5433)
        XCTAssertEqual(address.database, "marketing")
        XCTAssertEqual(try PostgresAddress("postgres://h/d").database, "d")
    }

    func testOnlyAPostgresAddressIsTakenForOneAFilePathNever() {
        XCTAssertTrue(PostgresAddress.names("postgresql://h/d"))
        XCTAssertTrue(PostgresAddress.names("POSTGRES://h/d"))
        XCTAssertFalse(PostgresAddress.names("postgresql.db"))
        XCTAssertFalse(PostgresAddress.names("./postgresql://x"))
        XCTAssertFalse(PostgresAddress.names("/var/lib/messenger.db"))
    }

    func testAPasswordInTheAddressIsRefusedWithoutRepeatingIt() {
        for text in ["postgresql://dash:hunter2@h/d", "postgresql://dash@h/d?password=hunter2", "postgresql://dash@h/d?PASSWORD=hunter2"] {
            XCTAssertThrowsError(try PostgresAddress(text)) { error in
                XCTAssertFalse("\(error)".contains("hunter2"), "\(error)")
                XCTAssertTrue("\(error)".contains("PGPASSFILE"), "\(error)")
            }
        }
    }

    func testAnAddressWithoutItsDatabaseIsOneLine() {
        for text in ["postgresql://h", "postgresql://h/", "postgresql://h/a/b"] {
            XCTAssertThrowsError(try PostgresAddress(text)) { error in
                XCTAssertEqual("\(error)", "a PostgreSQL address names its database: postgresql://USER@HOST:PORT/DATABASE")
            }
        }
        XCTAssertThrowsError(try PostgresAddress("mysql://h/d"))
    }
}
