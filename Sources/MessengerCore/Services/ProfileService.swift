import Foundation
import GRDB

/// A profile as the Profiles screen and `profiles list` show it.
public struct ProfileSummary: Equatable, Sendable {
    public let id: Int64
    public let name: String
    public let pageID: String
    public let pageName: String
    public let enabled: Bool
    public let optInField: String
    public let delivered7d: Int
    public let warnings7d: Int

    /// The same profile, enabled or disabled: how a list shows its own write before it reloads.
    public func with(enabled: Bool) -> ProfileSummary {
        ProfileSummary(
            id: id, name: name, pageID: pageID, pageName: pageName, enabled: enabled, optInField: optInField,
            delivered7d: delivered7d, warnings7d: warnings7d)
    }
}

/// A profile's page: the summary plus what the profile page shows (R3, R8, R11).
public struct ProfileDetails: Equatable, Sendable {
    public let summary: ProfileSummary
    public let optInCode: String
    public let sent7d: Int
    public let read7d: Int
    public let notSent: [ReasonCount]
    /// nil when healthy; the Graph error otherwise (R11).
    public let connectionError: String?
    public static let repliesNote = "Replies to these messages are read on Facebook only, in the page's inbox."
    /// Beside the plugin code: the m.me link that opts a contact in too.
    public var optInLink: String { OptInCode.link(pageID: summary.pageID) }
    /// The connection to Facebook as last known (no call is made to read it), for one line (#24).
    public var facebook = FacebookState()
    /// Set when the code can't work on Facebook: it carries the sandbox's placeholder app id
    /// while the workspace talks to the real Graph API (#27: it did so without a word).
    public var optInCodeWarning: String?
    public static let placeholderAppIDWarning =
        "the opt-in code carries the placeholder app id \(Settings.sandboxAppID): set app_id in config.toml to your Meta app's id"
}

/// The page's token, permissions, webhooks and last event, as stored; `doctor` asks Facebook.
public struct FacebookState: Equatable, Sendable {
    public var tokenOK = true
    /// Granted permissions all there; nil when never read (an imported page).
    public var permissionsOK: Bool?
    /// Fields Facebook listed for the app; nil when never subscribed.
    public var webhookFields: Int?
    public var webhooksOK = false
    /// Seconds since the last webhook event for the page, at load.
    public var lastEventAgo: Int64?

    public init() {}
}

public struct ReasonCount: Equatable, Sendable, Codable {
    /// The reason in today's words, as a person reads it.
    public let reason: String
    /// Its stable code (`WarningReason.code`), what the count is kept under: what scripts match on.
    public let code: String
    public let count: Int

    public init(_ reason: WarningReason, count: Int) {
        self.reason = reason.text
        self.code = reason.code
        self.count = count
    }

    /// A count of a reason known only by its words (a screen's test data, say).
    public init(reason: String, count: Int) { self.init(.text(reason), count: count) }

    /// A count under a stored code (`daily_stat.reason`).
    init(code: String, count: Int) { self.init(WarningReason(code: code), count: count) }

    /// The order every list of reasons shows: most contacts first, then by reason.
    static func ordered(_ a: ReasonCount, _ b: ReasonCount) -> Bool {
        a.count != b.count ? a.count > b.count : a.reason < b.reason
    }

    /// Counts by reason as that list.
    static func list(_ counts: [WarningReason: Int]) -> [ReasonCount] {
        counts.map { ReasonCount($0.key, count: $0.value) }.sorted(by: ordered)
    }
}

/// What deleting some profiles would take with it, for the confirmation (R10).
public struct DeletionPlan: Equatable, Sendable {
    public let profiles: [String]
    public let usageRecords: Int
    /// After the deletion: how many of the pages Facebook unsubscribed from the app's webhooks.
    public var unsubscribed = 0

    public init(profiles: [String], usageRecords: Int, unsubscribed: Int = 0) {
        self.profiles = profiles
        self.usageRecords = usageRecords
        self.unsubscribed = unsubscribed
    }
}

public struct ProfileService: Sendable {
    let workspace: Workspace
    var database: AppDatabase { workspace.database }

    // MARK: Reading

