import Foundation
import MessengerCore

// The import section of `make bench`: a CSV of `contacts` rows (EMAIL and three fields) imported
// new and then again (every row an update), each in a fresh child process so its peak memory is
// the import's own, beside the sqlite3 tool loading the same rows into the same schema.

/// `messenger-bench --import-csv FILE --db DB`: imports and prints "seconds peakMB".
func runImportChild(file: String, database: String) throws -> Never {
    let db = try AppDatabase(path: database, mode: .mustExist)
    let workspace = Workspace(database: db)
    let started = DispatchTime.now().uptimeNanoseconds
    try workspace.contacts.importCSV(file: file)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    FileHandle.standardOutput.write(Data("\(seconds) \(peakResidentMB())\n".utf8))
    exit(0)
}

enum ImportBench {
    /// The import's file: `rows` new contacts with EMAIL and three fields (either engine's bench).
    static func writeCSV(rows: Int, to path: String) throws {
        var text = "EMAIL,FIRSTNAME,LASTNAME,CITY\n"
        text.reserveCapacity(rows * 60)
        for i in 0..<rows { text += "person.\(i)@example.com,First\(i % 997),Last\(i % 1231),City\(i % 313)\n" }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    static func figures(rows: Int, folder: URL) throws -> [Figure] {
        let csv = folder.appendingPathComponent("import.csv").path
        try writeCSV(rows: rows, to: csv)
        // An empty database of this schema for us, a copy for the floor.
        let ours = folder.appendingPathComponent("import.db").path
        let floor = folder.appendingPathComponent("import-floor.db").path
        _ = try AppDatabase(path: ours, mode: .createIfMissing)
        try FileManager.default.copyItem(atPath: ours, toPath: floor)

        func child() throws -> (seconds: Double, peak: Double) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = ["--import-csv", csv, "--db", ours]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let parts = out.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard process.terminationStatus == 0, parts.count == 2 else { throw DomainError("the import failed: \(out)") }
            return (parts[0], parts[1])
        }
        let new = try child()
        let again = try child()

        try sqlite3(floor, "INSERT INTO data_field (name, kind) VALUES ('FIRSTNAME', 'text'), ('LASTNAME', 'text'), ('CITY', 'text');")
        let started = DispatchTime.now().uptimeNanoseconds
        try sqlite3(
            floor,
            """
            PRAGMA journal_mode = WAL;
            CREATE TEMP TABLE staging (email, firstname, lastname, city);
            BEGIN;
            .mode csv
            .import --skip 1 \(csv) staging
            INSERT INTO contact (email, created_at) SELECT email, 0 FROM staging;
            INSERT INTO contact_value (contact_id, field_id, value) SELECT c.id, f.id, s.firstname FROM staging s JOIN contact c ON c.email = s.email JOIN data_field f ON f.name = 'FIRSTNAME';
            INSERT INTO contact_value (contact_id, field_id, value) SELECT c.id, f.id, s.lastname FROM staging s JOIN contact c ON c.email = s.email JOIN data_field f ON f.name = 'LASTNAME';
            INSERT INTO contact_value (contact_id, field_id, value) SELECT c.id, f.id, s.city FROM staging s JOIN contact c ON c.email = s.email JOIN data_field f ON f.name = 'CITY';
            COMMIT;
            """)
        let floorSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let size = (try? FileManager.default.attributesOfItem(atPath: csv)[.size] as? Int) ?? 0
        return [
            Figure(
                name: "import: \(rows) contacts, new (\(size / 1_000_000) MB CSV)", median: new.seconds, worst: new.seconds, unit: "s",
                peer: floorSeconds, ratio: floorSeconds / new.seconds, target: "≥ 0.8 of the sqlite3 floor (#29)",
                met: floorSeconds / new.seconds >= 0.8),
            Figure(
                name: "import: the same file again (all updates)", median: again.seconds, worst: again.seconds, unit: "s",
                peer: floorSeconds, ratio: floorSeconds / again.seconds, target: "≥ 0.8 of the floor",
                met: floorSeconds / again.seconds >= 0.8),
            Figure(
                name: "import: peak resident size", median: max(new.peak, again.peak), worst: max(new.peak, again.peak), unit: "MB",
                target: "≤ 64 MB whatever the file's size", met: max(new.peak, again.peak) <= 64),
        ]
    }
}
