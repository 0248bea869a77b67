import Foundation
import GRDB

/// A page of the directory with what the product knows of it.
public struct PageInfo: Equatable, Sendable {
    public let id: String
    public let name: String
    public let role: PageRole
    public let eligibility: PageEligibility
    public let linkedProfile: String?
    /// Set when Graph has answered 190 for this page's token (R11).
    public let connectionError: String?
    public let hasToken: Bool
}

enum PageStore {
    static func splitTasks(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }
}

/// The page directory as stored: `pages import` and `pages list`.
public struct PageService: Sendable {
    let workspace: Workspace
    var database: AppDatabase { workspace.database }

    /// Stores the pages of a `/me/accounts` response; a page imported again is updated. A new token
    /// clears a broken connection (the page was reconnected).
    @discardableResult
    public func importAccounts(_ data: Data) throws -> Int {
        let pages = try MeAccountsResponse.parse(data).pages
        try store(pages)
        return pages.count
    }

    /// `connection`: how the pages' tokens were had, kept with each page (#24).
    public func store(_ pages: [DirectoryPage], connection: PageConnection? = nil) throws {
        let now = workspace.clock.nowMillis()
        try database.transaction { db in
            for page in pages {
                try db.exec(
                    """
                    INSERT INTO page (id, name, tasks, access_token, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        name = excluded.name, tasks = excluded.tasks, updated_at = excluded.updated_at,
                        access_token = COALESCE(excluded.access_token, page.access_token),
                        connection_error = CASE WHEN excluded.access_token IS NOT NULL
                                                 AND excluded.access_token IS DISTINCT FROM page.access_token
                                                THEN NULL ELSE page.connection_error END,
                        restricted = CASE WHEN excluded.access_token IS NOT NULL
                                           AND excluded.access_token IS DISTINCT FROM page.access_token
                                          THEN NULL ELSE page.restricted END
                    """, [page.id, page.name, page.tasks.joined(separator: ","), page.accessToken, now])
                if let connection, page.accessToken != nil {
                    try db.exec(
                        """
                        UPDATE page SET connected_at = ?, connected_via = ?, token_lifetime = ?, data_access_expires_at = ?,
                            permissions = ? WHERE id = ?
                        """,
                        [
                            now, connection.via, connection.lifetime, connection.dataAccessExpiresAt,
                            connection.permissions?.joined(separator: ","), page.id,
                        ])
                }
            }
        }
    }

    /// The permissions last read for a page's token; nil when never read (an imported page).
    static func permissions(_ db: any StoreConnection, pageID: String) throws -> [String]? {
        try db.value(String.self, "SELECT permissions FROM page WHERE id = ?", [pageID]).map(PageStore.splitTasks)
    }

    /// A profile can't be enabled on a page whose token lacks pages_messaging (#24).
    static func refuseWithoutMessaging(_ db: any StoreConnection, pageID: String, pageName: String) throws {
        if let granted = try permissions(db, pageID: pageID), !granted.contains("pages_messaging") {
            throw DomainError(
                "page \(pageName)'s token lacks the pages_messaging permission, so it can't send: log in again and grant it (the profile can be created disabled)"
            )
        }
    }

    public func list() throws -> [PageInfo] {
        try database.snapshot { db in
            try db.rows(
                """
                SELECT page.id, page.name, page.tasks, page.connection_error,
                       page.access_token IS NOT NULL AS has_token, profile.name AS profile_name
                FROM page LEFT JOIN profile ON profile.page_id = page.id
                ORDER BY page.name, page.id
                """
            ).map(Self.info)
        }
    }

    static func info(_ row: StoreRow) -> PageInfo {
        let tasks = PageStore.splitTasks(row["tasks"])
        return PageInfo(
            id: row["id"], name: row["name"], role: PageRole(tasks: tasks),
            eligibility: PageEligibility(tasks: tasks), linkedProfile: row["profile_name"],
            connectionError: row["connection_error"], hasToken: row["has_token"])
    }

    /// Marks a page's connection broken, as when Graph answers 190 (R11). The profile stays.
    /// The webhook received events for these pages now (`doctor` says when a page last heard).
    public func noteEvents(pageIDs: Set<String>) throws {
        guard !pageIDs.isEmpty else { return }
        let now = workspace.clock.nowMillis()
        try database.transaction { db in try Self.noteEvents(db, pageIDs: pageIDs, at: now) }
    }

    /// When each page last had a webhook event (ms), for the metrics.
    public func lastEvents() throws -> [(page: String, at: Int64)] {
        try database.snapshot { db in
            try db.rows("SELECT id, last_event_at FROM page WHERE last_event_at IS NOT NULL ORDER BY id").map {
                (page: $0["id"], at: $0["last_event_at"])
            }
        }
    }

    static func noteEvents(_ db: any StoreConnection, pageIDs: Set<String>, at now: Int64) throws {
        for id in pageIDs { try db.exec("UPDATE page SET last_event_at = ? WHERE id = ?", [now, id]) }
    }

    /// Marks what stopped a page's run: a refused token (190) breaks the connection; Meta's
    /// restriction (10/1893063) is kept apart, as the page's token is still good.
    public func markStopped(pageID: String, by error: GraphError) throws {
        guard error.isPageRestriction else { return try markBroken(pageID: pageID, reason: error.reason) }
        try database.transaction { db in
            try db.exec("UPDATE page SET restricted = ? WHERE id = ?", [error.reason, pageID])
        }
    }

    public func markBroken(pageID: String, reason: String) throws {
        try database.transaction { db in
            try db.exec("UPDATE page SET connection_error = ? WHERE id = ?", [reason, pageID])
        }
    }
}
