import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// Files that come in (#26): a CSV's fields counted in characters in linear time, its columns and
/// the account's data fields capped, fields listed and deleted, JSON lines streamed in bounded
/// memory with a line's size capped, template names from the webhook made safe.
final class FilesInTests: StoreTestCase {
    private func csv(_ fieldBody: String) -> Data { Data("EMAIL,NOTE\r\na@example.com,\"\(fieldBody)\"\r\n".utf8) }

    func testAFieldOf65536CharactersOfAnyScriptIsAcceptedAndOneMoreIsRefusedQuickly() throws {
        for character in ["é", "中", "👍", "a"] {
            let started = Date()
            let rows = try CSV.parse(csv(String(repeating: character, count: CSV.maxFieldLength)))
            XCTAssertEqual(rows[1][1].unicodeScalars.count, CSV.maxFieldLength, character)
            XCTAssertThrowsError(try CSV.parse(csv(String(repeating: character, count: CSV.maxFieldLength + 1)))) { error in
                XCTAssertEqual("\(error)", "line 2: a field longer than 65536 characters", character)
            }
            // The check decoded the whole field again on every byte past the limit: 24 s for
            // 32,768 "é" in a debug build; linear, both parses take milliseconds.
            XCTAssertLessThan(Date().timeIntervalSince(started), 2, character)
        }
    }

    func testAFieldSplitAcrossPiecesInsideACharacterIsCountedInCharacters() throws {
        // 30,000 CJK characters are 90,000 bytes; fed a byte at a time, every split falls inside
        // a character at some point. The old check counted the bytes there.
        let data = csv(String(repeating: "東", count: 30_000))
        var reader = CSV.Reader()
        var rows: [[String]] = []
        for byte in data {
            try withUnsafeBytes(of: byte) { try reader.feed($0) { rows.append($0.fields) } }
        }
        try reader.finish { rows.append($0.fields) }
        XCTAssertEqual(rows.last?[1].count, 30_000)
    }

    func testAFileOfMoreThan500ColumnsIsRefusedOnItsHeaderAndMakesNoField() throws {
        let f = try Fixture()
        let ok = (1..<CSV.maxFieldsPerRow).map { "F\($0)" }
        XCTAssertEqual(try CSV.parse(Data(("EMAIL," + ok.joined(separator: ",") + "\n").utf8))[0].count, 500)
        let header = "EMAIL," + (1...CSV.maxFieldsPerRow).map { "F\($0)" }.joined(separator: ",")
        XCTAssertThrowsError(
            try f.workspace.contacts.importCSV(Data((header + "\na@example.com" + String(repeating: ",x", count: 500)).utf8))
        ) {
            XCTAssertEqual("\($0)", "line 1: more than 500 columns; a file may have at most 500")
        }
        XCTAssertEqual(try f.count("SELECT count(*) FROM data_field"), 0)
        XCTAssertEqual(try f.count("SELECT count(*) FROM contact"), 0)
    }

