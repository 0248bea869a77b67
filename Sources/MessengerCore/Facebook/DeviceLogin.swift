import Foundation

/// Facebook Login for Devices, the seed's "LOG IN TO FACEBOOK" from a terminal: the tool shows an
/// address and a code, the person enters the code on their phone or computer, and the tool polls
/// until Facebook hands it a user access token (#24).
public struct DeviceCode: Equatable, Sendable {
    public var code: String
    public var userCode: String
    public var verificationURI: String
    /// Seconds the code stays good, and between polls.
    public var expiresIn: Double
    public var interval: Double

    /// The address with the code filled in, for a link or a QR code (as Meta's Android SDK builds it).
    public var directLink: String { verificationURI + (verificationURI.contains("?") ? "&" : "?") + "user_code=" + userCode }
}

/// One poll's answer.
public enum DeviceLoginPoll: Equatable, Sendable {
    /// 1349174: the person hasn't entered the code yet.
    case pending
    /// 1349172: polling too fast; the interval doubles (as Meta's iOS SDK does).
    case slowDown
    /// A user access token, and when Meta's data access for it ends (ms).
    case token(String, dataAccessExpiresAt: Int64?)
}

public protocol DeviceLoginService: Sendable {
    func start(scope: String) throws -> DeviceCode
    func poll(code: String) throws -> DeviceLoginPoll
}

public enum DeviceLoginFlow {
    /// Starts a login, shows its code (`show`), then polls every `interval` seconds until a token,
    /// a refusal, the code's expiry or `wait` answering false (Esc, Ctrl-C): then nil.
    /// `wait(seconds)` sleeps, or returns false when cancelled; tests pass one that doesn't sleep.
    public static func run(
        _ service: any DeviceLoginService, scope: String = MessengerPermissions.scope, show: (DeviceCode) -> Void,
        wait: (Double) -> Bool
    ) throws -> (token: String, dataAccessExpiresAt: Int64?)? {
        let code = try service.start(scope: scope)
        show(code)
        var interval = max(1, code.interval)
        var waited = 0.0
        while waited < code.expiresIn {
            guard wait(interval) else { return nil }
            waited += interval
            switch try service.poll(code: code.code) {
            case .pending: continue
            case .slowDown: interval *= 2
            case .token(let token, let expires): return (token, expires)
            }
        }
        throw DomainError("the login code \(code.userCode) expired before it was entered: run the login again for a new one")
    }
}

/// The Graph side: `POST /device/login` and `POST /device/login_status`, with the app's client
/// access token (`APP_ID|CLIENT_TOKEN`) in a form body, as Meta documents them.
public struct GraphDeviceLogin: DeviceLoginService {
    let config: GraphConfig
    let clientAccessToken: String
    let http: GraphHTTP

    public init(config: GraphConfig, app: AppCredentials) throws {
        self.config = config
        clientAccessToken = app.appID + "|" + (try app.requireClientToken(for: "logging in to Facebook from the terminal"))
        // An app token: appsecret_proof is for user and page tokens.
        http = GraphHTTP(config: config)
    }

    public func start(scope: String) throws -> DeviceCode {
        let root = try GraphConnect.refusalAsDomainError {
            try http.object(
                "POST", "device/login", config: config, token: clientAccessToken,
                form: [("access_token", clientAccessToken), ("scope", scope)], what: "start a device login")
        }
        guard let code = root["code"] as? String, let user = root["user_code"] as? String, let uri = root["verification_uri"] as? String,
            let expires = GraphAccount.number(root["expires_in"]), let interval = GraphAccount.number(root["interval"]),
            GraphHTTP.isValidToken(code), user.count <= 40, uri.hasPrefix("https://")
        else {
            throw DomainError("Facebook's device login answer lacks its code, address or times")
        }
        return DeviceCode(
            code: code, userCode: Display.safe(user, limit: 40), verificationURI: Display.safe(uri, limit: 200), expiresIn: expires,
            interval: interval)
    }

    public func poll(code: String) throws -> DeviceLoginPoll {
        do {
            let root = try http.object(
                "POST", "device/login_status", config: config, token: clientAccessToken,
                form: [("access_token", clientAccessToken), ("code", code)], what: "finish the device login")
            guard let token = root["access_token"] as? String, GraphHTTP.isValidToken(token) else {
                throw DomainError("Facebook's device login answer has no usable access_token")
            }
            let expires = GraphAccount.number(root["data_access_expiration_time"]).map { Int64($0) * 1000 }
            return .token(token, dataAccessExpiresAt: expires)
        } catch let refusal as GraphRefusal {
            switch refusal.error.subcode {
            case 1_349_174?: return .pending
            case 1_349_172?: return .slowDown
            case 1_349_152?: throw DomainError("the login code expired before it was entered: run the login again for a new one")
            case 1_349_173?: throw DomainError("the login was declined on Facebook; nothing was connected")
            default: throw DomainError(refusal.description)
            }
        }
    }
}

/// The sandbox logs in at once and deterministically: the code is always the same, the first poll
/// gives a token, and its pages are the stored ones (`pages import`, the demo's).
public struct SandboxDeviceLogin: DeviceLoginService {
    public init() {}
    public static let userCode = "SANDBOX1"
    public func start(scope: String) throws -> DeviceCode {
        DeviceCode(
            code: "sandbox-device-code", userCode: Self.userCode, verificationURI: "https://www.facebook.com/device", expiresIn: 420,
            interval: 1)
    }
    public func poll(code: String) throws -> DeviceLoginPoll { .token("SANDBOX-USER-TOKEN", dataAccessExpiresAt: nil) }
}
