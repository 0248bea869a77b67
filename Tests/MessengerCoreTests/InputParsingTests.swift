import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// The readers of outside input: CSV, webhook JSON, settings, days; and the store's safety.
final class InputParsingTests: XCTestCase {
    func testCSVFollowsRFC4180() throws {
        let rows = try CSV.parse(Data("\u{FEFF}a,\"b,c\",\"d\"\"e\"\r\n\"multi\nline\",,x\n".utf8))
        XCTAssertEqual(rows, [["a", "b,c", "d\"e"], ["multi\nline", "", "x"]])
        XCTAssertEqual(try CSV.parse(Data("x,y".utf8)), [["x", "y"]])
        XCTAssertEqual(CSV.line(["a", "b,c", "q\""]), "a,\"b,c\",\"q\"\"\"\r\n")
        XCTAssertThrowsError(try CSV.parse(Data("\"open".utf8)))
        XCTAssertThrowsError(try CSV.parse(Data("a\"b".utf8)))
        XCTAssertThrowsError(try CSV.parse(Data("\"a\"b".utf8)))
        XCTAssertThrowsError(try CSV.parse(Data((String(repeating: "z", count: CSV.maxFieldLength + 1)).utf8)))
    }

    func testWebhookParsingIsStrict() throws {
        let ok =
            #"{"object":"page","entry":[{"id":"1","time":5,"messaging":[{"sender":{"id":"p"},"recipient":{"id":"1"},"timestamp":5,"read":{"watermark":4}}]}]}"#
        XCTAssertEqual(try WebhookPayload.parse(body: Data(ok.utf8)), [.read(pageID: "1", psid: "p", watermark: 4, timestamp: 5)])
        for bad in [
            "[]", #"{"object":"page","entry":{}}"#, #"{"entry":[]}"#,
            #"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"p"},"recipient":{"id":"2"},"timestamp":5,"read":{"watermark":4}}]}]}"#,
            #"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"p"},"recipient":{"id":"1"},"timestamp":"5","read":{"watermark":4}}]}]}"#,
            #"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"p"},"recipient":{"id":"1"},"timestamp":5,"read":{"watermark":true}}]}]}"#,
        ] {
            XCTAssertThrowsError(try WebhookPayload.parse(body: Data(bad.utf8)), bad)
        }
        XCTAssertThrowsError(try WebhookPayload.parse(body: Data(count: WebhookPayload.maxBodyBytes + 1)))
        // Another product's object on the same app is not an error: skipped.
        XCTAssertEqual(
            try WebhookPayload.parseCounted(body: Data(#"{"object":"instagram","entry":[{"id":"1"}]}"#.utf8)),
            WebhookPayload.Parsed(events: [], skipped: 1))
    }

    func testDaysParseOnlyRealDates() {
        let c = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
        XCTAssertEqual(c.parseDay("1970-01-02"), DayNumber(1))
        XCTAssertEqual(c.string(for: c.parseDay("2024-02-29")!), "2024-02-29")
        for bad in ["2025-02-29", "2026-13-01", "26-11-25", "2026-1-5", "today", ""] {
            XCTAssertNil(c.parseDay(bad), bad)
        }
        XCTAssertEqual(c.day(ofMillis: -1), DayNumber(-1), "instants before 1970 floor to the earlier day")
    }

    func testSettingsFromFileThenEnvironment() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("config.toml").path
        try "theme = \"light\"\ntimezone = \"Asia/Tokyo\"\nmouse = true\n".write(toFile: file, atomically: true, encoding: .utf8)
        var s = try Settings.load(configPath: file, environment: [:])
        XCTAssertEqual(s.theme, "light")
        XCTAssertEqual(s.timeZone.identifier, "Asia/Tokyo")
        XCTAssertTrue(s.mouse)
        s = try Settings.load(configPath: file, environment: ["MESSENGER_DASH_TZ": "Europe/Paris", "MESSENGER_DASH_THEME": "dark"])
        XCTAssertEqual(s.timeZone.identifier, "Europe/Paris")
        XCTAssertEqual(s.theme, "dark")
        XCTAssertThrowsError(try Settings.load(configPath: file, environment: ["MESSENGER_DASH_TZ": "Mars/Olympus"]))
        try "theme = \"light\"\nfacebook = \"myspace\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Settings.load(configPath: file, environment: [:]))
        try "theme = \n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Settings.load(configPath: file, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("config.toml:1"), "\(error)")
        }
    }