    public func list() throws -> [ProfileSummary] {
        let window = workspace.calendar.window(today: workspace.today)
        return try database.snapshot { db in
            try db.rows(Self.summarySQL + " ORDER BY profile.name_key", [window.lowerBound, window.upperBound])
                .map(Self.summary)
        }
    }

    public func details(named name: String) throws -> ProfileDetails {
        let window = workspace.calendar.window(today: workspace.today)
        return try database.snapshot { db in
            let id = try Self.id(db, named: name)
            return try Self.details(
                db, id: id, window: window, appID: workspace.appID, now: workspace.clock.nowMillis(), realGraph: workspace.graph != nil)
        }
    }

    public func details(id: Int64) throws -> ProfileDetails {
        let window = workspace.calendar.window(today: workspace.today)
        return try database.snapshot { db in
            try Self.details(
                db, id: id, window: window, appID: workspace.appID, now: workspace.clock.nowMillis(), realGraph: workspace.graph != nil)
        }
    }

    static func details(
        _ db: any StoreConnection, id: Int64, window: ClosedRange<DayNumber>, appID: String, now: Int64, realGraph: Bool = false
    ) throws -> ProfileDetails {
        guard
            let row = try db.row(summarySQL + " WHERE profile.id = ?", [window.lowerBound, window.upperBound, id])
        else {
            throw DomainError("no profile with id \(id)")
        }
        let summary = summary(row)
        let totals = try db.rows(
            """
            SELECT outcome, SUM(count) AS n FROM daily_stat
            WHERE profile_id = ? AND day BETWEEN ? AND ? AND outcome IN ('sent', 'read') GROUP BY outcome
            """, [id, window.lowerBound, window.upperBound])
        var sent = 0
        var read = 0
        for t in totals { if (t["outcome"] as StatOutcome) == .sent { sent = t["n"] } else { read = t["n"] } }
        let reasons = try db.rows(
            """
            SELECT reason, SUM(count) AS n FROM daily_stat
            WHERE profile_id = ? AND day BETWEEN ? AND ? AND outcome = 'warning'
            GROUP BY reason
            """, [id, window.lowerBound, window.upperBound]
        ).map { ReasonCount(code: $0["reason"], count: $0["n"]) }.sorted(by: ReasonCount.ordered)
        var details = ProfileDetails(
            summary: summary, optInCode: OptInCode.html(appID: appID, pageID: summary.pageID),
            sent7d: sent, read7d: read, notSent: reasons, connectionError: row["connection_error"])
        details.facebook = try facebookState(db, pageID: summary.pageID, connectionError: row["connection_error"], now: now)
        if realGraph && appID == Settings.sandboxAppID { details.optInCodeWarning = ProfileDetails.placeholderAppIDWarning }
        return details
    }

    static func facebookState(_ db: any StoreConnection, pageID: String, connectionError: String?, now: Int64) throws -> FacebookState {
        var state = FacebookState()
        let page = try db.row(
            """
            SELECT page.access_token IS NOT NULL AS has_token, page.permissions, page.last_event_at, s.fields, s.error
            FROM page LEFT JOIN page_subscription s ON s.page_id = page.id WHERE page.id = ?
            """, [pageID])
        guard let page else { return state }
        state.tokenOK = page["has_token"] && connectionError == nil
        if let granted = (page["permissions"] as String?).map(PageStore.splitTasks) {
            state.permissionsOK = MessengerPermissions.problems(granted.map { Permission(name: $0, status: "granted") }).isEmpty
        }
        if let fields = (page["fields"] as String?).map(PageStore.splitTasks), !fields.isEmpty {
            state.webhookFields = fields.count
            state.webhooksOK = WebhookSubscription(subscribed: true, fields: fields, checkedAt: nil, error: nil).missingFields.isEmpty
        }
        state.lastEventAgo = (page["last_event_at"] as Int64?).map { max(0, (now - $0) / 1000) }
        return state
    }

