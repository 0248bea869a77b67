import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// The Send API's own HTTP/2 connections: SwiftNIO's TLS and HTTP/2 frames, without
/// async-http-client's machinery per request (a child channel and pipeline per stream, a request
/// bag and its state machines, a head and a body written and flushed apart), which was most of a
/// message's CPU (#29). A request here is one HEADERS and one DATA frame, written and flushed
/// together; its answer is collected from the frames of its stream.
///
/// Only for https base URLs whose server speaks HTTP/2 (graph.facebook.com does, by ALPN). A
/// server that doesn't is told apart when the first connection's TLS handshake ends, before any
/// request goes, and its requests then take GraphHTTP (async-http-client) instead: `notHTTP2`.
///
/// Everything of a pool runs on its one event loop; `send` may be called from any thread.
final class SendConnections: @unchecked Sendable {
    /// The request of a page and token, made once: its HTTP/2 header block without the length.
    struct Prepared: Sendable {
        let headers: HPACKHeaders
    }

    /// No request went: the server doesn't speak HTTP/2 here; send it through GraphHTTP.
    struct NotHTTP2: Error {}
    /// The answer didn't come within the request's timeout (the stream is reset).
    struct TimedOut: Error, CustomStringConvertible {
        var description: String { "the Graph API did not answer in time" }
    }
    /// The server took no part of the request: a stream above the last one its GOAWAY names, or
    /// one it reset with REFUSED_STREAM. RFC 9113 (6.8, 8.7) says such a request can be sent
    /// again safely, so it is: through the limiter, as a new start (GraphTransport).
    struct NotProcessed: Error, CustomStringConvertible {
        let why: String
        var description: String { "the server took none of it: \(why)" }
    }
    /// The connection ended (closed, reset) before the stream's answer was whole: the message
    /// may or may not have gone.
    struct ConnectionEnded: Error, CustomStringConvertible {
        let why: String
        var description: String { "the connection ended before the answer: \(why)" }
    }

    let eventLoop: any EventLoop
    private let host: String
    private let port: Int
    private let authority: String
    private let tls: NIOSSLContext
    private let connectTimeout: TimeAmount
    fileprivate let timeout: TimeAmount
    /// Connections of this pool and what the server allows on each; on `eventLoop` only.
    private var connections: [StreamsHandler] = []
    /// Connection attempts that failed (refused, unreachable, timed out); on `eventLoop`.
    private(set) var refusedConnects = 0
    /// Whether the server negotiated HTTP/2; nil until the first handshake ends.
    private var speaksHTTP2: Bool?
    /// A new connection is opened when every open one is at the server's stream limit, up to this.
    static let maxConnections = 8
    /// Idle connections are closed after this (as async-http-client's pool does).
    static let idleTimeout = TimeAmount.seconds(60)

    init(url: URL, caFile: String?, connectTimeout: TimeInterval, timeout: TimeInterval, eventLoop: any EventLoop) throws {
        guard url.scheme?.lowercased() == "https", let host = url.host else { throw NotHTTP2() }
        self.host = host
        port = url.port ?? 443
        authority = url.port.map { "\(host):\($0)" } ?? host
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile { configuration.trustRoots = .file(caFile) }
        configuration.applicationProtocols = ["h2"]
        tls = try NIOSSLContext(configuration: configuration)
        self.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
        self.timeout = .milliseconds(Int64(timeout * 1000))
        self.eventLoop = eventLoop
    }

    /// One pool per trusted roots, timeouts, server and lane, for the life of the process (as
    /// GraphHTTP's clients): a transport made for each run reuses its page's connections rather
    /// than leaving them open. Nil for http:// (a local test server or proxy: GraphHTTP).
    static func shared(config: GraphConfig, lane: String, group: any EventLoopGroup) -> SendConnections? {
        guard let url = URL(string: config.baseURL), url.scheme?.lowercased() == "https" else { return nil }
        let key = "\(config.caFile ?? "")|\(config.timeout)|\(config.connectTimeout)|\(config.baseURL)|\(lane)"
        pools.lock.lock()
        defer { pools.lock.unlock() }
        if let pool = pools.byKey[key] { return pool }
        let pool = try? SendConnections(
            url: url, caFile: config.caFile, connectTimeout: config.connectTimeout, timeout: config.timeout, eventLoop: group.next())
        pools.byKey[key] = pool
        return pool
    }

