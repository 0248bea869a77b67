import FlyingFox
import Foundation
import MessengerCore

/// The webhook as a service (#25): the receiver answering from the spool, the ingester applying
/// it behind on its own thread, `/healthz`, and a clean stop. `messenger-dash webhook` runs this;
/// `messenger-dash serve` runs it beside the scheduler.
public final class WebhookService: @unchecked Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: UInt16
        public var verifyToken: String
        public var appSecret: String
        /// The spool's folder (beside the database) and its cap.
        public var spoolFolder: String
        public var spoolMaxBytes: Int64 = 1 << 30
        /// `/healthz` answers 503 when the oldest POST not yet applied was received longer ago.
        public var maxLagSeconds: Double = 60

        public init(host: String, port: UInt16, verifyToken: String, appSecret: String, spoolFolder: String) {
            self.host = host
            self.port = port
            self.verifyToken = verifyToken
            self.appSecret = appSecret
            self.spoolFolder = spoolFolder
        }
    }

    public let options: Options
    public let spool: WebhookSpool
    public let ingester: WebhookIngester
    let receiver: WebhookReceiver
    let now: @Sendable () -> Int64
    let log: @Sendable (String) -> Void

    public init(
        options: Options, workspace: @escaping @Sendable () throws -> Workspace, now: @escaping @Sendable () -> Int64,
        metrics: ServiceMetrics? = nil, log: @escaping @Sendable (String) -> Void
    ) throws {
        self.options = options
        self.now = now
        self.log = log
        spool = try WebhookSpool(folder: options.spoolFolder, maxBytes: options.spoolMaxBytes)
        ingester = WebhookIngester(spool: spool, workspace: workspace, log: log)
        var receiver = try WebhookReceiver(
            spool: spool, verifyToken: options.verifyToken, appSecret: options.appSecret, now: now, log: log)
        let ingester = self.ingester
        let maxLag = options.maxLagSeconds
        receiver.health = {
            let lag = ingester.lag()
            let behind = lag.oldestReceivedAt.map { Double(max(0, now() - $0)) / 1000 } ?? 0
            if behind > maxLag {
                return (false, "ingest lags \(Int(behind)) s (\(lag.bytes) bytes spooled): \(ingester.lastError ?? "catching up")")
            }
            return (true, "ok: ingest \(lag.bytes == 0 ? "caught up" : "\(lag.bytes) bytes behind, \(Int(behind)) s")")
        }
        if let metrics { receiver.answered = { metrics.answered($0) } }
        self.receiver = receiver
    }

    /// The metrics' gauges, read now.
    public func refresh(_ metrics: ServiceMetrics, pageEvents: [(page: String, at: Int64)]) {
        metrics.refresh(ingester: ingester, spool: spool, now: now(), pageEvents: pageEvents)
    }

    /// Serves until `stop` is set: listens (calls `ready` with the port), ingests behind. On stop
    /// it stops accepting, lets the ingester finish the batch in hand, syncs and closes the spool.
    public func run(stop: CancelFlag, ready: @escaping @Sendable (UInt16) -> Void) throws {
        let ingestDone = DispatchSemaphore(value: 0)
        let ingestThread = Thread { [ingester] in
            ingester.run(until: stop)
            ingestDone.signal()
        }
        ingestThread.name = "webhook ingester"
        ingestThread.start()
        let failure = Failure()
        let served = DispatchSemaphore(value: 0)
        let receiver = self.receiver
        let host = options.host
        let port = options.port
        let listening = Task.detached {
            do {
                try await WebhookListener.run(receiver, host: host, port: port, ready: ready)
            } catch {
                // Cancelled on stop, the listener ends however its socket does: not a failure.
                if !stop.isSet { failure.error = error }
                stop.set()
            }
            served.signal()
        }
        while stop.wait(3600) {}
        listening.cancel()
        _ = served.wait(timeout: .now() + 5)
        ingestDone.wait()
        spool.shutDown()
        if let error = failure.error { throw error }
    }

    private final class Failure: @unchecked Sendable {
        var error: (any Error)?
    }
}

/// SIGTERM (systemd's stop) and SIGINT (Ctrl-C) set a flag the service waits on.
public enum StopSignals {
    public static func install() -> (flag: CancelFlag, sources: [any DispatchSourceSignal]) {
        // A file-size limit (RLIMIT_FSIZE) makes a write fail with EFBIG, which the spool answers
        // 503; the signal that comes with it must not end the service.
        signal(SIGXFSZ, SIG_IGN)
        let flag = CancelFlag()
        let sources = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { flag.set() }
            source.resume()
            return source
        }
        return (flag, sources)
    }
}
