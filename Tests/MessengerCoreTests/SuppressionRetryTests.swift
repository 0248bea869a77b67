import Foundation
import GRDB
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// R15 (suppression per page) and R16 (retries counted once).
final class SuppressionRetryTests: StoreTestCase {
    /// The standard setup with dan (551), eve (613) and fay (a plain 200) opted in as well.
    func setUp(_ f: Fixture) throws -> ProfileDetails {
        let shop = try f.standardSetup()
        try f.workspace.contacts.importCSV(
            Data(
                """
                EMAIL,\(shop.summary.optInField)
                dan@example.com,psid-dan-99551
                eve@example.com,psid-eve-99613
                fay@example.com,psid-fay-200

                """.utf8))
        return shop
    }

    /// The day's count of `outcome`, for a warning under its reason's code.
    func stat(_ f: Fixture, _ outcome: String, reason: WarningReason? = nil) throws -> Int {
        try f.count("SELECT COALESCE(SUM(count), 0) FROM daily_stat WHERE outcome = ? AND reason = ?", [outcome, reason?.code ?? ""])
    }

    /// What the rollups say of the day equals what the send rows say: each contact counted once.
    func assertStatsMatchSends(_ f: Fixture, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(
            try f.count("SELECT COALESCE(SUM(count), 0) FROM daily_stat WHERE outcome = 'sent'"),
            try f.count("SELECT COUNT(*) FROM send WHERE outcome = 'sent'"), "sent", file: file, line: line)
        XCTAssertEqual(
            try f.count("SELECT COALESCE(SUM(count), 0) FROM daily_stat WHERE outcome = 'warning'"),
            try f.count("SELECT COUNT(*) FROM send WHERE outcome = 'warning'"), "warnings", file: file, line: line)
        let byReason = try f.database.snapshot { db in
            try db.rows(
                """
                SELECT s.reason_code AS reason, COUNT(*) AS n,
                       (SELECT count FROM daily_stat d WHERE d.outcome = 'warning' AND d.reason = s.reason_code) AS rolled
                FROM send s WHERE s.outcome = 'warning' GROUP BY s.reason_code
                """)
        }
        for row in byReason {
            XCTAssertEqual(row["n"] as Int, row["rolled"] as Int?, "reason \(row["reason"] as String)", file: file, line: line)
        }
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM daily_stat WHERE count <= 0"), 0, "no empty reasons", file: file, line: line)
    }

    // MARK: R15

    func test551SuppressesTheContactForThePageAndLaterRunsSkipIt() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try setUp(f)
            f.transport.override = { $0.recipientPSID == "psid-fay-200" ? .failed(GraphError(code: 200)) : nil }
            _ = try f.run()
            XCTAssertEqual(
                try f.workspace.suppressions.list().map(\.email), ["dan@example.com"],
                "551 suppresses; a plain 200 is the page's, not the person's")
            let asked = f.transport.sent.filter { $0.recipientPSID == "psid-dan-99551" }.count
            XCTAssertEqual(asked, 1)

