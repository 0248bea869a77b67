import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// The store's calls read and write the same on SQLite and PostgreSQL (#30): what a service
/// written once for both counts on.
final class StoreConnectionTests: StoreTestCase {
    func testEachEngineIsTheOneItSaysItIs() throws {
        try onEachEngine { database in
            let expected: StoreEngine = engine == .postgres ? .postgres : .sqlite
            XCTAssertEqual(try database.snapshot { $0.engine }, expected)
            XCTAssertEqual(try database.transaction { $0.engine }, expected)
            XCTAssertEqual(database.location.hasPrefix("postgresql://"), engine == .postgres)
        }
    }

    func testValuesReadTheSameOnBothEngines() throws {
        try onEachEngine { database in
            try database.transaction { db in
                try db.exec(
                    "INSERT INTO page (id, name, tasks, access_token, updated_at) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)",
                    ["1", "Shop 店舗", "MANAGE", nil, Int64.max, "2", "Events", "", "T", -5])
            }
            try database.snapshot { db in
                let row = try XCTUnwrap(
                    db.row(
                        """
                        SELECT id, name, access_token, updated_at, access_token IS NULL AS no_token,
                               EXISTS (SELECT 1 FROM page WHERE id = '9') AS nine
                        FROM page WHERE id = ?
                        """, ["1"]))
                XCTAssertEqual(row["id"] as String, "1")
                XCTAssertEqual(row["name"] as String, "Shop 店舗")
                XCTAssertNil(row["access_token"] as String?)
                XCTAssertEqual(row["updated_at"] as Int64, Int64.max)
                XCTAssertEqual(row["NO_TOKEN"] as Bool, true, "a boolean reads as SQLite's 0 or 1, a name ignoring case")
                XCTAssertEqual(row["nine"] as Bool, false)
                XCTAssertEqual(try db.value(Int.self, "SELECT COUNT(*) FROM page"), 2)
                XCTAssertEqual(
                    try db.value(Int64.self, "SELECT SUM(updated_at) FROM page WHERE id = '2'"), -5, "PostgreSQL's SUM is numeric")
                XCTAssertEqual(try db.value(Double.self, "SELECT AVG(updated_at) FROM page WHERE id = '2'"), -5.0)
                XCTAssertNil(try db.value(Int64.self, "SELECT SUM(updated_at) FROM page WHERE id = '9'"), "a SUM of no rows is NULL")
                XCTAssertNil(try db.row("SELECT id FROM page WHERE id = '9'"))
                XCTAssertEqual(try db.values(String.self, "SELECT access_token FROM page ORDER BY id"), ["T"], "NULLs left out")
                XCTAssertEqual(
                    try db.values(String.self, "SELECT id FROM page WHERE updated_at IN (?2, ?1) ORDER BY id", [-5, Int64.max]),
                    ["1", "2"],
                    "numbered placeholders")
            }
        }
    }

    /// A bound integer is an integer to the server where nothing else says what it is: in an
    /// `INSERT … SELECT ?` (the runner's enrolment) PostgreSQL would otherwise take it as text.
    func testABoundValueKeepsItsTypeInAnInsertFromASelect() throws {
        try onEachEngine { database in
            try database.transaction { db in
                try db.exec(
                    "INSERT INTO page (id, name, tasks, updated_at) SELECT ?, 'P', '', ? FROM page WHERE FALSE UNION ALL SELECT ?, 'Q', '', ?",
                    ["1", 5, "2", 7])
            }
            XCTAssertEqual(try database.snapshot { try $0.values(Int64.self, "SELECT updated_at FROM page ORDER BY id") }, [7])
        }
    }

    func testExecCountsTheRowsItChangedAndInsertGivesTheNewId() throws {
        try onEachEngine { database in
            try database.transaction { db in
                let first = try db.insert("INSERT INTO data_field (name, kind) VALUES (?, 'text')", ["A"])
                let second = try db.insert("INSERT INTO data_field (name, kind) VALUES (?, 'text')", ["B"])
                XCTAssertGreaterThan(second, first)
                XCTAssertEqual(try db.value(String.self, "SELECT name FROM data_field WHERE id = ?", [second]), "B")
                XCTAssertEqual(try db.exec("UPDATE data_field SET default_value = 'x' WHERE kind = 'text'"), 2)
                XCTAssertEqual(try db.exec("DELETE FROM data_field WHERE name = 'nobody'"), 0)
            }
        }
    }

