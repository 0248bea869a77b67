import Foundation
import GRDB
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// What the dashboard's confirmation says a run would send (#27), counted as the run counts.
final class RunPreviewTests: StoreTestCase {
    func testThePreviewCountsWhoARunWouldMessageAndTheRunAgrees() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let first = try ProgramRunner(workspace: f.workspace).preview(program: "Orders", reenrol: false)
            XCTAssertEqual([first.contacts, first.messaged], [3, 2], "cat has no opt-in")
            XCTAssertEqual(first.profile, "Shop")
            XCTAssertTrue(first.sendsAs.hasPrefix("template orders_v1"), first.sendsAs)
            XCTAssertTrue(
                first.question.hasPrefix(
                    #"Send to 2 opted-in contacts of "Orders" now, as template orders_v1 from "Shop"? 1 other contact"#),
                first.question)
            let summary = try f.run()
            XCTAssertEqual(summary.sent, first.messaged, "the run sends what the question said")
            XCTAssertEqual(summary.enrolled, first.contacts)
            let again = try ProgramRunner(workspace: f.workspace).preview(program: "Orders", reenrol: false)
            XCTAssertEqual([again.contacts, again.messaged], [0, 0], "everyone went through")
            // Bob turned messages off (551): suppressed for the page, a run skips him.
            try f.database.transaction { db in
                try db.exec(
                    """
                    INSERT INTO suppression (page_id, contact_id, day, at, error_code)
                    SELECT ?, id, 0, 0, 551 FROM contact WHERE email = 'bob@example.com'
                    """, [Fixture.shopPage])
            }
            let reenrol = try ProgramRunner(workspace: f.workspace).preview(program: "Orders", reenrol: true)
            XCTAssertEqual([reenrol.contacts, reenrol.messaged], [3, 1])
            XCTAssertTrue(reenrol.question.contains("Everyone is enrolled again"), reenrol.question)
            XCTAssertEqual(try f.run(reenrol: true).sent, 1)
        }
    }

    func testAProgramThatCantRunIsRefusedBeforeAnyQuestion() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            try f.workspace.programs.pause(name: "Orders")
            XCTAssertThrowsError(try ProgramRunner(workspace: f.workspace).preview(program: "Orders", reenrol: false)) {
                XCTAssertTrue("\($0)".contains("is paused: activate it before running (`programs activate`)"), "\($0)")
                XCTAssertEqual(($0 as? DomainError)?.inDashboard?.hasSuffix("(a on Programs)"), true, "the dashboard names its key")
            }
            XCTAssertThrowsError(try ProgramRunner(workspace: f.workspace).preview(program: "Nope", reenrol: false))
        }
    }

    /// A batch's warnings (no opt-in) are written when it is claimed, before its messages go:
    /// they are done then, so the panel never shows more outcomes than contacts done (the 592
    /// Graph batches showed "593 / 2000 contacts · sent 406 · warnings 388").
    func testAClaimedBatchsWarningsAreDoneWhenTheyAreCounted() throws {
        for chunk in [1, 2] {
            let f = try Fixture()
            try f.standardSetup()
            let reports = ReportLog()
            _ = try ProgramRunner(workspace: f.workspace, chunkSize: chunk).run(program: "Orders", progress: { reports.add($0) })
            XCTAssertGreaterThan(reports.all.count, 1, "chunk \(chunk)")
            for p in reports.all { XCTAssertEqual(p.sent + p.warned, p.done, "chunk \(chunk): \(p)") }
            XCTAssertEqual(reports.all.last?.done, 3)
        }
    }

    final class ReportLog: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [RunProgress] = []
        func add(_ p: RunProgress) { lock.withLock { list.append(p) } }
        var all: [RunProgress] { lock.withLock { list } }
    }

    /// The run panel's numbers add up (#27: "3000 / 30000 contacts" beside 3,348 outcomes): every
    /// report counts contacts, one outcome each, what recovery recorded included.
    func testEveryProgressReportAddsUpInOneUnit() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            try f.killedRunClaimingAnnAndBob()
            final class Reports: @unchecked Sendable {
                let lock = NSLock()
                var all: [RunProgress] = []
                func add(_ p: RunProgress) {
                    lock.lock()
                    all.append(p)
                    lock.unlock()
                }
            }
            let reports = Reports()
            let summary = try ProgramRunner(workspace: f.workspace, chunkSize: 1).run(program: "Orders", progress: { reports.add($0) })
            XCTAssertFalse(reports.all.isEmpty)
            for p in reports.all {
                XCTAssertEqual(p.sent + p.warned, p.done, "\(p)")
                XCTAssertLessThanOrEqual(p.done, p.total, "\(p)")
            }
            let last = reports.all.last!
            XCTAssertEqual(last.done, last.total, "the last report is the whole run")
            XCTAssertEqual(last.sent, summary.sent)
            XCTAssertEqual(last.warned, summary.warned)
            XCTAssertGreaterThan(summary.recovered, 0, "the killed run's claim was recovered and counted")
        }
    }

    /// #27: the opt-in code of a workspace on the real Graph API with no app_id carries the
    /// sandbox's placeholder id, and says so; in the sandbox it is the right id.
    func testAPlaceholderAppIDOnTheRealGraphIsWarnedAbout() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.importPages()
            _ = try f.workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
            XCTAssertNil(try f.workspace.profiles.details(named: "Shop").optInCodeWarning, "the sandbox's own id is right in the sandbox")
            let graph = Workspace(
                database: f.database, clock: f.clock, calendar: f.calendar, appID: Settings.sandboxAppID, transport: f.transport,
                graph: try GraphConfig(baseURL: "http://127.0.0.1:9", version: "v25.0"))
            let warning = try graph.profiles.details(named: "Shop").optInCodeWarning
            XCTAssertEqual(warning, ProfileDetails.placeholderAppIDWarning)
            XCTAssertTrue(warning?.contains("set app_id in config.toml") == true)
            let real = Workspace(
                database: f.database, clock: f.clock, calendar: f.calendar, appID: "123456789", transport: f.transport,
                graph: try GraphConfig(baseURL: "http://127.0.0.1:9", version: "v25.0"))
            XCTAssertNil(try real.profiles.details(named: "Shop").optInCodeWarning)
        }
    }

    /// #27: a retired tag's refusal names the dashboard's key there, the command on the CLI.
    func testARetiredTagsRefusalNamesTheFixWhereThePersonIs() {
        let program = ProgramSummary(
            id: 1, name: "Notices", status: .active, profile: "Shop", profileEnabled: true, tag: "Account_update", message: "Hi",
            enrolled: 0, lastRunAt: nil, kind: .tag, tagRetired: "retired 2026-04-27")
        XCTAssertThrowsError(try ProgramService.requireSendable(program, doing: "run")) { error in
            let refusal = error as! DomainError
            XCTAssertTrue(refusal.message.hasSuffix("with `messenger-dash programs convert Notices`"), refusal.message)
            XCTAssertTrue(refusal.inDashboard?.hasSuffix("Enter opens its node, u converts it") == true, "\(refusal)")
        }
    }

    func testCountsAreGroupedAsPeopleReadThem() {
        XCTAssertEqual(Display.count(1, "contact"), "1 contact")
        XCTAssertEqual(Display.count(1_295, "opted-in contact"), "1,295 opted-in contacts")
        XCTAssertEqual(Display.grouped(1_000_000), "1,000,000")
        XCTAssertEqual(Display.grouped(999), "999")
        XCTAssertEqual(Display.grouped(-12_345), "-12,345")
    }
}
