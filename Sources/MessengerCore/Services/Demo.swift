import Foundation
import GRDB

public struct DemoOptions: Sendable {
    public var contacts = 2_000
    public var seed: UInt64 = 1
    public init(contacts: Int = 2_000, seed: UInt64 = 1) {
        self.contacts = contacts
        self.seed = seed
    }
}

public struct DemoSummary: Sendable, Equatable {
    public var contacts = 0
    public var sent = 0
    public var warned = 0
    public var delivered = 0
    public var mainProfile = ""
    /// Time spent inside program runs (enrolment and the Messenger node), and the contacts that
    /// went through the node there: the pipeline's throughput without imports and receipts.
    public var runSeconds = 0.0
    public var nodeVisits = 0
}

/// A clock the demo moves through seven days; each reading advances it a little so sends get
/// distinct, increasing times.
final class SteppingClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Int64
    private let step: Int64

    init(start: Int64, step: Int64) {
        current = start
        self.step = step
    }

    func set(_ millis: Int64) {
        lock.lock()
        current = millis
        lock.unlock()
    }

    func nowMillis() -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        current += step
        return current
    }
}

/// SplitMix64: a small seeded generator, so the same `--seed` gives the same database (and a
/// fuzz run's printed seed replays it).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds a demo workspace through the real pipeline: pages are imported, profiles created,
/// contacts imported from CSV, opt-ins ingested as webhook events, programs run day by day with
/// the sandbox transport and its receipts ingested. No statistic is written directly.
public enum Demo {
    public static let mainProfile = "Northwind Shop"
    public static let eventsProfile = "Northwind Events"
    public static let disabledProfile = "Northwind Support"
    public static let activeProgram = "Order updates"
    public static let otherProgram = "Event reminders"
    /// Set up before Meta retired the tags, paused since: it shows the ⚑ flag and `u` / `programs convert`.
    public static let retiredTagProgram = "Account notices"

