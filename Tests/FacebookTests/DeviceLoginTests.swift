import Foundation
import XCTest

@testable import MessengerCore

/// Facebook Login for Devices against a fake Graph that answers as Meta's SDKs expect: the code,
/// then pending, too fast, expired, declined or a token (#24).
final class DeviceLoginTests: XCTestCase {
    var fake: FakeGraph!

    override func setUp() async throws {
        fake = try await FakeGraph.start()
    }

    override func tearDown() async throws {
        await fake.stop()
    }

    func service() throws -> GraphDeviceLogin {
        try GraphDeviceLogin(
            config: try GraphConfig(baseURL: fake.base, version: "v25.0"), app: AppCredentials(appID: "777", clientToken: "CLIENT-TOKEN"))
    }

    static let pending = #"{"error":{"message":"User has not yet authorized your application","code":31,"error_subcode":1349174}}"#
    static let tooFast = #"{"error":{"message":"Polling too frequently","code":31,"error_subcode":1349172}}"#

    /// The device code (times as strings, as Meta's iOS SDK reads them), then `polls` in order.
    func script(interval: String = #""5""#, polls: [(Int, String)]) {
        fake.script { request, n in
            if request.path.hasSuffix("/device/login") {
                return (
                    200,
                    #"{"code":"DEVICE-CODE-1","user_code":"ABCD1234","verification_uri":"https://www.facebook.com/device","expires_in":"420","interval":\#(interval)}"#
                )
            }
            return polls[min(n - 2, polls.count - 1)]
        }
    }

    /// Runs the flow with a wait that records each interval instead of sleeping.
    func run(_ service: GraphDeviceLogin) async throws -> (
        login: (token: String, dataAccessExpiresAt: Int64?)?, waits: [Double], shown: DeviceCode?
    ) {
        try await blocking {
            var waits: [Double] = []
            var shown: DeviceCode?
            let login = try DeviceLoginFlow.run(
                service, show: { shown = $0 },
                wait: {
                    waits.append($0)
                    return true
                })
            return (login, waits, shown)
        }
    }

    func testTheCodeIsShownThenPollsUntilTheTokenAndTooFastDoublesTheInterval() async throws {
        script(polls: [
            (400, Self.pending), (400, Self.tooFast), (400, Self.pending),
            (200, #"{"access_token":"USER-TOKEN-FROM-DEVICE","expires_in":5183999,"data_access_expiration_time":1790000000}"#),
        ])
        let (login, waits, shown) = try await run(try service())
        XCTAssertEqual(shown?.userCode, "ABCD1234")
        XCTAssertEqual(shown?.directLink, "https://www.facebook.com/device?user_code=ABCD1234")
        XCTAssertEqual(login?.token, "USER-TOKEN-FROM-DEVICE")
        XCTAssertEqual(login?.dataAccessExpiresAt, 1_790_000_000_000)
        XCTAssertEqual(waits, [5, 5, 10, 10], "every interval, doubled after 'polling too frequently'")
        let requests = fake.requests
        XCTAssertEqual(requests.map(\.path), ["/v25.0/device/login"] + Array(repeating: "/v25.0/device/login_status", count: 4))
        let start = String(decoding: requests[0].body, as: UTF8.self)
        XCTAssertTrue(start.contains("access_token=777%7CCLIENT-TOKEN"), start)
        XCTAssertTrue(start.contains("scope=pages_show_list%2Cpages_messaging%2Cpages_manage_metadata%2Cpages_utility_messaging"), start)
        XCTAssertTrue(String(decoding: requests[1].body, as: UTF8.self).contains("code=DEVICE-CODE-1"))
        XCTAssertNil(requests[0].query["access_token"], "the client token is in the body, not the address")
    }

    func testAnExpiredOrDeclinedCodeIsOneLineAndACancelStopsPolling() async throws {
        script(interval: "5", polls: [(400, #"{"error":{"message":"expired","code":31,"error_subcode":1349152}}"#)])
        do {
            _ = try await run(try service())
            XCTFail("an expired code logged in")
        } catch let error as DomainError {
            XCTAssertTrue(error.message.contains("expired") && error.message.contains("again"), error.message)
        }
        script(polls: [(400, #"{"error":{"message":"declined","code":31,"error_subcode":1349173}}"#)])
        do {
            _ = try await run(try service())
            XCTFail("a declined login logged in")
        } catch let error as DomainError {
            XCTAssertTrue(error.message.contains("declined"), error.message)
        }
        // The code runs out while it is still pending: said, with how to get a new one.
        script(interval: #""140""#, polls: [(400, Self.pending)])
        do {
            _ = try await run(try service())
            XCTFail("a code past its time logged in")
        } catch let error as DomainError {
            XCTAssertTrue(error.message.contains("ABCD1234 expired"), error.message)
        }
        XCTAssertEqual(fake.requests.filter { $0.path.hasSuffix("login_status") }.count, 2 + 3, "420 s at 140 s: three polls")
        // Cancelled (Ctrl-C) during the first wait: no poll is made, nothing is answered.
        script(polls: [(400, Self.pending)])
        let before = fake.requests.count
        let service = try service()
        let cancelled = try await blocking { try DeviceLoginFlow.run(service, show: { _ in }, wait: { _ in false }) }
        XCTAssertNil(cancelled)
        XCTAssertEqual(fake.requests.count, before + 1, "only the code was asked for")
    }

    func testWithoutAClientTokenTheLineSaysWhereMetaShowsIt() throws {
        XCTAssertThrowsError(
            try GraphDeviceLogin(config: try GraphConfig(baseURL: fake.base, version: "v25.0"), app: AppCredentials(appID: "1"))
        ) { error in
            XCTAssertTrue("\(error)".contains("Advanced › Security › Client token"), "\(error)")
        }
    }

    func testTheSandboxLogsInAtOnceAndTheSameWayEachTime() throws {
        var shown: [String] = []
        let first = try DeviceLoginFlow.run(SandboxDeviceLogin(), show: { shown.append($0.userCode) }, wait: { _ in true })
        let second = try DeviceLoginFlow.run(SandboxDeviceLogin(), show: { shown.append($0.userCode) }, wait: { _ in true })
        XCTAssertEqual(first?.token, second?.token)
        XCTAssertEqual(shown, [SandboxDeviceLogin.userCode, SandboxDeviceLogin.userCode])
    }
}
