import Foundation
import GRDB
import XCTest

@testable import MessengerCore

/// A fresh workspace on a temporary database, standing at a fixed instant in a chosen zone,
/// with a few pages and fields ready.
final class Fixture {
    let database: AppDatabase
    var clock: MovableClock
    let calendar: AccountCalendar
    let workspace: Workspace
    let transport: RecordingTransport

    /// 2026-11-25 12:00 in the fixture's zone by default; on a temporary SQLite file unless a
    /// database is given (`StoreTestCase.makeDatabase`: the test class's engine).
    init(database: AppDatabase? = nil, zone: String = "Europe/Berlin", now: String = "2026-11-25T11:00:00Z") throws {
        self.database = try database ?? AppDatabase.temporary()
        let date = ISO8601DateFormatter().date(from: now)!
        clock = MovableClock(Int64(date.timeIntervalSince1970 * 1000))
        calendar = AccountCalendar(timeZone: TimeZone(identifier: zone)!)
        transport = RecordingTransport(clock: clock, calendar: calendar)
        workspace = Workspace(database: self.database, clock: clock, calendar: calendar, appID: "42", transport: transport)
    }

    /// A month before Meta retired the message tags: the seed's tagged flow still works.
    static let beforeRetirement = "2026-03-25T11:00:00Z"

    static let shopPage = "1001"
    static let eventsPage = "1002"
    static let adsPage = "1003"
    static let noMessagingPage = "1004"

    @discardableResult
    func importPages() throws -> Int {
        try workspace.pages.importAccounts(
            Data(
                """
                {"data":[
                  {"id":"1001","name":"Shop","tasks":["MANAGE","MESSAGING","ADVERTISE"],"access_token":"TOKEN-SHOP-SECRET"},
                  {"id":"1002","name":"Events","tasks":["CREATE_CONTENT","MESSAGING"],"access_token":"TOKEN-EVENTS"},
                  {"id":"1003","name":"Ads","tasks":["ADVERTISE","ANALYZE"],"access_token":"TOKEN-ADS"},
                  {"id":"1004","name":"Mods","tasks":["MODERATE"],"access_token":"TOKEN-MODS"}
                ],"paging":{"cursors":{"before":"a","after":"b"}}}
                """.utf8))
    }

    /// Pages, a Shop profile, contacts (two opted in), a program with its node, active. The node
    /// sends a utility template (2026); with `tag`, the seed's tagged node, which needs a clock
    /// before Meta retired the tags (`Fixture.beforeRetirement`).
    @discardableResult
    func standardSetup(message: String = "Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped.", tag: String? = nil) throws -> ProfileDetails {
        try importPages()
        let shop = try workspace.profiles.create(name: "Shop", pageID: Fixture.shopPage)
        let field = shop.summary.optInField
        try workspace.contacts.importCSV(
            Data(
                """
                EMAIL,FIRSTNAME,ORDERNUMBER,\(field)
                ann@example.com,Ann,A-1,psid-ann
                bob@example.com,,B-2,psid-bob
                cat@example.com,Cat,C-3,

                """.utf8))
        try workspace.contacts.setDefault(field: "FIRSTNAME", value: "friend")
        try workspace.programs.create(name: "Orders")
        if let tag {
            _ = try workspace.programs.setNode(program: "Orders", profile: "Shop", tag: tag, message: message, acceptFlags: false)
        } else {
            try workspace.programs.setUtilityNode(program: "Orders", profile: "Shop", message: message, acceptFlags: false)
        }
        try workspace.programs.activate(name: "Orders")
        return shop
    }

