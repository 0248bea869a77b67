import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// What was sent and what came of it, on both engines (#30): the ledger's rows and counts, the
/// statistics read from them, receipts, suppressions, opt-ins and compaction. The rows are
/// written through `SendLedger` as a run writes them, without a run: each outcome is one the
/// test chose (a 551 refusal, say), not one the sandbox happens to give.
final class LedgerTests: StoreTestCase {
    /// The standard setup, then a run's rows written by hand for today: ann sent (`m-ann`), bob
    /// refused by Facebook with 551 (which suppresses him for the page), cat without an opt-in.
    /// Returns today.
    @discardableResult
    func recordRun(_ f: Fixture) throws -> DayNumber {
        try f.standardSetup()
        let now = f.clock.nowMillis()
        let day = f.calendar.day(ofMillis: now)
        try f.database.transaction { db in
            let program = try XCTUnwrap(try db.value(Int64.self, "SELECT id FROM program WHERE name = 'Orders'"))
            let node = try XCTUnwrap(try db.value(Int64.self, "SELECT id FROM node WHERE program_id = ?", [program]))
            let profile = try XCTUnwrap(try db.value(Int64.self, "SELECT id FROM profile WHERE name = 'Shop'"))
            let outcomes: [(email: String, psid: String?, SendLedger.Outcome)] = [
                ("ann@example.com", "psid-ann", .sent(messageID: "m-ann")),
                ("bob@example.com", "psid-bob", .warning(.graph(code: 551, subcode: nil), detail: "This person isn't available")),
                ("cat@example.com", nil, .warning(.noOptIn)),
            ]
            try SendLedger.writing(db) { ledger in
                for (email, psid, outcome) in outcomes {
                    let contact = try XCTUnwrap(try db.value(Int64.self, "SELECT id FROM contact WHERE email = ?", [email]))
                    let enrolment = try db.insert(
                        "INSERT INTO enrolment (program_id, contact_id, enrolled_at, finished_at) VALUES (?, ?, ?, ?)",
                        [program, contact, now, now])
                    try db.exec(
                        "INSERT INTO program_contact (program_id, contact_id, last_enrolment_id) VALUES (?, ?, ?)",
                        [program, contact, enrolment])
                    let to = SendLedger.Recipient(
                        enrolmentID: enrolment, nodeID: node, profileID: profile, contactID: contact, pageID: Fixture.shopPage, psid: psid)
                    try ledger.record(to, outcome, message: "Hi", day: day, at: now)
                }
            }
        }
        return day
    }

    func testTheDaysCountsAndItsContactsReadTheSame() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let day = try recordRun(f)
            let today = try XCTUnwrap(try f.workspace.stats.details(profile: "Shop").days.first { $0.day == day })
            XCTAssertEqual(today.sent, 1)
            XCTAssertEqual(today.warnings, 2)
            XCTAssertEqual(Set(today.reasons.map(\.code)), ["no_optin", "graph:551"])
            let warned = try f.workspace.stats.contacts(profile: "Shop", kind: .warning, day: day)
            XCTAssertEqual(Set(warned.rows.map(\.email)), ["bob@example.com", "cat@example.com"])
            // A search ignores case on both engines (SQLite's LIKE, PostgreSQL's ILIKE).
            let found = try f.workspace.stats.contacts(profile: "Shop", kind: .warning, day: day, page: .first, search: "BOB")
            XCTAssertEqual(found.rows.map(\.email), ["bob@example.com"])
            let detail = try f.workspace.stats.detail(sendID: try XCTUnwrap(found.rows.first).sendID)
            XCTAssertEqual(detail.suppression?.code, "551", "the refusal suppressed bob for the page")
            XCTAssertEqual(detail.fields.first { $0.name == "ORDERNUMBER" }?.value, "B-2")
        }
    }

    func testReceiptsMarkTheSentRowOnceAndCountOnItsDay() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let day = try recordRun(f)
            let at = f.clock.nowMillis() + 1_000
            let delivered = try f.workspace.receipts.ingest(jsonLines: Data(f.deliveryLine(psid: "psid-ann", watermark: at).utf8))
            XCTAssertEqual(delivered.delivered, 1)
            let again = try f.workspace.receipts.ingest(jsonLines: Data(f.deliveryLine(psid: "psid-ann", watermark: at).utf8))
            XCTAssertEqual(again.delivered, 0, "a receipt replayed changes nothing")
            let read = try f.workspace.receipts.ingest(jsonLines: Data(f.readLine(psid: "psid-ann", watermark: at + 1).utf8))
            XCTAssertEqual(read.read, 1)
            let today = try XCTUnwrap(try f.workspace.stats.details(profile: "Shop").days.first { $0.day == day })
            XCTAssertEqual([today.delivered, today.read], [1, 1])
            XCTAssertEqual(
                try f.workspace.stats.contacts(profile: "Shop", kind: .delivered, day: day).rows.map(\.email), ["ann@example.com"])
            XCTAssertEqual(
                try f.workspace.receipts.ingest(jsonLines: Data(f.deliveryLine(psid: "psid-bob", watermark: at).utf8)).delivered, 0,
                "a refused contact has no sent row to deliver")
        }
    }

    func testASuppressionIsListedAndLiftedByEmailInAnyCase() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try recordRun(f)
            XCTAssertEqual(try f.workspace.suppressions.list().map(\.email), ["bob@example.com"])
            XCTAssertEqual(try f.workspace.suppressions.list(email: "BOB@Example.com").count, 1)
            XCTAssertEqual(try f.workspace.suppressions.lift(email: "Bob@example.com"), 1)
            XCTAssertEqual(try f.workspace.suppressions.list(), [])
            XCTAssertThrowsError(try f.workspace.suppressions.lift(email: "bob@example.com")) {
                XCTAssertEqual("\($0)", #""bob@example.com" is not suppressed"#)
            }
        }
    }

    func testAnOptInEventSetsTheFieldOnceAndTheNewestWins() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            let line = f.optinLine(psid: "psid-cat", email: "CAT@example.com", at: 2_000)
            XCTAssertEqual(try f.workspace.optIns.ingest(jsonLines: Data(line.utf8)).optedIn, 1)
            XCTAssertEqual(try f.workspace.optIns.ingest(jsonLines: Data(line.utf8)).unchanged, 1)
            let older = f.optinLine(psid: "psid-old", email: "cat@example.com", at: 1_000)
            XCTAssertEqual(try f.workspace.optIns.ingest(jsonLines: Data(older.utf8)).unchanged, 1, "an older opt-in replayed")
            XCTAssertEqual(
                try f.count(
                    "SELECT count(*) FROM contact_value JOIN data_field ON data_field.id = field_id WHERE data_field.name = ? AND value = 'psid-cat'",
                    [shop.summary.optInField]), 1)
        }
    }

    func testCompactionDeletesOldRowsAndKeepsTheirCounts() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let day = try recordRun(f)
            f.clock.set(f.clock.nowMillis() + 100 * 86_400_000)
            let result = try f.workspace.compactor.compact()
            XCTAssertEqual(result.sends, 3)
            XCTAssertEqual(result.enrolments, 3)
            XCTAssertEqual(try f.count("SELECT count(*) FROM send"), 0)
            XCTAssertEqual(try f.count("SELECT sum(count) FROM daily_stat WHERE day = ?", [day]), 3, "the day's counts stay")
        }
    }
}
