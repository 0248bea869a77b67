import Foundation
import GRDB
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// History that stays bounded: send rows older than `retention_days` go, the rollups stay.
final class CompactionTests: StoreTestCase {
    func testSendRowsOlderThanTheRetentionGoAndTheDailyStatisticsStay() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            // Runs 30, 20, 9, 7 and 1 days ago, and today; 8 days kept: today and the 7 before.
            for daysAgo in [30, 20, 9, 7, 1, 0] {
                f.clock.set(f.millis("2026-11-25T10:00:00Z") - Int64(daysAgo) * 86_400_000)
                _ = try f.run(reenrol: true)
            }
            f.clock.set(f.millis("2026-11-25T11:00:00Z"))
            let workspace = Workspace(database: f.database, clock: f.clock, calendar: f.calendar, transport: f.transport, retentionDays: 8)
            let rollupsBefore = try f.count("SELECT SUM(count) FROM daily_stat")
            let statsBefore = try workspace.stats.details(profile: "Shop").days
            let oldDays = try f.count("SELECT COUNT(*) FROM send WHERE day < ?", [workspace.compactor.firstKeptDay])
            XCTAssertEqual(oldDays, 3 * 3, "30, 20 and 9 days ago: three contacts each")

            let result = try workspace.compactor.compact(chunk: 2)
            XCTAssertTrue(result.finished)
            XCTAssertEqual(result.sends, 9)
            XCTAssertEqual(result.enrolments, 9, "their finished enrolments go too")
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE day < ?", [workspace.compactor.firstKeptDay]), 0)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send"), 3 * 3, "7 and 1 days ago and today stay")
            XCTAssertEqual(try f.count("SELECT SUM(count) FROM daily_stat"), rollupsBefore, "rollups are kept forever")
            XCTAssertEqual(try workspace.stats.details(profile: "Shop").days, statsBefore, "the 7-day screens show the same")
            XCTAssertEqual(try workspace.compactor.compact().sends, 0, "a second pass finds nothing")

            // Receipts still find the recent sends through the enrolment chain, cut where it was compacted.
            let today = f.millis("2026-11-25T10:30:00Z")
            let receipt = try f.workspace.receipts.ingest(jsonLines: Data(f.deliveryLine(psid: "psid-ann", watermark: today).utf8))
            XCTAssertEqual(receipt.delivered, 3, "7 and 1 days ago and today")
            // Runs go on as before.
            XCTAssertEqual(try f.run(reenrol: true).sent, 2)
        }
    }

    func testABudgetStopsItAndTheNextPassGoesOn() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            for daysAgo in [40, 30] {
                f.clock.set(f.millis("2026-11-25T10:00:00Z") - Int64(daysAgo) * 86_400_000)
                _ = try f.run(reenrol: true)
            }
            f.clock.set(f.millis("2026-11-25T11:00:00Z"))
            let workspace = Workspace(database: f.database, clock: f.clock, calendar: f.calendar, transport: f.transport, retentionDays: 8)
            let partial = try workspace.compactor.compact(budget: 0, chunk: 1)
            XCTAssertFalse(partial.finished)
            XCTAssertLessThan(partial.sends, 6)
            let rest = try workspace.compactor.compact()
            XCTAssertTrue(rest.finished)
            XCTAssertEqual(partial.sends + rest.sends, 6)
        }
    }

    func testRetentionIsASettingWithAFloor() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        XCTAssertEqual(try Settings.load(configPath: nil, environment: [:]).retentionDays, 90)
        try "retention_days = 30\n".write(toFile: dir + "/a.toml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try Settings.load(configPath: dir + "/a.toml", environment: [:]).retentionDays, 30)
        XCTAssertEqual(
            try Settings.load(configPath: dir + "/a.toml", environment: ["MESSENGER_DASH_RETENTION_DAYS": "400"]).retentionDays, 400)
        try "retention_days = 3\n".write(toFile: dir + "/b.toml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Settings.load(configPath: dir + "/b.toml", environment: [:]), "the 7-day screens need 8 days")
        XCTAssertThrowsError(try Settings.load(configPath: nil, environment: ["MESSENGER_DASH_RETENTION_DAYS": "soon"]))
    }
}
