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

    func testCopyTakesEveryValueAsItWasWhateverItHolds() throws {
        let db = try connection()
        try db.execute("CREATE TABLE copied (id bigint PRIMARY KEY, note text, score double precision, raw bytea)")
        defer { _ = try? db.execute("DROP TABLE copied") }
        // What would end a value, a row or the data if it were not escaped, and what is NULL's.
        let awkward = ["tab\there", "line\nbreak", "carriage\rreturn", "back\\slash", "\\.", "\\N", "", "Zoë 👩‍🚀"]
        let rows: [[PostgresValue]] =
            awkward.enumerated().map { [.int(Int64($0.offset)), .text($0.element), .double(0.25), .bytes(Data([0, 9, 10, 92]))] }
            + [[.int(99), .null, .null, .null]]
        XCTAssertEqual(try db.copy(into: "copied", columns: ["id", "note", "score", "raw"], rows: rows), awkward.count + 1)
        let back = try db.execute("SELECT note, score, raw FROM copied ORDER BY id")
        XCTAssertEqual(back.rows.map { $0[0] }, awkward + [nil])
        XCTAssertEqual(Set(back.rows.dropLast().map { $0[1] }), ["0.25"])
        XCTAssertEqual(Set(back.rows.dropLast().map { $0[2] }), ["\\x00090a5c"])
        XCTAssertEqual(back.rows.last, [nil, nil, nil])
    }

    func testCopyOfManyRowsGoesInChunksAndARefusedOneKeepsNothing() throws {
        let db = try connection()
        try db.execute("CREATE TABLE copied (id bigint PRIMARY KEY, note text)")
        defer { _ = try? db.execute("DROP TABLE copied") }
        // Several of COPY's chunks (256 KiB) of rows.
        let note = String(repeating: "x", count: 200)
        let many = (1...5_000).lazy.map { [PostgresValue.int(Int64($0)), .text(note)] }
        XCTAssertEqual(try db.copy(into: "copied", columns: ["id", "note"], rows: many), 5_000)
        // A row the server refuses (a key taken) ends the COPY: none of its rows stays, and the
        // connection goes on.
        XCTAssertThrowsError(
            try db.copy(into: "copied", columns: ["id", "note"], rows: [[.int(6_000), .text("new")], [.int(1), .text("again")]])
        ) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23505", "\($0)")
        }
        // A row of the wrong width is refused before the server sees it, in one line.
        XCTAssertThrowsError(try db.copy(into: "copied", columns: ["id", "note"], rows: [[.int(7_000), .text("a")], [.int(7_001)]])) {
            XCTAssertEqual("\($0)", "PostgreSQL: a COPY row of 1 values for 2 columns")
        }
        XCTAssertEqual(try db.execute("SELECT count(*), max(id) FROM copied").rows, [["5000", "5000"]])
        // Inside a transaction, a refused COPY fails the transaction and what it did before.
        XCTAssertThrowsError(
            try db.transaction { db in
                try db.execute("INSERT INTO copied VALUES (8000, 'before')")
                try db.copy(into: "copied", columns: ["id", "note"], rows: [[.int(2), .text("taken")]])
            })
        XCTAssertEqual(try db.execute("SELECT count(*) FROM copied WHERE id = 8000").rows, [["0"]])
        XCTAssertThrowsError(try db.copy(into: "nowhere", columns: ["id"], rows: [[.int(1)]])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "42P01", "\($0)")
        }
        XCTAssertEqual(try db.execute("SELECT 1").rows, [["1"]], "the connection is usable after each failure")
    }

    func testAPreparedStatementIsPlannedOnceAndOutlivesARollback() throws {
        let db = try connection()
        try db.execute("CREATE TABLE kept (id bigint PRIMARY KEY, note text, n bigint)")
        defer { _ = try? db.execute("DROP TABLE kept") }
        func statements() throws -> [String] {
            try db.execute("SELECT statement FROM pg_prepared_statements ORDER BY statement").rows.map { $0[0] ?? "" }
        }
        let insert = "INSERT INTO kept (id, note) VALUES (?, ?)"
        // Prepared in a transaction that rolls back: PostgreSQL keeps it for the session.
        XCTAssertThrowsError(
            try db.transaction { db in
                try db.executePrepared(portable: insert, [.int(1), .text("a")])
                throw PostgresError(sqlState: nil, raw: "rolled back")
            })
        XCTAssertEqual(try db.execute("SELECT count(*) FROM kept").rows, [["0"]])
        try db.executePrepared(portable: insert, [.int(1), .text("a")])
        try db.executePrepared(portable: insert, [.int(2), .null])
        XCTAssertEqual(try statements(), ["INSERT INTO kept (id, note) VALUES ($1, $2)"], "once, for text and NULL alike")
        // A NULL where an integer was is its own statement: its type is left to the server.
        let update = "UPDATE kept SET n = ? WHERE id = ?"
        XCTAssertEqual(try db.executePrepared(portable: update, [.int(5), .int(1)]).changed, 1)
        XCTAssertEqual(try db.executePrepared(portable: update, [.null, .int(2)]).changed, 1)
        XCTAssertEqual(try db.executePrepared(portable: update, [.int(6), .int(2)]).changed, 1)
        XCTAssertEqual(try statements().filter { $0.hasPrefix("UPDATE") }.count, 2)
        XCTAssertEqual(
            try db.executePrepared(portable: "SELECT note, n FROM kept WHERE id >= ? ORDER BY id", [.int(1)]).rows,
            [["a", "5"], [nil, "6"]])
        // One that fails to prepare throws in one line and is not kept.
        XCTAssertThrowsError(try db.executePrepared(portable: "SELECT nothing FROM kept WHERE id = ?", [.int(1)])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "42703", "\($0)")
        }
        XCTAssertEqual(try statements().count, 4)
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
