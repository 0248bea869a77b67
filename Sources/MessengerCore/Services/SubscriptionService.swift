import Foundation
import GRDB

/// A page's subscription to the app's webhooks, as Facebook last said it (#24).
public struct WebhookSubscription: Equatable, Sendable {
    public var subscribed: Bool
    public var fields: [String]
    /// When Facebook last answered, in milliseconds; nil when never asked.
    public var checkedAt: Int64?
    /// Facebook's refusal, when subscribing failed.
    public var error: String?

    /// The fields the product needs that Facebook doesn't list (either spelling of the template field counts).
    public var missingFields: [String] {
        WebhookFields.all.filter { field in
            field == WebhookFields.template
                ? !fields.contains(field) && !fields.contains(WebhookFields.templateOtherSpelling) : !fields.contains(field)
        }
    }
}

/// Subscribes profiles' pages to the app's webhooks and keeps what Facebook answered: the one
/// writer of `page_subscription`. Creating or enabling a profile subscribes its page; deleting a
/// profile unsubscribes it; `profiles subscribe NAME` subscribes again after Meta dropped it
/// (Meta unsubscribes a page by itself after an hour of failed deliveries).
public struct SubscriptionService: Sendable {
    let workspace: Workspace
    var database: AppDatabase { workspace.database }

    /// Subscribes the profile's page; a refusal is kept (and shown by `profiles show`) and thrown.
    @discardableResult
    public func subscribe(profile name: String) throws -> WebhookSubscription {
        let (pageID, token) = try page(of: name)
        let now = workspace.clock.nowMillis()
        do {
            guard let token else { throw DomainError("no page token stored for page \(pageID): reconnect the page") }
            let fields = try workspace.subscriber.subscribe(pageID: pageID, pageToken: token)
            try store(pageID: pageID, fields: fields, error: nil, at: now)
            return try subscription(profile: name)
        } catch {
            let text = (error as? DomainError)?.message ?? "\(error)"
            try store(pageID: pageID, fields: nil, error: text, at: now)
            throw DomainError(
                "the page of \(Display.quoted(name)) is not subscribed to the app's webhooks: \(text); try again with `messenger-dash profiles subscribe \(Display.shellQuoted(name))`"
            )
        }
    }

    /// Ends the subscription of a page whose profile is gone; best effort (the answer says whether it went).
    func unsubscribe(pageID: String, token: String?) -> Bool {
        guard let token, (try? workspace.subscriber.unsubscribe(pageID: pageID, pageToken: token)) != nil else { return false }
        _ = try? database.transaction { db in try db.exec("DELETE FROM page_subscription WHERE page_id = ?", [pageID]) }
        return true
    }

    public func subscription(profile name: String) throws -> WebhookSubscription {
        try database.snapshot { db in
            let id = try ProfileService.id(db, named: name)
            let row = try db.row(
                """
                SELECT s.fields, s.checked_at, s.error FROM profile p JOIN page_subscription s ON s.page_id = p.page_id
                WHERE p.id = ?
                """, [id])
            guard let row else { return WebhookSubscription(subscribed: false, fields: [], checkedAt: nil, error: nil) }
            let fields = PageStore.splitTasks(row["fields"])
            return WebhookSubscription(subscribed: !fields.isEmpty, fields: fields, checkedAt: row["checked_at"], error: row["error"])
        }
    }

    private func page(of name: String) throws -> (String, String?) {
        try database.snapshot { db in
            let id = try ProfileService.id(db, named: name)
            let row = try db.row(
                "SELECT page.id, page.access_token FROM profile JOIN page ON page.id = profile.page_id WHERE profile.id = ?", [id])
            guard let row else { throw DomainError("no page for profile \(Display.quoted(name))") }
            return (row["id"], row["access_token"])
        }
    }

    /// `fields` nil: the attempt failed; the fields Facebook listed before are kept beside the error.
    private func store(pageID: String, fields: [String]?, error: String?, at now: Int64) throws {
        try database.transaction { db in
            try db.exec(
                """
                INSERT INTO page_subscription (page_id, fields, checked_at, error) VALUES (?, COALESCE(?, ''), ?, ?)
                ON CONFLICT (page_id) DO UPDATE SET fields = COALESCE(?, page_subscription.fields),
                    checked_at = excluded.checked_at, error = excluded.error
                """, [pageID, fields?.joined(separator: ","), now, error, fields?.joined(separator: ",")])
        }
    }
}
