import ArgumentParser
import Foundation
import MessengerCore
import WebhookServer

struct WebhookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Receive Messenger webhooks over plain HTTP: the GET subscription check, and signed POSTs of opt-ins and receipts.",
        discussion: """
            Each signed POST is spooled (synced to disk beside the database) and answered at once; the events are applied
            to the database behind it, so a locked database never makes Facebook wait. GET /healthz says whether that keeps
            up. It speaks plain HTTP: put it behind a TLS proxy (Facebook only calls https addresses). SIGTERM or Ctrl-C stops
            it cleanly. `serve` runs the same beside the scheduler.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var webhook: WebhookOptions

    func run() throws {
        let context = try Context(global)
        let (stop, signals) = StopSignals.install()
        defer { for source in signals { source.cancel() } }
        let service = try webhook.service(context)
        try service.run(stop: stop) { bound in
            let line =
                "Listening on http://\(service.options.host):\(bound)\(WebhookReceiver.path) (plain HTTP: put it behind a TLS proxy)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        printError("stopped: the spool is synced; what it holds is applied on the next start")
    }
}

/// The webhook's flags, shared by `webhook` and `serve`.
struct WebhookOptions: ParsableArguments {
    @Option(help: "IPV4:PORT to listen on, such as 127.0.0.1:8080 (port 0 picks a free one).") var listen: String
    @Option(help: "A file holding the verify token you gave Facebook.") var verifyTokenFile: String
    @Option(
        help: "A file holding the app secret (signs every POST); default: app_secret_file in config.toml, MESSENGER_DASH_APP_SECRET_FILE.")
    var appSecretFile: String?
    @Option(help: "The most the spool may hold before POSTs are answered 503, in MB.") var spoolMaxMb: Int = 1024
    @Option(help: "GET /healthz answers 503 when the oldest POST not applied yet is older than this, in seconds.") var maxLag: Int = 60

    /// The receiver, spool and ingester over the context's database. The database must exist (a
    /// typo'd path is refused here), but is opened by the ingester, so a locked one doesn't stop
    /// the receiver from starting. `workspace` opens it for the ingester: by default anew from the
    /// context; `serve` shares its own.
    func service(
        _ context: Context, workspace: (@Sendable () throws -> Workspace)? = nil, metrics: ServiceMetrics? = nil,
        log: @escaping @Sendable (String) -> Void = { printError($0) }
    ) throws -> WebhookService {
        let (host, port) = try WebhookListener.address(listen)
        guard (1...1_000_000).contains(spoolMaxMb) else { throw DomainError("--spool-max-mb must be 1 to 1000000") }
        guard (1...86_400).contains(maxLag) else { throw DomainError("--max-lag must be 1 to 86400 seconds") }
        let verifyToken = try Self.secret(verifyTokenFile, "verify token")
        warnIfShared(verifyTokenFile, appSecretFile ?? context.settings.appSecretFile)
        let appSecret = try AppCredentials.load(settings: context.settings, appSecretFile: appSecretFile)
            .requireSecret(for: "the webhook (it checks the signature of every POST)")
        // A file must exist (a typo'd path is refused here); a PostgreSQL server may be down
        // for a while: the receiver spools, and the ingester applies once it is back.
        guard context.postgres != nil || FileManager.default.fileExists(atPath: context.databasePath) else {
            throw DomainError("no database at \(context.databasePath): create one with `messenger-dash demo` or `pages import`")
        }
        var options = WebhookService.Options(
            host: host, port: port, verifyToken: verifyToken, appSecret: appSecret,
            spoolFolder: WebhookSpool.folder(forDatabase: context.sideFilesBase))
        options.spoolMaxBytes = Int64(spoolMaxMb) << 20
        options.maxLagSeconds = Double(maxLag)
        let clock = try context.clock
        return try WebhookService(
            options: options, workspace: workspace ?? { try context.workspace(creating: false) }, now: { clock.nowMillis() },
            metrics: metrics,
            log: log)
    }

    static func secret(_ path: String, _ what: String) throws -> String {
        let data = try readInputFile(path, limit: 4096)
        guard let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty,
            !text.contains(where: { $0.isNewline })
        else { throw DomainError("\(path): the \(what) must be one non-empty line of text") }
        return text
    }
}