    /// #24: the Meta app's settings: files named in config.toml or the environment, each missing
    /// one named with where Meta's App Dashboard shows it.
    func testTheAppsSecretsComeFromFilesAndAMissingOneSaysWhereMetaShowsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("config.toml").path
        let secret = dir.appendingPathComponent("secret").path
        let client = dir.appendingPathComponent("client").path
        try "s3cr3t-from-meta\n".write(toFile: secret, atomically: true, encoding: .utf8)
        try "client-token\n".write(toFile: client, atomically: true, encoding: .utf8)
        try "app_id = \"123\"\napp_secret_file = \"\(secret)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        var settings = try Settings.load(configPath: config, environment: [:])
        var app = try AppCredentials.load(settings: settings)
        XCTAssertEqual(app, AppCredentials(appID: "123", appSecret: "s3cr3t-from-meta"))
        XCTAssertThrowsError(try app.requireClientToken(for: "logging in")) { error in
            XCTAssertTrue("\(error)".contains("Advanced › Security › Client token"), "\(error)")
        }
        settings = try Settings.load(
            configPath: config, environment: ["MESSENGER_DASH_APP_ID": "456", "MESSENGER_DASH_CLIENT_TOKEN_FILE": client])
        app = try AppCredentials.load(settings: settings)
        XCTAssertEqual(app, AppCredentials(appID: "456", appSecret: "s3cr3t-from-meta", clientToken: "client-token"))
        XCTAssertThrowsError(try AppCredentials(appID: "1").requireSecret(for: "the webhook")) { error in
            XCTAssertTrue("\(error)".contains("App settings › Basic › App secret"), "\(error)")
            XCTAssertTrue("\(error)".contains("app_secret_file"), "\(error)")
        }
        // A file that isn't one line of printable ASCII, or isn't there, is one line naming it.
        try "two words\n".write(toFile: secret, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try AppCredentials.load(settings: settings)) { error in
            XCTAssertTrue("\(error)".contains(secret), "\(error)")
        }
        XCTAssertThrowsError(try AppCredentials.load(settings: settings, appSecretFile: dir.appendingPathComponent("absent").path))
        XCTAssertEqual(
            AppCredentials.proof(token: "abc", secret: "key"), "9c196e32dc0175f86f4b1cb89289d6619de6bee699e4c378e68309ed97a1a6ab")
    }

    func testDatabaseRefusesMissingFoldersCorruptFilesAndNewerVersions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        XCTAssertThrowsError(try AppDatabase(path: dir.appendingPathComponent("no/such/x.db").path, mode: .createIfMissing))
        XCTAssertThrowsError(try AppDatabase(path: dir.appendingPathComponent("absent.db").path, mode: .mustExist))
        let junk = dir.appendingPathComponent("junk.db").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try AppDatabase(path: junk, mode: .mustExist)) { error in
            XCTAssertTrue("\(error)".contains("not a messenger-dash database"), "\(error)")
        }
        let newer = dir.appendingPathComponent("newer.db").path
        let db = try AppDatabase(path: newer, mode: .createIfMissing)
        try db.writer.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99-future')") }
        XCTAssertThrowsError(try AppDatabase(path: newer, mode: .mustExist)) { error in
            XCTAssertTrue("\(error)".contains("newer"), "\(error)")
        }
    }

    func testNoSQLIsBuiltFromUserInput() throws {
        // Every SQL string in the store is a literal; interpolation is allowed only for the few
        // shapes that come from code (index names, a template's field count), listed here.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources/MessengerCore")
        let files = FileManager.default.enumerator(atPath: sources.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        XCTAssertFalse(files.isEmpty)
        let allowed = [
            "\\(columns)", "\\(joins)", "\\(index)", "\\(condition)", "\\(keyset)", "\\(i)", "\\(filter)", "\\(order)", "\\(condition.sql)",
        ]
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            var inSQL = false
            for line in text.components(separatedBy: "\n") {
                let opens = line.contains("sql: \"")
                if opens || inSQL, line.contains("\\(") {
                    var stripped = line
                    for a in allowed { stripped = stripped.replacingOccurrences(of: a, with: "") }
                    XCTAssertFalse(stripped.contains("\\("), "\(file): interpolation in SQL: \(line)")
                }
                if opens && line.contains("sql: \"\"\"") {
                    inSQL = true
                } else if inSQL && line.trimmingCharacters(in: .whitespaces).hasPrefix("\"\"\"") {
                    inSQL = false
                }
            }
        }
    }
}

