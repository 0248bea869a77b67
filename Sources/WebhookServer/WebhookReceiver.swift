import Crypto
import FlyingFox
import Foundation
import MessengerCore

/// Messenger's webhook: the GET subscription handshake and the signed POSTs carrying
/// `messaging_optins`, `message_deliveries`, `message_reads` and `message_template_status_update`.
/// Plain HTTP: it belongs behind a TLS proxy.
///
/// What it answers decides what Facebook does next: 200 means "recorded, don't send again", and
/// Meta wants it within 5 seconds; after an hour of failures it unsubscribes the page. So a POST
/// is answered as soon as it is on disk in the spool (`WebhookSpool`: appended and synced, shared
/// syncs), never after the database: an import holding the write lock, a migration or a database
/// that isn't open change nothing here. `WebhookIngester` applies the spool behind. Only a spool
/// that can't take the POST (over its cap, the disk full or failing) answers 503, and Facebook
/// delivers it again later.
///
/// Every POST is checked before it is spooled: its size (at most 1 MiB, as for a line of an
/// ingest file), its `X-Hub-Signature-256` (HMAC-SHA256 of the exact body with the app secret;
/// 403 and nothing kept when it is missing or wrong), then that it is a JSON object (400).
public struct WebhookReceiver: Sendable {
    let spool: WebhookSpool
    let verifyToken: String
    let appSecret: Data
    let now: @Sendable () -> Int64
    let log: @Sendable (String) -> Void
    /// What `GET /healthz` says: whether the ingester keeps up (503 when it lags past a bound).
    var health: @Sendable () -> (ok: Bool, text: String) = { (true, "ok") }
    /// Told each answer's status (`serve`'s metrics).
    var answered: @Sendable (Int) -> Void = { _ in }
    public static let path = "/webhook"
    public static let healthPath = "/healthz"
    public static let maxBodyBytes = WebhookPayload.maxBodyBytes

    public init(
        spool: WebhookSpool, verifyToken: String, appSecret: String, now: @escaping @Sendable () -> Int64,
        log: @escaping @Sendable (String) -> Void
    ) throws {
        guard !verifyToken.isEmpty, !appSecret.isEmpty else {
            throw DomainError("the verify token and the app secret must not be empty")
        }
        self.spool = spool
        self.verifyToken = verifyToken
        self.appSecret = Data(appSecret.utf8)
        self.now = now
        self.log = log
    }

