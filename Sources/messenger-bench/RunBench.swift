import Foundation
import MessengerCore

// The pipeline as the command line runs it (#29): `programs run` of a program over a fresh
// database of N contacts (70% opted in), sandbox transport, answer journal on, in the utility
// flow and in the tag flow (on a day before the tags' retirement, as `MESSENGER_DASH_NOW` pins
// it), beside the floor: the sqlite3 tool inserting the same enrolment and send rows into the
// same schema, in one transaction.
enum RunBench {
    /// The share of the floor below which `make test`'s quick bench fails (50,000 contacts, the
    /// median of three runs beside three floors): the JSON journal's regression (1.7 times the
    /// time) falls under it; this machine's noise (0.83–1.18 of the floor) doesn't.
    static let quickShare = 0.6
    static let repeats = 3

    static func figures(contacts: Int, folder: URL, quick: Bool) throws -> [Figure] {
        var figures: [Figure] = []
        for flow in ["utility", "tag"] {
            let pristine = folder.appendingPathComponent("run-\(flow)-pristine.db").path
            let work = folder.appendingPathComponent("run-\(flow).db").path
            try build(flow: flow, contacts: contacts, into: pristine)
            var ours: [Double] = []
            var floors: [Double] = []
            // Interleaved, so the machine's noise falls on both.
            for _ in 0..<repeats {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: work + suffix) }
                try FileManager.default.copyItem(atPath: pristine, toPath: work)
                ours.append(try run(flow: flow, contacts: contacts, path: work))
                floors.append(try floorSeconds(of: work, tables: ["enrolment", "send"], folder: folder))
            }
            let seconds = ours.sorted()[repeats / 2]
            let floor = floors.sorted()[repeats / 2]
            let ratio = floor / seconds
            let share = quick ? quickShare : 0.8
            figures.append(
                Figure(
                    name: "pipeline: programs run, \(flow) (\(contacts) contacts)", median: Double(contacts) / seconds,
                    worst: Double(contacts) / (ours.max() ?? seconds), unit: "/s", peer: Double(contacts) / floor, ratio: ratio,
                    target: "≥ \(String(format: "%.2f", share)) of the floor", met: ratio >= share))
            for path in [pristine, work] {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        }
        return figures
    }

    static func clock(_ flow: String) throws -> any Clock {
        // The tag flow on a day before Meta retired the tags, as a test of the older flow pins it.
        flow == "tag" ? try PinnedNow.clock([PinnedNow.variable: "2026-04-01T10:00:00Z"]) : SystemClock()
    }

    /// A fresh database of `contacts` (70% opted in) and an active program, written whole to `path`.
    static func build(flow: String, contacts: Int, into path: String) throws {
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
        let scratch = path + ".build"
        let database = try AppDatabase(path: scratch, mode: .createIfMissing)
        try populate(Workspace(database: database, clock: try clock(flow), calendar: calendar), flow: flow, contacts: contacts)
        try sqlite3(scratch, "VACUUM INTO '\(path)';")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratch + suffix) }
    }

    /// The page, the profile, `contacts` contacts (70% opted in) and the active program "Orders",
    /// on either engine.
    static func populate(_ workspace: Workspace, flow: String, contacts: Int) throws {
        try workspace.pages.importAccounts(
            Data(#"{"data":[{"id":"3001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"T"}]}"#.utf8))
        let field = try workspace.profiles.create(name: "Shop", pageID: "3001").summary.optInField
        var csv = "EMAIL,FIRSTNAME,ORDERNUMBER,\(field)\n"
        for i in 0..<contacts { csv += "c\(i)@example.com,N\(i),A-\(i),\(i % 10 < 7 ? String(1_000_000_000_007 + i * 10) : "")\n" }
        _ = try workspace.contacts.importCSV(Data(csv.utf8))
        try workspace.programs.create(name: "Orders")
        let message = "Hi @FIRSTNAME@, your order @ORDERNUMBER@ has shipped."
        if flow == "tag" {
            _ = try workspace.programs.setNode(
                program: "Orders", profile: "Shop", tag: "Post_purchase_update", message: message, acceptFlags: false)
        } else {
            _ = try workspace.programs.setUtilityNode(program: "Orders", profile: "Shop", message: message, acceptFlags: false)
        }
        try workspace.programs.activate(name: "Orders")
    }

    /// Times `programs run` alone, on the database at `path`, as the command line runs it.
    static func run(flow: String, contacts: Int, path: String) throws -> Double {
        try run(flow: flow, contacts: contacts, database: try AppDatabase(path: path, mode: .mustExist))
    }

    static func run(flow: String, contacts: Int, database: AppDatabase) throws -> Double {
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
        let workspace = Workspace(database: database, clock: try clock(flow), calendar: calendar)
        let started = DispatchTime.now().uptimeNanoseconds
        let summary = try ProgramRunner(workspace: workspace).run(program: "Orders")
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        guard summary.processed == contacts, summary.sent > 0 else { throw DomainError("the \(flow) run processed \(summary.processed)") }
        return seconds
    }

    /// The sqlite3 tool inserting the rows of `tables` (every column) into an empty copy of their
    /// schema and indexes, at synchronous=NORMAL in one transaction: what writing them costs at
    /// the least. The pipeline figures' floor, for `programs run` and for the demo.
    static func floorSeconds(of path: String, tables: [String], folder: URL) throws -> Double {
        let floorDB = folder.appendingPathComponent("run-floor.db").path
        try? FileManager.default.removeItem(atPath: floorDB)
        defer { try? FileManager.default.removeItem(atPath: floorDB) }
        var script = "PRAGMA synchronous = NORMAL;\nBEGIN;\n"
        for table in tables {
            let columns = try sqlite3(path, "SELECT group_concat(name, ', ') FROM pragma_table_info('\(table)');", output: "pipe")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let csv = folder.appendingPathComponent("run-\(table).csv").path
            try sqlite3(path, ".mode csv\n.headers off\nSELECT \(columns) FROM \(table);\n", output: csv)
            // .import reads every cell as text: NULLIF puts back the NULLs the partial indexes need.
            let restore = columns.split(separator: ",").map { "NULLIF(\($0.trimmingCharacters(in: .whitespaces)), '')" }
                .joined(separator: ", ")
            script += "CREATE TEMP TABLE staging_\(table) (\(columns));\n.import --csv \(csv) staging_\(table)\n"
            script += "INSERT INTO \(table) (\(columns)) SELECT \(restore) FROM staging_\(table);\n"
        }
        script += "COMMIT;\n"
        let schema = try sqlite3(path, tables.map { ".schema \($0)" }.joined(separator: "\n"), output: "pipe")
        try sqlite3(floorDB, "PRAGMA journal_mode = WAL;\nPRAGMA foreign_keys = OFF;\n" + schema)
        let started = DispatchTime.now().uptimeNanoseconds
        try sqlite3(floorDB, script)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        for table in tables {
            try? FileManager.default.removeItem(atPath: folder.appendingPathComponent("run-\(table).csv").path)
        }
        return seconds
    }
}
