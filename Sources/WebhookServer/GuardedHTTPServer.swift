import FlyingFox
import FlyingSocks
import Foundation
import MessengerCore

#if canImport(Glibc)
    import Glibc
#endif

/// The webhook's socket side: HTTP/1.1 with keep-alive (Meta reuses its connections), on
/// FlyingSocks' event loop.
///
/// FlyingFox's `HTTPServer` reads a request's headers with no limit of time or size and has no
/// cap on connections; when `accept` fails with EMFILE its listening loop ends, and so does the
/// process. Anyone who can reach the port could starve it without knowing the app secret. So the
/// bytes are read here, under limits, and only a complete request reaches `WebhookReceiver`
/// (built as FlyingFox's `HTTPRequest`; its `HTTPResponse` is written back):
/// - a connection is in one phase at a time: idle between requests (at most `idleSeconds`), in
///   its headers (at most `headerBytes`, else 431, within `headerSeconds`), in its body
///   (`Content-Length` only, at most `bodyBytes`, else 413, within `bodySeconds`), or handled;
///   one reaper task shuts down every connection past its phase's deadline;
/// - at most `maxConnections` are open, whatever their phase and whatever the descriptor limit:
///   at the cap a new connection takes the place of the oldest idle one, else the oldest still in
///   its headers, else the slowest body; a complete request being handled is never dropped, and
///   when every slot holds one the new connection is closed;
/// - the bytes of bodies not yet complete (so not yet verified) are capped in all
///   (`maxBufferedBodyBytes`): past it the slowest body is shed; once a flood is gone the freed
///   memory is handed back to the system (`malloc_trim`);
/// - requests RFC 9112 says to reject are answered 400 and the connection closed: a bad request
///   line or version, whitespace before a header's colon, folded lines, control characters, a
///   second `Content-Length` (or a list, or a sign), a second `Host`, `X-Hub-Signature-256` or
///   `Transfer-Encoding`, an HTTP/1.1 request without `Host`;
/// - out of file descriptors (EMFILE), a reserved descriptor is given up to take the waiting
///   connection off the queue and close it, idle connections are dropped, and the loop goes on.
final class GuardedHTTPServer: @unchecked Sendable {
    struct Limits: Sendable {
        var headerBytes = 16 * 1024
        var headerSeconds: TimeInterval = 5
        var bodyBytes = WebhookPayload.maxBodyBytes
        var bodySeconds: TimeInterval = 15
        var idleSeconds: TimeInterval = 30
        var maxConnections = 256
        var maxBufferedBodyBytes = 64 << 20
    }

    enum Phase { case idle, headers, body, handling }

    struct Connection {
        var opened: UInt64
        var phase: Phase = .idle
        var since: UInt64
        var bodyBytes = 0
        var shed = false
    }

    let limits: Limits
    let handler: @Sendable (HTTPRequest) async -> HTTPResponse
    let log: @Sendable (String) -> Void

    private let lock = NSLock()
    private var open: [Int32: Connection] = [:]
    private var reserve: Int32 = -1
    /// Bytes held for bodies still arriving, over every connection; the most since the last trim.
    private var buffered = 0
    private var bufferedPeak = 0
    /// The most connections open since the last trim: a flood of sockets leaves memory too.
    private var openPeak = 0

