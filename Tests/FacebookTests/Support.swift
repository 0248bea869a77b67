import FakeSendAPI
import FlyingFox
import Foundation
import GRDB
import XCTest

@testable import MessengerCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What a fake server was asked.
struct Recorded: Sendable {
    let method: String
    let path: String
    let query: [String: String]
    let headers: [String: String]
    let body: Data
    let arrived: UInt64

    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
}

/// A stand-in for graph.facebook.com on 127.0.0.1 and a random port: it records every request
/// and answers with whatever the test scripted.
final class FakeGraph: HTTPHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Recorded] = []
    private var responder: @Sendable (Recorded, Int) -> (Int, String) = { _, _ in (404, "{}") }
    private(set) var server: HTTPServer!
    private var task: Task<Void, any Error>?
    private(set) var base = ""
    /// How long each answer takes, as Facebook's do (100–400 ms in practice).
    var latency: TimeInterval = 0

    static func start() async throws -> FakeGraph {
        let fake = FakeGraph()
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), timeout: 15, logger: .disabled, handler: fake)
        fake.server = server
        fake.task = Task { try await server.run() }
        try await server.waitUntilListening(timeout: 5)
        guard case .ip4(_, let port) = await server.listeningAddress else { throw DomainError("no port") }
        fake.base = "http://127.0.0.1:\(port)"
        return fake
    }

    func stop() async {
        await server.stop()
        task?.cancel()
    }

    /// `respond(request, n)`: n counts the requests so far, from 1.
    func script(_ respond: @escaping @Sendable (Recorded, Int) -> (Int, String)) {
        lock.lock()
        responder = respond
        lock.unlock()
    }

    var requests: [Recorded] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = try await request.bodyData
        var headers: [String: String] = [:]
        for (key, value) in request.headers { headers[key.rawValue.lowercased()] = value }
        var query: [String: String] = [:]
        for item in request.query { query[item.name] = item.value }
        let entry = Recorded(
            method: request.method.rawValue, path: request.path, query: query, headers: headers, body: body,
            arrived: DispatchTime.now().uptimeNanoseconds)
        let (respond, n) = lock.withLock { () -> (@Sendable (Recorded, Int) -> (Int, String), Int) in
            recorded.append(entry)
            return (responder, recorded.count)
        }
        if latency > 0 { try await Task.sleep(nanoseconds: UInt64(latency * 1e9)) }
        let (status, text) = respond(entry, n)
        if (300..<400).contains(status) {
            // A redirect: the scripted text is where to.
            return HTTPResponse(statusCode: HTTPStatusCode(status, phrase: "Found"), headers: [HTTPHeader("Location"): text], body: Data())
        }
        return HTTPResponse(
            statusCode: HTTPStatusCode(status, phrase: "Status"), headers: [.contentType: "application/json"],
            body: Data(text.utf8))
    }
}

/// Runs blocking work (the core's HTTP calls wait on semaphores) off Swift's cooperative threads,
/// which the fake server needs.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
        }
    }
}

/// A plain HTTP call for the webhook tests.
func http(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil) async throws -> (Int, String) {
    var built = URLRequest(url: URL(string: url)!)
    built.httpMethod = method
    for (k, v) in headers { built.setValue(v, forHTTPHeaderField: k) }
    built.httpBody = body
    let request = built
    return try await blocking {
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.status = (response as? HTTPURLResponse)?.statusCode ?? -1
            box.text = data.map { String(decoding: $0, as: UTF8.self) } ?? (error.map { "\($0)" } ?? "")
            done.signal()
        }.resume()
        done.wait()
        return (box.status, box.text)
    }
}

private final class Box: @unchecked Sendable {
    var status = 0
    var text = ""
}

/// A workspace with one page (token `PAGE-TOKEN-SECRET-1234`), the profile Shop on it, and
/// contacts with the given PSIDs, in a temporary folder.
struct GraphFixture {
    static let pageID = "4001"
    static let pageToken = "PAGE-TOKEN-SECRET-1234"
    /// 2025-11-24: before Meta retired the tags, so the seed's tagged node still sends.
    static let now: Int64 = 1_764_000_000_000
    let workspace: Workspace
    let optInField: String

    init(transport: any Transport, psids: [String]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fb-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try AppDatabase(path: folder.appendingPathComponent("t.db").path, mode: .createIfMissing)
        workspace = Workspace(
            database: database, clock: FixedClock(millis: Self.now),
            calendar: AccountCalendar(timeZone: TimeZone(identifier: "UTC")!), transport: transport)
        let accounts = #"{"data":[{"id":"4001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"PAGE-TOKEN-SECRET-1234"}]}"#
        try workspace.pages.importAccounts(Data(accounts.utf8))
        let shop = try workspace.profiles.create(name: "Shop", pageID: Self.pageID)
        optInField = shop.summary.optInField
        var csv = "EMAIL,FIRSTNAME,\(optInField)\n"
        for (i, psid) in psids.enumerated() { csv += "c\(i)@example.com,N\(i),\(psid)\n" }
        try workspace.contacts.importCSV(Data(csv.utf8))
        try workspace.programs.create(name: "Orders")
        _ = try workspace.programs.setNode(
            program: "Orders", profile: "Shop", tag: "Post_purchase_update",
            message: "Hi @FIRSTNAME@, your order has shipped.", acceptFlags: false)
        try workspace.programs.activate(name: "Orders")
    }

    func count(_ sql: String) throws -> Int {
        try workspace.database.writer.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }
}

/// A test with a certificate for 127.0.0.1 signed by itself (`cert.pem`, `key.pem`) in a folder
/// of its own, removed after: for the tests against the fake Send API over TLS.
class CertificateTestCase: XCTestCase {
    var folder: String!
    var certificate: String!
    var key: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        (certificate, key) = try SelfSignedCertificate.make(in: folder)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }
}
