import FlyingFox
import FlyingSocks
import Foundation
import MessengerCore

#if canImport(Glibc)
    import Glibc
#endif

/// The webhook's socket side: HTTP/1.1, one request per connection, on FlyingSocks' event loop.
///
/// FlyingFox's `HTTPServer` reads a request's headers with no limit of time or size and has no
/// cap on connections; when `accept` fails with EMFILE its listening loop ends, and so does the
/// process. Anyone who can reach the port could starve it without knowing the app secret. So the
/// bytes are read here, under limits, and only a complete request reaches `WebhookReceiver`
/// (built as FlyingFox's `HTTPRequest`; its `HTTPResponse` is written back):
/// - the request line and headers: at most `headerBytes` (else 431) within `headerSeconds`
///   (else the connection is dropped), the body: `Content-Length` only, at most `bodyBytes`
///   (else 413), within `bodySeconds`;
/// - at most `maxConnections` open at once; at the cap the oldest connection still sending its
///   headers makes room (an idle socket can't hold a slot a real POST needs);
/// - out of file descriptors (EMFILE), a reserved descriptor is given up to take the waiting
///   connection off the queue and close it, the oldest idle connection is dropped, and the loop
///   goes on.
final class GuardedHTTPServer: @unchecked Sendable {
    struct Limits: Sendable {
        var headerBytes = 16 * 1024
        var headerSeconds: TimeInterval = 5
        var bodyBytes = WebhookPayload.maxBodyBytes
        var bodySeconds: TimeInterval = 15
        var maxConnections = 256
    }

    let limits: Limits
    let handler: @Sendable (HTTPRequest) async -> HTTPResponse
    let log: @Sendable (String) -> Void

    private let lock = NSLock()
    /// Open connections by descriptor: when each opened and whether its headers are complete.
    private var open: [Int32: (opened: UInt64, headersDone: Bool)] = [:]
    private var reserve: Int32 = -1

