import Foundation
import GRDB

/// One thing `doctor` checked: fine, or a problem with the command that fixes it.
public struct DoctorFinding: Equatable, Sendable {
    public var subject: String
    public var check: String
    public var ok: Bool
    public var text: String
    public var fix: String?
}

/// Graph API versions and the day Meta stops serving each (Meta's changelog).
public enum GraphVersions {
    public static let endOfService: [String: String] = ["v21.0": "2027-01-21", "v25.0": "2028-07-29"]
    public static let newest = "v25.0"
    /// Days ahead that an end of service is warned.
    public static let warnDays = 60
}

/// What Facebook says of a page token now (`GET /debug_token`); nil in the sandbox.
public protocol PageTokenInspector: Sendable {
    func inspect(pageToken: String) throws -> TokenInfo
}

extension GraphAccount: PageTokenInspector {
    public func inspect(pageToken: String) throws -> TokenInfo { try tokenInfo(pageToken) }
}

/// `messenger-dash doctor`, as `gh auth status` or `brew doctor` do: the app's settings, the
/// Graph version, and for each profile's page its token, permissions, subscription, the last
/// webhook event, whether receipts arrive, and templates waiting on Meta (#24).
public struct DoctorService: Sendable {
    let workspace: Workspace

    /// Data access is warned this many days before it ends.
    public static let dataAccessWarnDays = 14

    public func run(settings: Settings, app: Result<AppCredentials, DomainError>, inspector: (any PageTokenInspector)?) throws
        -> [DoctorFinding]
    {
        var out: [DoctorFinding] = []
        let now = workspace.clock.nowMillis()
        let calendar = workspace.calendar
        func add(_ subject: String, _ check: String, _ ok: Bool, _ text: String, fix: String? = nil) {
            out.append(DoctorFinding(subject: subject, check: check, ok: ok, text: text, fix: ok ? nil : fix))
        }
        // Which engine holds the data, and where: a team on several hosts checks they share one.
        add("database", "engine", true, "\(try workspace.database.engineDescription()) at \(workspace.database.location)")
        if settings.facebook == .sandbox {
            add("Facebook", "mode", true, "the sandbox (facebook = \"graph\" in config.toml talks to Meta)")
        } else {
            add(
                "app", "app id", settings.appID != Settings.sandboxAppID,
                settings.appID != Settings.sandboxAppID ? settings.appID : "app_id is the sandbox's",
                fix: "set app_id in config.toml (Meta's App Dashboard: \(AppCredentials.appIDPlace))")
            switch app {
            case .failure(let error): add("app", "secrets", false, error.message, fix: "fix the file named in config.toml")
            case .success(let credentials):
                add(
                    "app", "app secret", credentials.appSecret != nil,
                    credentials.appSecret != nil
                        ? "set (tokens are made long-lived, calls carry appsecret_proof)" : "not set: tokens can't be made long-lived",
                    fix: "app_secret_file in config.toml (\(AppCredentials.appSecretPlace))")
                add(
                    "app", "client token", credentials.clientToken != nil,
                    credentials.clientToken != nil ? "set" : "not set: `messenger-dash login` needs it",
                    fix: "client_token_file in config.toml (\(AppCredentials.clientTokenPlace))")
            }
            out.append(versionFinding(settings.graphVersion, today: workspace.today))
        }
        for page in try pages() {
            let subject = "\(page.profile) (page \(page.pageID))"
            out += tokenFindings(page, subject: subject, now: now, inspector: inspector)
            let problems = page.permissions.map { granted in
                MessengerPermissions.problems(granted.map { Permission(name: $0, status: "granted") })
            }
            if let problems {
                add(
                    subject, "permissions", problems.isEmpty, problems.isEmpty ? "all four granted" : problems.joined(separator: "; "),
                    fix: "log in again granting them: messenger-dash login")
            }
            out.append(try webhookFinding(page, subject: subject, inspector: inspector))
            add(
                subject, "last event", true,
                page.lastEventAt.map { "last webhook event \(calendar.timestamp(ofMillis: $0))" } ?? "no webhook event received yet")
            if let lastSent = page.lastSentAt, lastSent < now - 3_600_000, max(page.lastEventAt ?? 0, page.lastReceiptAt ?? 0) < lastSent {
                add(
                    subject, "receipts", false,
                    "sent \(calendar.timestamp(ofMillis: lastSent)) and no receipt since: no receipts are arriving: is the webhook reachable over HTTPS?",
                    fix: "check Messenger › Webhooks in Meta's App Dashboard and that `messenger-dash webhook` runs behind TLS")
            }
            for template in page.pendingTemplates {
                add(
                    subject, "templates", false, "template \(template) has waited over an hour for Meta's review",
                    fix: "messenger-dash programs templates refresh PROGRAM")
            }
        }
        return out
    }

