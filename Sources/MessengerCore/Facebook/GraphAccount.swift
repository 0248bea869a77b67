import Foundation

/// What Facebook says of a user access token (`GET /debug_token`).
public struct TokenInfo: Equatable, Sendable {
    public var isValid: Bool
    /// When the token stops working, in milliseconds; nil when it never does (Graph's 0).
    public var expiresAt: Int64?
    /// When Meta stops the app's access to the person's data (90 days after they were last active).
    public var dataAccessExpiresAt: Int64?
    public var scopes: [String]
}

/// One of `GET /me/permissions`.
public struct Permission: Equatable, Sendable {
    public var name: String
    /// `granted`, `declined` or `expired`.
    public var status: String
}

/// The permissions the tool asks for, and what each one is needed for.
public enum MessengerPermissions {
    public static let required: [(name: String, purpose: String)] = [
        ("pages_show_list", "listing your pages"),
        ("pages_messaging", "sending messages (a profile can't be enabled without it)"),
        ("pages_manage_metadata", "subscribing the page to the app's webhooks (receipts, opt-ins)"),
        ("pages_utility_messaging", "utility message templates"),
    ]
    public static let scope = required.map(\.name).joined(separator: ",")

    /// One line per required permission that is not granted: missing, declined or expired.
    public static func problems(_ granted: [Permission]) -> [String] {
        required.compactMap { need in
            let status = granted.first { $0.name == need.name }?.status
            guard status != "granted" else { return nil }
            return "\(need.name) is \(status ?? "missing"): it is needed for \(need.purpose)"
        }
    }
}

/// The user side of Graph: the exchange for a long-lived token, a token's look-up and its
/// permissions. Tokens go in the Authorization header; the app secret in a form body.
public struct GraphAccount: Sendable {
    let config: GraphConfig
    let app: AppCredentials
    let http: GraphHTTP

    public init(config: GraphConfig, app: AppCredentials) {
        self.config = config
        self.app = app
        http = GraphHTTP(config: config, appSecret: app.appSecret ?? config.appSecret)
    }

    /// `oauth/access_token?grant_type=fb_exchange_token`: a short-lived user token (an hour) for a
    /// long-lived one (about 60 days), whose page tokens never expire. Needs the app secret. Sent
    /// as a POST form, so neither token nor secret is in an address.
    public func longLived(_ userToken: String) throws -> String {
        let secret = try app.requireSecret(for: "exchanging the token for a long-lived one")
        let root = try call(
            "POST", "oauth/access_token", token: userToken,
            form: [
                ("grant_type", "fb_exchange_token"), ("client_id", app.appID), ("client_secret", secret),
                ("fb_exchange_token", userToken),
            ], what: "exchange the token for a long-lived one")
        guard let token = root["access_token"] as? String, GraphHTTP.isValidToken(token) else {
            throw DomainError("the Graph API's token exchange answered without a usable access_token")
        }
        return token
    }

    /// `GET /debug_token?input_token=…`, asked with the token itself (a user token may look itself up).
    public func tokenInfo(_ token: String) throws -> TokenInfo {
        let root = try call(
            "GET", "debug_token?input_token=" + GraphHTTP.urlencoded([("", token)]).dropFirst(), token: token,
            what: "look the token up")
        guard let data = root["data"] as? [String: Any] else { throw DomainError("the Graph API's debug_token answer has no data") }
        func millis(_ key: String) -> Int64? {
            guard let seconds = Self.number(data[key]), seconds > 0 else { return nil }
            return Int64(seconds) * 1000
        }
        return TokenInfo(
            isValid: data["is_valid"] as? Bool ?? false, expiresAt: millis("expires_at"),
            dataAccessExpiresAt: millis("data_access_expires_at"), scopes: data["scopes"] as? [String] ?? [])
    }

    /// `GET /me/permissions`.
    public func permissions(_ token: String) throws -> [Permission] {
        let root = try call("GET", "me/permissions", token: token, what: "read the token's permissions")
        let rows = root["data"] as? [[String: Any]] ?? []
        return rows.compactMap { row in
            guard let name = row["permission"] as? String, let status = row["status"] as? String else { return nil }
            return Permission(name: Display.safe(name, limit: 80), status: Display.safe(status, limit: 20))
        }
    }

    /// A number Graph may write as a number or a string (`expires_in`, `interval`…).
    static func number(_ value: Any?) -> Double? {
        if let n = value as? NSNumber { return n.doubleValue }
        if let s = value as? String { return Double(s.trimmingCharacters(in: .whitespaces)) }
        return nil
    }

    func call(_ method: String, _ path: String, token: String, form: [(String, String)]? = nil, what: String) throws -> [String: Any] {
        try http.object(method, path, config: config, token: token, form: form, what: what)
    }
}

extension GraphHTTP {
    /// One Graph call whose answer is a JSON object: no answer is a line naming the address, a
    /// refusal a `GraphRefusal` with Facebook's error (made safe, the token scrubbed).
    func object(_ method: String, _ path: String, config: GraphConfig, token: String, form: [(String, String)]? = nil, what: String)
        throws -> [String: Any]
    {
        switch perform(method: method, url: config.url(path), token: token, form: form) {
        case .failure:
            throw DomainError("can't reach the Graph API at \(config.baseURL) to \(what): check the address and the network")
        case .success(let answer):
            guard answer.status == 200, let root = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else {
                throw GraphRefusal(error: GraphHTTP.graphError(answer.body, status: answer.status, scrubbing: token), what: what)
            }
            return root
        }
    }
}

/// Graph refused a call of the account's: what was tried and Facebook's error.
public struct GraphRefusal: Error, Sendable, CustomStringConvertible {
    public let error: GraphError
    public let what: String
    public var description: String { "the Graph API refused to \(what): \(error.reason)" }
}
