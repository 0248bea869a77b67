import ArgumentParser
import Foundation
import Logging
import MessengerCore
import WebhookServer

/// `messenger-dash serve` (#25): one always-on process for systemd: the webhook (spooled, ingested
/// behind), the scheduler (programs on their schedule), the upkeep (pending templates, the
/// doctor's checks, compaction), optional Prometheus metrics; in the sandbox it also plays
/// Facebook's receipts. SIGTERM stops it within 10 s: no new connections, the batch in hand
/// finished, a run stopped after its current batch.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the webhook, the scheduler and the upkeep in one process (for systemd).",
        discussion: """
            The webhook as `messenger-dash webhook` serves it (GET /healthz too), programs on their schedule (`programs
            schedule`), pending templates refreshed every 5 minutes, the doctor's checks daily and compaction nightly, into
            the log. In the sandbox, messages sent are delivered 3 s later and some read 30 s later, through the webhook's
            spool. --metrics-listen serves Prometheus metrics at /metrics. SIGTERM or Ctrl-C stops it cleanly.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var webhook: WebhookOptions
    @Option(help: "IPV4:PORT for Prometheus metrics at /metrics, such as 127.0.0.1:9464 (none by default).") var metricsListen: String?

    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "messenger-dash")
        let log: @Sendable (String) -> Void = { logger.info("\($0)") }
        let context = try Context(global)
        let metricsAddress = try metricsListen.map(WebhookListener.address)
        let metrics = metricsAddress == nil ? nil : ServiceMetrics()
        let (stop, signals) = StopSignals.install()
        defer { for source in signals { source.cancel() } }
        // One workspace for every thread. A file is opened now (a broken one stops serve in one
        // line); a PostgreSQL server may be down at the start, and then the webhook answers from
        // its spool while the rest waits for the server (R18).
        let workspace = SharedWorkspace(try context.workspaceOpener(creating: false))
        let service = try webhook.service(context, workspace: { try workspace.get() }, metrics: metrics, log: log)
        if context.postgres == nil {
            _ = try workspace.get()
        } else if (try? workspace.get()) == nil {
            log("serve: the database can't be opened yet; the webhook answers meanwhile and the scheduler waits for it")
        }
        let clock = try context.clock

        var tasks: [Thread] = []
        let done = DispatchGroup()
        func background(_ name: String, _ body: @escaping @Sendable () -> Void) {
            done.enter()
            let thread = Thread {
                body()
                done.leave()
            }
            thread.name = name
            tasks.append(thread)
            thread.start()
        }
        background("scheduler") {
            guard let workspace = workspace.wait(until: stop, log: { log("scheduler: \($0)") }) else { return }
            Upkeep(workspace: workspace, context: context, metrics: metrics, log: log).run(until: stop)
        }
        if context.settings.facebook == .sandbox {
            let since = clock.nowMillis() - 60_000
            let spool = service.spool
            background("sandbox receipts") {
                guard let workspace = workspace.wait(until: stop) else { return }
                let receipts = SandboxReceipts(workspace: workspace, since: since)
                while stop.wait(1) {
                    guard let bodies = try? receipts.due(now: clock.nowMillis()), !bodies.isEmpty else { continue }
                    let now = clock.nowMillis()
                    let appended = DispatchSemaphore(value: 0)
                    Task {
                        for body in bodies { try? await spool.append(body, receivedAt: now) }
                        appended.signal()
                    }
                    appended.wait()
                }
            }
        }
        if let metrics, let (host, port) = metricsAddress {
            let listening = Task.detached {
                do {
                    try await ServiceMetrics.serve(
                        metrics, host: host, port: port,
                        refresh: { service.refresh(metrics, pageEvents: (try? workspace.current?.pages.lastEvents()) ?? []) }, log: log
                    ) { bound in
                        FileHandle.standardOutput.write(Data("Metrics on http://\(host):\(bound)/metrics\n".utf8))
                    }
                } catch {
                    if !stop.isSet { log("metrics: \(error)") }
                }
            }
            defer { listening.cancel() }
            try serveWebhook(service, stop: stop)
        } else {
            try serveWebhook(service, stop: stop)
        }
        // The scheduler stops a run after its current batch; 10 s is systemd's default wait.
        if done.wait(timeout: .now() + 8) == .timedOut { log("stopping: a run is still finishing its batch") }
        log("stopped: the spool is synced; what it holds is applied on the next start")
    }

    private func serveWebhook(_ service: WebhookService, stop: CancelFlag) throws {
        try service.run(stop: stop) { bound in
            let line =
                "Listening on http://\(service.options.host):\(bound)\(WebhookReceiver.path) (plain HTTP: put it behind a TLS proxy)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}

/// The scheduler's thread: due programs every few seconds, pending templates every 5 minutes,
/// the doctor's checks once a day, compaction once a night (after 03:00 in the account's zone).
struct Upkeep: Sendable {
    let workspace: Workspace
    let context: Context
    let metrics: ServiceMetrics?
    let log: @Sendable (String) -> Void

    func run(until stop: CancelFlag) {
        let scheduler = ProgramScheduler(workspace: workspace)
        var templatesAt: Int64 = 0
        var doctorDay: DayNumber?
        var compactedDay: DayNumber?
        repeat {
            let now = workspace.clock.nowMillis()
            do {
                for outcome in try scheduler.runDue(shouldCancel: { stop.isSet }) {
                    log("scheduled run of \(Display.quoted(outcome.program)): \(outcome.line)")
                    metrics?.ran(program: outcome.program, result: outcome.result)
                }
            } catch {
                log("scheduler: \(Display.safe((error as? DomainError)?.message ?? "\(error)"))")
            }
            if now - templatesAt >= 300_000 {
                templatesAt = now
                if let refreshed = try? workspace.messageTemplates.refresh(), !refreshed.changes.isEmpty {
                    log(
                        "templates: "
                            + refreshed.changes.map { "\($0.template) \($0.from.rawValue) → \($0.to.rawValue)" }.joined(separator: "; "))
                }
            }
            let today = workspace.calendar.day(ofMillis: now)
            if doctorDay != today {
                doctorDay = today
                checkup()
            }
            let threeAM = workspace.calendar.millis(of: today, minuteOfDay: 180)
            if compactedDay != today, now >= threeAM {
                compactedDay = today
                if let result = try? workspace.compactor.compact(budget: 60), result.sends > 0 {
                    log("compaction: \(result.sends) send rows older than the retention folded into the daily figures")
                }
            }
        } while stop.wait(5)
    }

    /// The doctor's checks into the log: the problems, or that all is well.
    private func checkup() {
        let app: Result<AppCredentials, DomainError> = Result { try context.credentials() }.mapError {
            ($0 as? DomainError) ?? DomainError("\($0)")
        }
        guard let findings = try? workspace.doctor.run(settings: context.settings, app: app, inspector: nil) else { return }
        let problems = findings.filter { !$0.ok }
        if problems.isEmpty { return log("doctor: all is well") }
        for f in problems { log("doctor: ✗ \(f.subject) · \(f.check): \(f.text)" + (f.fix.map { " — fix: \($0)" } ?? "")) }
    }
}