    func versionFinding(_ version: String, today: DayNumber) -> DoctorFinding {
        let subject = "Graph API"
        guard let end = GraphVersions.endOfService[version], let endDay = workspace.calendar.parseDay(end) else {
            return DoctorFinding(subject: subject, check: "version", ok: true, text: "\(version) (its end of service is not known here)")
        }
        let left = endDay - today
        let fix = "set graph_version = \"\(GraphVersions.newest)\" in config.toml"
        if left <= 0 {
            return DoctorFinding(subject: subject, check: "version", ok: false, text: "Meta stopped serving \(version) on \(end)", fix: fix)
        }
        let ok = left > GraphVersions.warnDays || version == GraphVersions.newest && left > 0
        return DoctorFinding(
            subject: subject, check: "version", ok: ok, text: "\(version), served until \(end) (\(left) days)", fix: ok ? nil : fix)
    }

    private func tokenFindings(_ page: PageState, subject: String, now: Int64, inspector: (any PageTokenInspector)?) -> [DoctorFinding] {
        func finding(_ ok: Bool, _ text: String, fix: String = "messenger-dash login") -> DoctorFinding {
            DoctorFinding(subject: subject, check: "token", ok: ok, text: text, fix: ok ? nil : fix)
        }
        guard let token = page.token else { return [finding(false, "no page token stored")] }
        if let broken = page.connectionError { return [finding(false, "broken: \(broken)")] }
        var out: [DoctorFinding] = []
        if let restricted = page.restricted {
            out.append(
                DoctorFinding(
                    subject: subject, check: "sending", ok: false, text: restricted,
                    fix: "see the page's quality in Meta Business Suite; runs stop until Meta lifts it"))
        }
        var dataAccess = page.dataAccessExpiresAt
        if let inspector {
            do {
                let info = try inspector.inspect(pageToken: token)
                guard info.isValid else { return out + [finding(false, "Facebook says the page token is not valid")] }
                if let expires = info.expiresAt {
                    out.append(finding(false, "the page token expires \(workspace.calendar.timestamp(ofMillis: expires))"))
                } else {
                    out.append(finding(true, "valid, never expires"))
                }
                dataAccess = info.dataAccessExpiresAt ?? dataAccess
            } catch {
                out.append(
                    finding(false, "couldn't ask Facebook: \((error as? DomainError)?.message ?? "\(error)")", fix: "check the network"))
            }
        } else if page.lifetime == "short-lived" {
            out.append(finding(false, "made from a short-lived user token: it stops within the hour"))
        } else {
            out.append(finding(true, "stored" + (page.lifetime.map { " (\($0))" } ?? "")))
        }
        if let dataAccess {
            let days = Int((dataAccess - now) / 86_400_000)
            let ok = days > Self.dataAccessWarnDays
            out.append(
                DoctorFinding(
                    subject: subject, check: "data access", ok: ok,
                    text: "Meta's data access ends \(workspace.calendar.timestamp(ofMillis: dataAccess)) (\(days) days)",
                    fix: ok ? nil : "log in again before then: messenger-dash login"))
        }
        return out
    }