    func millis(_ iso: String) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970 * 1000)
    }

    func day(_ text: String) -> DayNumber { calendar.parseDay(text)! }

    /// The first column of `sql`'s first row, on either engine.
    func count(_ sql: String, _ arguments: StoreArguments = []) throws -> Int {
        try database.snapshot { db in try db.value(Int.self, sql, arguments) ?? 0 }
    }

    /// A run killed after claiming its batch but before Facebook answered: a dead process owns
    /// the run, its claim covers ann's and bob's enrolments (10 and 11), no send row was written.
    func killedRunClaimingAnnAndBob() throws {
        try database.transaction { db in
            let program = try XCTUnwrap(try db.value(Int64.self, "SELECT id FROM program"))
            let node = try XCTUnwrap(try db.value(Int64.self, "SELECT id FROM node"))
            try db.exec(
                "INSERT INTO enrolment (id, program_id, contact_id, enrolled_at) VALUES (10, ?, 1, 0), (11, ?, 2, 0)", [program, program])
            // PostgreSQL's identity doesn't move past ids given explicitly (SQLite's rowid does):
            // the next enrolment must be above 11, as a run's enrolment counts on.
            if db.engine == .postgres { try db.exec("SELECT setval(pg_get_serial_sequence('enrolment', 'id'), 11)") }
            try db.exec(
                "INSERT INTO program_contact (program_id, contact_id, last_enrolment_id) VALUES (?, 1, 10), (?, 2, 11)", [program, program])
            try db.exec(
                """
                INSERT INTO program_run (program_id, pid, started_at, heartbeat_at, claim_node_id, claim_after, claim_through)
                VALUES (?, 2147483000, 0, 0, ?, 9, 11)
                """, [program, node])
        }
    }

    func run(_ program: String = "Orders", reenrol: Bool = false) throws -> RunSummary {
        try ProgramRunner(workspace: workspace).run(program: program, reenrol: reenrol)
    }

    func deliveryLine(page: String = Fixture.shopPage, psid: String, watermark: Int64, mids: [String] = []) -> String {
        let midsJSON = mids.map { "\"\($0)\"" }.joined(separator: ",")
        return
            #"{"object":"page","entry":[{"id":"\#(page)","time":\#(watermark),"messaging":[{"sender":{"id":"\#(psid)"},"recipient":{"id":"\#(page)"},"timestamp":\#(watermark),"delivery":{"mids":[\#(midsJSON)],"watermark":\#(watermark)}}]}]}"#
    }

    func readLine(page: String = Fixture.shopPage, psid: String, watermark: Int64) -> String {
        #"{"object":"page","entry":[{"id":"\#(page)","time":\#(watermark),"messaging":[{"sender":{"id":"\#(psid)"},"recipient":{"id":"\#(page)"},"timestamp":\#(watermark),"read":{"watermark":\#(watermark)}}]}]}"#
    }

    func optinLine(page: String = Fixture.shopPage, psid: String, email: String, at: Int64 = 1_764_000_000_000) -> String {
        #"{"object":"page","entry":[{"id":"\#(page)","time":\#(at),"messaging":[{"sender":{"id":"\#(psid)"},"recipient":{"id":"\#(page)"},"timestamp":\#(at),"optin":{"ref":"\#(email)"}}]}]}"#
    }
}

final class MovableClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var millis: Int64
    init(_ millis: Int64) { self.millis = millis }
    func set(_ value: Int64) {
        lock.lock()
        millis = value
        lock.unlock()
    }
    func nowMillis() -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        return millis
    }
}

/// The sandbox transport, remembering every message it was asked to send.
final class RecordingTransport: Transport, @unchecked Sendable {
    private let lock = NSLock()
    private let sandbox: SandboxTransport

    init(clock: any Clock, calendar: AccountCalendar) {
        sandbox = SandboxTransport(clock: clock, calendar: calendar)
    }

    private(set) var sent: [OutgoingMessage] = []
    /// Called before answering; a test can throw the run off course here.
    var onSend: ((OutgoingMessage) -> Void)?
    /// An answer of the test's own for a message (nil: the sandbox answers).
    var override: ((OutgoingMessage) -> SendResult?)?

    func send(_ message: OutgoingMessage) -> SendResult {
        lock.lock()
        sent.append(message)
        let hook = onSend
        let answer = override
        lock.unlock()
        hook?(message)
        return answer?(message) ?? sandbox.send(message)
    }
}
