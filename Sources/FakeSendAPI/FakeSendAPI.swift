import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// A stand-in for graph.facebook.com's Send API, for the bench and the tests: it answers every
/// `POST /{version}/{page-id}/messages` after a set latency, over HTTPS with the certificate it is
/// given (HTTP/2 when the client offers it by ALPN, else HTTP/1.1) or over plain HTTP, and keeps
/// the moment each request arrived, per page, so a test can count them in any 1 s window as the
/// server saw them (Meta's limit is 300 a second, per page).
///
/// It is written on SwiftNIO so that it costs little beside the client it measures: ten pages at
/// 300 a second each on two cores.
public final class FakeSendAPI: @unchecked Sendable {
    public struct Options: Sendable {
        /// How long each answer waits, as Facebook's round trip would.
        public var latency: TimeAmount
        /// PEM files; nil for plain HTTP.
        public var certificateFile: String?
        public var keyFile: String?
        /// HTTP/2 streams a connection may carry at once (what the server announces).
        public var maxConcurrentStreams = 100
        public var threads = 1
        /// The protocols offered by ALPN: both by default; `["http/1.1"]` for a server without HTTP/2.
        public var protocols = ["h2", "http/1.1"]
        /// The answer to each message (default: a message id, as the Send API gives).
        public var respond: @Sendable (Request) -> Answer = FakeSendAPI.sent
        /// Closes a connection, unanswered, once it has carried this many requests.
        public var dropConnectionAfter: Int?
        /// HTTP/2: once a connection has taken this many streams, it sends GOAWAY naming the last
        /// of them as the last it processes; later streams on it are left unprocessed (neither
        /// kept nor answered), as a server going away leaves them.
        public var goAwayAfter: Int?
        /// HTTP/2: the server's first this many streams are reset with REFUSED_STREAM before any
        /// processing (not kept).
        public var refuseStreams = 0
        /// The port to bind on 127.0.0.1; 0 for a free one.
        public var port = 0

