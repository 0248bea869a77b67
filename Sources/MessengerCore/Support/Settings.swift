import Foundation
import TOMLKit

/// Which Facebook the core talks to: the embedded simulation or the real Graph API.
public enum FacebookMode: String, Sendable, CaseIterable {
    case sandbox
    case graph
}

/// The settings of `config.toml`, each overridden by its environment variable.
public struct Settings: Sendable, Equatable {
    public var theme: String = "default"
    public var timeZone: TimeZone = .current
    public var facebook: FacebookMode = .sandbox
    public var graphBaseURL: String = "https://graph.facebook.com"
    public var graphVersion: String = "v25.0"
    /// PEM certificates to trust for the Graph API instead of the system's roots (curl's
    /// `--cacert`): a company's TLS-inspecting proxy, a test server.
    public var graphCAFile: String?
    public var mouse: Bool = false
    /// Plain mode for screen readers and dumb terminals (`plain`, `MESSENGER_DASH_PLAIN=1`, `--plain`).
    public var plain: Bool = false
    /// Days of send rows kept (the rollups are kept forever); see `Compactor`.
    public var retentionDays: Int = Compactor.defaultRetentionDays
    /// The Facebook app id written into opt-in codes (the sandbox's own id until one is set).
    public var appID: String = Settings.sandboxAppID
    public static let sandboxAppID = "100000000000000"
    /// Files holding the Meta app's secret and client token (see `AppCredentials`).
    public var appSecretFile: String?
    public var clientTokenFile: String?

    public init() {}

    /// Reads the config file at `configPath` (absent is fine) and then the environment.
    /// A bad file or value is reported with the file, line and key; nothing is half-applied.
    public static func load(configPath: String?, environment: [String: String]) throws -> Settings {
        var settings = Settings()
        if let path = configPath, FileManager.default.fileExists(atPath: path) {
            try settings.apply(configFile: path)
        }
        try settings.apply(environment: environment)
        return settings
    }

    mutating func apply(configFile path: String) throws {
        let data: Data
        do {
            data = try InputFile.read(path, limit: 1 << 20)
        } catch let error as DomainError {
            throw DomainError("config: \(error.message)")
        }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            throw DomainError("\(path):1: not a readable UTF-8 text file")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw DomainError("\(path):\(error.source.begin.line): \(error.description)")
        }
        for key in table.keys {
            let value = table[key]
            func string() throws -> String {
                guard let text = value?.string else { throw DomainError("\(path): key \(key) must be a string") }
                return text
            }
            switch key {
            case "theme": theme = try string()
            case "timezone": timeZone = try Self.zone(try string(), source: "\(path): key timezone")
            case "facebook": facebook = try Self.mode(try string(), source: "\(path): key facebook")
            case "graph_base_url": graphBaseURL = try string()
            case "graph_version": graphVersion = try string()
            case "graph_ca_file": graphCAFile = try string()
            case "app_id": appID = try string()
            case "app_secret_file": appSecretFile = try string()
            case "client_token_file": clientTokenFile = try string()
            case "retention_days": retentionDays = try Self.retention(value?.int, source: "\(path): key retention_days")
            case "mouse":
                guard let flag = value?.bool else { throw DomainError("\(path): key mouse must be true or false") }
                mouse = flag
            case "plain":
                guard let flag = value?.bool else { throw DomainError("\(path): key plain must be true or false") }
                plain = flag
            default:
                throw DomainError("\(path): unknown key \(key)")
            }
        }
    }

    mutating func apply(environment env: [String: String]) throws {
        if let v = env["MESSENGER_DASH_THEME"], !v.isEmpty { theme = v }
        if let v = env["MESSENGER_DASH_TZ"], !v.isEmpty { timeZone = try Self.zone(v, source: "MESSENGER_DASH_TZ") }
        if let v = env["MESSENGER_DASH_FACEBOOK"], !v.isEmpty { facebook = try Self.mode(v, source: "MESSENGER_DASH_FACEBOOK") }
        if let v = env["MESSENGER_DASH_GRAPH_URL"], !v.isEmpty { graphBaseURL = v }
        if let v = env["MESSENGER_DASH_GRAPH_VERSION"], !v.isEmpty { graphVersion = v }
        if let v = env["MESSENGER_DASH_GRAPH_CA_FILE"], !v.isEmpty { graphCAFile = v }
        if let v = env["MESSENGER_DASH_APP_ID"], !v.isEmpty { appID = v }
        if let v = env["MESSENGER_DASH_APP_SECRET_FILE"], !v.isEmpty { appSecretFile = v }
        if let v = env["MESSENGER_DASH_CLIENT_TOKEN_FILE"], !v.isEmpty { clientTokenFile = v }
        if let v = env["MESSENGER_DASH_PLAIN"], !v.isEmpty {
            guard v == "1" || v == "0" else { throw DomainError("MESSENGER_DASH_PLAIN must be 1 or 0, not \(Display.quoted(v))") }
            plain = v == "1"
        }
        if let v = env["MESSENGER_DASH_RETENTION_DAYS"], !v.isEmpty {
            retentionDays = try Self.retention(Int(v), source: "MESSENGER_DASH_RETENTION_DAYS")
        }
    }

    /// Days of history kept: at least the 7-day screens' 8, at most a hundred years.
    static func retention(_ days: Int?, source: String) throws -> Int {
        guard let days, days >= Compactor.minimumRetentionDays, days <= 36_500 else {
            throw DomainError("\(source) must be a whole number of days from \(Compactor.minimumRetentionDays) to 36500")
        }
        return days
    }

    static func zone(_ name: String, source: String) throws -> TimeZone {
        guard let zone = TimeZone(identifier: name) else {
            throw DomainError("\(source): unknown time zone \(name) (use an IANA name such as Europe/London)")
        }
        return zone
    }

    public static func mode(_ name: String, source: String) throws -> FacebookMode {
        guard let mode = FacebookMode(rawValue: name) else {
            throw DomainError("\(source): facebook must be sandbox or graph, not \(name)")
        }
        return mode
    }
}

/// Where things live: XDG folders, with the spec's fallbacks.
public enum Paths {
    public static func dataHome(_ env: [String: String]) -> String {
        if let v = env["XDG_DATA_HOME"], !v.isEmpty { return v }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/share"
    }

    public static func configHome(_ env: [String: String]) -> String {
        if let v = env["XDG_CONFIG_HOME"], !v.isEmpty { return v }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.config"
    }

    public static func defaultDatabase(_ env: [String: String]) -> String {
        dataHome(env) + "/messenger-dash/messenger.db"
    }

    public static func configFile(_ env: [String: String]) -> String {
        configHome(env) + "/messenger-dash/config.toml"
    }
}
