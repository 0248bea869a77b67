import Crypto
import Foundation
import XCTest

@testable import MessengerCore

/// Connecting a real page for real (#24), against a fake Graph that does what Facebook does:
/// it refuses every call without the right `appsecret_proof`, exchanges tokens, looks them up,
/// lists permissions, and keeps pages' subscriptions to the app.
final class ConnectTests: XCTestCase {
    var fake: FakeGraph!
    static let secret = "APP-SECRET-0123456789"
    static let appID = "777000111"

    override func setUp() async throws {
        fake = try await FakeGraph.start()
    }

    override func tearDown() async throws {
        await fake.stop()
    }

    func config(secret: String? = ConnectTests.secret) throws -> GraphConfig {
        var config = try GraphConfig(baseURL: fake.base, version: "v25.0")
        config.backoff = 0.01
        config.appSecret = secret
        return config
    }

    static func proof(_ token: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    static func form(_ request: Recorded) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            if parts.count == 2 { out[parts[0]] = parts[1] }
        }
        return out
    }

    /// Facebook with "Require App Secret" on: a call whose proof doesn't match its token is refused.
    static func proofChecked(_ request: Recorded) -> (Int, String)? {
        let token = String((request.headers["authorization"] ?? "").dropFirst("Bearer ".count))
        guard request.query["appsecret_proof"] == proof(token) else {
            return (
                400,
                #"{"error":{"message":"Invalid appsecret_proof provided in the API argument","type":"GraphMethodException","code":100}}"#
            )
        }
        return nil
    }

    /// A Graph that answers the whole connection: the exchange, the look-up, the permissions, the
    /// pages, and subscriptions (kept in `subscribed`).
    /// `requireProof`: the app has "Require App Secret" on.
    func scriptFacebook(
        expiresAt: Int = 0, permissions: [String: String] = [:], refuseTemplateSpelling: String? = nil, requireProof: Bool = true
    ) {
        let subscribed = Locked<[String: [String]]>([:])
        let appID = Self.appID
        fake.script { request, _ in
            if requireProof, let refusal = Self.proofChecked(request) { return refusal }
            let token = String((request.headers["authorization"] ?? "").dropFirst("Bearer ".count))
            switch (request.method, request.path) {
            case ("POST", "/v25.0/oauth/access_token"):
                let form = Self.form(request)
                guard form["grant_type"] == "fb_exchange_token", form["client_secret"] == Self.secret, form["client_id"] == appID else {
                    return (400, #"{"error":{"message":"bad exchange","code":101}}"#)
                }
                return (200, #"{"access_token":"LONG-LIVED-USER-TOKEN","token_type":"bearer","expires_in":5183944}"#)
            case ("GET", "/v25.0/debug_token"):
                return (
                    200,
                    #"{"data":{"app_id":"\#(appID)","is_valid":true,"expires_at":\#(expiresAt),"data_access_expires_at":1790000000,"scopes":["pages_messaging"]}}"#
                )
            case ("GET", "/v25.0/me/permissions"):
                var all = [
                    "pages_show_list": "granted", "pages_messaging": "granted", "pages_manage_metadata": "granted",
                    "pages_utility_messaging": "granted",
                ]
                for (k, v) in permissions { all[k] = v }
                let rows = all.filter { $0.value != "missing" }.sorted { $0.key < $1.key }.map {
                    #"{"permission":"\#($0.key)","status":"\#($0.value)"}"#
                }
                return (200, #"{"data":[\#(rows.joined(separator: ","))]}"#)
            case ("GET", "/v25.0/me/accounts"):
                guard token == "LONG-LIVED-USER-TOKEN" || token == "USER-TOKEN" else { return (400, #"{"error":{"code":190}}"#) }
                return (200, #"{"data":[{"id":"4001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"PAGE-TOKEN-4001"}]}"#)
            case ("POST", "/v25.0/4001/subscribed_apps"):
                guard token == "PAGE-TOKEN-4001" else { return (400, #"{"error":{"code":190}}"#) }
                let fields = (Self.form(request)["subscribed_fields"] ?? "").split(separator: ",").map(String.init)
                if let refused = refuseTemplateSpelling, fields.contains(refused) {
                    return (400, #"{"error":{"message":"(#100) Param subscribed_fields must be one of …","code":100}}"#)
                }
                subscribed.update { $0["4001"] = fields }
                return (200, #"{"success":"true"}"#)
            case ("GET", "/v25.0/4001/subscribed_apps"):
                let fields = subscribed.value["4001"] ?? []
                let list = fields.map { "\"\($0)\"" }.joined(separator: ",")
                return (
                    200,
                    #"{"data":[{"category":"Business","link":"https://x","name":"Other","id":"1"},{"name":"Ours","id":"\#(appID)","subscribed_fields":[\#(list)]}]}"#
                )
            case ("DELETE", "/v25.0/4001/subscribed_apps"):
                subscribed.update { $0["4001"] = nil }
                return (200, #"{"success":true}"#)
            default:
                return (404, #"{"error":{"message":"unknown path","code":803}}"#)
            }
        }
    }

    /// Connects pages from a pasted user token, off the cooperative threads the fake server needs.
    func connect(_ token: String, config: GraphConfig, app: AppCredentials, shortLivedOK: Bool) async throws -> GraphConnect.Outcome {
        try await blocking {
            try GraphConnect.connect(
                userToken: token, via: "pasted token", config: config, app: app, shortLivedOK: shortLivedOK,
                calendar: AccountCalendar(timeZone: .gmt))
        }
    }

    func workspace(_ config: GraphConfig) throws -> Workspace {
        Workspace(
            database: try AppDatabase.temporary(), clock: FixedClock(millis: GraphFixture.now),
            calendar: AccountCalendar(timeZone: TimeZone(identifier: "UTC")!), appID: Self.appID,
            subscriber: GraphPageSubscriber(config: config, appID: Self.appID), graph: config)
    }

    // MARK: appsecret_proof

    func testEveryGraphCallCarriesTheAppSecretProofOfItsToken() async throws {
        scriptFacebook()
        let config = try config()
        let app = AppCredentials(appID: Self.appID, appSecret: Self.secret)
        let outcome = try await connect("USER-TOKEN", config: config, app: app, shortLivedOK: false)
        XCTAssertEqual(outcome.pages.map(\.id), ["4001"])
        for request in fake.requests {
            let token = String((request.headers["authorization"] ?? "").dropFirst("Bearer ".count))
            XCTAssertEqual(request.query["appsecret_proof"], Self.proof(token), "\(request.method) \(request.path)")
        }
        // A wrong secret: Facebook refuses, and the line says what was tried.
        let wrong = try self.config(secret: "NOT-THE-SECRET")
        let bad = AppCredentials(appID: Self.appID, appSecret: "NOT-THE-SECRET")
        do {
            _ = try await connect("USER-TOKEN", config: wrong, app: bad, shortLivedOK: false)
            XCTFail("a wrong secret was accepted")
        } catch let error as DomainError {
            XCTAssertTrue(error.message.contains("exchange the token"), error.message)
            XCTAssertFalse(error.message.contains("NOT-THE-SECRET"))
        }
    }

    // MARK: Tokens that last

    func testTheUserTokenIsExchangedForALongLivedOneBeforeThePagesAreRead() async throws {
        scriptFacebook()
        let config = try config()
        let app = AppCredentials(appID: Self.appID, appSecret: Self.secret)
        let outcome = try await connect("USER-TOKEN\n", config: config, app: app, shortLivedOK: false)
        let requests = fake.requests
        guard let exchange = requests.first(where: { $0.path.hasSuffix("oauth/access_token") }) else { return XCTFail("no exchange") }
        XCTAssertEqual(exchange.method, "POST")
        XCTAssertNil(exchange.query["client_secret"], "the secret is in the body, never the address")
        XCTAssertEqual(Self.form(exchange)["fb_exchange_token"], "USER-TOKEN")
        let accounts = requests.first { $0.path.hasSuffix("me/accounts") }
        XCTAssertEqual(accounts?.headers["authorization"], "Bearer LONG-LIVED-USER-TOKEN", "pages come from the long-lived token")
        XCTAssertEqual(outcome.connection.lifetime, "long-lived")
        XCTAssertEqual(outcome.connection.dataAccessExpiresAt, 1_790_000_000_000)
        XCTAssertEqual(outcome.notes, [])
        let workspace = try workspace(config)
        try workspace.pages.store(outcome.pages, connection: outcome.connection)
        let stored = try workspace.database.read { db in
            try String.fetchOne(db, sql: "SELECT connected_via || ' ' || token_lifetime FROM page WHERE id = '4001'")
        }
        XCTAssertEqual(stored, "pasted token long-lived")
    }

    func testWithoutTheAppSecretAShortLivedTokenIsRefusedUnlessAskedFor() async throws {
        scriptFacebook(expiresAt: 1_764_003_600, requireProof: false)
        let config = try config(secret: nil)
        let app = AppCredentials(appID: Self.appID)
        do {
            _ = try await connect("USER-TOKEN", config: config, app: app, shortLivedOK: false)
            XCTFail("a short-lived token was taken")
        } catch let error as DomainError {
            XCTAssertTrue(error.message.contains("would stop within an hour"), error.message)
            XCTAssertTrue(error.message.contains("app_secret_file") && error.message.contains("--short-lived-ok"), error.message)
            XCTAssertFalse(error.message.contains("\n"))
        }
        XCTAssertFalse(fake.requests.contains { $0.path.hasSuffix("me/accounts") }, "no page was read")
        let outcome = try await connect("USER-TOKEN", config: config, app: app, shortLivedOK: true)
        XCTAssertEqual(outcome.connection.lifetime, "short-lived")
        XCTAssertTrue(outcome.notes.contains { $0.contains("short-lived") }, "\(outcome.notes)")
    }

    func testAMissingPermissionIsNamedAndAPageWithoutMessagingCantBeEnabled() async throws {
        scriptFacebook(permissions: ["pages_messaging": "declined", "pages_manage_metadata": "missing"])
        let config = try config()
        let app = AppCredentials(appID: Self.appID, appSecret: Self.secret)
        let outcome = try await connect("USER-TOKEN", config: config, app: app, shortLivedOK: false)
        XCTAssertEqual(
            outcome.notes,
            [
                "Permission pages_messaging is declined: it is needed for sending messages (a profile can't be enabled without it).",
                "Permission pages_manage_metadata is missing: it is needed for subscribing the page to the app's webhooks (receipts, opt-ins).",
            ])
        let workspace = try workspace(config)
        try workspace.pages.store(outcome.pages, connection: outcome.connection)
        XCTAssertThrowsError(try workspace.profiles.create(name: "Shop", pageID: "4001")) { error in
            XCTAssertTrue((error as? DomainError)?.message.contains("pages_messaging") == true, "\(error)")
        }
        XCTAssertEqual(try workspace.profiles.list().count, 0, "nothing was created")
        try workspace.profiles.create(name: "Shop", pageID: "4001", enabled: false)
        XCTAssertThrowsError(try workspace.profiles.setEnabled(true, names: ["Shop"]))
    }

    // MARK: The page subscribed to the app

    func testCreatingAProfileSubscribesItsPageAndDeletingUnsubscribesIt() async throws {
        scriptFacebook()
        let config = try config()
        let workspace = try workspace(config)
        let accounts = #"{"data":[{"id":"4001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"PAGE-TOKEN-4001"}]}"#
        try workspace.pages.importAccounts(Data(accounts.utf8))
        try await blocking { _ = try workspace.profiles.create(name: "Shop", pageID: "4001") }
        let post = fake.requests.first { $0.method == "POST" && $0.path.hasSuffix("4001/subscribed_apps") }
        XCTAssertEqual(post.map(Self.form)?["subscribed_fields"], WebhookFields.all.joined(separator: ","))
        XCTAssertEqual(post?.headers["authorization"], "Bearer PAGE-TOKEN-4001", "with the page's token")
        let hooks = try workspace.subscriptions.subscription(profile: "Shop")
        XCTAssertTrue(hooks.subscribed)
        XCTAssertEqual(hooks.fields, WebhookFields.all, "as Facebook listed them for the app")
        XCTAssertEqual(hooks.checkedAt, GraphFixture.now)
        XCTAssertEqual(hooks.missingFields, [])
        let plan = try await blocking { try workspace.profiles.delete(names: ["Shop"]) }
        XCTAssertEqual(plan.unsubscribed, 1)
        XCTAssertTrue(fake.requests.contains { $0.method == "DELETE" && $0.path.hasSuffix("4001/subscribed_apps") })
    }

    func testWhenOneSpellingOfTheTemplateFieldIsRefusedTheOtherIsUsed() async throws {
        scriptFacebook(refuseTemplateSpelling: WebhookFields.template)
        let config = try config()
        let subscriber = GraphPageSubscriber(config: config, appID: Self.appID)
        let fields = try await blocking { try subscriber.subscribe(pageID: "4001", pageToken: "PAGE-TOKEN-4001") }
        XCTAssertTrue(fields.contains(WebhookFields.templateOtherSpelling))
        XCTAssertEqual(fake.requests.filter { $0.method == "POST" }.count, 2)
        let hooks = WebhookSubscription(subscribed: true, fields: fields, checkedAt: 1, error: nil)
        XCTAssertEqual(hooks.missingFields, [], "either spelling counts")
    }

    func testARefusedSubscriptionIsKeptAndTheProfileStays() async throws {
        fake.script { _, _ in (403, #"{"error":{"message":"(#200) requires pages_manage_metadata","code":200}}"#) }
        let config = try config(secret: nil)
        let workspace = try workspace(config)
        let accounts = #"{"data":[{"id":"4001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"PAGE-TOKEN-4001"}]}"#
        try workspace.pages.importAccounts(Data(accounts.utf8))
        try await blocking { _ = try workspace.profiles.create(name: "Shop", pageID: "4001") }
        XCTAssertEqual(try workspace.profiles.list().map(\.name), ["Shop"])
        let hooks = try workspace.subscriptions.subscription(profile: "Shop")
        XCTAssertFalse(hooks.subscribed)
        XCTAssertTrue(hooks.error?.contains("200") == true, "\(hooks)")
        do {
            _ = try await blocking { try workspace.subscriptions.subscribe(profile: "Shop") }
            XCTFail("subscribed")
        } catch let error as DomainError {
            XCTAssertTrue(error.message.contains("profiles subscribe 'Shop'"), error.message)
        }
    }

    // MARK: A page Meta restricted

    func testAPageRestrictedFromSendingStopsItsRunAndIsNeitherRetriedNorSuppressed() async throws {
        fake.script { _, n in
            n == 1
                ? (200, #"{"recipient_id":"P0","message_id":"m_1"}"#)
                : (400, #"{"error":{"message":"Pages temporarily restricted from sending messages","code":10,"error_subcode":1893063}}"#)
        }
        var config = try config(secret: nil)
        config.concurrency = 1
        let fixture = try GraphFixture(transport: GraphTransport(config: config), psids: (0..<5).map { "P\($0)" })
        let summary = try await blocking { try ProgramRunner(workspace: fixture.workspace).run(program: "Orders") }
        XCTAssertTrue(summary.stoppedBecause?.contains("10/1893063") == true, "\(String(describing: summary.stoppedBecause))")
        XCTAssertLessThanOrEqual(fake.requests.count, 2, "nothing more is asked once the page is restricted")
        XCTAssertEqual(try fixture.count("SELECT COUNT(*) FROM suppression"), 0, "not a suppression")
        XCTAssertEqual(try fixture.count("SELECT COUNT(*) FROM page WHERE restricted IS NOT NULL"), 1)
        XCTAssertEqual(try fixture.count("SELECT COUNT(*) FROM page WHERE connection_error IS NOT NULL"), 0, "the token is fine")
        let details = try fixture.workspace.profiles.details(named: "Shop")
        XCTAssertTrue(details.connectionError?.contains("restricted") == true, "the profile page shows it")
        XCTAssertThrowsError(try RetryReason(parsing: "10"), "a 10 is not retryable")
        // The sandbox answers it for a PSID ending in x1893063, which no numeric PSID does.
        let message = OutgoingMessage(
            pageID: "1", pageToken: "T", recipientPSID: "P-x1893063", tag: "ACCOUNT_UPDATE", text: "x", enrolmentID: 1, nodeID: 1)
        let sandbox = SandboxTransport(clock: FixedClock(millis: GraphFixture.now))  // before the tags' retirement
        XCTAssertEqual(sandbox.send(message), .failed(GraphError(code: 10, subcode: GraphError.pageRestrictedSubcode)))
        XCTAssertNotNil([sandbox.send(message)].refusedToken, "and it stops the page's run")
    }
}

/// A value shared with a fake server's handler.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
