import Foundation
import GRDB
import XCTest

@testable import MessengerCore

/// #28: warnings by stable codes, and migration v12, which gave the rows written before codes
/// theirs.
final class WarningReasonTests: XCTestCase {
    /// #28: the ledger is the one writer of what was sent. No other file of MessengerCore, the
    /// dashboard or the CLI writes `send`, `send_attempt`, `daily_stat` or `suppression` (the
    /// schema's migrations and the ledger's `Rollup` aside).
    func testOnlyTheLedgerWritesWhatWasSent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let allowed: Set<String> = ["Sending/SendLedger.swift", "Store/Schema.swift", "Store/Rollup.swift"]
        let writes = try NSRegularExpression(
            pattern: #"(INSERT (OR \w+ )?INTO|UPDATE|DELETE FROM)\s+(send|send_attempt|daily_stat|suppression)\b"#,
            options: [.caseInsensitive])
        var checked = 0
        for module in ["MessengerCore", "Dashboard", "messenger-dash", "WebhookServer"] {
            let folder = root.appendingPathComponent("Sources/\(module)")
            let files = FileManager.default.enumerator(atPath: folder.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
            for file in files where !allowed.contains(file) {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                checked += 1
                let found = writes.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
                XCTAssertNil(found, "\(module)/\(file) writes what was sent: go through SendLedger")
            }
        }
        XCTAssertGreaterThan(checked, 50)
        let ledger = try String(contentsOf: root.appendingPathComponent("Sources/MessengerCore/Sending/SendLedger.swift"), encoding: .utf8)
        XCTAssertNotNil(writes.firstMatch(in: ledger, range: NSRange(ledger.startIndex..., in: ledger)), "the pattern finds a write")
    }

    func testEveryReasonReadsBackFromItsCode() {
        let reasons: [WarningReason] = [
            .noOptIn, .unknown, .tooLong, .suppressed(code: 551, subcode: nil), .suppressed(code: 200, subcode: 1_545_041),
            .graph(code: 613, subcode: nil), .graph(code: 10, subcode: 2_018_278), .graph(code: -1, subcode: nil),
            .graph(code: -2, subcode: nil), .text("an old reason: 42"),
        ]
        for reason in reasons { XCTAssertEqual(WarningReason(code: reason.code), reason, reason.code) }
        XCTAssertEqual(Set(reasons.map(\.code)).count, reasons.count, "one code per reason")
        XCTAssertEqual(WarningReason(code: "graph:10/2018278").text, GraphError(code: 10, subcode: 2_018_278).reason)
        XCTAssertEqual(WarningReason(code: "graph:x").text, "graph:x", "a code no version wrote is shown as it is")
        XCTAssertEqual(GraphError(code: 551, message: "Facebook's own words").warning, .graph(code: 551, subcode: nil))
    }

