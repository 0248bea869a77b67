import Foundation

/// How a page's token came to be stored, kept with the page (#24).
public struct PageConnection: Equatable, Sendable {
    /// `device login`, `pasted token` or `import`.
    public var via: String
    /// `long-lived` (the page tokens never expire), `short-lived` (they stop within an hour) or
    /// `unknown` (Facebook could not be asked).
    public var lifetime: String
    /// When Meta stops the app's access to the person's data, in milliseconds.
    public var dataAccessExpiresAt: Int64?
    /// The permissions granted, when they could be read.
    public var permissions: [String]?

    public init(via: String, lifetime: String, dataAccessExpiresAt: Int64? = nil, permissions: [String]? = nil) {
        self.via = via
        self.lifetime = lifetime
        self.dataAccessExpiresAt = dataAccessExpiresAt
        self.permissions = permissions
    }
}

/// Connecting pages from a user access token, so that they keep working: the token is exchanged
/// for a long-lived one (page tokens made from it have no expiry; from a short-lived one they die
/// within the hour), or, without the app secret, looked up and refused when it is short-lived;
/// its permissions are read and every missing one named; then `/me/accounts` lists the pages.
public enum GraphConnect {
    public struct Outcome: Sendable {
        public var pages: [DirectoryPage]
        public var connection: PageConnection
        /// Lines for the person: what was not checked, what is missing.
        public var notes: [String]
    }

    public static func connect(
        userToken raw: String, via: String, config: GraphConfig, app: AppCredentials, shortLivedOK: Bool, calendar: AccountCalendar
    ) throws -> Outcome {
        let userToken = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard GraphHTTP.isValidToken(userToken) else {
            throw DomainError("the user access token must be one line of printable ASCII (as Facebook issues it)")
        }
        let account = GraphAccount(config: config, app: app)
        var notes: [String] = []
        var token = userToken
        var lifetime = "unknown"
        var dataAccess: Int64?
        if app.appSecret != nil {
            token = try refusalAsDomainError { try account.longLived(userToken) }
            lifetime = "long-lived"
            dataAccess = (try? account.tokenInfo(token))?.dataAccessExpiresAt
        } else {
            // The look-up may fail (an app that refuses it, a network hiccup): then warn and go on.
            var info: TokenInfo?
            do {
                info = try account.tokenInfo(userToken)
            } catch {
                let why = (error as? GraphRefusal)?.error.reason ?? (error as? DomainError)?.message ?? "\(error)"
                notes.append("Couldn't look the token up (\(why)): if it is short-lived, its page tokens stop within the hour.")
            }
            if let info {
                guard info.isValid else { throw DomainError("Facebook says this user access token is not valid: log in again") }
                dataAccess = info.dataAccessExpiresAt
                lifetime = info.expiresAt == nil ? "long-lived" : "short-lived"
                if let expires = info.expiresAt {
                    guard shortLivedOK else {
                        throw DomainError(
                            "this user token expires \(calendar.timestamp(ofMillis: expires)), so its page tokens would stop within an hour: give the app secret (app_secret_file in config.toml, MESSENGER_DASH_APP_SECRET_FILE) to exchange it for a long-lived one, or pass --short-lived-ok"
                        )
                    }
                    notes.append("The page tokens are short-lived: runs will fail with 190 within the hour (--short-lived-ok).")
                }
            }
        }
        var granted: [String]?
        do {
            let permissions = try account.permissions(token)
            granted = permissions.filter { $0.status == "granted" }.map(\.name)
            for problem in MessengerPermissions.problems(permissions) { notes.append("Permission \(problem).") }
        } catch let refusal as GraphRefusal {
            notes.append("Couldn't read the token's permissions (\(refusal.error.reason)).")
        } catch {
            notes.append("Couldn't read the token's permissions.")
        }
        let pages = try GraphPageDirectory(config: config, userToken: token, appSecret: app.appSecret).pages()
        return Outcome(
            pages: pages,
            connection: PageConnection(via: via, lifetime: lifetime, dataAccessExpiresAt: dataAccess, permissions: granted),
            notes: notes)
    }

    static func refusalAsDomainError<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let refusal as GraphRefusal { throw DomainError(refusal.description) }
    }
}