        public init(latency: TimeAmount, certificateFile: String? = nil, keyFile: String? = nil) {
            self.latency = latency
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    /// What the fake saw of one request.
    public struct Request: Sendable {
        public let method: String
        public let path: String
        /// The page the path names (`/v25.0/{page}/messages`), empty otherwise.
        public let page: String
        public let authorization: String?
        public let body: [UInt8]
        /// 2 for HTTP/2, 1 for HTTP/1.x.
        public let httpMajor: Int
        /// CLOCK_MONOTONIC, when its head arrived.
        public let arrived: UInt64
    }

    /// An answer: status and JSON body.
    public struct Answer: Sendable {
        public var status: Int
        public var body: String
        public init(status: Int, body: String) {
            self.status = status
            self.body = body
        }
    }

    public let port: Int
    /// Connections accepted so far.
    public var connections: Int { accepted.value }
    private let accepted: Counter
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let log: RequestLog

    /// Binds 127.0.0.1 on a free port and serves until `stop()`; every message is answered with
    /// a message id, as the Send API gives.
    public init(options: Options) throws {
        let log = RequestLog()
        let respond = options.respond
        let dropAfter = options.dropConnectionAfter
        let goAwayAfter = options.goAwayAfter
        let refusals = Counter()
        let refuseStreams = options.refuseStreams
        let accepted = Counter()
        self.accepted = accepted
        let tls: NIOSSLContext? = try options.certificateFile.map { certificateFile in
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: options.keyFile ?? certificateFile, format: .pem)))
            configuration.applicationProtocols = options.protocols
            return try NIOSSLContext(configuration: configuration)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
        let latency = options.latency
        let streams = options.maxConcurrentStreams
        @Sendable func http1(_ channel: any Channel) -> EventLoopFuture<Void> {
            channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                try channel.pipeline.syncOperations.addHandler(
                    RequestHandler(latency: latency, httpMajor: 1, log: log, respond: respond))
            }
        }
        @Sendable func h2(_ channel: any Channel) -> EventLoopFuture<Void> {
            // The streams of this connection count towards its drop and its GOAWAY.
            let drop = dropAfter.map { (Counter(), $0) }
            let goAway = goAwayAfter.map { (Counter(), $0) }
            let refuse = refuseStreams > 0 ? (refusals, refuseStreams) : nil
            return channel.configureHTTP2Pipeline(
                mode: .server,
                initialLocalSettings: [
                    HTTP2Setting(parameter: .maxConcurrentStreams, value: streams),
                    HTTP2Setting(parameter: .maxHeaderListSize, value: 16 * 1024),
                ]
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                    try stream.pipeline.syncOperations.addHandler(
                        RequestHandler(
                            latency: latency, httpMajor: 2, log: log, respond: respond, drop: drop, goAway: goAway, refuse: refuse))
                }
            }.map { _ in }
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                accepted.add()
                guard let tls else { return http1(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                }.flatMap {
                    channel.configureHTTP2SecureUpgrade(h2ChannelConfigurator: h2, http1ChannelConfigurator: http1)
                }
            }
        do {
            channel = try bootstrap.bind(host: "127.0.0.1", port: options.port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.log = log
        port = channel.localAddress?.port ?? 0
    }

    /// Closes the listener and every connection; waits for its threads to end.
    public func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// The Send API's answer to a message: its id.
    @Sendable public static func sent(_ request: Request) -> Answer {
        Answer(status: 200, body: #"{"recipient_id":"1","message_id":"m_fake"}"#)
    }

    /// Every request so far, in the order they arrived.
    public var requests: [Request] { log.all }

    /// Per page: how many came, the most in any 1 s window, and the rate between the first and the
    /// last (requests a second).
    public struct PageFigures: Sendable, Codable {
        public var count: Int
        public var mostInOneSecond: Int
        public var perSecond: Double
        public var http2: Int
    }

    public func figures() -> [String: PageFigures] { Self.figures(of: log.all) }

    public static func figures(of requests: [Request]) -> [String: PageFigures] {
        var byPage: [String: [Request]] = [:]
        for request in requests where !request.page.isEmpty { byPage[request.page, default: []].append(request) }
        return byPage.mapValues { list in
            let times = list.map(\.arrived).sorted()
            return PageFigures(
                count: times.count, mostInOneSecond: mostInAnyWindow(times, nanoseconds: 1_000_000_000),
                perSecond: times.count > 1 ? Double(times.count - 1) / (Double(times.last! - times.first!) / 1e9) : 0,
                http2: list.filter { $0.httpMajor == 2 }.count)
        }
    }

    /// The most times in any window of that length (sorted times, two indices).
    public static func mostInAnyWindow(_ sorted: [UInt64], nanoseconds: UInt64) -> Int {
        var most = 0
        var first = 0
        for last in sorted.indices {
            while sorted[last] - sorted[first] >= nanoseconds { first += 1 }
            most = max(most, last - first + 1)
        }
        return most
    }

    static func monotonic() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// When a client wrote each page's requests to its connections (CLOCK_MONOTONIC, as the fake's
/// arrivals), for a bench or a test to set beside what the fake read.
public final class WriteLog: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [String: [UInt64]] = [:]

    public init() {}

    public func add(_ page: String) {
        let now = FakeSendAPI.monotonic()
        lock.lock()
        times[page, default: []].append(now)
        lock.unlock()
    }

    /// The most of `page` (of any page, when nil) written in any 1 s.
    public func mostInOneSecond(_ page: String? = nil) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let pages = page.map { [times[$0] ?? []] } ?? Array(times.values)
        return pages.map { FakeSendAPI.mostInAnyWindow($0.sorted(), nanoseconds: 1_000_000_000) }.max() ?? 0
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    /// Adds one; the count after it.
    @discardableResult func add() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// The requests seen, shared by every connection's handlers.
final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [FakeSendAPI.Request] = []

    func append(_ request: FakeSendAPI.Request) {
        lock.lock()
        requests.append(request)
        lock.unlock()
    }

    var all: [FakeSendAPI.Request] {
        lock.lock()
        defer { lock.unlock() }
        return requests
    }
}

/// One connection's (HTTP/1.1) or one stream's (HTTP/2) requests: the head's moment is kept, the
/// body collected, and the answer written after the latency, on the channel's own event loop.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let latency: TimeAmount
    let httpMajor: Int
    let log: RequestLog
    let respond: @Sendable (FakeSendAPI.Request) -> FakeSendAPI.Answer
    /// The connection's request count and the count at which it is closed unanswered.
    let drop: (Counter, Int)?
    /// The connection's stream count and the count at which it sends GOAWAY.
    let goAway: (Counter, Int)?
    /// The server's refused streams and how many it refuses.
    let refuse: (Counter, Int)?
    private var head: HTTPRequestHead?
    private var arrived: UInt64 = 0
    private var body: [UInt8] = []

    init(
        latency: TimeAmount, httpMajor: Int, log: RequestLog, respond: @escaping @Sendable (FakeSendAPI.Request) -> FakeSendAPI.Answer,
        drop: (Counter, Int)? = nil, goAway: (Counter, Int)? = nil, refuse: (Counter, Int)? = nil
    ) {
        self.drop = drop
        self.goAway = goAway
        self.refuse = refuse
        self.latency = latency
        self.httpMajor = httpMajor
        self.log = log
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            arrived = FakeSendAPI.monotonic()
            body = []
        case .body(var buffer):
            if body.count < 1 << 20 { body += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        case .end:
            guard let head else { return }
            self.head = nil
            // What it saw, per page, for a bench that runs it in a child process.
            if head.uri == "/stats" {
                let figures = (try? JSONEncoder().encode(FakeSendAPI.figures(of: log.all))) ?? Data()
                return write(
                    context, FakeSendAPI.Answer(status: 200, body: String(decoding: figures, as: UTF8.self)), for: head, after: .zero)
            }
            if httpMajor == 2, let parent = context.channel.parent,
                let id = try? context.channel.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)
            {
                if let (refused, most) = refuse, refused.add() <= most {
                    return parent.writeAndFlush(HTTP2Frame(streamID: id, payload: .rstStream(.refusedStream)), promise: nil)
                }
                if let (count, limit) = goAway {
                    let seen = count.add()
                    // Past the GOAWAY's last stream: not processed, never answered.
                    if seen > limit { return }
                    if seen == limit {
                        parent.writeAndFlush(
                            HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: id, errorCode: .noError, opaqueData: nil)),
                            promise: nil)
                    }
                }
            }
            let parts = head.uri.split(separator: "?")[0].split(separator: "/")
            let page = parts.count == 3 && parts[2] == "messages" ? String(parts[1]) : ""
            let request = FakeSendAPI.Request(
                method: head.method.rawValue, path: head.uri, page: page, authorization: head.headers.first(name: "authorization"),
                body: body, httpMajor: httpMajor, arrived: arrived)
            log.append(request)
            if let (count, limit) = drop {
                count.add()
                if count.value >= limit {
                    (context.channel.parent ?? context.channel).close(promise: nil)
                    return
                }
            }
            write(context, respond(request), for: head, after: latency)
        }
    }

    private func write(_ context: ChannelHandlerContext, _ answer: FakeSendAPI.Answer, for head: HTTPRequestHead, after latency: TimeAmount)
    {
        let keepAlive = head.isKeepAlive
        let version = head.version
        let loop = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: latency) {
            let context = loop.value
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(answer.body.utf8.count))
            if version.major == 1 { headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close") }
            context.write(
                NIOAny(
                    HTTPServerResponsePart.head(
                        HTTPResponseHead(version: version, status: .init(statusCode: answer.status), headers: headers))),
                promise: nil)
            context.write(
                NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(string: answer.body)))), promise: nil)
            let written = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
            if !keepAlive && version.major == 1 { written.whenComplete { _ in loop.value.close(promise: nil) } }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A certificate for 127.0.0.1 and localhost, signed by itself, made by Debian's `openssl` (the
/// Makefile installs it): valid from now for two days, so nothing depends on the day it runs.
public enum SelfSignedCertificate {
    /// Writes `cert.pem` and `key.pem` into `folder`; returns their paths.
    public static func make(in folder: String) throws -> (certificate: String, key: String) {
        let certificate = folder + "/cert.pem"
        let key = folder + "/key.pem"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", certificate,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl req failed"])
        }
        return (certificate, key)
    }
}
