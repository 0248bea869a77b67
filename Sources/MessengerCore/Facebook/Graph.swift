import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Where the Graph API is and how hard to push it. The base URL and version are settings, so a
/// test or a proxy can stand in for graph.facebook.com.
public struct GraphConfig: Sendable {
    public var baseURL: String
    public var version: String
    /// Per request.
    public var timeout: TimeInterval = 30
    /// To open a connection: failed attempts are retried (with a backoff) until then, so a
    /// refused or unreachable address is "no answer" after this long.
    public var connectTimeout: TimeInterval = 10
    /// At most this many messages start in any window of `rateWindow` seconds, per page: Meta's
    /// 300 Send API calls a second. The window is a hair over a second (15 ms, 296 a second at
    /// most) so that a little network jitter can't put 301 into one second at Facebook's end.
    public var messagesPerWindow = 300
    public var rateWindow: TimeInterval = 1.015
    /// The most requests of a page handed to the HTTP client and not yet written to its
    /// connection (waiting for a connection or an HTTP/2 stream). The limiter counts a message
    /// when it is handed over; a request that waits goes out later, and waiting ones could go out
    /// together. With at most this many waiting, any 1 s at the server holds at most the
    /// limiter's count plus these, so the limiter counts to `messagesPerWindow` minus this, for
    /// each sender sharing the page (two processes: 300 − 8).
    public var unwrittenPerPage = 4
    /// Codes 4 and 613 (rate limits) are retried, waiting `backoff`, then twice as long each time,
    /// for at most `maxAttempts` tries in all.
    public var maxAttempts = 5
    public var backoff: TimeInterval = 1
    /// The most requests in flight at once, per page. How many are in flight follows the round
    /// trip: the rate times the latency (60 at 200 ms, 120 at 400 ms), up to this.
    public var concurrency = 256
    /// How many windows' worth of messages a run claims at once: the limiter's allowance (the
    /// limit less `unwrittenPerPage`) times this, 592. The limiter lets a window's allowance go at
    /// once and holds the next until the window has passed, so the wait for a batch's last answers
    /// (a round trip, two when a burst is over `concurrency`) and the next claim's commit fall in
    /// time the limiter would wait anyway, as long as they take less than the batch's last window.
    /// Two windows hold that up to about 0.8 s of latency, where `concurrency` caps the rate in
    /// any case. Short batches keep a run's last commit small: ten pages that finish together
    /// queue on the one writer (at 15 s, 4,500 rows a commit, that was 0.34 s and 279/s a page;
    /// at 2, 286–287/s). A kill leaves only the messages in flight unknown (the answer journal); a
    /// power cut, unlike a kill, can leave up to a batch unknown (the journal is not synced).
    public var batchSeconds = 2
    /// Where processes sending for the same page share its limit: a small file per page in this
    /// folder (the database's). Nil: the limit is this process's alone.
    public var sharedRateFolder: String?
    /// Where hosts sending for the same page share its limit when the workspace is on PostgreSQL
    /// (#30): the database (`PostgresRateLimiter`), whose clock every host reads. Wins over
    /// `sharedRateFolder`, which only one host can reach.
    public var sharedRateDatabase: PostgresAddress?
    /// The app secret, when known: every call then carries `appsecret_proof` (apps with "Require
    /// App Secret" refuse calls without it).
    public var appSecret: String?
    /// PEM certificates trusted instead of the system's roots (`graph_ca_file`), as curl's
    /// `--cacert`; checked when the config is made, so a bad file is one line before anything goes.
    public let caFile: String?

    public init(baseURL: String, version: String, caFile: String? = nil) throws {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = url.host, !host.isEmpty, url.query == nil, url.user == nil, url.password == nil
        else {
            throw DomainError(
                "graph_base_url must be an http(s) address such as https://graph.facebook.com, not \(Display.quoted(baseURL))")
        }
        // Tokens travel in the clear over http: only to this machine (a test server, a local proxy).
        if scheme == "http", !Self.loopbackHosts.contains(host.lowercased()) {
            throw DomainError(
                "graph_base_url may use http:// only on this machine (127.0.0.1, ::1, localhost); use https:// for \(Display.quoted(host))")
        }
        guard version.range(of: #"^v[0-9]{1,3}\.[0-9]{1,3}$"#, options: .regularExpression) != nil else {
            throw DomainError("graph_version must look like v25.0, not \(Display.quoted(version))")
        }
        if let caFile {
            let certificates = try? NIOSSLCertificate.fromPEMFile(caFile)
            guard let certificates, !certificates.isEmpty else {
                throw DomainError("graph_ca_file \(Display.quoted(caFile)) is not a readable file of PEM certificates")
            }
        }
        self.baseURL = base
        self.version = version
        self.caFile = caFile
    }