    private static let summarySQL = """
        SELECT profile.id, profile.name, profile.page_id, page.name AS page_name, profile.enabled,
               data_field.name AS optin_field, COALESCE(page.connection_error, page.restricted) AS connection_error,
               COALESCE((SELECT SUM(count) FROM daily_stat s WHERE s.profile_id = profile.id
                         AND s.day BETWEEN ?1 AND ?2 AND s.outcome = 'delivered'), 0) AS delivered,
               COALESCE((SELECT SUM(count) FROM daily_stat s WHERE s.profile_id = profile.id
                         AND s.day BETWEEN ?1 AND ?2 AND s.outcome = 'warning'), 0) AS warnings
        FROM profile
        JOIN page ON page.id = profile.page_id
        JOIN data_field ON data_field.id = profile.optin_field_id
        """

    static func summary(_ row: StoreRow) -> ProfileSummary {
        ProfileSummary(
            id: row["id"], name: row["name"], pageID: row["page_id"], pageName: row["page_name"],
            enabled: row["enabled"], optInField: row["optin_field"],
            delivered7d: row["delivered"], warnings7d: row["warnings"])
    }

    static func id(_ db: any StoreConnection, named name: String) throws -> Int64 {
        guard
            let id = try db.value(
                Int64.self, "SELECT id FROM profile WHERE name_key = ?",
                [ProfileName.key(name.trimmingCharacters(in: .whitespacesAndNewlines))])
        else {
            throw DomainError("no profile named \(Display.quoted(name))")
        }
        return id
    }

    // MARK: Creating (R1, R2, R3)

