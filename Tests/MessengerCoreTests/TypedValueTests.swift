import GRDB
import XCTest

@testable import MessengerCore

/// The typed values (`DayNumber`, `SendOutcome`, `SendStatus`, `StatOutcome`) are stored as the
/// integers and words they replaced, so databases and JSON written before read the same.
final class TypedValueTests: XCTestCase {
    func testEveryStatusARunWritesIsATypedValueAndDaysStayIntegers() throws {
        let f = try Fixture()
        try f.standardSetup()
        f.transport.override = { $0.recipientPSID == "psid-bob" ? .failed(GraphError(code: 551)) : nil }
        _ = try f.run()
        try f.database.writer.read { db in
            let statuses = try String.fetchAll(db, sql: "SELECT DISTINCT status FROM send ORDER BY status")
            XCTAssertEqual(statuses, ["failed", "no_optin", "sent"])
            XCTAssertEqual(statuses.compactMap(SendStatus.init(rawValue:)).count, statuses.count)
            XCTAssertEqual(try String.fetchAll(db, sql: "SELECT DISTINCT typeof(day) FROM send"), ["integer"])
            XCTAssertEqual(try DayNumber.fetchAll(db, sql: "SELECT DISTINCT day FROM daily_stat"), [f.day("2026-11-25")])
            let outcomes = try StatOutcome.fetchAll(db, sql: "SELECT DISTINCT outcome FROM daily_stat ORDER BY outcome")
            XCTAssertEqual(outcomes, [.sent, .warning])
        }
    }

    func testADayIsAnIntegerInJSONAndCountsInDays() throws {
        let day = DayNumber(20_417)
        XCTAssertEqual(String(decoding: try JSONEncoder().encode([day]), as: UTF8.self), "[20417]")
        XCTAssertEqual(try JSONDecoder().decode(DayNumber.self, from: Data("20417".utf8)), day)
        XCTAssertEqual((day - 6)...day, DayNumber(20_411)...DayNumber(20_417))
        XCTAssertEqual(day - DayNumber(20_411), 6)
        XCTAssertEqual(Array(day - 2...day).count, 3)
    }
}