    public static func build(
        database: AppDatabase, calendar: AccountCalendar, appID: String, now: Int64, options: DemoOptions,
        progress: (@Sendable (String) -> Void)? = nil
    ) throws -> DemoSummary {
        let existing = try database.snapshot { db in try db.value(Int.self, "SELECT COUNT(*) FROM profile") ?? 0 }
        guard existing == 0 else { throw DomainError("database \(database.location) already has profiles; the demo needs a new database") }
        var rng = SeededGenerator(state: options.seed)
        let today = calendar.day(ofMillis: now)
        let clock = SteppingClock(start: calendar.startMillis(of: today - 6) + 8 * 3_600_000, step: 1)
        let workspace = Workspace(database: database, clock: clock, calendar: calendar, appID: appID)
        var summary = DemoSummary(mainProfile: mainProfile)

        progress?("pages")
        let pages: [(String, String, [String])] = [
            ("104000000000001", "Northwind Shop", ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE", "MESSAGING"]),
            ("104000000000002", "Northwind Events", ["ANALYZE", "CREATE_CONTENT", "MESSAGING"]),
            ("104000000000003", "Northwind Support", ["ANALYZE", "MODERATE", "MESSAGING"]),
            ("104000000000004", "Northwind Ads", ["ANALYZE", "ADVERTISE"]),
            ("104000000000005", "Northwind Insights", ["ANALYZE"]),
            ("104000000000006", "Northwind Café 東京", ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE", "MESSAGING"]),
        ]
        let accounts: [String: Any] = [
            "data": pages.map { ["id": $0.0, "name": $0.1, "tasks": $0.2, "access_token": "EAADEMO\($0.0)SECRET"] }
        ]
        try workspace.pages.importAccounts(try JSONSerialization.data(withJSONObject: accounts))

        progress?("profiles")
        let shop = try workspace.profiles.create(name: mainProfile, pageID: "104000000000001")
        let events = try workspace.profiles.create(name: eventsProfile, pageID: "104000000000002")
        try workspace.profiles.create(name: disabledProfile, pageID: "104000000000003", enabled: false)

        progress?("contacts")
        try workspace.contacts.ensureField("FIRSTNAME", defaultValue: "there")
        try workspace.contacts.ensureField("LASTNAME")
        // The default reads in the number's place: "order you placed has shipped" (#27: the
        // message said "your order your order has shipped").
        try workspace.contacts.ensureField("ORDERNUMBER", defaultValue: "you placed")
        try workspace.contacts.ensureField("EVENTDATE", defaultValue: "soon")
        let firstNames = [
            "Ada", "Grace", "Linus", "Yuki", "Ines", "Omar", "Priya", "Chen", "Zoë", "Mateo", "Aiko", "Sven", "Amara", "Kofi", "Lena",
            "Ravi",
        ]
        let lastNames = [
            "Lovelace", "Hopper", "Tanaka", "García", "Okafor", "Nguyen", "Müller", "Singh", "Rossi", "Kowalski", "Haddad", "Silva",
        ]
        var psids: [String] = []
        var optedInAtStart: [Bool] = []
        var csv = CSV.line(
            [
                "EMAIL", "FIRSTNAME", "LASTNAME", "ORDERNUMBER", "EVENTDATE", shop.summary.optInField, events.summary.optInField,
            ], forSpreadsheet: false)
        for i in 0..<options.contacts {
            let psid = psid(for: i, rng: &rng)
            psids.append(psid)
            let roll = Int(rng.next() % 100)
            let optIn = roll < 66
            optedInAtStart.append(optIn)
            let first = roll % 10 == 9 ? "" : firstNames[Int(rng.next() % UInt64(firstNames.count))]
            let last = lastNames[Int(rng.next() % UInt64(lastNames.count))]
            let order = roll % 4 == 0 ? "" : "NW-\(100_000 + i)"
            let eventDate = calendar.string(for: today + Int(rng.next() % 30))
            let local = first.isEmpty ? "guest" : first.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
            csv += CSV.line(
                [
                    "\(local).\(i)@example.com", first, last, order, eventDate,
                    optIn ? psid : "", roll % 3 == 0 ? "9\(psid.dropFirst())" : "",
                ], forSpreadsheet: false)
        }
        try workspace.contacts.importCSV(Data(csv.utf8))
        summary.contacts = options.contacts

        progress?("programs")
        // 2026: active programs send approved utility templates (the sandbox reviews at once).
        try workspace.programs.create(name: activeProgram)
        try workspace.programs.setUtilityNode(
            program: activeProgram, profile: mainProfile,
            message: "Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped. Track the parcel from your account page.",
            acceptFlags: false)
        try workspace.programs.activate(name: activeProgram)
        try workspace.programs.create(name: otherProgram)
        try workspace.programs.setUtilityNode(
            program: otherProgram, profile: eventsProfile,
            message: "Hi @FIRSTNAME@, the workshop you registered for takes place on @EVENTDATE@. Doors open 15 minutes before the start.",
            acceptFlags: false)
        try workspace.programs.activate(name: otherProgram)
        // A program set up with a tag a month before Meta retired the tags, and paused since.
        let beforeRetirement = calendar.startMillis(of: min(today, TagRetirement.day) - 30) + 10 * 3_600_000
        clock.set(beforeRetirement)
        try workspace.programs.create(name: retiredTagProgram)
        _ = try workspace.programs.setNode(
            program: retiredTagProgram, profile: eventsProfile, tag: "Account_update",
            message: "Hi @FIRSTNAME@, your account settings were changed. If this wasn't you, reply to this message.",
            acceptFlags: false)
        try workspace.programs.activate(name: retiredTagProgram)
        try workspace.programs.pause(name: retiredTagProgram)

        let runner = ProgramRunner(workspace: workspace)
        for offset in stride(from: 6, through: 0, by: -1) {
            let day = today - offset
            let start = calendar.startMillis(of: day)
            let runAt = offset == 0 ? start + max(0, (now - start) / 2) : start + 9 * 3_600_000 + Int64(offset) * 611_000
            clock.set(runAt)
            progress?("day \(calendar.string(for: day))")

            // A share of the not-yet-opted-in contacts click the button each day.
            var optins: [(line: Int, event: WebhookEvent)] = []
            for (i, opted) in optedInAtStart.enumerated() where !opted && (Int(SandboxTransport.hash("\(options.seed)/\(i)") % 100) < 2) {
                optedInAtStart[i] = true
                let email = try database.snapshot { db in try db.value(String.self, "SELECT email FROM contact WHERE id = ?", [i + 1]) }
                if let email {
                    optins.append((optins.count + 1, .optin(pageID: "104000000000001", psid: psids[i], ref: email, timestamp: runAt)))
                }
            }
            _ = try workspace.optIns.ingest(optins)

            let dayLabel = calendar.string(for: day)
            let report: @Sendable (RunProgress) -> Void = { p in
                progress?("day \(dayLabel): \(p.done) of \(p.total) contacts through the node")
            }
            var runs = [(activeProgram, EnrolmentSelection.sample(percent: 55 + Int(rng.next() % 40), salt: day.rawValue))]
            if offset >= 4 { runs.append((otherProgram, .sample(percent: 20, salt: day.rawValue + 7))) }
            for (program, selection) in runs {
                let started = DispatchTime.now().uptimeNanoseconds
                let result = try runner.run(program: program, reenrol: true, selection: selection, progress: report)
                summary.runSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                summary.nodeVisits += result.processed
                summary.sent += result.sent
                summary.warned += result.warned
            }

            // Facebook's receipts for the day's messages, as its webhook would post them.
            let sent = try database.snapshot { db in
                try db.rows(
                    """
                    SELECT page_id, psid, message_id, at FROM send
                    WHERE day = ? AND outcome = 'sent' AND delivered_at IS NULL
                    """, [day])
            }
            var receipts: [(line: Int, event: WebhookEvent)] = []
            for row in sent {
                for event in SandboxTransport.receipts(
                    pageID: row["page_id"], psid: row["psid"], messageID: row["message_id"], sentAt: row["at"])
                {
                    if case .delivery(_, _, _, _, let ts) = event, ts > now { continue }
                    if case .read(_, _, _, let ts) = event, ts > now { continue }
                    receipts.append((receipts.count + 1, event))
                }
            }
            summary.delivered += try workspace.receipts.ingest(receipts).delivered
        }
        try workspace.programs.pause(name: otherProgram)
        return summary
    }

    /// A 16-digit PSID; about 1 in 16 ends in one of the sandbox's error suffixes.
    static func psid(for index: Int, rng: inout SeededGenerator) -> String {
        let base = String(format: "%011llu", 10_000_000_000 + (rng.next() % 89_999_999_999))
        if rng.next() % 16 == 0 {
            // Nothing that stops a page's run (190, 10/1893063): the demo's runs go through.
            let suffix = SandboxTransport.errorSuffixes.filter { !GraphError(code: $0.code, subcode: $0.subcode).stopsThePage }
            return base + suffix[Int(rng.next() % UInt64(suffix.count))].suffix
        }
        return base + String(format: "%05d", index % 99_000)
    }
}