            let again = try f.run(reenrol: true)
            XCTAssertEqual(f.transport.sent.filter { $0.recipientPSID == "psid-dan-99551" }.count, 1, "Facebook is not asked again")
            // Counted under its code; the row keeps the words of its moment, with the day it began.
            let suppressed = WarningReason.suppressed(code: 551, subcode: nil)
            XCTAssertEqual(again.warnings.first { $0.code == "suppressed:551" }?.count, 1)
            XCTAssertEqual(again.warnings.first { $0.code == "suppressed:551" }?.reason, "suppressed for this page after 551")
            XCTAssertEqual(
                try f.count(
                    "SELECT COUNT(*) FROM send WHERE status = 'suppressed' AND reason = ? AND reason_code = ?",
                    ["suppressed since 2026-11-25 (551)", suppressed.code]), 1)
            XCTAssertEqual(try stat(f, "warning", reason: suppressed), 1)
            XCTAssertEqual(f.transport.sent.filter { $0.recipientPSID == "psid-fay-200" }.count, 2, "the plain 200 is asked again")
        }
    }

    func testSuppressionIsPerPageAndAPermissionAnswerSuppressesToo() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try setUp(f)
            f.transport.override = { $0.recipientPSID == "psid-fay-200" ? .failed(GraphError(code: 200, subcode: 1_545_041)) : nil }
            _ = try f.run()
            XCTAssertEqual(Set(try f.workspace.suppressions.list(pageID: Fixture.shopPage).map(\.code)), ["551", "200/1545041"])
            XCTAssertEqual(Set(try f.workspace.suppressions.list().map(\.email)), ["dan@example.com", "fay@example.com"])
            XCTAssertTrue(try f.workspace.suppressions.list(pageID: Fixture.eventsPage).isEmpty, "another page still asks")
            _ = shop
        }
    }

    func testLiftingASuppressionLetsTheNextRunAskAgainAndAnUnknownContactIsAnError() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try setUp(f)
            _ = try f.run()
            XCTAssertThrowsError(try f.workspace.suppressions.lift(email: "ann@example.com")) { error in
                XCTAssertEqual((error as? DomainError)?.message, "\"ann@example.com\" is not suppressed")
            }
            XCTAssertThrowsError(try f.workspace.suppressions.lift(email: "nobody@example.com"))
            XCTAssertEqual(try f.workspace.suppressions.lift(email: "DAN@example.com", pageID: Fixture.shopPage), 1)
            XCTAssertTrue(try f.workspace.suppressions.list().isEmpty)
            _ = try f.run(reenrol: true)
            XCTAssertEqual(f.transport.sent.filter { $0.recipientPSID == "psid-dan-99551" }.count, 2, "asked again after the lift")
            XCTAssertEqual(try f.workspace.suppressions.list().count, 1, "and suppressed again by the new 551")
        }
    }

    func testTheContactDetailShowsTheSuppression() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try setUp(f)
            _ = try f.run()
            let sendID = try f.count("SELECT s.id FROM send s JOIN contact c ON c.id = s.contact_id WHERE c.email = 'dan@example.com'")
            let detail = try f.workspace.stats.detail(sendID: Int64(sendID))
            XCTAssertEqual(detail.suppression?.reason(f.calendar), "suppressed since 2026-11-25 (551)")
            XCTAssertEqual(detail.suppression?.pageName, "Shop")
        }
    }

    // MARK: R16

    /// #28: a warning is counted under its code, never its words. Rows written in other words (a
    /// later version rewords the 613) leave the day's statistics as they were, a retry takes its
    /// count back from the code the row was counted under, and screens show today's words.
    func testRewordingAReasonChangesNeitherTheDaysStatisticsNorARetry() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try setUp(f)
            _ = try f.run()
            let day = f.day("2026-11-25")
            let rateLimit = WarningReason.graph(code: 613, subcode: nil)
            let before = try f.workspace.stats.details(profile: "Shop", range: day...day).days
            try f.database.transaction { db in
                try db.exec("UPDATE send SET reason = 'rate-limited by Meta (as a later version words it)' WHERE error_code = 613")
            }
            XCTAssertEqual(try f.workspace.stats.details(profile: "Shop", range: day...day).days, before, "the day is as it was")
            let shown = try f.workspace.profiles.details(named: "Shop").notSent.first { $0.code == rateLimit.code }
            XCTAssertEqual(shown?.reason, GraphError(code: 613).reason, "a count is shown in today's words")

            f.clock.set(f.millis("2026-11-25T15:00:00Z"))
            XCTAssertEqual(try f.workspace.retries.retry(program: "Orders", day: day).sent, 1)
            XCTAssertEqual(try stat(f, "warning", reason: rateLimit), 0, "the retry took the count from the 613's code")
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM daily_stat WHERE reason LIKE '%rate%'"), 0, "no row keyed by words")
            let after = try f.workspace.stats.details(profile: "Shop", range: day...day).days[0]
            XCTAssertEqual(after.sent, before[0].sent + 1)
            XCTAssertEqual(after.warnings, before[0].warnings - 1, "the contact is counted once")
            try assertStatsMatchSends(f)
        }
    }

    func testARetrySendsA613AgainAndTheDayCountsTheContactOnce() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try setUp(f)
            _ = try f.run()
            let rateLimit = GraphError(code: 613).reason
            XCTAssertEqual(try stat(f, "warning", reason: .graph(code: 613, subcode: nil)), 1)
            let sentBefore = try stat(f, "sent")
            let day = f.day("2026-11-25")
            XCTAssertEqual(
                try f.workspace.retries.retryable(program: "Orders", day: day), 1, "only the 613: 551 and no opt-in aren't retryable")

            f.clock.set(f.millis("2026-11-25T15:00:00Z"))
            let summary = try f.workspace.retries.retry(program: "Orders", day: day)
            XCTAssertEqual(summary.retried, 1)
            XCTAssertEqual(summary.sent, 1)
            XCTAssertEqual(f.transport.sent.last?.attempt, 2)
            XCTAssertEqual(try stat(f, "sent"), sentBefore + 1)
            XCTAssertEqual(try stat(f, "warning", reason: .graph(code: 613, subcode: nil)), 0)
            XCTAssertEqual(try stat(f, "warning", reason: .unknown), 0)
            try assertStatsMatchSends(f)
            // The first attempt is kept; the row says what happened last.
            let sendID = try f.count("SELECT id FROM send WHERE psid = 'psid-eve-99613'")
            XCTAssertEqual(
                try f.count("SELECT COUNT(*) FROM send_attempt WHERE send_id = ? AND attempt = 1 AND error_code = 613", [sendID]), 1)
            XCTAssertEqual(try f.count("SELECT attempts FROM send WHERE id = ?", [sendID]), 2)
            let detail = try f.workspace.stats.detail(sendID: Int64(sendID))
            XCTAssertEqual(detail.status, .sent)
            XCTAssertEqual(detail.earlierAttempts.map(\.reason), [rateLimit])
            // Nothing is left to retry, and a second retry sends nothing.
            XCTAssertEqual(try f.workspace.retries.retry(program: "Orders", day: day).retried, 0)
            XCTAssertEqual(f.transport.sent.filter { $0.recipientPSID == "psid-eve-99613" }.count, 2)
        }
    }

    func testARetryThatFailsAgainMovesTheCountToTheNewReasonAndAPermanentAnswerSuppresses() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try setUp(f)
            _ = try f.run()
            f.transport.override = { $0.attempt > 1 ? .failed(GraphError(code: 551)) : nil }
            let summary = try f.workspace.retries.retry(program: "Orders", day: f.day("2026-11-25"))
            XCTAssertEqual(summary.warnings.map(\.reason), [GraphError(code: 551).reason])
            XCTAssertEqual(try stat(f, "warning", reason: GraphError(code: 551).warning), 2)
            XCTAssertEqual(try stat(f, "warning", reason: GraphError(code: 613).warning), 0)
            XCTAssertTrue(try f.workspace.suppressions.list().contains { $0.email == "eve@example.com" })
            try assertStatsMatchSends(f)
        }
    }

    func testRetryingUnknownOutcomesAndTheReasonFilter() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try setUp(f)
            // A killed run's claim over ann's and bob's enrolments: recorded unknown by the next run.
            try f.killedRunClaimingAnnAndBob()
            _ = try f.run()
            let day = f.day("2026-11-25")
            XCTAssertEqual(try f.workspace.retries.retryable(program: "Orders", day: day), 3)
            XCTAssertEqual(try f.workspace.retries.retryable(program: "Orders", day: day, reason: .unknown), 2)

            let only613 = try f.workspace.retries.retry(program: "Orders", day: day, reason: .code(613))
            XCTAssertEqual(only613.retried, 1)
            XCTAssertEqual(only613.wereUnknown, 0)
            XCTAssertEqual(try stat(f, "warning", reason: .unknown), 2, "the unknown ones are untouched")

            let unknown = try f.workspace.retries.retry(program: "Orders", day: day, reason: .unknown)
            XCTAssertEqual(unknown.retried, 2)
            XCTAssertEqual(unknown.wereUnknown, 2)
            XCTAssertEqual(unknown.sent, 2)
            XCTAssertEqual(try stat(f, "warning", reason: .unknown), 0)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send_attempt WHERE status = 'unknown'"), 2)
            try assertStatsMatchSends(f)
        }
    }

    func testARetryKilledAfterItsClaimLeavesTheBatchUnknownCountedOnceAndRetryable() throws {
        let f = try Fixture()
        try setUp(f)
        let shop = try f.workspace.profiles.details(named: "Shop")
        // Many 613s, so the retry takes several batches.
        var csv = "EMAIL,\(shop.summary.optInField)\n"
        for i in 0..<25 { csv += "rate\(i)@example.com,psid-\(i)-99613\n" }
        try f.workspace.contacts.importCSV(Data(csv.utf8))
        _ = try f.run()
        let day = f.day("2026-11-25")
        let rows = try f.count("SELECT COUNT(*) FROM send")
        XCTAssertEqual(try f.workspace.retries.retryable(program: "Orders", day: day), 26)

        // The database fails while the second batch is with Facebook (a full disk, a kill): its
        // claim committed, its answers never recorded.
        var asked = 0
        f.transport.onSend = { message in
            guard message.attempt > 1 else { return }
            asked += 1
            if asked == 15 {
                try! f.database.transaction { db in
                    try db.exec(
                        """
                        CREATE TRIGGER power_cut BEFORE UPDATE ON send WHEN OLD.status = 'unknown' AND NEW.status <> 'unknown'
                        BEGIN SELECT RAISE(ABORT, 'power cut'); END
                        """)
                }
            }
        }
        let retries = RetryService(workspace: f.workspace, chunkSize: 10)
        XCTAssertThrowsError(try retries.retry(program: "Orders", day: day))
        try assertStatsMatchSends(f)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send"), rows, "no row added: the day counts each contact once")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE status = 'unknown'"), 10, "the batch in flight is unknown")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE status = 'sent' AND attempts = 2"), 10, "the first batch was recorded")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send_attempt"), 20)

        // The next retry takes the unknown and the rest; each contact still counted once.
        f.transport.onSend = nil
        try f.database.transaction { db in try db.exec("DROP TRIGGER power_cut") }
        let next = try retries.retry(program: "Orders", day: day)
        XCTAssertEqual(next.retried, 16)
        XCTAssertEqual(next.wereUnknown, 10)
        XCTAssertEqual(try f.workspace.retries.retryable(program: "Orders", day: day), 0)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send_attempt"), 36)
        try assertStatsMatchSends(f)
    }

    func testARetryIsRefusedWhileTheProgramRunsElsewhereAndWhenItIsPaused() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try setUp(f)
            _ = try f.run()
            let day = f.day("2026-11-25")
            try f.database.transaction { db in
                try db.exec("INSERT INTO program_run (program_id, pid, started_at, heartbeat_at) SELECT id, 1, 0, 0 FROM program")
            }
            XCTAssertThrowsError(try f.workspace.retries.retry(program: "Orders", day: day)) { error in
                XCTAssertEqual((error as? DomainError)?.message, "program \"Orders\" is already running in process 1")
            }
            try f.database.transaction { db in try db.exec("DELETE FROM program_run WHERE pid = 1") }
            try f.workspace.programs.pause(name: "Orders")
            XCTAssertThrowsError(try f.workspace.retries.retry(program: "Orders", day: day)) { error in
                XCTAssertEqual(
                    (error as? DomainError)?.message, "program \"Orders\" is paused: activate it before a retry (`programs activate`)")
            }
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send_attempt"), 0, "a refusal changes nothing")
        }
    }

    func testRetryReasonsParseAndTheOnesFacebookWouldRepeatAreRefused() throws {
        XCTAssertEqual(try RetryReason(parsing: "613"), .code(613))
        XCTAssertEqual(try RetryReason(parsing: "no-answer"), .code(-1))
        XCTAssertEqual(try RetryReason(parsing: "UNKNOWN"), .unknown)
        XCTAssertThrowsError(try RetryReason(parsing: "551")) { error in
            XCTAssertEqual(
                (error as? DomainError)?.message,
                "--reason 551 is not retryable: Facebook would answer it again; retry takes 613, 4, 2, 1200, -1 or unknown")
        }
        XCTAssertThrowsError(try RetryReason(parsing: "soon"))
    }
}
