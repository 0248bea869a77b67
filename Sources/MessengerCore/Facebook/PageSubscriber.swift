import Foundation

/// A page's subscription to the app's webhooks. Meta sends a page's events only to apps the page
/// is subscribed to, and only for fields subscribed at both the page and the app level: without
/// it no receipt, opt-in or template review ever arrives (#24).
public protocol PageSubscriber: Sendable {
    /// Subscribes the page and answers the fields Facebook then lists for the app.
    func subscribe(pageID: String, pageToken: String) throws -> [String]
    /// Ends the subscription (a profile is deleted).
    func unsubscribe(pageID: String, pageToken: String) throws
    /// The fields Facebook lists for the app now (empty: not subscribed), for `doctor`.
    func subscribedFields(pageID: String, pageToken: String) throws -> [String]
}

public enum WebhookFields {
    /// What the product reads: messages (checkbox `prior_message`), the three opt-in routes,
    /// receipts, and the template reviews (R13).
    public static let template = "message_template_status_update"
    /// Meta spells the template field two ways: this in the webhooks reference, `template` in the
    /// utility-messages page. When one is refused the other is tried; the webhook accepts both.
    public static let templateOtherSpelling = "messenger_template_status_update"
    public static let all = [
        "messages", "messaging_optins", "messaging_postbacks", "messaging_referrals", "message_deliveries", "message_reads", template,
    ]
}

/// The sandbox's Facebook subscribes every page at once.
public struct SandboxPageSubscriber: PageSubscriber {
    public init() {}
    public func subscribe(pageID: String, pageToken: String) throws -> [String] { WebhookFields.all }
    public func unsubscribe(pageID: String, pageToken: String) throws {}
    public func subscribedFields(pageID: String, pageToken: String) throws -> [String] { WebhookFields.all }
}

/// `POST /{page-id}/subscribed_apps` (a form with `subscribed_fields`) with the page's token,
/// then `GET /{page-id}/subscribed_apps` to read what Facebook holds for the app.
public struct GraphPageSubscriber: PageSubscriber {
    let config: GraphConfig
    let appID: String
    let http: GraphHTTP

    public init(config: GraphConfig, appID: String) {
        self.config = config
        self.appID = appID
        http = GraphHTTP(config: config, appSecret: config.appSecret)
    }

    public func subscribe(pageID: String, pageToken: String) throws -> [String] {
        let path = try Self.path(pageID)
        do {
            try post(path, token: pageToken, fields: WebhookFields.all)
        } catch let refusal as GraphRefusal where refusal.error.code == 100 {
            // A field name refused: Meta's other spelling of the template field.
            let other = WebhookFields.all.map { $0 == WebhookFields.template ? WebhookFields.templateOtherSpelling : $0 }
            try post(path, token: pageToken, fields: other)
        }
        let fields = try subscribedFields(pageID: pageID, pageToken: pageToken)
        guard !fields.isEmpty else {
            throw DomainError("Facebook doesn't list app \(appID) among the page's subscribed apps after subscribing it")
        }
        return fields
    }

    public func subscribedFields(pageID: String, pageToken: String) throws -> [String] {
        let path = try Self.path(pageID)
        let root = try call("GET", path, token: pageToken, what: "read the page's subscribed apps")
        let apps = root["data"] as? [[String: Any]] ?? []
        return (apps.first { ($0["id"] as? String) == appID }?["subscribed_fields"] as? [String] ?? []).map { Display.safe($0, limit: 60) }
    }

    public func unsubscribe(pageID: String, pageToken: String) throws {
        let root = try call("DELETE", try Self.path(pageID), token: pageToken, what: "unsubscribe the page from the app's webhooks")
        guard Self.succeeded(root) else { throw DomainError("Facebook did not confirm the page's unsubscription") }
    }

    private func post(_ path: String, token: String, fields: [String]) throws {
        let root = try call(
            "POST", path, token: token, form: [("subscribed_fields", fields.joined(separator: ","))],
            what: "subscribe the page to the app's webhooks")
        guard Self.succeeded(root) else { throw DomainError("Facebook did not confirm the page's subscription to the app's webhooks") }
    }

    /// `{"success": true}`, also seen as `"true"`.
    static func succeeded(_ root: [String: Any]) -> Bool {
        if let flag = root["success"] as? Bool { return flag }
        if let text = root["success"] as? String { return text == "true" }
        return false
    }

    static func path(_ pageID: String) throws -> String {
        guard !pageID.isEmpty, pageID.allSatisfy(\.isNumber), pageID.allSatisfy(\.isASCII) else {
            throw DomainError("page id \(Display.quoted(pageID)) is not a Facebook page id")
        }
        return pageID + "/subscribed_apps"
    }

    private func call(_ method: String, _ path: String, token: String, form: [(String, String)]? = nil, what: String) throws
        -> [String: Any]
    {
        try http.object(method, path, config: config, token: token, form: form, what: what)
    }
}