    func url(_ path: String) -> String { "\(baseURL)/\(version)/\(path)" }

    static let loopbackHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "[::1]"]
}

/// Blocking and callback HTTP for the synchronous core, on async-http-client (SwiftNIO): TLS by
/// BoringSSL, HTTP/2 when the server offers it by ALPN (graph.facebook.com does), kept-alive
/// connections. URLSession cost 1.57 ms of CPU a message (#29). Tokens travel in the
/// Authorization header, never in a URL, so they can't land in a proxy's or a server's access log.
///
/// Redirects are never followed: a 30x would carry the `Authorization` header to whatever host it
/// names. It comes back as it is, an unexpected answer.
struct GraphHTTP: Sendable {
    let client: HTTPClient
    /// Signs each call's token with `appsecret_proof` when set.
    let appSecret: String?
    let timeout: TimeInterval

    /// `lane`: calls with the same lane share a client (its connections); the Send API gives each
    /// page its own, so one page's requests never wait for another's connection or streams.
    init(config: GraphConfig, appSecret: String? = nil, lane: String = "") {
        self.appSecret = appSecret
        timeout = config.timeout
        client = Self.client(config: config, lane: lane)
    }

    struct Answer {
        let status: Int
        let buffer: ByteBuffer
        var body: Data { Data(buffer.readableBytesView) }
    }

    /// One client per trusted roots and timeout, for the life of the process: its connections (and
    /// their TLS sessions) are shared by every call, and it is never shut down, as
    /// `HTTPClient.shared` isn't.
    private static let clients = ClientCache()

