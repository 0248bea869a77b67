import Crypto
import Foundation

/// The Meta app the tool acts for: its id (opt-in codes, device login, the token exchange), its
/// secret (the exchange for long-lived tokens, `appsecret_proof`, the webhook's signatures) and its
/// client token (device login). The secrets come from files named in `config.toml` or the
/// environment, never from the command line itself, where `ps` would show them.
public struct AppCredentials: Sendable, Equatable {
    public var appID: String
    public var appSecret: String?
    public var clientToken: String?

    public init(appID: String, appSecret: String? = nil, clientToken: String? = nil) {
        self.appID = appID
        self.appSecret = appSecret
        self.clientToken = clientToken
    }

    /// Where Meta's App Dashboard shows each setting, for the line that asks for it.
    public static let appIDPlace = "App settings › Basic › App ID"
    public static let appSecretPlace = "App settings › Basic › App secret"
    public static let clientTokenPlace = "App settings › Advanced › Security › Client token"

    /// The app as the settings name it: the secret files are read here (a missing or unreadable
    /// file is one line naming it). `appSecretFile` and `clientTokenFile` given on a command's own
    /// flags win over the settings'.
    public static func load(settings: Settings, appSecretFile: String? = nil, clientTokenFile: String? = nil) throws -> AppCredentials {
        var app = AppCredentials(appID: settings.appID)
        if let path = appSecretFile ?? settings.appSecretFile { app.appSecret = try readSecret(path, what: "app secret") }
        if let path = clientTokenFile ?? settings.clientTokenFile { app.clientToken = try readSecret(path, what: "client token") }
        return app
    }

    /// One line of printable ASCII from a file of at most 4 KiB, as Meta shows secrets.
    public static func readSecret(_ path: String, what: String) throws -> String {
        let data = try InputFile.read(path, limit: 4096)
        guard let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E })
        else {
            throw DomainError("\(path): the \(what) must be one line of printable ASCII, as Meta's App Dashboard shows it")
        }
        return text
    }

    /// The app secret, or one line saying where to find it and how to give it.
    public func requireSecret(for purpose: String) throws -> String {
        guard let appSecret else {
            throw DomainError(
                "\(purpose) needs the app secret: put it in a file and name it with app_secret_file in config.toml, MESSENGER_DASH_APP_SECRET_FILE or --app-secret-file (Meta's App Dashboard: \(Self.appSecretPlace))"
            )
        }
        return appSecret
    }

    /// The client token, or one line saying where to find it.
    public func requireClientToken(for purpose: String) throws -> String {
        guard let clientToken else {
            throw DomainError(
                "\(purpose) needs the app's client token: put it in a file and name it with client_token_file in config.toml, MESSENGER_DASH_CLIENT_TOKEN_FILE or --client-token-file (Meta's App Dashboard: \(Self.clientTokenPlace))"
            )
        }
        return clientToken
    }

    /// `appsecret_proof`: the hex HMAC-SHA256 of an access token keyed by the app secret, which
    /// Meta requires on every call when the app has "Require App Secret" on.
    public static func proof(token: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        // Lower-case hex by table: no String(format:) per byte (this runs once a message
        // with a secret set).
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: mac.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }
}