final class TimestampTests: XCTestCase {
    func testTimestampsAreLocalWithTheirOffset() {
        let ms = Int64(1_764_063_000_000)  // 2025-11-25T09:30:00Z
        XCTAssertEqual(AccountCalendar(timeZone: TimeZone(identifier: "UTC")!).timestamp(ofMillis: ms), "2025-11-25T09:30:00Z")
        XCTAssertEqual(
            AccountCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!).timestamp(ofMillis: ms), "2025-11-25T10:30:00+01:00")
        XCTAssertEqual(
            AccountCalendar(timeZone: TimeZone(identifier: "America/New_York")!).timestamp(ofMillis: ms), "2025-11-25T04:30:00-05:00")
        XCTAssertEqual(
            AccountCalendar(timeZone: TimeZone(identifier: "Asia/Kolkata")!).timestamp(ofMillis: ms), "2025-11-25T15:00:00+05:30")
        XCTAssertEqual(
            AccountCalendar(timeZone: TimeZone(identifier: "Pacific/Kiritimati")!).timestamp(ofMillis: ms), "2025-11-25T23:30:00+14:00")
    }
}

final class InputFileTests: XCTestCase {
    func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("input-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func testPipesDevicesFoldersAndOversizedFilesAreRefusedBeforeReading() throws {
        let dir = try folder()
        let fifo = dir + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Reading a FIFO nobody writes to would block forever: the refusal comes first.
        XCTAssertThrowsError(try InputFile.read(fifo)) { XCTAssertTrue("\($0)".contains("pipe (FIFO)"), "\($0)") }
        XCTAssertThrowsError(try InputFile.read("/dev/zero")) { XCTAssertTrue("\($0)".contains("a device"), "\($0)") }
        XCTAssertThrowsError(try InputFile.read(dir)) { XCTAssertTrue("\($0)".contains("a folder"), "\($0)") }
        XCTAssertThrowsError(try InputFile.read(dir + "/missing")) { XCTAssertTrue("\($0)".contains("no such file"), "\($0)") }
        // A sparse 1 GiB file: its size is read from the file system, not by reading it.
        let big = dir + "/big.csv"
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: nil))
        XCTAssertEqual(truncate(big, 1 << 30), 0)
        XCTAssertThrowsError(try InputFile.read(big, limit: 1 << 20)) { XCTAssertTrue("\($0)".contains("1073741824 bytes"), "\($0)") }
        let small = dir + "/small.csv"
        XCTAssertTrue(FileManager.default.createFile(atPath: small, contents: Data("EMAIL\n".utf8)))
        XCTAssertEqual(try InputFile.read(small), Data("EMAIL\n".utf8))
        let link = dir + "/link.csv"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: small)
        XCTAssertEqual(try InputFile.read(link), Data("EMAIL\n".utf8), "a symbolic link to a file is read")
    }

    /// csv-spectrum's `newlines_crlf`: a quoted CRLF is data and is kept byte for byte.
    func testACRLFInsideAQuotedValueIsKeptAsGiven() throws {
        let rows = try CSV.parse(Data("a,b,c\r\n1,2,3\r\n\"Once upon \r\na time\",5,6\r\n7,8,9\r\n".utf8))
        XCTAssertEqual(rows, [["a", "b", "c"], ["1", "2", "3"], ["Once upon \r\na time", "5", "6"], ["7", "8", "9"]])
        let f = try Fixture()
        try f.workspace.contacts.importCSV(Data("EMAIL,NOTE\r\nann@example.com,\"line one\r\nline two\"\r\n".utf8))
        let stored = try f.database.writer.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM contact_value JOIN data_field ON data_field.id = field_id WHERE name = 'NOTE'")
        }
        XCTAssertEqual(stored.map { Array($0.utf8) }, Array("line one\r\nline two".utf8))
        XCTAssertThrowsError(
            try f.workspace.contacts.importCSV(Data("EMAIL,NOTE\r\nbob@example.com,\"bell\u{07}\"\r\n".utf8)),
            "other control characters are still refused")
    }
}