    /// A profile's id is taken before its row (its opt-in field is named after it): the id
    /// taken is past every id given, also one of a deleted row.
    func testTheNextIdIsPastEveryIdGiven() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            XCTAssertEqual(try database.transaction { db in try db.nextID("profile") }, 1)
            let shop = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage).summary.id
            try f.workspace.profiles.delete(names: ["Shop"])
            XCTAssertGreaterThan(try database.transaction { db in try db.nextID("profile") }, shop)
        }
    }

    func testATransactionThatThrowsLeavesNothing() throws {
        struct Refused: Error {}
        try onEachEngine { database in
            XCTAssertThrowsError(
                try database.transaction { db in
                    try db.exec("INSERT INTO data_field (name, kind) VALUES ('A', 'text')")
                    throw Refused()
                })
            XCTAssertEqual(try database.snapshot { try $0.value(Int.self, "SELECT COUNT(*) FROM data_field") }, 0)
        }
    }

    func testAStatementTheDatabaseRefusesIsOneLineMarkedAsStorage() throws {
        try onEachEngine { database in
            XCTAssertThrowsError(try database.transaction { db in try db.exec("INSERT INTO nowhere VALUES (1)") }) { error in
                let error = error as? DomainError
                XCTAssertEqual(error?.isStorageFailure, true)
                XCTAssertEqual(error?.message.contains("nowhere"), true, "\(String(describing: error))")
                XCTAssertEqual(error?.message.contains("\n"), false)
            }
        }
    }
}

/// What only PostgreSQL has: other hosts' writers, a server that restarts, parts not moved yet.
final class PostgresStoreTests: PostgresTestCase {
    /// Writes take turns across hosts on one lock; one held elsewhere fails after 5 s in the
    /// line SQLite's busy database gives, and reads go on meanwhile.
    func testAWriteHeldElsewhereFailsInOneLineAfterFiveSecondsAndReadsGoOn() throws {
        let address = try cluster.address(database: "postgres")
        let database = try open(address)
        let other = try PostgresConnection(address)
        try other.execute("SELECT pg_advisory_lock(\(PostgresPool.writeLock))")
        let started = Date()
        XCTAssertThrowsError(try database.transaction { db in try db.exec("DELETE FROM page") }) { error in
            XCTAssertEqual(
                (error as? DomainError)?.message, "database \(address) is locked by another process; try again when it finishes")
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 4.9, "lock_timeout is 5 s")
        XCTAssertEqual(try database.snapshot { try $0.value(Int.self, "SELECT COUNT(*) FROM page") }, 0)
        try other.execute("SELECT pg_advisory_unlock(\(PostgresPool.writeLock))")
        XCTAssertNoThrow(try database.transaction { db in try db.exec("DELETE FROM page") })
    }

    /// A server that dropped the pool's idle connections (a restart, a failover): the next
    /// transaction opens a new one instead of failing.
    func testAnIdleConnectionTheServerEndedIsReplaced() throws {
        let address = try cluster.address(database: "postgres")
        let database = try open(address)
        XCTAssertEqual(try database.snapshot { try $0.value(Int.self, "SELECT 1") }, 1)
        let admin = try PostgresConnection(address)
        let ended = try admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'messenger-dash' AND pid <> pg_backend_pid()")
        XCTAssertGreaterThan(ended.rows.count, 0)
        XCTAssertEqual(try database.snapshot { try $0.value(Int.self, "SELECT 2") }, 2)
        XCTAssertEqual(try database.transaction { try $0.value(Int.self, "SELECT 3") }, 3)
    }

    func open(_ address: PostgresAddress) throws -> AppDatabase {
        try AppDatabase(postgres: address, stateFolder: try cluster.folder.appendingPathComponent("state").path)
    }