    init(
        limits: Limits = Limits(), log: @escaping @Sendable (String) -> Void,
        handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse
    ) {
        self.limits = limits
        self.log = log
        self.handler = handler
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Seconds from `start` to `end`, 0 when `start` is later: a connection's phase may begin on
    /// another thread after `end` was read (unsigned subtraction would trap and end the process).
    static func seconds(from start: UInt64, to end: UInt64) -> Double { end > start ? Double(end - start) / 1e9 : 0 }

    /// Listens on `host:port`, calls `ready` with the bound port, serves until cancelled.
    func run(host: String, port: UInt16, ready: @escaping @Sendable (UInt16) -> Void) async throws {
        let pool = HTTPServer.defaultPool()
        try await pool.prepare()
        let socket = try Socket(domain: AF_INET, type: .stream)
        try socket.setValue(true, for: .localAddressReuse)
        do {
            try socket.bind(to: sockaddr_in.inet(ip4: host, port: port))
            try socket.listen(maxPendingConnection: 512)
        } catch {
            try? socket.close()
            throw DomainError("can't listen on \(host):\(port): the address is in use or not ours")
        }
        if case .ip4(_, let bound) = try socket.sockname() { ready(bound) } else { ready(port) }
        let listener = try AsyncSocket(socket: socket, pool: pool)
        reserve = Glibc.open("/dev/null", O_RDONLY)
        defer {
            try? listener.close()
            if reserve >= 0 { Glibc.close(reserve) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            group.addTask { try await self.acceptLoop(listener) }
            group.addTask { try await self.reapLoop() }
            try await group.next()
            group.cancelAll()
        }
    }

    private func acceptLoop(_ listener: AsyncSocket) async throws {
        while !Task.isCancelled {
            let client: AsyncSocket
            do {
                client = try await listener.accept()
            } catch SocketError.failed(_, let code, _) where code == EMFILE || code == ENFILE {
                shedOnDescriptorExhaustion(listener)
                try await Task.sleep(nanoseconds: 2_000_000)  // for the dropped ones' tasks to close them
                continue
            } catch SocketError.failed(_, let code, _) where code == ECONNABORTED || code == EINTR || code == EPROTO {
                continue
            }
            let fd = client.socket.file.rawValue
            switch admit(fd) {
            case .admitted(let evicted):
                if let evicted { _ = Glibc.shutdown(evicted, Int32(SHUT_RDWR)) }
                Task { await self.serve(client) }
            case .full:
                try? client.close()
            }
        }
    }

    /// Every 200 ms: connections past their phase's deadline are shut down (which wakes their
    /// pending read), and memory a flood of bodies left is handed back once they are gone.
    private func reapLoop() async throws {
        // After a flood, memory is handed back on every tick for 5 s: what the last of its tasks
        // held is freed a little after their connections close.
        var trimTicks = 0
        while !Task.isCancelled {
            try await Task.sleep(nanoseconds: 200_000_000)
            let now = Self.now()
            var late: [Int32] = []
            var floodOver = false
            var quiet = false
            lock.withLock {
                for (fd, c) in open {
                    let limit: TimeInterval? =
                        switch c.phase {
                        case .idle: limits.idleSeconds
                        case .headers: limits.headerSeconds
                        case .body: limits.bodySeconds
                        case .handling: nil
                        }
                    if let limit, Self.seconds(from: c.since, to: now) > limit { late.append(fd) }
                }
                openPeak = max(openPeak, open.count)
                quiet = buffered == 0 && open.count < 16
                if quiet && (bufferedPeak > 8 << 20 || openPeak >= 128) {
                    bufferedPeak = 0
                    openPeak = 0
                    floodOver = true
                }
            }
            for fd in late { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            if floodOver {
                trimTicks = 25
                log("memory: a flood is over; freed memory goes back to the system")
            }
            if trimTicks > 0 && quiet {
                trimTicks -= 1
                ProcessSafety.trimMalloc()
            }
        }
    }

    /// Out of descriptors: drop the oldest few idle connections or ones still sending their
    /// headers (their tasks close them, and `accept` succeeds on the next try). With none to drop,
    /// give up the reserve to take the pending connection off the queue and close it (else
    /// `accept` would fail again at once, forever), then take the reserve back.
    private func shedOnDescriptorExhaustion(_ listener: AsyncSocket) {
        let (idle, count) = lock.withLock {
            // Half of them at once: a queue of idle connections behind the listener would otherwise
            // be worked through a few at a time while a real POST waits at its end.
            let waiting = open.filter { $0.value.phase == .idle || $0.value.phase == .headers }.sorted { $0.value.since < $1.value.since }
            return (waiting.prefix(max(8, waiting.count / 2)).map(\.key), open.count)
        }
        log("accept: out of file descriptors with \(count) connections open; dropping \(idle.count) idle ones")
        if !idle.isEmpty {
            for fd in idle { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            return
        }
        lock.withLock {
            if reserve >= 0 {
                Glibc.close(reserve)
                reserve = -1
            }
            let pending = Glibc.accept(listener.socket.file.rawValue, nil, nil)
            if pending >= 0 { Glibc.close(pending) }
            reserve = Glibc.open("/dev/null", O_RDONLY)
        }
    }

    enum Admission {
        case admitted(evicting: Int32?)
        case full
    }

    /// Registers a connection. At the cap one makes room: the oldest idle, else the oldest in its
    /// headers, else the slowest body; never one being handled. None of those: the new one waits
    /// outside (closed).
    private func admit(_ fd: Int32) -> Admission {
        lock.withLock {
            let now = Self.now()
            var evict: Int32?
            if open.count >= limits.maxConnections {
                evict = victim(now: now)
                guard let evict else { return .full }
                open[evict]?.shed = true
            }
            open[fd] = Connection(opened: now, since: now)
            return .admitted(evicting: evict)
        }
    }

    /// Called with the lock held: the connection to shed, by the order above.
    private func victim(now: UInt64) -> Int32? {
        let live = open.filter { !$0.value.shed }
        if let idle = live.filter({ $0.value.phase == .idle }).min(by: { $0.value.since < $1.value.since }) { return idle.key }
        if let head = live.filter({ $0.value.phase == .headers }).min(by: { $0.value.since < $1.value.since }) { return head.key }
        return slowestBody(in: live, now: now)
    }

    private func slowestBody(in connections: [Int32: Connection], now: UInt64) -> Int32? {
        func rate(_ c: Connection) -> Double { Double(c.bodyBytes) / max(1e-3, Self.seconds(from: c.since, to: now)) }
        return connections.filter { $0.value.phase == .body }.min { rate($0.value) < rate($1.value) }?.key
    }

    private func enter(_ fd: Int32, _ phase: Phase) {
        lock.withLock {
            open[fd]?.phase = phase
            open[fd]?.since = Self.now()
        }
    }

    /// Counts `count` more body bytes held for `fd`; past the total cap the slowest body is shed
    /// (maybe this one): false when it is this one.
    private func holdBody(_ fd: Int32, _ count: Int) -> Bool {
        let shed: Int32? = lock.withLock {
            open[fd]?.bodyBytes += count
            buffered += count
            bufferedPeak = max(bufferedPeak, buffered)
            guard buffered > limits.maxBufferedBodyBytes else { return nil }
            let victim = slowestBody(in: open.filter { !$0.value.shed }, now: Self.now())
            if let victim { open[victim]?.shed = true }
            return victim
        }
        guard let shed else { return true }
        if shed == fd { return false }
        log("\(buffered) bytes of unfinished bodies: the slowest connection is dropped")
        _ = Glibc.shutdown(shed, Int32(SHUT_RDWR))
        return true
    }

    /// Bytes held for unfinished bodies now, over every connection (for tests).
    var bufferedBodyBytes: Int { lock.withLock { buffered } }

    private func releaseBody(_ fd: Int32) {
        lock.withLock {
            buffered -= open[fd]?.bodyBytes ?? 0
            open[fd]?.bodyBytes = 0
        }
    }

    private func release(_ fd: Int32) {
        lock.withLock {
            buffered -= open[fd]?.bodyBytes ?? 0
            open[fd] = nil
        }
    }

    // MARK: One connection

    struct Refusal: Error {
        let status: HTTPStatusCode
        let message: String
    }

    /// Requests one after another on the connection until the peer closes it, asks to close, a
    /// deadline passes, or a request is refused.
    private func serve(_ client: AsyncSocket) async {
        let fd = client.socket.file.rawValue
        defer {
            release(fd)
            try? client.close()
        }
        var pending: [UInt8] = []
        while true {
            let response: HTTPResponse
            let keepAlive: Bool
            do {
                let (request, keep) = try await read(client, fd: fd, pending: &pending)
                enter(fd, .handling)
                response = await handler(request)
                keepAlive = keep
            } catch let refusal as Refusal {
                log("\(refusal.status.code) \(refusal.message)")
                let answer = HTTPResponse(
                    statusCode: refusal.status, headers: [.contentType: "text/plain"], body: Data((refusal.message + "\n").utf8))
                try? await client.write(encode(answer, keepAlive: false))
                await drainBeforeClosing(client, fd: fd)
                return
            } catch {
                return  // the peer went away, or a deadline passed: nothing to answer
            }
            do {
                try await client.write(encode(response, keepAlive: keepAlive))
            } catch {
                return
            }
            guard keepAlive else { return }
            enter(fd, pending.isEmpty ? .idle : .headers)
        }
    }

    /// A refusal is written while the peer may still be sending (a 10 MB body, a 1 GB header line):
    /// closing with unread bytes would reset the connection and the peer could lose the answer. So
    /// the write side is closed first and what still comes is read and dropped, for at most a
    /// second and 16 MB, before the socket closes.
    private func drainBeforeClosing(_ client: AsyncSocket, fd: Int32) async {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        let stop = Task {
            try await Task.sleep(nanoseconds: 1_000_000_000)
            _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        }
        defer { stop.cancel() }
        var drained = 0
        while drained < 16 << 20, let chunk = try? await client.read(atMost: 65_536), !chunk.isEmpty {
            drained += chunk.count
        }
    }

    /// One request: its head (from what is already buffered, then the socket), checked as RFC
    /// 9112 asks, then its body. What follows it on the connection (a pipelined request) stays in
    /// `pending`. Returns the request and whether the connection stays open after its answer.
    private func read(_ client: AsyncSocket, fd: Int32, pending: inout [UInt8]) async throws -> (HTTPRequest, Bool) {
        var headEnd = Self.find([13, 10, 13, 10], in: pending, from: 0)
        while headEnd == nil {
            if pending.count > limits.headerBytes { throw Self.headersTooLarge(limits.headerBytes) }
            let chunk = try await client.read(atMost: 4096)
            if chunk.isEmpty { throw SocketError.disconnected }
            if pending.isEmpty { enter(fd, .headers) }
            let searchFrom = max(0, pending.count - 3)
            pending += chunk
            headEnd = Self.find([13, 10, 13, 10], in: pending, from: searchFrom)
        }
        guard let end = headEnd, end <= limits.headerBytes else { throw Self.headersTooLarge(limits.headerBytes) }
        let head = try Self.parseHead(pending[..<end])
        guard head.length <= limits.bodyBytes else {
            throw Refusal(status: .payloadTooLarge, message: "body over \(limits.bodyBytes) bytes")
        }
        pending.removeFirst(end + 4)
        enter(fd, .body)
        if head.expectsContinue, pending.count < head.length {
            try await client.write(Data("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        let already = min(pending.count, head.length)
        var body = Array(pending.prefix(already))
        pending.removeFirst(already)
        // Only bytes of a body still unfinished are held against the cap: the read that completes
        // one hands the request to the handler at once. Counted, a small body that came whole in
        // one read could itself be picked as the slowest (its bytes over the 1 ms floor) while
        // the flood keeps the total over the cap, and a signed POST would go unanswered.
        if body.count < head.length {
            guard holdBody(fd, already) else { throw SocketError.disconnected }
        }
        while body.count < head.length {
            let chunk = try await client.read(atMost: min(65_536, head.length - body.count))
            if chunk.isEmpty { throw SocketError.disconnected }
            if body.count + chunk.count < head.length {
                guard holdBody(fd, chunk.count) else { throw SocketError.disconnected }
            }
            body += chunk
        }
        // Complete: from here the request is the handler's, and never shed.
        releaseBody(fd)
        let components = URLComponents(string: head.target)
        let query = (components?.queryItems ?? []).map { HTTPRequest.QueryItem(name: $0.name, value: $0.value ?? "") }
        let request = HTTPRequest(
            method: HTTPMethod(head.method), version: HTTPVersion(head.version),
            path: components?.path ?? head.target, query: query, headers: head.headers, body: Data(body))
        return (request, head.keepAlive)
    }

    static func headersTooLarge(_ limit: Int) -> Refusal {
        Refusal(status: HTTPStatusCode(431, phrase: "Request Header Fields Too Large"), message: "request headers over \(limit) bytes")
    }

    struct Head {
        var method: String
        var target: String
        var version: String
        var headers: [HTTPHeader: String]
        var length: Int
        var keepAlive: Bool
        var expectsContinue: Bool
    }

    /// Header fields that may appear once: a second one is how request smuggling and signature
    /// confusion start.
    static let single: Set<String> = ["content-length", "host", "transfer-encoding", "x-hub-signature-256", "expect", "connection"]

    /// The request line and header fields, as RFC 9112 has them (sections 3, 5, 6).
    static func parseHead(_ bytes: ArraySlice<UInt8>) throws -> Head {
        func bad(_ why: String) -> Refusal { Refusal(status: .badRequest, message: why) }
        // No NUL, no bare CR or LF inside a line, no other control bytes but tab.
        for (i, b) in zip(bytes.indices, bytes) {
            if b == 13 {
                guard i + 1 < bytes.endIndex, bytes[i + 1] == 10 else { throw bad("a bare CR in the request head") }
            } else if b == 10 {
                guard i > bytes.startIndex, bytes[i - 1] == 13 else { throw bad("a bare LF in the request head") }
            } else if b < 0x20 && b != 9 || b == 0x7F {
                throw bad("a control character in the request head")
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isToken), !parts[1].isEmpty,
            !parts[1].contains(where: { $0 == "\t" })
        else { throw bad("not an HTTP/1.x request line") }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw bad("HTTP/1.1 or HTTP/1.0 only, not \(Display.safe(version, limit: 20))")
        }
        var headers: [HTTPHeader: String] = [:]
        var seen: Set<String> = []
        for line in lines {
            guard let first = line.first else { throw bad("an empty header line") }
            if first == " " || first == "\t" { throw bad("a folded header line (obs-fold)") }
            guard let colon = line.firstIndex(of: ":") else { throw bad("a header line without a colon") }
            let name = line[..<colon]
            guard !name.isEmpty, name.allSatisfy(isToken) else {
                throw bad("a header name with whitespace or other bytes before its colon")
            }
            let key = name.lowercased()
            if single.contains(key) {
                guard seen.insert(key).inserted else { throw bad("a second \(name) header") }
            }
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            let header = HTTPHeader(String(name))
            headers[header] = headers[header].map { $0 + ", " + value } ?? value
        }
        if version == "HTTP/1.1" && !seen.contains("host") { throw bad("an HTTP/1.1 request without Host") }
        if seen.contains("transfer-encoding") {
            throw Refusal(status: HTTPStatusCode(411, phrase: "Length Required"), message: "send the body with Content-Length")
        }
        var length = 0
        if let text = headers[.contentLength] {
            guard !text.isEmpty, text.count <= 10, text.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(text) else {
                throw bad("a bad Content-Length")
            }
            length = n
        }
        let connection = headers[.connection]?.lowercased() ?? ""
        let keepAlive = version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
        let expectsContinue = headers[HTTPHeader("Expect")]?.lowercased() == "100-continue"
        return Head(
            method: String(parts[0]), target: String(parts[1]), version: version, headers: headers, length: length,
            keepAlive: keepAlive, expectsContinue: expectsContinue)
    }

    /// RFC 9110's tchar.
    static func isToken(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return (a >= 0x30 && a <= 0x39) || (a >= 0x41 && a <= 0x5A) || (a >= 0x61 && a <= 0x7A) || "!#$%&'*+-.^_`|~".contains(c)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0], Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    private func encode(_ response: HTTPResponse, keepAlive: Bool) async -> Data {
        let body = (try? await response.bodyData) ?? Data()
        var text = "HTTP/1.1 \(response.statusCode.code) \(response.statusCode.phrase)\r\n"
        for (header, value) in response.headers where header != .contentLength && header != .connection {
            text += "\(header.rawValue): \(value)\r\n"
        }
        text += "Content-Length: \(body.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
        return Data(text.utf8) + body
    }
}