    private func webhookFinding(_ page: PageState, subject: String, inspector: (any PageTokenInspector)?) throws -> DoctorFinding {
        let fix = "messenger-dash profiles subscribe \(Display.shellQuoted(page.profile))"
        var hooks = try workspace.subscriptions.subscription(profile: page.profile)
        if inspector != nil, let token = page.token {
            // Meta drops a page by itself after an hour of failed deliveries: ask what it holds now.
            if let fields = try? workspace.subscriber.subscribedFields(pageID: page.pageID, pageToken: token) {
                hooks.fields = fields
                hooks.subscribed = !fields.isEmpty
            }
        }
        if let error = hooks.error, !hooks.subscribed {
            return DoctorFinding(subject: subject, check: "webhooks", ok: false, text: "not subscribed: \(error)", fix: fix)
        }
        guard hooks.subscribed else {
            return DoctorFinding(subject: subject, check: "webhooks", ok: false, text: "the page is not subscribed to the app", fix: fix)
        }
        let missing = hooks.missingFields
        return DoctorFinding(
            subject: subject, check: "webhooks", ok: missing.isEmpty,
            text: missing.isEmpty ? "subscribed (\(hooks.fields.count) fields)" : "missing fields: \(missing.joined(separator: ", "))",
            fix: missing.isEmpty ? nil : fix)
    }

    struct PageState {
        var profile: String
        var pageID: String
        var token: String?
        var connectionError: String?
        var restricted: String?
        var lifetime: String?
        var dataAccessExpiresAt: Int64?
        var permissions: [String]?
        var lastEventAt: Int64?
        var lastSentAt: Int64?
        /// The newest delivery recorded (by the webhook or `receipts ingest`).
        var lastReceiptAt: Int64?
        var pendingTemplates: [String]
    }

    private func pages() throws -> [PageState] {
        let hourAgo = workspace.clock.nowMillis() - 3_600_000
        return try workspace.database.snapshot { db in
            try db.rows(
                """
                SELECT profile.id AS profile_id, profile.name, page.id, page.access_token, page.connection_error, page.restricted,
                       page.token_lifetime, page.data_access_expires_at, page.permissions, page.last_event_at
                FROM profile JOIN page ON page.id = profile.page_id ORDER BY profile.name_key
                """
            ).map { row in
                let pageID: String = row["id"]
                let profileID: Int64 = row["profile_id"]
                // The newest day's sends, through the indexes keyed by profile and day (no scan of all history).
                var lastSent: Int64?
                var lastReceipt: Int64?
                if let day = try db.value(DayNumber.self, "SELECT MAX(day) FROM send WHERE profile_id = ?", [profileID]) {
                    lastSent = try db.value(
                        Int64.self, "SELECT MAX(at) FROM send WHERE profile_id = ? AND day = ? AND outcome = 'sent'", [profileID, day])
                    lastReceipt = try db.value(
                        Int64.self, "SELECT MAX(delivered_at) FROM send WHERE profile_id = ? AND day >= ? AND delivered_at IS NOT NULL",
                        [profileID, day - 1])
                }
                let pending = try db.values(
                    String.self,
                    "SELECT name FROM message_template WHERE page_id = ? AND status = 'PENDING' AND submitted_at < ? ORDER BY name",
                    [pageID, hourAgo])
                return PageState(
                    profile: row["name"], pageID: pageID, token: row["access_token"], connectionError: row["connection_error"],
                    restricted: row["restricted"], lifetime: row["token_lifetime"], dataAccessExpiresAt: row["data_access_expires_at"],
                    permissions: (row["permissions"] as String?).map(PageStore.splitTasks), lastEventAt: row["last_event_at"],
                    lastSentAt: lastSent, lastReceiptAt: lastReceipt, pendingTemplates: pending)
            }
        }
    }
}

extension Workspace {
    public var doctor: DoctorService { DoctorService(workspace: self) }
}