    init(
        limits: Limits = Limits(), log: @escaping @Sendable (String) -> Void,
        handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse
    ) {
        self.limits = limits
        self.log = log
        self.handler = handler
    }

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
            let evicted = admit(fd)
            if let evicted { _ = Glibc.shutdown(evicted, Int32(SHUT_RDWR)) }
            Task { await self.serve(client) }
        }
    }

    /// Out of descriptors: drop the oldest few connections still sending their headers (their
    /// tasks close them, and `accept` succeeds on the next try). With none to drop, give up the
    /// reserve to take the pending connection off the queue and close it (else `accept` would
    /// fail again at once, forever), then take the reserve back.
    private func shedOnDescriptorExhaustion(_ listener: AsyncSocket) {
        lock.lock()
        // Half of them at once: a queue of idle connections behind the listener would otherwise
        // be worked through a few at a time while a real POST waits at its end.
        let waiting = open.filter { !$0.value.headersDone }.sorted { $0.value.opened < $1.value.opened }
        let idle = waiting.prefix(max(8, waiting.count / 2)).map(\.key)
        let count = open.count
        lock.unlock()
        log("accept: out of file descriptors with \(count) connections open; dropping \(idle.count) idle ones")
        if !idle.isEmpty {
            for fd in idle { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            return
        }
        lock.lock()
        if reserve >= 0 {
            Glibc.close(reserve)
            reserve = -1
        }
        let pending = Glibc.accept(listener.socket.file.rawValue, nil, nil)
        if pending >= 0 { Glibc.close(pending) }
        reserve = Glibc.open("/dev/null", O_RDONLY)
        lock.unlock()
    }

    /// Registers a connection; at the cap, names the oldest one still sending headers to drop.
    private func admit(_ fd: Int32) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        var evict: Int32?
        if open.count >= limits.maxConnections {
            evict = open.filter { !$0.value.headersDone }.min { $0.value.opened < $1.value.opened }?.key
        }
        open[fd] = (DispatchTime.now().uptimeNanoseconds, false)
        return evict
    }

    private func headersDone(_ fd: Int32) {
        lock.lock()
        open[fd]?.headersDone = true
        lock.unlock()
    }

    private func release(_ fd: Int32) {
        lock.lock()
        open[fd] = nil
        lock.unlock()
    }

    // MARK: One connection

    private struct Refusal: Error {
        let status: HTTPStatusCode
        let message: String
    }

    private func serve(_ client: AsyncSocket) async {
        let fd = client.socket.file.rawValue
        // A deadline: when it passes, the socket is shut down, which wakes a pending read.
        let deadline = Task {
            try await Task.sleep(nanoseconds: UInt64((limits.headerSeconds + limits.bodySeconds) * 1e9))
            _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        }
        let headerDeadline = Task {
            try await Task.sleep(nanoseconds: UInt64(limits.headerSeconds * 1e9))
            guard !self.isHeadersDone(fd) else { return }
            _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        }
        defer {
            deadline.cancel()
            headerDeadline.cancel()
            release(fd)
            try? client.close()
        }
        let response: HTTPResponse
        do {
            let request = try await read(client, fd: fd)
            response = await handler(request)
        } catch let refusal as Refusal {
            log("\(refusal.status.code) \(refusal.message)")
            let answer = HTTPResponse(
                statusCode: refusal.status, headers: [.contentType: "text/plain"], body: Data((refusal.message + "\n").utf8))
            try? await client.write(encode(answer))
            await drainBeforeClosing(client, fd: fd)
            return
        } catch {
            return  // the peer went away, or a deadline passed: nothing to answer
        }
        try? await client.write(encode(response))
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

    private func isHeadersDone(_ fd: Int32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return open[fd]?.headersDone ?? true
    }

    private func read(_ client: AsyncSocket, fd: Int32) async throws -> HTTPRequest {
        var buffer: [UInt8] = []
        var headEnd: Int?
        while headEnd == nil {
            let chunk = try await client.read(atMost: 4096)
            if chunk.isEmpty { throw SocketError.disconnected }
            let searchFrom = max(0, buffer.count - 3)
            buffer += chunk
            headEnd = Self.find([13, 10, 13, 10], in: buffer, from: searchFrom)
            if headEnd == nil, buffer.count > limits.headerBytes {
                throw Refusal(
                    status: HTTPStatusCode(431, phrase: "Request Header Fields Too Large"),
                    message: "request headers over \(limits.headerBytes) bytes")
            }
        }
        guard let end = headEnd, end <= limits.headerBytes else {
            throw Refusal(
                status: HTTPStatusCode(431, phrase: "Request Header Fields Too Large"),
                message: "request headers over \(limits.headerBytes) bytes")
        }
        headersDone(fd)
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let parts = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            throw Refusal(status: .badRequest, message: "not an HTTP/1.x request line")
        }
        var headers: [HTTPHeader: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw Refusal(status: .badRequest, message: "a header line without a colon") }
            headers[HTTPHeader(String(line[..<colon]).trimmingCharacters(in: .whitespaces))] =
                String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        if headers[HTTPHeader("Transfer-Encoding")] != nil {
            throw Refusal(status: HTTPStatusCode(411, phrase: "Length Required"), message: "send the body with Content-Length")
        }
        var length = 0
        if let text = headers[.contentLength] {
            guard let n = Int(text), n >= 0 else { throw Refusal(status: .badRequest, message: "a bad Content-Length") }
            length = n
        }
        guard length <= limits.bodyBytes else {
            throw Refusal(status: .payloadTooLarge, message: "body over \(limits.bodyBytes) bytes")
        }
        var body = Array(buffer[(end + 4)...].prefix(length))
        while body.count < length {
            let chunk = try await client.read(atMost: min(65_536, length - body.count))
            if chunk.isEmpty { throw SocketError.disconnected }
            body += chunk
        }
        let target = String(parts[1])
        let components = URLComponents(string: target)
        let query = (components?.queryItems ?? []).map { HTTPRequest.QueryItem(name: $0.name, value: $0.value ?? "") }
        return HTTPRequest(
            method: HTTPMethod(String(parts[0])), version: HTTPVersion(String(parts[2])),
            path: components?.path ?? target, query: query, headers: headers, body: Data(body))
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

    private func encode(_ response: HTTPResponse) async -> Data {
        let body = (try? await response.bodyData) ?? Data()
        var text = "HTTP/1.1 \(response.statusCode.code) \(response.statusCode.phrase)\r\n"
        for (header, value) in response.headers where header != .contentLength && header != .connection {
            text += "\(header.rawValue): \(value)\r\n"
        }
        text += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Data(text.utf8) + body
    }
}