    /// A database of v11 (warnings keyed by their words) upgraded: each row gets its code from
    /// its status and error columns, else its words; the day's counts whose words share a code
    /// (two suppression days, an older wording of the 613) are added together.
    func testV12GivesOldRowsTheirCodesAndAddsTheCountsThatShareOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("v12-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("old.db").path
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v11-program-schedules")
        let rateLimit = "613 rate limit reached; try again later"
        try old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO page (id, name, tasks, updated_at) VALUES ('p1', 'Shop', 'MESSAGING', 0);
                    INSERT INTO data_field (id, name, kind) VALUES (1, 'FBOPTIN_0001', 'optin');
                    INSERT INTO profile (id, name, name_key, page_id, enabled, optin_field_id, created_at)
                        VALUES (1, 'Shop', 'shop', 'p1', 1, 1, 0);
                    INSERT INTO program (id, name, name_key, status, created_at) VALUES (1, 'A', 'a', 'active', 0);
                    INSERT INTO contact (id, email, created_at) VALUES (1, 'a@x', 0), (2, 'b@x', 0), (3, 'c@x', 0),
                        (4, 'd@x', 0), (5, 'e@x', 0), (6, 'f@x', 0), (7, 'g@x', 0);
                    INSERT INTO enrolment (id, program_id, contact_id, enrolled_at) VALUES
                        (1, 1, 1, 0), (2, 1, 2, 0), (3, 1, 3, 0), (4, 1, 4, 0), (5, 1, 5, 0), (6, 1, 6, 0), (7, 1, 7, 0);
                    INSERT INTO send (id, enrolment_id, node_id, profile_id, contact_id, page_id, psid, day, at, outcome, status,
                                      reason, error_code, error_subcode) VALUES
                        (1, 1, 1, 1, 1, 'p1', NULL, 20417, 0, 'warning', 'no_optin', 'no opt-in: the FBOPTIN field is empty', NULL, NULL),
                        (2, 2, 1, 1, 2, 'p1', 'x', 20417, 0, 'warning', 'failed', '\(rateLimit)', 613, NULL),
                        (3, 3, 1, 1, 3, 'p1', 'x', 20417, 0, 'warning', 'failed', '10/2018278 outside the allowed window for this tag', 10, 2018278),
                        (4, 4, 1, 1, 4, 'p1', 'x', 20417, 0, 'warning', 'suppressed', 'suppressed since 2026-11-20 (551)', NULL, NULL),
                        (5, 5, 1, 1, 5, 'p1', 'x', 20417, 0, 'warning', 'suppressed', 'suppressed since 2026-11-21 (200/1545041)', NULL, NULL),
                        (6, 6, 1, 1, 6, 'p1', 'x', 20417, 0, 'warning', 'unknown', 'unknown outcome: run stopped before Facebook answered', NULL, NULL),
                        (7, 7, 1, 1, 7, 'p1', 'x', 20417, 0, 'sent', 'sent', NULL, NULL, NULL);
                    INSERT INTO send_attempt (send_id, attempt, at, outcome, status, reason, error_code) VALUES
                        (2, 1, 0, 'warning', 'failed', '613 rate limit (an older wording)', NULL);
                    INSERT INTO daily_stat (profile_id, day, outcome, reason, count) VALUES
                        (1, 20417, 'sent', '', 1),
                        (1, 20417, 'warning', 'no opt-in: the FBOPTIN field is empty', 1),
                        (1, 20417, 'warning', '\(rateLimit)', 1),
                        (1, 20417, 'warning', '613 rate limit (an older wording)', 2),
                        (1, 20417, 'warning', '10/2018278 outside the allowed window for this tag', 1),
                        (1, 20417, 'warning', 'suppressed since 2026-11-20 (551)', 1),
                        (1, 20416, 'warning', 'suppressed since 2026-11-19 (551)', 4),
                        (1, 20417, 'warning', 'suppressed since 2026-11-19 (551)', 3),
                        (1, 20417, 'warning', 'suppressed since 2026-11-21 (200/1545041)', 1),
                        (1, 20417, 'warning', 'unknown outcome: run stopped before Facebook answered', 1),
                        (1, 20417, 'warning', 'something a version once wrote', 1);
                    """)
        }
        try old.close()

        let database = try AppDatabase(path: path, mode: .mustExist) {}
        try database.writer.read { db in
            let codes = try Row.fetchAll(db, sql: "SELECT CAST(id AS TEXT), reason_code FROM send ORDER BY id").map {
                [$0[0], $0[1]] as [String?]
            }
            XCTAssertEqual(
                codes,
                [
                    ["1", "no_optin"], ["2", "graph:613"], ["3", "graph:10/2018278"], ["4", "suppressed:551"],
                    ["5", "suppressed:200/1545041"], ["6", "unknown"], ["7", nil],
                ])
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT reason FROM send WHERE id = 4"), "suppressed since 2026-11-20 (551)")
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT reason_code FROM send_attempt"), "graph:613", "from its words")
            let counts = try Row.fetchAll(db, sql: "SELECT day, outcome, reason, count FROM daily_stat ORDER BY day, outcome, reason")
                .map { "\($0[0] as Int) \($0[1] as String) \($0[2] as String) \($0[3] as Int)" }
            XCTAssertEqual(
                counts,
                [
                    "20416 warning suppressed:551 4",
                    "20417 sent  1",
                    "20417 warning graph:10/2018278 1",
                    "20417 warning graph:613 3",
                    "20417 warning no_optin 1",
                    "20417 warning suppressed:200/1545041 1",
                    "20417 warning suppressed:551 4",
                    "20417 warning text:something a version once wrote 1",
                    "20417 warning unknown 1",
                ])
        }
        let days = try database.writer.read { db in
            try StatsService.days(db, profileID: 1, range: DayNumber(20_417)...DayNumber(20_417))
        }
        XCTAssertEqual(days.first?.reasons.first, ReasonCount(.suppressed(code: 551, subcode: nil), count: 4))
        XCTAssertTrue(days.first?.reasons.contains(ReasonCount(reason: "something a version once wrote", count: 1)) == true)
    }
}