    /// Creates a profile linked to a page of the directory, with its own FBOPTIN field.
    @discardableResult
    public func create(name rawName: String, pageID: String, enabled: Bool = true) throws -> ProfileDetails {
        let name = try ProfileName(rawName)
        guard let page = try workspace.directory.pages().first(where: { $0.id == pageID }) else {
            throw DomainError("page \(Display.quoted(pageID)) is not among your Facebook pages: import them with `pages import`")
        }
        if let reason = page.eligibility.reason {
            throw DomainError("page \(page.name) can't be linked: \(reason)")
        }
        let now = workspace.clock.nowMillis()
        let id: Int64 = try database.transaction { db in
            if let other = try db.value(String.self, "SELECT name FROM profile WHERE name_key = ?", [name.key]) {
                throw DomainError("a profile named \(Display.quoted(other)) already exists (names are unique ignoring case)")
            }
            if let other = try db.value(String.self, "SELECT name FROM profile WHERE page_id = ?", [page.id]) {
                throw DomainError("page \(page.name) is already linked to profile \(Display.quoted(other))")
            }
            if enabled { try PageService.refuseWithoutMessaging(db, pageID: page.id, pageName: page.name) }
            // A directory other than the sandbox (Graph) may offer a page not stored yet.
            try db.exec(
                """
                INSERT INTO page (id, name, tasks, access_token, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, tasks = excluded.tasks,
                    access_token = COALESCE(excluded.access_token, page.access_token)
                """, [page.id, page.name, page.tasks.joined(separator: ","), page.accessToken, now])
            // The id decides the code; reserve it first, then create the field named after it.
            let next = try db.nextID("profile")
            let fieldName = OptInCode.fieldName(profileID: next)
            // lower(): SQLite's NOCASE column, PostgreSQL's unique index on lower(name).
            if try db.value(Bool.self, "SELECT 1 FROM data_field WHERE lower(name) = lower(?)", [fieldName]) == true {
                throw DomainError("the data field \(fieldName) already exists; rename it before creating this profile")
            }
            let fieldID = try db.insert("INSERT INTO data_field (name, kind) VALUES (?, 'optin')", [fieldName])
            try db.exec(
                """
                INSERT INTO profile (id, name, name_key, page_id, enabled, optin_field_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [next, name.value, name.key, page.id, enabled, fieldID, now])
            return next
        }
        // The page is subscribed to the app's webhooks (a disabled profile's opt-ins still count);
        // a refusal is kept with the page (profiles show, doctor) and the profile stays:
        // `profiles subscribe` tries again.
        _ = try? workspace.subscriptions.subscribe(profile: name.value)
        return try details(id: id)
    }

    // MARK: Enable, disable, delete (R10)

    /// Refuses, as `setEnabled(false, …)` would, without changing anything: the dashboard checks
    /// before it asks (#27: its dialog asked first, then refused).
    public func checkDisable(names: [String]) throws {
        try database.snapshot { db in
            try Self.refuseIfInActivePrograms(db, ids: try names.map { try Self.id(db, named: $0) }, action: "disabled")
        }
    }

    public func setEnabled(_ enabled: Bool, names: [String]) throws {
        try database.transaction { db in
            let ids = try names.map { try Self.id(db, named: $0) }
            if !enabled { try Self.refuseIfInActivePrograms(db, ids: ids, action: "disabled") }
            if enabled {
                for id in ids {
                    let row = try db.row(
                        "SELECT page.id, page.name FROM profile JOIN page ON page.id = profile.page_id WHERE profile.id = ?", [id])
                    if let row { try PageService.refuseWithoutMessaging(db, pageID: row["id"], pageName: row["name"]) }
                }
            }
            for id in ids {
                try db.exec("UPDATE profile SET enabled = ? WHERE id = ?", [enabled, id])
            }
        }
        if enabled { for name in names { _ = try? workspace.subscriptions.subscribe(profile: name) } }
    }

    /// What `delete(names:)` would remove, without removing it; refuses as delete would.
    public func deletionPlan(names: [String]) throws -> DeletionPlan {
        try database.snapshot { db in try Self.plan(db, names: names) }
    }

    /// Deletes the profiles, their usage statistics and their opt-in fields, all or nothing.
    @discardableResult
    public func delete(names: [String]) throws -> DeletionPlan {
        var pages: [(id: String, token: String?)] = []
        var plan = try database.transaction { db in
            let plan = try Self.plan(db, names: names)
            for name in plan.profiles {
                let id = try Self.id(db, named: name)
                if let row = try db.row(
                    "SELECT page.id, page.access_token FROM profile JOIN page ON page.id = profile.page_id WHERE profile.id = ?", [id])
                {
                    pages.append((row["id"], row["access_token"]))
                }
                let fieldID = try db.value(Int64.self, "SELECT optin_field_id FROM profile WHERE id = ?", [id])
                try SendLedger.forget(db, profile: id)
                try db.exec("DELETE FROM profile WHERE id = ?", [id])
                try db.exec("DELETE FROM data_field WHERE id = ?", [fieldID])
            }
            return plan
        }
        // The pages leave the app's webhooks too (the confirmation said so); a page Facebook
        // couldn't be asked for stays subscribed, which only means events nobody reads.
        plan.unsubscribed = pages.filter { workspace.subscriptions.unsubscribe(pageID: $0.id, token: $0.token) }.count
        return plan
    }

    static func plan(_ db: any StoreConnection, names: [String]) throws -> DeletionPlan {
        guard !names.isEmpty else { throw DomainError("name at least one profile to delete") }
        var ids: [Int64] = []
        var shown: [String] = []
        for name in names {
            let id = try id(db, named: name)
            if ids.contains(id) { continue }
            ids.append(id)
            shown.append(try db.value(String.self, "SELECT name FROM profile WHERE id = ?", [id]) ?? name)
        }
        try refuseIfInActivePrograms(db, ids: ids, action: "deleted")
        var records = 0
        for id in ids {
            records += try db.value(Int.self, "SELECT COUNT(*) FROM send WHERE profile_id = ?", [id]) ?? 0
        }
        return DeletionPlan(profiles: shown, usageRecords: records)
    }

    static func refuseIfInActivePrograms(_ db: any StoreConnection, ids: [Int64], action: String) throws {
        for id in ids {
            let programs = try db.values(
                String.self,
                """
                SELECT DISTINCT program.name FROM node JOIN program ON program.id = node.program_id
                WHERE node.profile_id = ? AND program.status = 'active' ORDER BY program.name
                """, [id])
            if !programs.isEmpty {
                let name = try db.value(String.self, "SELECT name FROM profile WHERE id = ?", [id]) ?? "?"
                let list = programs.map { Display.quoted($0) }.joined(separator: ", ")
                throw DomainError(
                    "profile \(Display.quoted(name)) can't be \(action): it is used by the active program\(programs.count > 1 ? "s" : "") \(list); pause \(programs.count > 1 ? "them" : "it") first"
                )
            }
        }
    }
}