    func testAnAccountHasAtMost1000TextFieldsAndAFileOverItChangesNothing() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            for start in stride(from: 0, to: 990, by: 495) {
                let names = (start..<start + 495).map { "F\($0)" }
                try f.workspace.contacts.importCSV(Data(("EMAIL," + names.joined(separator: ",") + "\n").utf8))
            }
            try f.workspace.contacts.importCSV(Data(("EMAIL," + (990..<998).map { "F\($0)" }.joined(separator: ",") + "\n").utf8))
            XCTAssertEqual(try f.count("SELECT count(*) FROM data_field"), 998)
            let over = "EMAIL,F1,NEW1,NEW2,NEW3\nann@example.com,a,b,c,d\n"
            XCTAssertThrowsError(try f.workspace.contacts.importCSV(Data(over.utf8))) {
                XCTAssertEqual(
                    "\($0)",
                    "line 1: 3 new data fields would make 1001; an account may have at most 1000 (contacts fields delete NAME removes one)")
            }
            XCTAssertEqual(try f.count("SELECT count(*) FROM data_field"), 998)
            XCTAssertEqual(try f.count("SELECT count(*) FROM contact"), 0, "nothing written")
            try f.workspace.contacts.importCSV(Data("EMAIL,NEW1,NEW2\nann@example.com,a,b\n".utf8))
            XCTAssertEqual(try f.count("SELECT count(*) FROM data_field"), 1_000, "up to the limit is accepted")
            XCTAssertThrowsError(try f.workspace.contacts.ensureField("THIRD")) { XCTAssertTrue("\($0)".contains("at most 1000"), "\($0)") }
            XCTAssertNoThrow(try f.workspace.contacts.ensureField("NEW1"), "an existing field is no new one")
            // A profile's opt-in field is not a text field: a profile can still be made.
            try f.importPages()
            XCTAssertNoThrow(try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage))
        }
    }

    func testAFieldAMessageOrAProfileUsesCantBeDeletedAndAnUnusedOneGoesWithItsValues() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            try f.workspace.contacts.importCSV(Data("EMAIL,JUNK\nann@example.com,x\nbob@example.com,y\n".utf8))
            let uses = try f.workspace.contacts.fieldUses()
            XCTAssertEqual(uses.first { $0.field.name == "FIRSTNAME" }?.programs, ["Orders"])
            XCTAssertEqual(uses.first { $0.field.name == "FIRSTNAME" }?.contacts, 2)
            XCTAssertEqual(uses.first { $0.field.name == shop.summary.optInField }?.profile, "Shop")
            XCTAssertEqual(uses.first { $0.field.name == "JUNK" }?.programs, [])
            XCTAssertThrowsError(try f.workspace.contacts.deleteField("firstname")) {
                XCTAssertEqual("\($0)", #"FIRSTNAME is used by the message of program "Orders": change the message first"#)
            }
            XCTAssertThrowsError(try f.workspace.contacts.deleteField(shop.summary.optInField)) {
                XCTAssertTrue("\($0)".contains(#"is the opt-in field of profile "Shop""#), "\($0)")
            }
            XCTAssertThrowsError(try f.workspace.contacts.deleteField("NOPE")) { XCTAssertEqual("\($0)", #"no data field named "NOPE""#) }
            XCTAssertEqual(try f.count("SELECT count(*) FROM data_field WHERE name IN ('FIRSTNAME', ?)", [shop.summary.optInField]), 2)
            XCTAssertEqual(try f.workspace.contacts.deleteField("junk"), 2)
            XCTAssertEqual(try f.count("SELECT count(*) FROM data_field WHERE name = 'JUNK'"), 0)
            XCTAssertEqual(
                try f.count("SELECT count(*) FROM contact_value v LEFT JOIN data_field d ON d.id = v.field_id WHERE d.id IS NULL"), 0)
            // Once the message no longer names it, the approved template a run sends still does, until
            // the new version is approved; then the field can go.
            try f.workspace.programs.pause(name: "Orders")
            try f.workspace.programs.setUtilityNode(
                program: "Orders", profile: "Shop", message: "Order @ORDERNUMBER@ shipped.", acceptFlags: false)
            try f.database.transaction {
                try $0.exec("UPDATE message_template SET status = CASE version WHEN 1 THEN 'APPROVED' ELSE 'PENDING' END")
            }
            XCTAssertThrowsError(try f.workspace.contacts.deleteField("FIRSTNAME")) {
                XCTAssertEqual(
                    "\($0)",
                    #"FIRSTNAME is used by template orders_v1 of program "Orders", which runs send until a newer version is approved"#)
            }
            try f.database.transaction { try $0.exec("UPDATE message_template SET status = 'APPROVED' WHERE version = 2") }
            XCTAssertEqual(try f.workspace.contacts.deleteField("FIRSTNAME"), 2)
        }
    }

    func testTheEditorsExamplesComeFromOneBoundedQuery() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            var lines = ["EMAIL,CITY,LONG,NOTE"]
            for i in 0..<60 { lines.append("c\(i)@example.com,Berlin,\(String(repeating: "a", count: 101)),\"two\nlines\"") }
            lines.append("late@example.com,,b short,one line")
            try f.workspace.contacts.importCSV(Data((lines.joined(separator: "\n") + "\n").utf8))
            let examples = try f.database.snapshot { try TemplateService.examples($0) }
            XCTAssertEqual(examples["CITY"], "Berlin")
            // Each field looks at 50 of its values, not all: the 61st, a short one, is not reached.
            XCTAssertNil(examples["LONG"])
            XCTAssertEqual(examples["NOTE"], "one line", "values sort before a newline's: found within the 50")
            XCTAssertEqual(try f.database.snapshot { try TemplateService.examples($0, fields: ["CITY"]) }, ["CITY": "Berlin"])
            XCTAssertEqual(try f.database.snapshot { try TemplateService.examples($0, fields: []) }, [:])
        }
    }

    func testLinesAreSplitAcrossPiecesAndALongOneIsRefusedWithItsNumber() throws {
        func lines(_ pieces: [String], max: Int = 10) throws -> [String] {
            var queue = pieces.map { Data($0.utf8) }
            var out: [String] = []
            let next = { queue.isEmpty ? nil : queue.removeFirst() }
            try LineSplitter.forEachLine(chunks: next, maxBytes: max) { n, line in
                out.append("\(n):\(String(decoding: line, as: UTF8.self))")
            }
            return out
        }
        XCTAssertEqual(try lines(["ab", "c\nd", "\n\nef"]), ["1:abc", "2:d", "3:", "4:ef"])
        XCTAssertEqual(try lines(["0123456789\n"]), ["1:0123456789"], "a line of the limit exactly")
        XCTAssertThrowsError(try lines(["ok\n", "01234", "567890"])) {
            XCTAssertEqual("\($0)", "line 2: longer than 10 bytes, the most a line may be")
        }
        XCTAssertThrowsError(try lines(["ok\n012345678901\n"])) { XCTAssertTrue("\($0)".hasPrefix("line 2: longer"), "\($0)") }
    }

    func testIngestingAFileStreamsItInBatchesAndAnyBadLineKeepsNothing() throws {
        let f = try Fixture()
        let shop = try f.standardSetup()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("in-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // 2,500 events, over two batches of 1,000: one known contact first, the rest unknown.
        var lines = [f.optinLine(psid: "psid-cat", email: "cat@example.com")]
        for i in 0..<2_499 { lines.append(f.optinLine(psid: "p\(i)", email: "nobody\(i)@example.com")) }
        let good = folder + "/good.jsonl"
        try Data((lines.joined(separator: "\r\n") + "\n").utf8).write(to: URL(fileURLWithPath: good))
        let bad = folder + "/bad.jsonl"
        try Data((lines.joined(separator: "\n") + "\n{\"object\":\"page\",\"entry\":[{\"id\":\"1001\"\n").utf8).write(
            to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try f.workspace.optIns.ingest(file: bad)) { XCTAssertTrue("\($0)".hasPrefix("line 2501: "), "\($0)") }
        let field = shop.summary.optInField
        let catValue =
            "SELECT count(*) FROM contact_value v JOIN contact c ON c.id = v.contact_id JOIN data_field d ON d.id = v.field_id WHERE c.email = 'cat@example.com' AND d.name = ?"
        XCTAssertEqual(try f.count(catValue, [field]), 0, "the first batch, already applied, was rolled back")
        let r = try f.workspace.optIns.ingest(file: good)
        XCTAssertEqual(r.optedIn, 1)
        XCTAssertEqual(r.unknownContactCount, 2_499)
        XCTAssertEqual(r.unknownContacts, (0..<10).map { "nobody\($0)@example.com" }, "the first ten are kept, not all")
        XCTAssertEqual(try f.count(catValue, [field]), 1)
        // Receipts the same way: a line over 1 MiB is refused with its number before it is read whole.
        let long = folder + "/long.jsonl"
        try Data((f.deliveryLine(psid: "psid-ann", watermark: 1) + "\n" + String(repeating: " ", count: 2 << 20) + "\n").utf8).write(
            to: URL(fileURLWithPath: long))
        XCTAssertThrowsError(try f.workspace.receipts.ingest(file: long)) {
            XCTAssertEqual("\($0)", "line 2: longer than 1048576 bytes (1 MiB), the most a line may be")
        }
        XCTAssertThrowsError(try f.workspace.receipts.ingest(file: folder + "/none.jsonl")) {
            XCTAssertTrue("\($0)".hasPrefix("no such file"))
        }
    }

    func testATemplateNameOrLanguageFromTheWebhookIsMadeSafe() throws {
        let body = #"""
            {"object":"page","entry":[{"id":"1001","time":1,"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_name":"x\u001b]52;c;AAAA\u0007\u202e","message_template_language":"en\nUS"}}]}]}
            """#
        let events = try WebhookPayload.parse(body: Data(body.utf8))
        guard case .templateStatus(_, _, let name, let language, _, _, _) = events.first else { return XCTFail("\(events)") }
        XCTAssertFalse(name.unicodeScalars.contains { $0.value < 0x20 || (0x202A...0x202E).contains($0.value) }, name)
        XCTAssertEqual(language, "en\\u{A}US")
    }
}