    /// Answers one request. Public so tests can drive it without a socket too.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let response = await route(request)
        if request.method == .POST { answered(response.statusCode.code) }
        return response
    }

    func route(_ request: HTTPRequest) async -> HTTPResponse {
        if request.path == Self.healthPath, request.method == .GET {
            let (ok, text) = health()
            return HTTPResponse(
                statusCode: ok ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"], body: Data((text + "\n").utf8))
        }
        guard request.path == Self.path else { return answer(.notFound, "not found", request) }
        switch request.method {
        case .GET: return verify(request)
        case .POST: return await receive(request)
        default: return answer(.methodNotAllowed, "GET or POST only", request)
        }
    }

    /// The subscription check: echo `hub.challenge` when the verify token matches.
    func verify(_ request: HTTPRequest) -> HTTPResponse {
        guard request.query["hub.mode"] == "subscribe", let token = request.query["hub.verify_token"],
            Self.constantTimeEqual(Data(token.utf8), Data(verifyToken.utf8)),
            let challenge = request.query["hub.challenge"], !challenge.isEmpty, challenge.count <= 256
        else { return answer(.forbidden, "verification refused", request) }
        log("GET \(Self.path) 200 subscription verified")
        return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain"], body: Data(challenge.utf8))
    }

    func receive(_ request: HTTPRequest) async -> HTTPResponse {
        if let count = request.bodySequence.count, count > Self.maxBodyBytes {
            return answer(.payloadTooLarge, "body over \(Self.maxBodyBytes) bytes", request)
        }
        var body = Data()
        do {
            for try await chunk in request.bodySequence {
                body.append(chunk)
                if body.count > Self.maxBodyBytes { return answer(.payloadTooLarge, "body over \(Self.maxBodyBytes) bytes", request) }
            }
        } catch {
            return answer(.badRequest, "body not readable", request)
        }
        guard let header = request.headers[HTTPHeader("X-Hub-Signature-256")] else {
            return answer(.forbidden, "no X-Hub-Signature-256", request)
        }
        guard Self.signatureMatches(header, body: body, key: SymmetricKey(data: appSecret)) else {
            return answer(.forbidden, "signature mismatch", request)
        }
        // Only the shape is checked here (a JSON object: 400 otherwise). Parsing it costs half a
        // millisecond for 50 events, paid again by the ingester; only Meta can sign a body, and
        // one whose JSON turns out not to be a webhook is dropped there with a log line.
        guard Self.looksLikeAnObject(body) else { return answer(.badRequest, "not a JSON object", request) }
        do {
            try await spool.append(body, receivedAt: now())
            return HTTPResponse(statusCode: .ok, body: Data("EVENT_RECEIVED".utf8))
        } catch {
            // The spool can't take it: 503 asks Facebook to deliver it again later.
            log("POST \(Self.path) 503 not spooled: \(Display.safe("\(error)"))")
            return HTTPResponse(
                statusCode: .serviceUnavailable, headers: [.contentType: "text/plain"],
                body: Data("could not record the events; Facebook will retry\n".utf8))
        }
    }

    private func answer(_ status: HTTPStatusCode, _ message: String, _ request: HTTPRequest) -> HTTPResponse {
        // Everything from the request is outside data, the method too.
        log(
            "\(Display.safe(String(request.method.rawValue.prefix(16)))) \(Display.safe(String(request.path.prefix(80)))) \(status.code) \(Display.safe(message))"
        )
        return HTTPResponse(statusCode: status, headers: [.contentType: "text/plain"], body: Data((message + "\n").utf8))
    }

    /// `{` … `}` around the body, JSON's whitespace aside.
    static func looksLikeAnObject(_ body: Data) -> Bool {
        let space: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        guard let first = body.first(where: { !space.contains($0) }), let last = body.last(where: { !space.contains($0) }) else {
            return false
        }
        return first == UInt8(ascii: "{") && last == UInt8(ascii: "}") && body.count >= 2
    }

    /// `sha256=` and the hex HMAC-SHA256 of the body, compared in constant time.
    static func signatureMatches(_ header: String, body: Data, key: SymmetricKey) -> Bool {
        let prefix = "sha256="
        guard header.hasPrefix(prefix) else { return false }
        let hex = header.dropFirst(prefix.count)
        guard hex.count == 64, let given = Self.bytes(hex: hex) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: body, using: key)
    }

    /// The header a sender puts on `body`: what Facebook computes, and what the tests send.
    public static func signature(of body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(hex: Substring) -> Data? {
        var data = Data(capacity: hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// The receiver on a socket.
public enum WebhookListener {
    struct Handler: HTTPHandler {
        let receiver: WebhookReceiver
        func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse { await receiver.handle(request) }
    }

    /// Parses `HOST:PORT`; the host must be an IPv4 address (put a TLS proxy in front).
    public static func address(_ text: String) throws -> (host: String, port: UInt16) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let port = UInt16(parts[1]),
            parts[0].split(separator: ".").count == 4,
            parts[0].split(separator: ".").allSatisfy({ UInt8($0) != nil })
        else { throw DomainError("--listen must be IPV4:PORT such as 127.0.0.1:8080, not \(Display.quoted(text))") }
        return (String(parts[0]), port)
    }

    /// Starts listening, calls `ready` with the port it got (useful with port 0), and serves
    /// until the task is cancelled, under the limits of `GuardedHTTPServer`.
    public static func run(
        _ receiver: WebhookReceiver, host: String, port: UInt16,
        ready: @escaping @Sendable (UInt16) -> Void
    ) async throws {
        raiseDescriptorLimit()
        let server = GuardedHTTPServer(log: { receiver.log($0) }, handler: { request in await receiver.handle(request) })
        try await server.run(host: host, port: port, ready: ready)
    }

    /// The benchmark's floor (#25): the same socket side under the same limits, answering every
    /// request 200 once it is read, with no signature, no parsing and no spool.
    public static func runFloor(host: String, port: UInt16, ready: @escaping @Sendable (UInt16) -> Void) async throws {
        raiseDescriptorLimit()
        let server = GuardedHTTPServer(log: { _ in }, handler: { _ in HTTPResponse(statusCode: .ok, body: Data("EVENT_RECEIVED".utf8)) })
        try await server.run(host: host, port: port, ready: ready)
    }

    /// The soft limit on open files up to the hard one: the server's connection cap, not the
    /// default 1,024, should be what bounds it.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = min(limit.rlim_max, 65_536)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
