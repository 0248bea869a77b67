import Foundation
import GRDB
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// The schema on PostgreSQL (#30) against SQLite's after every migration: the same tables with
/// the same columns in the same order, the same unique keys, the same named indexes, the same
/// seeded tags; applied once however many hosts start at once.
final class PostgresSchemaTests: PostgresTestCase {
    /// A new, empty database on the cluster, for one test.
    func freshDatabase() throws -> PostgresAddress {
        let cluster = try self.cluster
        let name = "t_" + UUID().uuidString.prefix(8).lowercased()
        try PostgresConnection(try cluster.address()).execute("CREATE DATABASE \(name)")
        return try cluster.address(database: name)
    }

    /// What both engines must agree on, as text a failure can show.
    struct Shape: Equatable {
        var columns: [String: [String]] = [:]
        var uniqueKeys: Set<String> = []
        var indexes: Set<String> = []
        var tags: [[String?]] = []
    }

    func sqliteShape() throws -> Shape {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("md-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try AppDatabase(path: folder.appendingPathComponent("s.db").path, mode: .createIfMissing)
        return try database.writer.read { db in
            var shape = Shape()
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'")
            for table in tables {
                shape.columns[table] = try String.fetchAll(
                    db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
                let key = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", arguments: [table])
                shape.uniqueKeys.insert("\(table)(\(key.joined(separator: ",")))")
                for index in try Row.fetchAll(db, sql: "SELECT name, \"unique\", origin FROM pragma_index_list(?)", arguments: [table]) {
                    let name: String = index["name"]
                    if index["unique"] as Int == 1 {
                        let columns = try String.fetchAll(
                            db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [name])
                        shape.uniqueKeys.insert("\(table)(\(columns.joined(separator: ",")))")
                    } else {
                        shape.indexes.insert(name)
                    }
                }
            }
            shape.tags = try Row.fetchAll(
                db, sql: "SELECT name, api_name, allows, example, context_words, retired_note, retired_on FROM message_tag ORDER BY name"
            ).map { row in (0..<row.count).map { row[$0] as String? } }
            return shape
        }
    }

    func postgresShape(_ db: PostgresConnection) throws -> Shape {
        var shape = Shape()
        let tables = try db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migration'"
        ).rows.compactMap { $0[0] }
        for table in tables {
            shape.columns[table] = try db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                [.text(table)]
            ).rows.compactMap { $0[0] }
        }
        let indexes = try db.execute(
            """
            SELECT t.relname, i.relname, ix.indisunique, pg_get_indexdef(ix.indexrelid)
            FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = 'public' AND t.relname <> 'schema_migration'
            """)
        for row in indexes.rows {
            guard let table = row[0], let name = row[1], let definition = row[3] else { continue }
            if row[2] == "t" {
                // "CREATE UNIQUE INDEX x ON public.t USING btree (a, lower(b))" → t(a,b)
                let inside = definition.split(separator: "(", maxSplits: 1).last.map(String.init) ?? ""
                let columns = inside.dropLast().replacingOccurrences(of: "lower(", with: "").replacingOccurrences(of: ")", with: "")
                    .replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\"", with: "")
                shape.uniqueKeys.insert("\(table)(\(columns))")
            } else {
                shape.indexes.insert(name)
            }
        }
        shape.tags = try db.execute(
            "SELECT name, api_name, allows, example, context_words, retired_note, retired_on FROM message_tag ORDER BY name"
        ).rows
        return shape
    }

    func testPostgreSQLsSchemaIsSQLitesAfterEveryMigration() throws {
        let db = try PostgresConnection(try freshDatabase())
        try PostgresSchema.migrate(db)
        let sqlite = try sqliteShape()
        var postgres = try postgresShape(db)
        // PostgreSQL's own: the rate limit shared by hosts (a file beside the database on SQLite).
        XCTAssertEqual(postgres.columns.removeValue(forKey: "send_start"), ["page_id", "at", "sender"])
        XCTAssertNotNil(postgres.indexes.remove("send_start_by_page"))
        XCTAssertEqual(Set(postgres.columns.keys), Set(sqlite.columns.keys), "the same tables")
        for (table, columns) in sqlite.columns {
            XCTAssertEqual(postgres.columns[table], columns, "the columns of \(table), in order")
        }
        XCTAssertEqual(postgres.uniqueKeys.subtracting(sqlite.uniqueKeys), [], "unique on PostgreSQL only")
        XCTAssertEqual(sqlite.uniqueKeys.subtracting(postgres.uniqueKeys), [], "unique on SQLite only")
        XCTAssertEqual(postgres.indexes, sqlite.indexes, "the named indexes")
        XCTAssertEqual(postgres.tags, sqlite.tags, "the seeded tags, retired as on SQLite")
        XCTAssertEqual(sqlite.tags.count, 3)
    }

    func testAnEmailIsOneContactWhateverItsCaseAsOnSQLite() throws {
        let db = try PostgresConnection(try freshDatabase())
        try PostgresSchema.migrate(db)
        try db.execute("INSERT INTO contact (email, created_at) VALUES ($1, 0)", [.text("Ann@Example.com")])
        XCTAssertThrowsError(try db.execute("INSERT INTO contact (email, created_at) VALUES ($1, 0)", [.text("ann@example.COM")])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23505")
        }
    }

    /// pg4, as SQLite's v14: the one spool position there was is the id-less spool's ("").
    func testTheOneSpoolPositionBecomesTheIdlessSpoolsAndKeepsItsNotice() throws {
        let db = try PostgresConnection(try freshDatabase())
        try PostgresSchema.migrate(db, upTo: "pg3-change-notices")
        try db.execute(#"INSERT INTO webhook_spool (id, segment, "offset") VALUES (1, 1764000000000000, 4096)"#)
        try PostgresSchema.migrate(db)
        XCTAssertEqual(try db.execute(#"SELECT spool, segment, "offset" FROM webhook_spool"#).rows, [["", "1764000000000000", "4096"]])
        XCTAssertEqual(
            try db.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'webhook_spool'::regclass AND NOT tgisinternal").rows,
            [["notify_change"]], "the new table notifies dashboards as the old one did")
    }

    func testHostsThatStartAtOnceMigrateOnce() throws {
        let address = try freshDatabase()
        let group = DispatchGroup()
        let failures = Failures()
        for _ in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do { try PostgresSchema.migrate(try PostgresConnection(address)) } catch { failures.add("\(error)") }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(failures.all, [], "each waited for the first, then found the work done")
        let db = try PostgresConnection(address)
        XCTAssertEqual(
            try db.execute("SELECT identifier FROM schema_migration ORDER BY identifier").rows,
            PostgresSchema.migrations.map { [$0.identifier] })
        XCTAssertEqual(try db.execute("SELECT count(*) FROM message_tag").rows, [["3"]], "seeded once")
        // And again later: nothing to do.
        try PostgresSchema.migrate(db)
        XCTAssertEqual(try db.execute("SELECT count(*) FROM schema_migration").rows, [["\(PostgresSchema.migrations.count)"]])
    }

    final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func add(_ failure: String) { lock.withLock { list.append(failure) } }
        var all: [String] { lock.withLock { list } }
    }
}
