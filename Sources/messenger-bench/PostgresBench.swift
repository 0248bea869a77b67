import Foundation
import MessengerCore

// `make bench BENCH_DB=postgresql://USER@HOST:PORT/DB` (#30): the pipeline and the import on
// PostgreSQL, each beside PostgreSQL's own floor, psql's `\copy` of the same rows into the same
// schema in one transaction. The databases it needs are made beside DB (its role needs CREATEDB)
// and dropped after, also when a step fails.
enum PostgresBench {
    static let repeats = 3

    static func figures(address: PostgresAddress, contacts: Int, folder: URL) throws -> [Figure] {
        let admin = try PostgresConnection(address)
        let names = ["mdbench_pristine", "mdbench_work", "mdbench_floor", "mdbench_import", "mdbench_import_floor"]
        func drop(_ name: String) throws { try admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        for name in names { try drop(name) }
        defer { for name in names { try? drop(name) } }
        return try pipeline(admin: admin, address: address, contacts: contacts, folder: folder, drop: drop)
            + importing(admin: admin, address: address, rows: contacts, folder: folder)
    }

    /// `address` with another database name.
    static func address(_ base: PostgresAddress, database: String) throws -> PostgresAddress {
        guard var parts = URLComponents(string: base.uri) else { throw DomainError("can't read \(base)") }
        parts.path = "/" + database
        return try PostgresAddress(parts.string ?? "")
    }

    /// `programs run` of "Orders" over `contacts` contacts (utility flow), each repeat on a fresh
    /// copy of one built database (`CREATE DATABASE … TEMPLATE`), beside psql copying the run's
    /// enrolment and send rows into an empty copy of the schema.
    static func pipeline(
        admin: PostgresConnection, address: PostgresAddress, contacts: Int, folder: URL, drop: (String) throws -> Void
    ) throws -> [Figure] {
        let utc = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
        try admin.execute("CREATE DATABASE mdbench_pristine")
        do {
            let pristine = try AppDatabase(postgres: try Self.address(address, database: "mdbench_pristine"), stateFolder: folder.path)
            try RunBench.populate(Workspace(database: pristine, calendar: utc), flow: "utility", contacts: contacts)
        }
        var ours: [Double] = []
        var floors: [Double] = []
        for _ in 0..<repeats {
            try drop("mdbench_work")
            try admin.execute("CREATE DATABASE mdbench_work TEMPLATE mdbench_pristine")
            let work = try Self.address(address, database: "mdbench_work")
            do {
                let database = try AppDatabase(postgres: work, stateFolder: folder.path)
                ours.append(try RunBench.run(flow: "utility", contacts: contacts, database: database))
            }
            // The floor: the rows the run left, out to files, then into an empty copy in one transaction.
            var script = "BEGIN;\n"
            for table in ["enrolment", "send"] {
                let file = folder.appendingPathComponent("pg-\(table).copy").path
                try psql(work, "\\copy \(table) TO '\(file)'")
                script += "\\copy \(table) FROM '\(file)'\n"
            }
            script += "COMMIT;\n"
            try drop("mdbench_floor")
            try admin.execute("CREATE DATABASE mdbench_floor TEMPLATE mdbench_pristine")
            let floor = try Self.address(address, database: "mdbench_floor")
            try psql(floor, "TRUNCATE send, enrolment CASCADE")
            floors.append(try timed { try psql(floor, script) })
        }
        let seconds = ours.sorted()[repeats / 2]
        let floor = floors.sorted()[repeats / 2]
        return [
            Figure(
                name: "PostgreSQL pipeline: programs run, utility (\(contacts) contacts)", median: Double(contacts) / seconds,
                worst: Double(contacts) / (ours.max() ?? seconds), unit: "/s", peer: Double(contacts) / floor, ratio: floor / seconds,
                target: "beside psql's \\copy of the same rows")
        ]
    }

    /// `contacts import` of `rows` new contacts (EMAIL and three fields) into an empty database,
    /// beside psql loading the same file into the same schema (a staging table, then the rows).
    static func importing(admin: PostgresConnection, address: PostgresAddress, rows: Int, folder: URL) throws -> [Figure] {
        let csv = folder.appendingPathComponent("pg-import.csv").path
        try ImportBench.writeCSV(rows: rows, to: csv)
        try admin.execute("CREATE DATABASE mdbench_import")
        try admin.execute("CREATE DATABASE mdbench_import_floor")
        let seconds: Double
        do {
            let database = try AppDatabase(postgres: try Self.address(address, database: "mdbench_import"), stateFolder: folder.path)
            let workspace = Workspace(database: database)
            seconds = try timed { _ = try workspace.contacts.importCSV(file: csv) }
        }
        let floorAddress = try Self.address(address, database: "mdbench_import_floor")
        _ = try AppDatabase(postgres: floorAddress, stateFolder: folder.path)
        try psql(floorAddress, "INSERT INTO data_field (name, kind) VALUES ('FIRSTNAME', 'text'), ('LASTNAME', 'text'), ('CITY', 'text')")
        let values = ["FIRSTNAME": "firstname", "LASTNAME": "lastname", "CITY": "city"].sorted { $0.key < $1.key }.map { field, column in
            """
            INSERT INTO contact_value (contact_id, field_id, value)
            SELECT c.id, f.id, s.\(column) FROM staging s JOIN contact c ON lower(c.email) = lower(s.email) JOIN data_field f ON f.name = '\(field)';
            """
        }
        let floor = try timed {
            try psql(
                floorAddress,
                """
                BEGIN;
                CREATE TEMP TABLE staging (email text, firstname text, lastname text, city text) ON COMMIT DROP;
                \\copy staging FROM '\(csv)' WITH (FORMAT csv, HEADER)
                INSERT INTO contact (email, created_at) SELECT email, 0 FROM staging;
                \(values.joined(separator: "\n"))
                COMMIT;
                """)
        }
        try? FileManager.default.removeItem(atPath: csv)
        return [
            Figure(
                name: "PostgreSQL import: \(rows) new contacts", median: seconds, worst: seconds, unit: "s", peer: floor,
                ratio: floor / seconds,
                target: "beside psql's \\copy and INSERT … SELECT")
        ]
    }

    static func timed(_ body: () throws -> Void) rethrows -> Double {
        let started = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// psql on `address` with `script` on its standard input, stopping at the first error.
    static func psql(_ address: PostgresAddress, _ script: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [address.uri, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        input.fileHandleForWriting.write(Data((script + "\n").utf8))
        try input.fileHandleForWriting.close()
        let failure = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DomainError("psql failed: " + String(decoding: failure, as: UTF8.self).prefix(200))
        }
    }
}