    /// What a run keeps on this host (its answer journals) goes to a folder only this user can
    /// read, under a name of the server and database made of safe characters.
    func testARunsSideFilesGoToThisHostsPrivateStateFolder() throws {
        let folder = try cluster.folder.appendingPathComponent("state-\(UUID().uuidString.prefix(8))/nested").path
        let database = try AppDatabase(postgres: try cluster.address(database: "postgres"), stateFolder: folder)
        let mode = try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o700)
        XCTAssertEqual((database.sideFilesBase as NSString).deletingLastPathComponent, folder)
        XCTAssertTrue((database.sideFilesBase as NSString).lastPathComponent.hasPrefix("pg-"), database.sideFilesBase)
        XCTAssertTrue((database.sideFilesBase as NSString).lastPathComponent.hasSuffix("-postgres"), database.sideFilesBase)
        try Data().write(to: URL(fileURLWithPath: folder + "-file"))
        XCTAssertThrowsError(try AppDatabase(postgres: try cluster.address(database: "postgres"), stateFolder: folder + "-file")) {
            XCTAssertTrue("\($0)".contains("is not a folder"), "\($0)")
        }
    }

    /// SQLite's own parts (its pool, its file: the WAL's checkpoints, the CLI's paths) refuse
    /// in one line on PostgreSQL, and write nothing beside it.
    func testSQLitesOwnPartsRefuseInOneLine() throws {
        let database = try open(cluster.address(database: "postgres"))
        XCTAssertThrowsError(try database.writer) { error in
            XCTAssertEqual((error as? DomainError)?.isStorageFailure, true)
            XCTAssertTrue("\(error)".contains("does not run on PostgreSQL yet"), "\(error)")
        }
        XCTAssertThrowsError(try database.path)
    }

    /// The dashboard's refresh: a commit on another connection (another host's, on PostgreSQL)
    /// is noticed; a read, or nothing, is not; and a listening connection the server ended is
    /// replaced, saying "changed" once, as it may have missed a commit. No waiting: a commit
    /// that finished before a poll is seen by that poll (its round trip brings the notices).
    func testTheWatcherNoticesCommitsElsewhereAndNotReads() throws {
        let database = try open(try freshDatabase())
        let watcher = try ChangeWatcher(database: database)
        XCTAssertFalse(try watcher.hasChanged())
        let f = try Fixture(database: database)
        try f.importPages()
        XCTAssertTrue(try watcher.hasChanged(), "pages were imported")
        XCTAssertFalse(try watcher.hasChanged(), "once")
        _ = try f.workspace.profiles.list()
        XCTAssertFalse(try watcher.hasChanged(), "a read changes nothing")
        let limiter = try PostgresRateLimiter(try PostgresAddress(database.location), limit: 10, reserve: 0, window: 1)
        try limiter.acquire(page: Fixture.shopPage)
        XCTAssertFalse(try watcher.hasChanged(), "the rate limit's starts are no change a screen shows")
        let admin = try PostgresConnection(try cluster.address(database: "postgres"))
        try admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [.text(ChangeWatcher.applicationName)])
        // Terminating is a signal: wait until the listener's backend is gone.
        let deadline = Date().addingTimeInterval(30)
        while try admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", [.text(ChangeWatcher.applicationName)]
        ).rows != [["0"]] {
            guard Date() < deadline else { return XCTFail("the listener's backend never ended") }
            usleep(10_000)
        }
        // A poll's round trip finds the connection gone at once.
        XCTAssertTrue(try watcher.hasChanged(), "a lost listener is noticed at the next poll")
        XCTAssertFalse(try watcher.hasChanged(), "listening again")
        try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
        XCTAssertTrue(try watcher.hasChanged(), "heard on the new connection")
    }

    /// A database holding someone else's tables is refused in one line, and nothing of ours is
    /// made in it; a schema of our own in it (the address's search_path) opens, with side files
    /// apart from the database's other stores.
    func testSomeoneElsesTablesAreRefusedAndASchemaOfOurOwnOpens() throws {
        let address = try freshDatabase()
        let theirs = try PostgresConnection(address)
        try theirs.execute("CREATE TABLE contact (id int PRIMARY KEY, name text)")
        XCTAssertThrowsError(try open(address)) { error in
            XCTAssertEqual((error as? DomainError)?.isStorageFailure, true)
            XCTAssertTrue("\(error)".contains("already holds tables that are not messenger-dash's (contact)"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertEqual(
            try theirs.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").rows, [["contact"]])
        try theirs.execute("CREATE SCHEMA md")
        let ours = try PostgresAddress(address.uri + "&options=-csearch_path%3Dmd")
        let database = try open(ours)
        XCTAssertEqual(try database.snapshot { try $0.value(String.self, "SELECT current_schema()") }, "md")
        XCTAssertEqual(
            try theirs.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'md' AND table_name = 'contact'").rows,
            [["1"]])
        let state = try cluster.folder.appendingPathComponent("state").path
        XCTAssertNotEqual(database.sideFilesBase, try AppDatabase.sideFilesBase(postgres: address, stateFolder: state))
        XCTAssertTrue(database.sideFilesBase.hasSuffix("-csearch_path_md"), database.sideFilesBase)
    }

    func freshDatabase() throws -> PostgresAddress {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try PostgresConnection(try cluster.address()).execute("CREATE DATABASE \(name)")
        return try cluster.address(database: name)
    }

    /// A bytea reads as a blob; the text forms of PostgreSQL's types as SQLite's values.
    func testColumnTypesReadAsSQLitesValues() {
        XCTAssertEqual(PostgresStoreConnection.value("\\x00ff10", type: 17), Data([0, 255, 16]).databaseValue)
        XCTAssertEqual(PostgresStoreConnection.value("t", type: 16), (1 as Int64).databaseValue)
        XCTAssertEqual(PostgresStoreConnection.value("12.50", type: 1700), (12.5).databaseValue)
        XCTAssertEqual(PostgresStoreConnection.value("-7", type: 1700), (-7 as Int64).databaseValue)
        XCTAssertEqual(PostgresStoreConnection.value(nil, type: 20), .null)
        XCTAssertEqual(PostgresStoreConnection.value("2026-12-03", type: 1082), "2026-12-03".databaseValue)
        XCTAssertEqual(PostgresStoreConnection.value(Data([1, 171])), .bytes(Data([1, 171])))
        XCTAssertEqual(PostgresValue.bytes(Data([1, 171])).wire, "\\x01ab")
        XCTAssertEqual(PostgresStoreConnection.value(true), .int(1))
    }
}