    static func client(config: GraphConfig, lane: String) -> HTTPClient {
        clients.client(key: "\(config.caFile ?? "")|\(config.timeout)|\(config.connectTimeout)|\(config.concurrency)|\(lane)") {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caFile = config.caFile { tls.trustRoots = .file(caFile) }
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(
                    connect: .milliseconds(Int64(config.connectTimeout * 1000)), read: .milliseconds(Int64(config.timeout * 1000))))
            // As many connections as requests may be in flight (HTTP/1.1); HTTP/2 multiplexes.
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, config.concurrency))
            configuration.httpVersion = .automatic
            configuration.decompression = .disabled
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }
    }

    final class ClientCache: @unchecked Sendable {
        private let lock = NSLock()
        private var clients: [String: HTTPClient] = [:]

        func client(key: String, make: () -> HTTPClient) -> HTTPClient {
            lock.lock()
            defer { lock.unlock() }
            if let client = clients[key] { return client }
            let client = make()
            clients[key] = client
            return client
        }
    }

    /// Facebook's tokens are printable ASCII without spaces; anything else could smuggle a header.
    static func isValidToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= 4096 && token.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    func perform(method: String, url: String, token: String, json: Data? = nil, form: [(String, String)]? = nil) -> Result<
        Answer, any Error
    > {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        start(method: method, url: url, token: token, json: json, form: form) { result in
            box.result = result
            done.signal()
        }
        done.wait()
        return box.result ?? .failure(DomainError("no HTTP answer"))
    }

    private final class ResultBox: @unchecked Sendable {
        var result: Result<Answer, any Error>?
    }

    /// Graph answers are small; a body past 4 MiB is not one.
    static let maxAnswerBytes = 4 << 20

    /// Starts a request; `completion` is called once, on one of SwiftNIO's event loop threads (it
    /// must not block there for long: the answers of every request in flight come on them).
    /// `form`: parameters sent as an urlencoded body (secrets such as `client_secret` travel there,
    /// never in the address).
    /// `written` is called once the request's head is on its connection (never, if it fails first).
    func start(
        method: String, url: String, token: String, json: Data? = nil, form: [(String, String)]? = nil,
        written: (@Sendable () -> Void)? = nil, completion: @escaping @Sendable (Result<Answer, any Error>) -> Void
    ) {
        let contentType = json != nil ? "application/json" : form != nil ? "application/x-www-form-urlencoded" : nil
        var request: HTTPClient.Request
        switch prepare(method: method, url: url, token: token, contentType: contentType) {
        case .failure(let error): return completion(.failure(error))
        case .success(let prepared): request = prepared
        }
        if let json {
            request.body = .bytes(json)
        } else if let form {
            request.body = .string(Self.urlencoded(form))
        }
        execute(request, written: written, completion: completion)
    }

    /// A request with its address (signed), token and headers, and no body yet: the Send API
    /// makes one per page and token and copies it for each message, so the address is parsed and
    /// the proof computed once, not 300 times a second.
    func prepare(method: String, url: String, token: String, contentType: String?) -> Result<HTTPClient.Request, any Error> {
        guard Self.isValidToken(token) else {
            return .failure(DomainError("the stored token is not printable ASCII: reconnect the page"))
        }
        // The proof is an HMAC of the token, not the token: it may travel in the address.
        // A paging address from Facebook may carry one already.
        let signed = appSecret.flatMap { secret in
            url.contains("appsecret_proof=")
                ? nil : url + (url.contains("?") ? "&" : "?") + "appsecret_proof=" + AppCredentials.proof(token: token, secret: secret)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer " + token)
        headers.add(name: "Accept", value: "application/json")
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        do {
            return .success(try HTTPClient.Request(url: signed ?? url, method: HTTPMethod(rawValue: method), headers: headers))
        } catch {
            return .failure(DomainError("not a URL"))
        }
    }

    /// Sends a prepared request (see `start`). `on`: the event loop its connection and its
    /// answer stay on (the Send API pins each page to one, so a request never hops threads).
    func execute(
        _ request: HTTPClient.Request, on eventLoop: (any EventLoop)? = nil, written: (@Sendable () -> Void)? = nil,
        completion: @escaping @Sendable (Result<Answer, any Error>) -> Void
    ) {
        client.execute(
            request: request, delegate: Collector(written: written),
            eventLoop: eventLoop.map { .delegateAndChannel(on: $0) } ?? .indifferent,
            deadline: .now() + .milliseconds(Int64(timeout * 1000))
        ).futureResult.whenComplete { completion($0.mapError { $0 }) }
    }

    /// One request's answer: its status and up to `maxAnswerBytes` of its body (a bigger one is
    /// not a Graph answer and is cut). Its calls come on the request's event loop, one at a time.
    final class Collector: HTTPClientResponseDelegate, @unchecked Sendable {
        typealias Response = Answer
        let written: (@Sendable () -> Void)?
        private var status = 0
        private var body = ByteBuffer()

        init(written: (@Sendable () -> Void)?) { self.written = written }

        func didSendRequestHead(task: HTTPClient.Task<Answer>, _ head: HTTPRequestHead) { written?() }

        func didReceiveHead(task: HTTPClient.Task<Answer>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            status = Int(head.status.code)
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Answer>, _ part: ByteBuffer) -> EventLoopFuture<Void> {
            var part = part
            if body.readableBytes + part.readableBytes <= GraphHTTP.maxAnswerBytes { body.writeBuffer(&part) }
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didFinishRequest(task: HTTPClient.Task<Answer>) throws -> Answer {
            Answer(status: status, buffer: body)
        }
    }

    /// The line for a server whose certificate isn't trusted (a TLS-inspecting proxy, a test
    /// server), else nil: the other failures are "no answer".
    static func untrusted(_ error: any Error) -> String? {
        let text = String(describing: error)
        guard
            text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed")
                || text.contains("unableToValidateCertificate")
        else { return nil }
        return "the server's TLS certificate is not trusted: set graph_ca_file to the certificate of the CA that signed it"
    }

    /// `a=1&b=2`, each name and value percent-encoded but for the unreserved characters.
    static func urlencoded(_ parameters: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        func encode(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        return parameters.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    /// The `error` object of a Graph error body, if the body is one.
    static func graphError(_ body: Data, status: Int, scrubbing secret: String) -> GraphError {
        if let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let error = root["error"] as? [String: Any], let code = error["code"] as? Int
        {
            // Facebook's text is outside data: no control character or escape goes further.
            let message = (error["message"] as? String).map { Display.safe(scrub($0, secret), limit: 200) }
            return GraphError(code: code, subcode: error["error_subcode"] as? Int, message: message)
        }
        return GraphError(code: GraphError.unexpectedAnswer, message: "HTTP \(status)")
    }

    /// Facebook's messages don't carry tokens, but nothing we print may: cut any trace of it.
    static func scrub(_ text: String, _ secret: String) -> String {
        guard secret.count >= 8 else { return text }
        return text.replacingOccurrences(of: secret, with: "[token]")
    }
}

extension GraphError {
    /// No answer (connection refused, timeout): the message may or may not have gone.
    public static let noAnswer = -1
    /// An answer that is not a Graph API one (a proxy's 502 page, say).
    public static let unexpectedAnswer = -2
}

/// Shows that a secret is there without showing it: `EAAB…(212 characters)`.
public func maskedSecret(_ secret: String) -> String {
    secret.count <= 8 ? "…(\(secret.count) characters)" : String(secret.prefix(4)) + "…(\(secret.count) characters)"
}

// MARK: - Page directory

/// The Graph page directory: `GET /me/accounts?fields=id,name,tasks,access_token` with the user's
/// token, following `paging.next` (only while it stays on the configured base URL, so the token
/// never goes elsewhere).
public struct GraphPageDirectory: PageDirectory {
    let config: GraphConfig
    let userToken: String
    let http: GraphHTTP
    static let maxPages = 200

    /// `appSecret`: signs the calls (`appsecret_proof`) when the config doesn't already.
    public init(config: GraphConfig, userToken: String, appSecret: String? = nil) throws {
        let token = userToken.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.count <= 1024, token.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 0x21 }) else {
            throw DomainError("the user access token must be one line of printable ASCII (as Facebook issues it)")
        }
        self.config = config
        self.userToken = token
        http = GraphHTTP(config: config, appSecret: appSecret ?? config.appSecret)
    }

    public func pages() throws -> [DirectoryPage] {
        var url = config.url("me/accounts?fields=id,name,tasks,access_token&limit=100")
        var all: [DirectoryPage] = []
        var seen = Set<String>()
        for _ in 0..<Self.maxPages {
            let answer: GraphHTTP.Answer
            switch http.perform(method: "GET", url: url, token: userToken) {
            case .failure(let error):
                if let line = GraphHTTP.untrusted(error) { throw DomainError("can't reach the Graph API at \(config.baseURL): \(line)") }
                throw DomainError("can't reach the Graph API at \(config.baseURL): check the address and the network")
            case .success(let a): answer = a
            }
            guard answer.status == 200 else {
                let error = GraphHTTP.graphError(answer.body, status: answer.status, scrubbing: userToken)
                if error.code == 190 {
                    throw DomainError("the Graph API refused the user access token (190): it is invalid or expired; get a new one")
                }
                throw DomainError("the Graph API refused to list your pages: \(error.reason)")
            }
            let (pages, next) = try MeAccountsResponse.parse(answer.body)
            for page in pages where seen.insert(page.id).inserted { all.append(page) }
            guard let next else { return all }
            guard next.hasPrefix(config.baseURL + "/") else {
                throw DomainError("the Graph API's next page is not under \(config.baseURL); stopped so the token goes nowhere else")
            }
            url = next
        }
        throw DomainError("more than \(Self.maxPages) pages of /me/accounts; stopped")
    }
}

// MARK: - Send API transport

/// Blocks until a message to a page may start, and counts the start: this host's processes
/// (`RateLimiter`, a file beside a SQLite database) or every host's (`SharedPostgresLimit`).
protocol PageRateLimiter: Sendable {
    func take(page: String) throws
}

/// `PostgresRateLimiter` for the transport: connected when first needed (a transport is made
/// before anything is sent, and can't fail), and again after a failure, so a database that was
/// away fails the messages that came meanwhile and no more.
final class SharedPostgresLimit: PageRateLimiter, @unchecked Sendable {
    private let address: PostgresAddress
    private let limit: Int
    private let reserve: Int
    private let window: TimeInterval
    private let lock = NSLock()
    private var limiter: PostgresRateLimiter?

    init(address: PostgresAddress, limit: Int, reserve: Int, window: TimeInterval) {
        self.address = address
        self.limit = limit
        self.reserve = reserve
        self.window = window
    }

    func take(page: String) throws {
        let limiter = try lock.withLock {
            if let limiter = self.limiter { return limiter }
            let made = try PostgresRateLimiter(address, limit: limit, reserve: reserve, window: window)
            self.limiter = made
            return made
        }
        do {
            try limiter.acquire(page: page)
        } catch {
            lock.withLock { if self.limiter === limiter { self.limiter = nil } }
            throw error
        }
    }
}

/// Sliding-window limit per page: at most `limit` starts in any `window` seconds, in this
/// process, and (with a folder) across every process that sends for the same page: the starts
/// are kept in a small file per page, read and written under an exclusive `flock`, with times
/// from CLOCK_MONOTONIC, which all processes on the machine share. Two runs for one page (a
/// second program, or a run from the dashboard beside one from cron) then share its 300 a second.
///
/// Each sender may have `reserve` requests counted and not yet written (GraphTransport's
/// unwritten slots), which the server can see in a later second than the one they were counted
/// in. So the count is held to `limit - reserve × senders`, the senders being those with a start
/// in the window: each start is kept with its sender's id.
final class RateLimiter: PageRateLimiter, @unchecked Sendable {
    private let limit: Int
    private let reserve: Int
    private let window: UInt64
    private let folder: String?
    /// This limiter's id in the shared file: the process and a number of its own.
    private let sender: UInt64
    private let lock = NSCondition()
    private var starts: [String: [Start]] = [:]
    private var files: [String: Int32] = [:]
    /// The file's entries, read into this buffer (no allocation a message).
    private var buffer: [Start]

    struct Start {
        var time: UInt64
        var sender: UInt64
    }

    private static let counter = Counter()

    init(limit: Int, reserve: Int = 0, window: TimeInterval, folder: String? = nil) {
        self.limit = max(1, limit)
        self.reserve = max(0, min(reserve, limit - 1))
        self.window = UInt64(window * 1e9)
        self.folder = folder
        sender = UInt64(UInt32(bitPattern: getpid())) << 32 | UInt64(Self.counter.next())
        buffer = Array(repeating: Start(time: 0, sender: 0), count: self.limit)
    }

    deinit {
        for fd in files.values { close(fd) }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    func take(page: String) { acquire(page: page) }

    /// Blocks until a message to `page` may start, and counts it.
    func acquire(page: String) {
        lock.lock()
        defer { lock.unlock() }
        while true {
            let file = sharedFile(page)
            if let file { flock(file, LOCK_EX) }
            // The time once the lock is ours: another sender's start is never after it.
            let now = Self.monotonicNanoseconds()
            var recent = file.map(readStarts) ?? starts[page, default: []]
            recent.removeAll { $0.time > now || now - $0.time >= window }
            var senders: Set<UInt64> = [sender]
            for start in recent { senders.insert(start.sender) }
            let allowed = max(1, limit - reserve * senders.count)
            if recent.count < allowed {
                recent.append(Start(time: now, sender: sender))
                if let file {
                    writeStarts(recent, to: file)
                    flock(file, LOCK_UN)
                } else {
                    starts[page] = recent
                }
                return
            }
            if let file { flock(file, LOCK_UN) } else { starts[page] = recent }
            // The oldest start that must leave the window before one more may go.
            let wait = Double(recent[recent.count - allowed].time + window - now) / 1e9
            lock.unlock()
            Thread.sleep(forTimeInterval: max(0.0005, wait))
            lock.lock()
        }
    }

    /// The page's file, opened once; nil without a folder or when it can't be opened (then the
    /// limit is this process's).
    private func sharedFile(_ page: String) -> Int32? {
        guard let folder else { return nil }
        if let fd = files[page] { return fd }
        let safe = page.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        // Never through a link planted under that name (#26): it would truncate its target.
        guard let fd = try? OutputFile.open(folder + "/.messenger-dash-rate-" + safe, O_RDWR | O_CREAT) else { return nil }
        files[page] = fd
        return fd
    }

    /// The file holds at most the last `limit` starts, 16 bytes each (time, sender), the rest
    /// zeros; it is always `limit` entries long, so a write never needs a truncate. A file of
    /// another length (an older version's) reads as empty and is rewritten.
    private func readStarts(_ fd: Int32) -> [Start] {
        let size = buffer.count * MemoryLayout<Start>.stride
        let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        guard read == size else { return [] }
        return buffer.filter { $0.time != 0 }
    }

    private func writeStarts(_ starts: [Start], to fd: Int32) {
        let kept = starts.suffix(buffer.count)
        for i in buffer.indices { buffer[i] = Start(time: 0, sender: 0) }
        for (i, start) in kept.enumerated() { buffer[i] = start }
        buffer.withUnsafeBytes { _ = pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value: UInt32 = 0
        func next() -> UInt32 {
            lock.lock()
            defer { lock.unlock() }
            value &+= 1
            return value
        }
    }
}

/// How many requests may be in flight for a page: the rate times the round trip, measured as it
/// goes (an average over the last answers), with a quarter more for jitter, between 2 and the cap.
/// Fixed at 8, a page with 200 ms answers got 40 messages a second of its 300.
final class InFlightGate: @unchecked Sendable {
    private let lock = NSCondition()
    private let ratePerSecond: Double
    private let cap: Int
    private var inFlight = 0
    // A guess until answers say: on the high side, so a run starts at its rate (more in flight
    // than needed costs only streams; the limiter keeps the rate).
    private var roundTrip: Double = 0.25

    init(ratePerSecond: Double, cap: Int) {
        self.ratePerSecond = ratePerSecond
        self.cap = max(1, cap)
    }

    var target: Int {
        min(cap, max(2, Int((ratePerSecond * roundTrip * 1.25).rounded(.up)) + 2))
    }

    func enter() {
        lock.lock()
        while inFlight >= target { lock.wait() }
        inFlight += 1
        lock.unlock()
    }

    func leave(roundTrip seconds: Double?) {
        lock.lock()
        inFlight -= 1
        if let seconds { roundTrip = 0.8 * roundTrip + 0.2 * seconds }
        lock.broadcast()
        lock.unlock()
    }
}

/// The Send API: `POST /{page-id}/messages`, authorised by the page token, with the recipient's
/// PSID and either `messaging_type=UTILITY` and the approved template with the contact's
/// parameters, or (before Meta retired them) `messaging_type=MESSAGE_TAG`, the tag and the text.
/// Error bodies become stable reasons; 4 and 613 back off and retry within a bound; a batch goes
/// out at the page's rate limit with as many requests in flight as the round trip needs (kept-
/// alive connections, answers taken as they come), and stops asking after a 190.
public final class GraphTransport: Transport, @unchecked Sendable {
    let config: GraphConfig
    let limiter: any PageRateLimiter
    let sleep: @Sendable (TimeInterval) -> Void
    /// Requests a page may have handed to its client and not yet written: the limiter leaves
    /// room for exactly these (`GraphConfig.unwrittenPerPage`, at least 1).
    let unwrittenPerPage: Int
    private let lock = NSLock()
    private var lanes: [String: Lane] = [:]

    /// Called with the page as each request is written to its connection: what the server sees
    /// (less the network), for the tests and the bench; `asking` announces a group at a time.
    let onWritten: (@Sendable (_ page: String) -> Void)?

    public init(
        config: GraphConfig, sleep: @escaping @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) },
        onWritten: (@Sendable (_ page: String) -> Void)? = nil
    ) {
        self.config = config
        self.onWritten = onWritten
        let unwritten = max(1, min(config.unwrittenPerPage, config.messagesPerWindow - 1))
        unwrittenPerPage = unwritten
        if let address = config.sharedRateDatabase {
            limiter = SharedPostgresLimit(
                address: address, limit: config.messagesPerWindow, reserve: unwritten, window: config.rateWindow)
        } else {
            limiter = RateLimiter(
                limit: config.messagesPerWindow, reserve: unwritten, window: config.rateWindow, folder: config.sharedRateFolder)
        }
        self.sleep = sleep
    }

    public var preferredBatchSize: Int { (config.messagesPerWindow - unwrittenPerPage) * max(1, config.batchSeconds) }

    /// How many messages one `asking` call announces.
    public static var askingGroup: Int { 16 }

    /// A page's own way out: its in-flight gate, its client (connections and HTTP/2 streams), and
    /// the slots of requests not yet written. A slow page never holds another's requests.
    struct Lane {
        let gate: InFlightGate
        let http: GraphHTTP
        /// The page's own HTTP/2 connections (https only); GraphHTTP when the server doesn't speak it.
        let h2: SendConnections?
        let unwritten: DispatchSemaphore
        let requests = PreparedRequests()
        /// Every request of the page, its connection and its answers on one event loop thread:
        /// with async-http-client's default a request's task could land on another loop than its
        /// connection, and every answer then hopped threads.
        let eventLoop: any EventLoop
    }

    /// A page's request for a token, addressed, signed and with its headers, for either client.
    struct Prepared {
        let request: HTTPClient.Request
        let h2: SendConnections.Prepared?
    }

    /// The page's `POST /{page-id}/messages` request per token: each message copies it and adds
    /// its body.
    final class PreparedRequests: @unchecked Sendable {
        private let lock = NSLock()
        private var byToken: [String: Prepared] = [:]

        func request(token: String, make: () -> Result<Prepared, any Error>) -> Result<Prepared, any Error> {
            lock.lock()
            defer { lock.unlock() }
            if let request = byToken[token] { return .success(request) }
            let made = make()
            // A page has one token at a time; a new one (reconnected mid-run) replaces the old.
            if case .success(let request) = made { byToken = [token: request] }
            return made
        }
    }

    func lane(_ page: String) -> Lane {
        lock.lock()
        defer { lock.unlock() }
        if let lane = lanes[page] { return lane }
        let http = GraphHTTP(config: config, appSecret: config.appSecret, lane: "page " + page)
        let h2 = SendConnections.shared(config: config, lane: "page " + page, group: http.client.eventLoopGroup)
        let lane = Lane(
            gate: InFlightGate(ratePerSecond: Double(config.messagesPerWindow) / config.rateWindow, cap: config.concurrency),
            http: http, h2: h2, unwritten: DispatchSemaphore(value: unwrittenPerPage),
            eventLoop: h2?.eventLoop ?? http.client.eventLoopGroup.next())
        lanes[page] = lane
        return lane
    }

    /// Gives the unwritten slot back once: when the head is written, or when the request ends
    /// without having been written.
    final class Slot: @unchecked Sendable {
        private let lock = NSLock()
        private var semaphore: DispatchSemaphore?
        init(_ semaphore: DispatchSemaphore) { self.semaphore = semaphore }
        func release() {
            lock.lock()
            let held = semaphore
            semaphore = nil
            lock.unlock()
            held?.signal()
        }
    }

    /// The request body, exactly as the Send API takes it.
    public static func body(_ message: OutgoingMessage) -> Data {
        Data(SendAPIWire.body(message).readableBytesView)
    }

    public func send(_ message: OutgoingMessage) -> SendResult {
        send(batch: [message])[0]
    }

    public func send(
        batch: [OutgoingMessage], asking: @escaping @Sendable (Range<Int>) -> Void,
        answered: @escaping @Sendable (Int, SendResult) -> Void
    ) -> [SendResult] {
        let state = BatchState(count: batch.count)
        let done = DispatchGroup()
        // This thread paces the starts (the limiter) and the in-flight count (the gate); the
        // answers come on SwiftNIO's event loop threads.
        for index in batch.indices {
            if state.isBroken { break }
            done.enter()
            start(
                batch[index], index: index, attempt: 1, delay: config.backoff, state: state, asking: asking, answered: answered, done: done)
        }
        done.wait()
        return state.results()
    }

    private func start(
        _ message: OutgoingMessage, index: Int, attempt: Int, delay: TimeInterval, state: BatchState,
        asking: @escaping @Sendable (Range<Int>) -> Void, answered: @escaping @Sendable (Int, SendResult) -> Void,
        done: DispatchGroup
    ) {
        guard let token = message.pageToken, !token.isEmpty else {
            let result = SendResult.failed(GraphError(code: 190, message: "no page token stored: reconnect the page"))
            state.record(result, at: index)
            answered(index, result)
            done.leave()
            return
        }
        // The in-flight slot and an unwritten one first, then the limiter: the start the limiter
        // counts is the moment it is handed to the client, and at most `unwrittenPerPage` wait there.
        let lane = self.lane(message.pageID)
        let gate = lane.gate
        gate.enter()
        lane.unwritten.wait()
        let slot = Slot(lane.unwritten)
        do {
            try limiter.take(page: message.pageID)
        } catch {
            // Not counted, so not sent: the page's limit across hosts can't be kept without the
            // database. Unreachable: the run stops, the message is retryable (R16).
            slot.release()
            gate.leave(roundTrip: nil)
            let result = SendResult.failed(
                .unreachable("the page's rate limit shared in PostgreSQL can't be counted: \(Display.safe("\(error)", limit: 200))"))
            state.record(result, at: index)
            answered(index, result)
            done.leave()
            return
        }
        // A 190 may have come while this one waited: then nothing more is asked.
        if state.isBroken {
            slot.release()
            gate.leave(roundTrip: nil)
            done.leave()
            return
        }
        let prepared: Prepared
        switch lane.requests.request(
            token: token,
            make: {
                lane.http.prepare(
                    method: "POST", url: config.url(message.pageID + "/messages"), token: token, contentType: "application/json"
                )
                .map { request in Prepared(request: request, h2: lane.h2?.prepare(url: request.url, token: token)) }
            })
        {
        case .success(let made): prepared = made
        case .failure:
            // Only a token that is not printable ASCII fails here: nothing was asked of Facebook.
            slot.release()
            let result = SendResult.failed(GraphError(code: 190))
            // Recorded before the gate opens, so a start waiting on it sees the 190.
            state.record(result, at: index)
            answered(index, result)
            gate.leave(roundTrip: nil)
            done.leave()
            return
        }
        let body = SendAPIWire.body(message)
        // Announced a group at a time, before the group's first goes (one journal record for
        // 16, not one each): a kill can leave at most the group's unsent rest unknown, 50 ms'
        // worth at the limit.
        if attempt == 1, index % Self.askingGroup == 0 { asking(index..<min(index + Self.askingGroup, state.count)) }
        let started = DispatchTime.now().uptimeNanoseconds
        let page = message.pageID
        let wasWritten = Flag()
        let written: @Sendable () -> Void = { [onWritten] in
            wasWritten.set()
            slot.release()
            onWritten?(page)
        }
        let answer: @Sendable (Result<GraphHTTP.Answer, any Error>) -> Void = { [self] outcome in
            slot.release()
            // The server took none of it (GOAWAY, REFUSED_STREAM): asked again at once, as a new
            // start through the limiter, within the same bound of attempts.
            if case .failure(let error) = outcome, error is SendConnections.NotProcessed, attempt < config.maxAttempts,
                !state.isBroken
            {
                gate.leave(roundTrip: nil)
                DispatchQueue.global().async { [self] in
                    start(
                        message, index: index, attempt: attempt + 1, delay: delay, state: state, asking: asking,
                        answered: answered, done: done)
                }
                return
            }
            let result: SendResult
            var roundTrip: Double? = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            switch outcome {
            case .failure(let error) where !wasWritten.isSet:
                // Never on a connection: no connection could be made within the connect timeout
                // (each attempt retried until then), or its TLS certificate isn't trusted.
                result = .failed(
                    .unreachable(GraphHTTP.untrusted(error) ?? "can't connect to \(config.baseURL) (\(Self.describe(error)))"))
                roundTrip = nil
                state.stop(result)
            case .failure(let error as SendConnections.NotProcessed):
                // Refused every time it was asked (below): not sent, and the batch stops as for
                // an API that can't be reached.
                result = .failed(.unreachable("the Graph API took none of it in \(attempt) tries (\(error.why))"))
                roundTrip = nil
                state.stop(result)
            case .failure(let error):
                result = .failed(GraphError(code: GraphError.noAnswer, message: GraphHTTP.untrusted(error)))
                roundTrip = nil  // a timeout says nothing of the round trip
            case .success(let answer) where answer.status == 200:
                if let id = Self.messageID(in: answer.buffer), !id.isEmpty {
                    result = .sent(messageID: Display.safe(String(id.prefix(200)), limit: 200))
                } else {
                    result = .failed(GraphError(code: GraphError.unexpectedAnswer, message: "HTTP 200 without a message_id"))
                }
            case .success(let answer):
                result = .failed(GraphHTTP.graphError(answer.body, status: answer.status, scrubbing: token))
            }
            if case .failed(let error) = result, error.code == 4 || error.code == 613, attempt < config.maxAttempts, !state.isBroken {
                gate.leave(roundTrip: roundTrip)
                // Back off off the answering thread, then go through the limiter again.
                DispatchQueue.global().async { [self] in
                    sleep(delay)
                    start(
                        message, index: index, attempt: attempt + 1, delay: delay * 2, state: state,
                        asking: asking, answered: answered, done: done)
                }
                return
            }
            // Recorded before the gate opens, so a start waiting on it sees a 190.
            state.record(result, at: index)
            answered(index, result)
            gate.leave(roundTrip: roundTrip)
            done.leave()
        }
        let request = {
            var request = prepared.request
            request.body = .byteBuffer(body)
            return request
        }()
        guard let h2 = lane.h2, let h2Request = prepared.h2 else {
            return lane.http.execute(request, on: lane.eventLoop, written: written, completion: answer)
        }
        h2.send(h2Request, body: body, written: written) { outcome in
            // The server doesn't speak HTTP/2 (told before anything was written): async-http-client.
            if case .failure(let error) = outcome, error is SendConnections.NotHTTP2 {
                return lane.http.execute(request, on: lane.eventLoop, written: written, completion: answer)
            }
            answer(outcome)
        }
    }

    /// The answer's `message_id`: by SendAPIWire's scanner when the answer is the usual flat
    /// object, else by JSONSerialization.
    static func messageID(in body: ByteBuffer) -> String? {
        if let id = SendAPIWire.messageID(in: body) { return id }
        let root = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        return root?["message_id"] as? String
    }

    /// A connection failure in a few words, for the line that says the run stopped.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error).lowercased()
        if text.contains("refused") { return "connection refused" }
        if text.contains("timeout") || text.contains("timed out") { return "timed out" }
        if text.contains("resolve") || text.contains("unknown host") || text.contains("name") { return "the name doesn't resolve" }
        return "no connection"
    }

    /// Set once, read from any thread.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() {
            lock.lock()
            value = true
            lock.unlock()
        }
        var isSet: Bool {
            lock.lock()
            defer { lock.unlock() }
            return value
        }
    }

    /// Shared by a batch's requests: the results, and whether a 190 has stopped the batch.
    private final class BatchState: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [SendResult?]
        private var broken: GraphError?
        let count: Int

        init(count: Int) {
            self.count = count
            slots = Array(repeating: nil, count: count)
        }

        var isBroken: Bool {
            lock.lock()
            defer { lock.unlock() }
            return broken != nil
        }

        func record(_ result: SendResult, at index: Int) {
            lock.lock()
            defer { lock.unlock() }
            slots[index] = result
            if case .failed(let error) = result, error.stopsThePage || error.isUnreachable, broken == nil { broken = error }
        }

        /// Nothing more is asked: the Graph API can't be reached (the rest carry that error).
        func stop(_ result: SendResult) {
            lock.lock()
            defer { lock.unlock() }
            if case .failed(let error) = result, broken == nil { broken = error }
        }

        /// Messages never tried after a 190 carry that error: nothing more was asked of Facebook.
        func results() -> [SendResult] {
            lock.lock()
            defer { lock.unlock() }
            return slots.map { $0 ?? .failed(broken ?? GraphError(code: GraphError.noAnswer)) }
        }
    }
}
