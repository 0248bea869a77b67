import Foundation
import GRDB
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// `doctor` (#24): each problem is one finding with the command that fixes it; a healthy setup has none.
final class DoctorTests: StoreTestCase {
    struct Inspector: PageTokenInspector {
        var info: TokenInfo
        func inspect(pageToken: String) throws -> TokenInfo { info }
    }

    func graphSettings(version: String = "v25.0") -> Settings {
        var settings = Settings()
        settings.facebook = .graph
        settings.appID = "777"
        settings.graphVersion = version
        return settings
    }

    let app: Result<AppCredentials, DomainError> = .success(AppCredentials(appID: "777", appSecret: "s", clientToken: "c"))

    func problems(_ findings: [DoctorFinding]) -> [String] { findings.filter { !$0.ok }.map { "\($0.check): \($0.text)" } }

    func testAHealthySetupHasNoProblemAndEachProblemSaysItsFix() throws {
        try onEachEngine { database in try healthyAndNot(Fixture(database: database, now: "2026-11-25T11:00:00Z")) }
    }

    func healthyAndNot(_ f: Fixture) throws {
        try f.standardSetup()
        let fine = Inspector(
            info: TokenInfo(isValid: true, expiresAt: nil, dataAccessExpiresAt: f.millis("2027-02-01T00:00:00Z"), scopes: []))
        var findings = try f.workspace.doctor.run(settings: graphSettings(), app: app, inspector: fine)
        XCTAssertEqual(problems(findings), [])
        XCTAssertTrue(findings.contains { $0.check == "webhooks" && $0.text == "subscribed (7 fields)" })
        // The engine and where it is: hosts of one team check they share one database.
        let engine = try XCTUnwrap(findings.first { $0.subject == "database" })
        XCTAssertEqual(engine.check, "engine")
        XCTAssertTrue(engine.text.hasPrefix(f.workspace.database.isPostgres ? "PostgreSQL 1" : "SQLite 3."), engine.text)
        XCTAssertTrue(engine.text.hasSuffix(" at \(f.workspace.database.location)"), engine.text)

        // Data access ending in 10 days, an expiring page token, a version near its end, no client token.
        let ending = Inspector(
            info: TokenInfo(
                isValid: true, expiresAt: f.millis("2026-11-25T12:00:00Z"), dataAccessExpiresAt: f.millis("2026-12-05T11:00:00Z"),
                scopes: []))
        findings = try f.workspace.doctor.run(
            settings: graphSettings(version: "v21.0"), app: .success(AppCredentials(appID: "777", appSecret: "s")), inspector: ending)
        XCTAssertEqual(
            problems(findings),
            [
                "client token: not set: `messenger-dash login` needs it",
                "version: v21.0, served until 2027-01-21 (57 days)",
                "token: the page token expires 2026-11-25T13:00:00+01:00",
                "data access: Meta's data access ends 2026-12-05T12:00:00+01:00 (10 days)",
            ])
        XCTAssertTrue(findings.filter { !$0.ok }.allSatisfy { $0.fix != nil }, "every problem says its fix")
        XCTAssertEqual(findings.first { $0.check == "version" }?.fix, "set graph_version = \"v25.0\" in config.toml")
    }

    func testSendsWithNoReceiptSinceAndAPendingTemplateAreProblems() throws {
        let f = try Fixture(now: "2026-11-25T11:00:00Z")
        try f.standardSetup()
        _ = try ProgramRunner(workspace: f.workspace).run(program: "Orders")
        f.clock.set(f.millis("2026-11-25T13:00:00Z"))
        try f.workspace.database.write { db in
            try db.execute(sql: "UPDATE send SET delivered_at = NULL, read_at = NULL")
            try db.execute(sql: "UPDATE message_template SET status = 'PENDING'")
        }
        let findings = try f.workspace.doctor.run(settings: Settings(), app: app, inspector: nil)
        let found = problems(findings)
        XCTAssertTrue(found.contains { $0.hasPrefix("receipts:") && $0.contains("no receipts are arriving") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("templates:") && $0.contains("over an hour") }, "\(found)")
        // A delivery recorded since: receipts arrive.
        try f.workspace.database.write { db in try db.execute(sql: "UPDATE send SET delivered_at = at + 1000 WHERE outcome = 'sent'") }
        XCTAssertFalse(
            problems(try f.workspace.doctor.run(settings: Settings(), app: app, inspector: nil)).contains { $0.hasPrefix("receipts:") })
    }

    func testABrokenRestrictedOrUnsubscribedPageIsAProblem() throws {
        let f = try Fixture(now: "2026-11-25T11:00:00Z")
        try f.standardSetup()
        try f.workspace.pages.markStopped(pageID: Fixture.shopPage, by: GraphError(code: 10, subcode: GraphError.pageRestrictedSubcode))
        try f.workspace.database.write { db in try db.execute(sql: "DELETE FROM page_subscription") }
        var found = problems(try f.workspace.doctor.run(settings: Settings(), app: app, inspector: nil))
        XCTAssertTrue(found.contains { $0.hasPrefix("sending:") && $0.contains("restricted") }, "\(found)")
        XCTAssertTrue(found.contains("webhooks: the page is not subscribed to the app"), "\(found)")
        try f.workspace.pages.markBroken(pageID: Fixture.shopPage, reason: "190 page access token invalid: reconnect the page")
        found = problems(try f.workspace.doctor.run(settings: Settings(), app: app, inspector: nil))
        XCTAssertTrue(found.contains { $0.hasPrefix("token: broken") }, "\(found)")
    }
}