final class StreamingImportTests: StoreTestCase {
    /// The reader gives the same rows however the bytes are cut, a BOM or a CRLF split included.
    func testTheReaderGivesTheSameRowsWhateverThePieces() throws {
        let text = "\u{FEFF}EMAIL,NOTE\r\nann@example.com,\"two\r\nlines, \"\"quoted\"\"\"\r\nbob@example.com,é\r\n"
        let whole = try CSV.parse(Data(text.utf8))
        XCTAssertEqual(whole, [["EMAIL", "NOTE"], ["ann@example.com", "two\r\nlines, \"quoted\""], ["bob@example.com", "é"]])
        for size in [1, 2, 3, 7] {
            var reader = CSV.Reader()
            var rows: [[String]] = []
            var lines: [Int] = []
            let bytes = Array(text.utf8)
            for start in stride(from: 0, to: bytes.count, by: size) {
                try bytes[start..<min(bytes.count, start + size)].withUnsafeBytes {
                    try reader.feed($0) {
                        rows.append($0.fields)
                        lines.append($0.line)
                    }
                }
            }
            try reader.finish {
                rows.append($0.fields)
                lines.append($0.line)
            }
            XCTAssertEqual(rows, whole, "pieces of \(size)")
            XCTAssertEqual(lines, [1, 2, 4], "each row's first line")
        }
    }

    /// On both engines: SQLite a row at a time, PostgreSQL staged by COPY (#30).
    func testAFileIsImportedAPieceAtATimeAndABadLineAtTheEndChangesNothing() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var text = "EMAIL,CITY\n"
            for i in 0..<120_000 { text += "c\(i)@example.com,City\(i % 7)\n" }
            let good = dir + "/good.csv"
            try text.write(toFile: good, atomically: false, encoding: .utf8)
            var reports: [ImportProgress] = []
            let result = try f.workspace.contacts.importCSV(file: good) { reports.append($0) }
            XCTAssertEqual(result.created, 120_000)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM contact_value"), 120_000)
            XCTAssertGreaterThanOrEqual(reports.count, 2, "progress as it goes")
            XCTAssertEqual(reports.last?.bytes, reports.last?.totalBytes)