    private static let pools = Pools()
    private final class Pools: @unchecked Sendable {
        let lock = NSLock()
        var byKey: [String: SendConnections?] = [:]
    }

    /// The header block of `POST` to `url` (its path and query, with `appsecret_proof`) with
    /// this token.
    func prepare(url: URL, token: String) -> Prepared? {
        guard let parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return nil }
        let path = (parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath) + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
        return Prepared(
            headers: HPACKHeaders([
                (":method", "POST"), (":scheme", "https"), (":authority", authority), (":path", path),
                ("authorization", "Bearer " + token), ("accept", "application/json"), ("content-type", "application/json"),
            ]))
    }

    /// Sends `body` with `prepared`; `written` once its frames are handed to the connection,
    /// `completion` once with the answer or the failure, on the event loop.
    func send(
        _ prepared: Prepared, body: ByteBuffer, written: @escaping @Sendable () -> Void,
        completion: @escaping @Sendable (Result<GraphHTTP.Answer, any Error>) -> Void
    ) {
        eventLoop.execute { [self] in
            let request = Request(prepared: prepared, body: body, written: written, completion: completion)
            if speaksHTTP2 == false { return completion(.failure(NotHTTP2())) }
            connection().enqueue(request)
        }
    }

    /// An open (or opening) connection with a free stream, else a new one; the least busy when
    /// all are full and no more may be opened (HTTP/2 then holds the stream until one ends).
    private func connection() -> StreamsHandler {
        connections.removeAll { $0.isDead }
        if let free = connections.first(where: { $0.hasRoom }) { return free }
        if connections.count < Self.maxConnections {
            let connection = StreamsHandler(pool: self)
            connections.append(connection)
            open(connection)
            return connection
        }
        return connections.min { $0.load < $1.load }!
    }

    /// Connects, retrying a refused or unreachable address with a growing pause until
    /// `connectTimeout` has passed (as async-http-client does: a network that comes back within
    /// it loses nothing); then the requests waiting fail, none of them written. A TLS failure
    /// (an untrusted certificate) is not retried: it comes on the connection, not here.
    private func open(_ handler: StreamsHandler, since: NIODeadline? = nil, pause: TimeAmount = .milliseconds(100)) {
        let started = since ?? eventLoop.now
        let left = connectTimeout - (eventLoop.now - started)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(max(left, .milliseconds(1)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    // No SNI for an address (RFC 6066); the certificate is then checked against it.
                    let name = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: name))
                    let alpn = ApplicationProtocolNegotiationHandler { result, channel in
                        self.negotiated(result, channel: channel, handler: handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(alpn)
                    // Here from the start, so a failed handshake (an untrusted certificate) reaches
                    // the requests waiting for this connection.
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        bootstrap.connect(host: host, port: port).whenFailure { [self] error in
            refusedConnects += 1
            guard eventLoop.now - started + pause < connectTimeout else { return handler.fail(all: error) }
            eventLoop.scheduleTask(in: pause) { [self] in
                open(handler, since: started, pause: min(pause * 2, .seconds(1)))
            }
        }
    }

    /// After the TLS handshake: HTTP/2 in front of the stream handler, or (no h2) every request
    /// waiting goes back as `NotHTTP2`, before any of it was written.
    private func negotiated(_ result: ALPNResult, channel: any Channel, handler: StreamsHandler) -> EventLoopFuture<Void> {
        guard case .negotiated("h2") = result else {
            speaksHTTP2 = false
            handler.fail(all: NotHTTP2())
            return channel.close()
        }
        speaksHTTP2 = true
        // The waiting requests go once the server's SETTINGS have come (its stream limit).
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .client), position: .before(handler))
        }
    }

    /// Closes `handler`'s connection once it has been idle for `idleTimeout`: one check pending
    /// a connection at most (sent one at a time, every answer leaves it idle for a moment).
    fileprivate func idle(_ handler: StreamsHandler) {
        guard !handler.idleCheckPending else { return }
        handler.idleCheckPending = true
        scheduleIdleCheck(handler, in: Self.idleTimeout)
    }

    private func scheduleIdleCheck(_ handler: StreamsHandler, in delay: TimeAmount) {
        eventLoop.scheduleTask(in: delay) { [self] in
            guard let since = handler.idleSince, !handler.isDead else {
                handler.idleCheckPending = false
                return
            }
            let idleFor = eventLoop.now - since
            if idleFor >= Self.idleTimeout {
                handler.idleCheckPending = false
                handler.close()
                connections.removeAll { $0.isDead }
            } else {
                scheduleIdleCheck(handler, in: Self.idleTimeout - idleFor)
            }
        }
    }

    /// One request in flight or waiting for its connection.
    struct Request {
        let prepared: Prepared
        let body: ByteBuffer
        let written: @Sendable () -> Void
        let completion: @Sendable (Result<GraphHTTP.Answer, any Error>) -> Void
    }

    /// The streams of one connection: writes each request's frames, collects each answer.
    final class StreamsHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTP2Frame
        typealias OutboundOut = HTTP2Frame

        private unowned let pool: SendConnections
        private var context: ChannelHandlerContext?
        /// Requests that came before the connection was ready.
        private var waiting: [Request] = []
        private var streams: [HTTP2StreamID: Stream] = [:]
        private var nextStreamID = HTTP2StreamID(1)
        private(set) var isDead = false
        private(set) var isDraining = false
        /// SETTINGS_MAX_CONCURRENT_STREAMS as the server said; RFC 9113 suggests at least 100.
        private(set) var maxStreams = 100
        private(set) var idleSince: NIODeadline?
        fileprivate var idleCheckPending = false
        private var isReady = false
        /// DATA bytes received and not yet given back to the server's connection window: without
        /// the multiplexer, WINDOW_UPDATE is ours to send.
        private var unacknowledged = 0

        init(pool: SendConnections) { self.pool = pool }

        var load: Int { streams.count + waiting.count }
        /// Open (or opening), not going away, and under the server's stream limit.
        var hasRoom: Bool { !isDead && !isDraining && load < maxStreams }

        struct Stream {
            let request: Request
            var status = 0
            var body = ByteBuffer()
            var timeout: Scheduled<Void>?
            var unacknowledged = 0
        }

        func enqueue(_ request: Request) {
            idleSince = nil
            guard isReady, let context else { return waiting.append(request) }
            start(request, context: context)
        }

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        /// HTTP/2 is in front and the server's first SETTINGS are read (so its stream limit is
        /// known before a stream is opened): the waiting requests go.
        private func ready() {
            isReady = true
            guard let context else { return }
            let queued = waiting
            waiting = []
            for request in queued { start(request, context: context) }
        }

        private func start(_ request: Request, context: ChannelHandlerContext) {
            // Stream ids are odd and rise; near the end of the space the connection drains and
            // new requests take a new one (some 10^9 requests: weeks at 300 a second).
            guard !isDraining, !isDead, Int(nextStreamID) < Int(Int32.max) - 2 else {
                isDraining = true
                return pool.send(request.prepared, body: request.body, written: request.written, completion: request.completion)
            }
            let id = nextStreamID
            nextStreamID = HTTP2StreamID(Int(id) + 2)
            var headers = request.prepared.headers
            headers.add(name: "content-length", value: String(request.body.readableBytes))
            let timeout = context.eventLoop.scheduleTask(in: pool.timeout) { [weak self] in
                guard let self, let context = self.context else { return }
                context.writeAndFlush(self.wrapOutboundOut(HTTP2Frame(streamID: id, payload: .rstStream(.cancel))), promise: nil)
                // A server that stopped answering may have gone without a word: new requests
                // take a new connection, this one ends with its last stream.
                self.isDraining = true
                self.finish(id, .failure(TimedOut()))
            }
            streams[id] = Stream(request: request, timeout: timeout)
            context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers)))), promise: nil)
            context.write(
                wrapOutboundOut(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(request.body), endStream: true)))),
                promise: nil)
            context.flush()
            request.written()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.payload {
            case .headers(let headers):
                if let status = headers.headers.first(name: ":status").flatMap({ Int($0) }), status >= 200 {
                    streams[frame.streamID]?.status = status
                }
                if headers.endStream { finish(frame.streamID, nil) }
            case .data(let data):
                acknowledge(data.data.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0), stream: frame.streamID, context: context)
                if case .byteBuffer(var part) = data.data, var stream = streams[frame.streamID] {
                    // A Graph answer is small: a body past the cap is cut (GraphHTTP.Collector's rule).
                    if stream.body.readableBytes + part.readableBytes <= GraphHTTP.maxAnswerBytes { stream.body.writeBuffer(&part) }
                    streams[frame.streamID] = stream
                }
                if data.endStream { finish(frame.streamID, nil) }
            case .rstStream(let code) where code == .refusedStream:
                finish(frame.streamID, .failure(NotProcessed(why: "the server refused the stream")))
            case .rstStream(let code):
                finish(frame.streamID, .failure(ConnectionEnded(why: "the server reset the stream (\(code))")))
            case .settings(.settings(let settings)):
                for setting in settings where setting.parameter == .maxConcurrentStreams {
                    maxStreams = max(1, min(setting.value, 1_000))
                }
                if !isReady { ready() }
            case .goAway(let last, let code, _):
                // Streams above `last` were never processed: they go again (on another
                // connection, through the limiter); the rest may still finish here.
                isDraining = true
                for id in streams.keys where id > last {
                    finish(id, .failure(NotProcessed(why: "the server is going away (\(code))")))
                }
                if streams.isEmpty { context.close(promise: nil) }
            default:
                break
            }
        }

        /// Gives received bytes back: to the connection's window once half of its 65,535 are used,
        /// and to a stream's while it is open (an answer is small; this keeps a long one going).
        private func acknowledge(_ bytes: Int, stream id: HTTP2StreamID, context: ChannelHandlerContext) {
            guard bytes > 0 else { return }
            var wrote = false
            unacknowledged += bytes
            if unacknowledged >= 32_768 {
                wrote = true
                context.write(
                    wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: unacknowledged))),
                    promise: nil)
                unacknowledged = 0
            }
            if var stream = streams[id] {
                stream.unacknowledged += bytes
                if stream.unacknowledged >= 32_768 {
                    wrote = true
                    context.write(
                        wrapOutboundOut(HTTP2Frame(streamID: id, payload: .windowUpdate(windowSizeIncrement: stream.unacknowledged))),
                        promise: nil)
                    stream.unacknowledged = 0
                }
                streams[id] = stream
            }
            if wrote { context.flush() }
        }

        private func finish(_ id: HTTP2StreamID, _ failure: Result<GraphHTTP.Answer, any Error>?) {
            guard let stream = streams.removeValue(forKey: id) else { return }
            stream.timeout?.cancel()
            stream.request.completion(failure ?? .success(GraphHTTP.Answer(status: stream.status, buffer: stream.body)))
            if streams.isEmpty, waiting.isEmpty {
                if isDraining {
                    context?.close(promise: nil)
                } else {
                    idleSince = pool.eventLoop.now
                    pool.idle(self)
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            fail(all: ConnectionEnded(why: "closed"))
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            fail(all: error)
            context.close(promise: nil)
        }

        /// Every stream and waiting request fails with `error`; the connection takes no more.
        func fail(all error: any Error) {
            isDead = true
            let ended = streams
            streams = [:]
            let queued = waiting
            waiting = []
            for stream in ended.values {
                stream.timeout?.cancel()
                stream.request.completion(.failure(error))
            }
            for request in queued { request.completion(.failure(error)) }
        }

        func close() {
            isDead = true
            context?.close(promise: nil)
        }
    }
}
