import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// The libpq connection (#30) against a private cluster started for this class and stopped
/// after it, also when a test fails.
final class PostgresConnectionTests: PostgresTestCase {
    func connection() throws -> PostgresConnection {
        try PostgresConnection(try cluster.address())
    }

    func testValuesAreBoundNeverSplicedIntoTheStatement() throws {
        let db = try connection()
        try db.execute("CREATE TABLE bound (id bigint PRIMARY KEY, name text, score double precision)")
        defer { _ = try? db.execute("DROP TABLE bound") }
        let hostile = "Ann'); DROP TABLE bound; --\u{1B}[2J\u{0}x"
            .replacingOccurrences(of: "\u{0}", with: "")  // PostgreSQL's text holds no NUL
        try db.execute(
            "INSERT INTO bound VALUES ($1, $2, $3), ($4, $5, $6)", [.int(1), .text(hostile), .double(0.5), .int(2), .null, .null])
        let rows = try db.execute("SELECT id, name, score FROM bound ORDER BY id")
        XCTAssertEqual(rows.columns, ["id", "name", "score"])
        XCTAssertEqual(rows.rows, [["1", hostile, "0.5"], ["2", nil, nil]])
        XCTAssertEqual(try db.execute("UPDATE bound SET score = 1").changed, 2)
    }

    func testAStatementWrittenForBothEnginesRunsWithItsQuestionMarks() throws {
        let db = try connection()
        try db.execute("CREATE TABLE portable (id bigint, note text)")
        defer { _ = try? db.execute("DROP TABLE portable") }
        try db.execute(portable: "INSERT INTO portable VALUES (?, ?) ON CONFLICT DO NOTHING", [.int(1), .text("why?")])
        XCTAssertEqual(try db.execute(portable: "SELECT note FROM portable WHERE id = ? AND note <> '?'", [.int(1)]).rows, [["why?"]])
        XCTAssertThrowsError(try db.execute(portable: "SELECT ? + ?", [.int(1)])) { error in
            XCTAssertEqual("\(error)", "PostgreSQL: 2 placeholders for 1 values")
        }
    }

    func testAnErrorIsOneSafeLineWithItsSQLState() throws {
        let db = try connection()
        try db.execute("CREATE TABLE once (email text UNIQUE)")
        defer { _ = try? db.execute("DROP TABLE once") }
        try db.execute("INSERT INTO once VALUES ($1)", [.text("a@example.com")])
        XCTAssertThrowsError(try db.execute("INSERT INTO once VALUES ($1)", [.text("a@example.com")])) { error in
            let failure = error as? PostgresError
            XCTAssertEqual(failure?.sqlState, "23505", "a unique violation")
            XCTAssertEqual(failure?.description.contains("\n"), false, "one line, without libpq's DETAIL")
            XCTAssertEqual(failure?.description.hasPrefix("PostgreSQL: duplicate key value"), true, "\(error)")
        }
        // What the server sends back is shown safely: an escape in a name it quotes is not passed on.
        XCTAssertThrowsError(try db.execute("SELECT * FROM \"no\u{1B}[2Jsuch\"")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42P01")
            XCTAssertFalse("\(error)".contains("\u{1B}"), "\(error)")
        }
        // The connection still works after an error.
        XCTAssertEqual(try db.execute("SELECT 1").rows, [["1"]])
    }

    func testATransactionThatThrowsLeavesNothingAndOneThatReturnsIsCommitted() throws {
        let db = try connection()
        try db.execute("CREATE TABLE claims (n bigint)")
        defer { _ = try? db.execute("DROP TABLE claims") }
        struct Stop: Error {}
        XCTAssertThrowsError(
            try db.transaction { db in
                try db.execute("INSERT INTO claims VALUES (1)")
                throw Stop()
            })
        XCTAssertEqual(try db.execute("SELECT count(*) FROM claims").rows, [["0"]])
        try db.transaction { db in try db.execute("INSERT INTO claims VALUES (2)") }
        // Another connection sees it: committed, not merely in this session.
        XCTAssertEqual(try connection().execute("SELECT n FROM claims").rows, [["2"]])
    }

    func testACommitIsDurableBeforeItReturns() throws {
        // A claim must be on disk before its messages go (R: claims durable): the server's
        // default may have been changed, so every connection says it.
        XCTAssertEqual(try connection().execute("SHOW synchronous_commit").rows, [["on"]])
        XCTAssertEqual(try connection().execute("SHOW client_encoding").rows, [["UTF8"]])
        // Nor can an address's own options turn it off, or replace it with a search_path.
        let cluster = try self.cluster
        let own = try PostgresConnection(
            try PostgresAddress(
                "postgresql://messenger@127.0.0.1:\(cluster.port)/postgres?passfile=\(cluster.passfile)"
                    + "&options=-csynchronous_commit%3Doff%20-csearch_path%3Delsewhere"))
        XCTAssertEqual(try own.execute("SHOW synchronous_commit").rows, [["on"]])
        XCTAssertEqual(try own.execute("SHOW search_path").rows, [["elsewhere"]])
    }

    func testThePasswordComesFromThePassfileNeverTheAddressOrTheEnvironment() throws {
        let cluster = try self.cluster
        // Without the passfile the server refuses, in one line (and no password is asked on the terminal).
        let bare = try PostgresAddress("postgresql://messenger@127.0.0.1:\(cluster.port)/postgres")
        XCTAssertThrowsError(try PostgresConnection(bare, environment: [:])) { error in
            XCTAssertTrue("\(error)".hasPrefix("can't connect to postgresql://messenger@127.0.0.1"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertThrowsError(try PostgresConnection(try cluster.address(), environment: ["PGPASSWORD": "x"])) { error in
            XCTAssertEqual("\(error)", "PGPASSWORD is not read: put the password in PGPASSFILE or ~/.pgpass (chmod 600)")
        }
    }

    func testANoticeFromTheServerIsNotWrittenUnderTheDashboard() throws {
        // libpq prints NOTICEs on stderr by default: on the dashboard's screen.
        let db = try connection()
        let captured = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("md-notice-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: captured.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: captured) }
        let file = open(captured.path, O_WRONLY)
        let saved = dup(2)
        dup2(file, 2)
        let result = Result { try db.execute("DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$") }
        dup2(saved, 2)
        close(saved)
        close(file)
        XCTAssertNoThrow(try result.get())
        XCTAssertEqual(try String(contentsOf: captured, encoding: .utf8), "")
    }
}