            // A duplicate email 100,000 lines after its first appearance, and a new field: nothing changes.
            let before = try f.count("SELECT COUNT(*) FROM contact") + 1000 * (try f.count("SELECT COUNT(*) FROM data_field"))
            let bad = dir + "/bad.csv"
            var badText = "EMAIL,COUNTRY\n"
            for i in 0..<100_001 { badText += "n\(i)@example.com,X\n" }
            badText += "n5@example.com,Y\n"
            try badText.write(toFile: bad, atomically: false, encoding: .utf8)
            XCTAssertThrowsError(try f.workspace.contacts.importCSV(file: bad)) { error in
                XCTAssertEqual("\(error)", "line 100003: email \"n5@example.com\" already appears on line 7")
            }
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM contact") + 1000 * (try f.count("SELECT COUNT(*) FROM data_field")), before)
            // The same emails in another case are the same contacts: a duplicate too.
            let cased = dir + "/cased.csv"
            try "EMAIL\nAnn@Example.com\nann@example.COM\n".write(toFile: cased, atomically: false, encoding: .utf8)
            XCTAssertThrowsError(try f.workspace.contacts.importCSV(file: cased)) {
                XCTAssertTrue("\($0)".contains("already appears on line 2"), "\($0)")
            }
            // A contact already stored, twice in a file of updates (#29: found by its id's line).
            let again = dir + "/again.csv"
            try "EMAIL,CITY\nc7@example.com,A\nc8@example.com,B\nc7@example.com,C\n".write(
                toFile: again, atomically: false, encoding: .utf8)
            XCTAssertThrowsError(try f.workspace.contacts.importCSV(file: again)) {
                XCTAssertEqual("\($0)", "line 4: email \"c7@example.com\" already appears on line 2")
            }
        }
    }

    func testAnImportUpdatesWhatIsStoredAndKeepsEveryValueAsWritten() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let tricky = "tab\there\\back \\N \r\nnext"
            let first = try f.workspace.contacts.importCSV(
                Data("EMAIL,CITY,NOTE\nzed@example.com,Köln,\"\(tricky)\"\nyan@example.com,Bonn,\n".utf8))
            XCTAssertEqual(first.created, 2)
            XCTAssertEqual(first.updated, 0)
            XCTAssertEqual(
                try f.count("SELECT count(*) FROM contact_value v JOIN contact c ON c.id = v.contact_id WHERE c.email = 'yan@example.com'"),
                1, "an empty value is not set")
            // Another case of a stored email is that contact; a value is replaced, the others kept.
            let second = try f.workspace.contacts.importCSV(Data("EMAIL,CITY\nZED@example.com,Berlin\nxi@example.com,Essen\n".utf8))
            XCTAssertEqual(second.created, 1)
            XCTAssertEqual(second.updated, 1)
            let values = try database.snapshot { db in
                try db.rows(
                    """
                    SELECT c.email, f.name, v.value FROM contact_value v JOIN contact c ON c.id = v.contact_id
                    JOIN data_field f ON f.id = v.field_id WHERE c.email IN ('zed@example.com', 'xi@example.com') ORDER BY c.email, f.name
                    """
                ).map { "\($0.at(0) as String) \($0.at(1) as String)=\($0.at(2) as String)" }
            }
            XCTAssertEqual(values, ["xi@example.com CITY=Essen", "zed@example.com CITY=Berlin", "zed@example.com NOTE=\(tricky)"])
            // New contacts take ids in the file's order.
            let order = try database.snapshot { db in try db.values(String.self, "SELECT email FROM contact ORDER BY id") }
            XCTAssertEqual(Array(order.suffix(3)), ["zed@example.com", "yan@example.com", "xi@example.com"])
        }
    }

    func testSeenLinesKeepTheFirstLineOfEachIdNearOrFar() {
        var seen = SeenLines()
        XCTAssertNil(seen.mark(5, line: 2))
        XCTAssertNil(seen.mark(1_000_000, line: 3), "the array grows to the id")
        XCTAssertNil(seen.mark(SeenLines.arrayLimit + 7, line: 4), "an id beyond the array goes to the dictionary")
        XCTAssertEqual(seen.mark(5, line: 9), 2)
        XCTAssertEqual(seen.mark(1_000_000, line: 10), 3)
        XCTAssertEqual(seen.mark(SeenLines.arrayLimit + 7, line: 11), 4)
        XCTAssertNil(seen.mark(6, line: 12))
    }
}
