import FlyingFox
import Foundation
import MessengerCore
import Prometheus

/// `serve`'s Prometheus metrics (#25), in swift-prometheus's registry and text format, served at
/// `/metrics` on `--metrics-listen`: POSTs by status, events by kind, spool bytes, ingest lag,
/// the last event per page, scheduled runs by program and result.
public final class ServiceMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var posts: [Int: Counter] = [:]
    private var events: [String: (counter: Counter, seen: Int)] = [:]
    private var runs: [String: Counter] = [:]
    private var lastEvent: [String: Gauge] = [:]
    private let spoolBytes: Gauge
    private let lagSeconds: Gauge
    private let lagBytes: Gauge

    public init() {
        spoolBytes = registry.makeGauge(name: "messenger_dash_spool_bytes", help: "Bytes in the webhook spool's segments on disk.")
        lagSeconds = registry.makeGauge(
            name: "messenger_dash_ingest_lag_seconds", help: "How long ago the oldest spooled POST not yet applied was received.")
        lagBytes = registry.makeGauge(name: "messenger_dash_ingest_lag_bytes", help: "Spooled bytes not yet applied to the database.")
    }

    /// A webhook POST answered.
    public func answered(_ status: Int) {
        let counter = lock.withLock {
            if let c = posts[status] { return c }
            let c = registry.makeCounter(
                name: "messenger_dash_webhook_posts_total", labels: [("status", String(status))],
                help: "Webhook POSTs answered, by HTTP status.")
            posts[status] = c
            return c
        }
        counter.increment()
    }

    /// A scheduled run ended.
    public func ran(program: String, result: String) {
        let key = program + "\u{0}" + result
        let counter = lock.withLock {
            if let c = runs[key] { return c }
            let c = registry.makeCounter(
                name: "messenger_dash_scheduled_runs_total", labels: [("program", Display.safe(program, limit: 100)), ("result", result)],
                help: "Scheduled program runs, by program and result.")
            runs[key] = c
            return c
        }
        counter.increment()
    }

    /// The gauges and the events counters, read at scrape time from the ingester and the database.
    func refresh(ingester: WebhookIngester, spool: WebhookSpool, now: Int64, pageEvents: [(page: String, at: Int64)]) {
        spoolBytes.set(Double(spool.bytes))
        let lag = ingester.lag()
        lagBytes.set(Double(lag.bytes))
        lagSeconds.set(lag.oldestReceivedAt.map { Double(max(0, now - $0)) / 1000 } ?? 0)
        lock.withLock {
            for (kind, total) in ingester.totals.kinds {
                var entry =
                    events[kind]
                    ?? (
                        registry.makeCounter(
                            name: "messenger_dash_webhook_events_total", labels: [("kind", kind)], help: "Webhook events applied, by kind."),
                        0
                    )
                if total > entry.seen { entry.counter.increment(by: Int64(total - entry.seen)) }
                entry.seen = total
                events[kind] = entry
            }
            for (page, at) in pageEvents {
                let gauge =
                    lastEvent[page]
                    ?? registry.makeGauge(
                        name: "messenger_dash_page_last_event_timestamp_seconds", labels: [("page", Display.safe(page, limit: 40))],
                        help: "When a page last had a webhook event (Unix time).")
                lastEvent[page] = gauge
                gauge.set(Double(at) / 1000)
            }
        }
    }

    public func text() -> String { registry.emitToString() }

    /// Serves `/metrics` on `host:port` until cancelled (`ready` gets the bound port).
    public static func serve(
        _ metrics: ServiceMetrics, host: String, port: UInt16, refresh: @escaping @Sendable () -> Void,
        log: @escaping @Sendable (String) -> Void, ready: @escaping @Sendable (UInt16) -> Void
    ) async throws {
        let server = GuardedHTTPServer(log: log) { request in
            guard request.path == "/metrics", request.method == .GET else {
                return HTTPResponse(statusCode: .notFound, headers: [.contentType: "text/plain"], body: Data("not found\n".utf8))
            }
            refresh()
            return HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(metrics.text().utf8))
        }
        try await server.run(host: host, port: port, ready: ready)
    }
}
