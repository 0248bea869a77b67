import ArgumentParser
import Foundation
import MessengerCore
import WebhookServer

struct ContactsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts", abstract: "Contacts and their data fields.",
        subcommands: [Import.self, Fields.self, Suppressed.self, Lift.self])

    /// #26: the account's data fields, and a way to remove one a file made by mistake.
    struct Fields: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Data fields: list them, delete one no message uses.", subcommands: [List.self, Delete.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List data fields with their default, how many contacts have a value, and what uses them.")
            @OptionGroup var global: GlobalOptions
            @Flag(help: "Print JSON.") var json = false

            func run() throws {
                let uses = try Context(global).workspace(creating: false).contacts.fieldUses()
                if json { return try printJSON(uses.map(DataFieldJSON.init)) }
                if uses.isEmpty { return say("No data fields yet: a CSV import's header makes them.") }
                var table = TextTable("NAME", "KIND", "DEFAULT", "CONTACTS", "USED BY")
                for u in uses {
                    let usedBy = u.profile.map { "profile \(Display.quoted($0))" } ?? u.programs.map(Display.quoted).joined(separator: ", ")
                    table.add(u.field.name, u.field.isOptIn ? "opt-in" : "text", u.field.defaultValue, "\(u.contacts)", usedBy)
                }
                say(table.render())
                let text = uses.filter { !$0.field.isOptIn }.count
                say("\(text) of at most \(ContactService.maxFields) text fields.")
            }
        }

        struct Delete: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a text data field and every contact's value of it; refused while a program's message uses it.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The field's name.") var name: String
            @Flag(help: "Don't ask; delete.") var yes = false

            func run() throws {
                let contacts = try Context(global).workspace(creating: false).contacts
                guard let use = try contacts.fieldUse(named: name) else { throw DomainError("no data field named \(Display.quoted(name))") }
                // The refusals come before the question: nobody is asked to confirm what can't be done.
                if use.profile == nil && use.programs.isEmpty {
                    let what = "data field \(use.field.name) and its value for \(use.contacts) contact\(use.contacts == 1 ? "" : "s")"
                    try confirmDeletion(of: what, yes: yes)
                }
                let values = try contacts.deleteField(use.field.name)
                say("Deleted data field \(use.field.name) and \(values) value\(values == 1 ? "" : "s").")
            }
        }
    }

    /// R15: who is suppressed for which page, since when, and why.
    struct Suppressed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List contacts suppressed for a page (551, 200/1545041): runs skip them without asking Facebook.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this contact.") var email: String?
        @Option(help: ArgumentHelp("Only this page.", valueName: "PAGE-ID")) var page: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            let list = try workspace.suppressions.list(email: email, pageID: page)
            if json {
                return try printJSON(
                    list.map {
                        SuppressedJSON(
                            email: $0.email, page_id: $0.pageID, page: $0.pageName,
                            since: workspace.calendar.string(for: $0.since), code: $0.code)
                    })
            }
            if list.isEmpty { return say("No suppressed contacts.") }
            var table = TextTable("EMAIL", "PAGE", "SINCE", "CODE")
            for s in list { table.add(s.email, s.pageName, workspace.calendar.string(for: s.since), s.code) }
            say(table.render())
        }
    }

    struct Lift: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift a contact's suppression (for one page, or every page): the next run asks Facebook again.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The contact's email.") var email: String
        @Option(help: ArgumentHelp("Only this page.", valueName: "PAGE-ID")) var page: String?

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            let lifted = try workspace.suppressions.lift(email: email, pageID: page)
            say("Lifted \(lifted) suppression\(lifted == 1 ? "" : "s") of \(Display.quoted(email)): the next run asks Facebook again.")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import RFC 4180 CSV: a header with EMAIL and data field names; FBOPTIN_<CODE> columns set opt-ins.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The CSV file.") var file: String

        func run() throws {
            try InputFile.check(file)  // refused before the database is created or opened
            let workspace = try Context(global).workspace(creating: true)
            // On a terminal: rows, rows a second and the time left, from the bytes read so far.
            var progress: ((ImportProgress) -> Void)?
            if isatty(STDERR_FILENO) == 1 {
                let started = Date()
                progress = { p in
                    let seconds = max(0.001, Date().timeIntervalSince(started))
                    let left = p.bytes > 0 ? seconds * Double(p.totalBytes - p.bytes) / Double(p.bytes) : 0
                    FileHandle.standardError.write(
                        Data("\r\u{1B}[K\(p.rows) rows · \(Int(Double(p.rows) / seconds)) a second · \(Int(left.rounded())) s left".utf8))
                }
            }
            let r = try workspace.contacts.importCSV(file: file, progress: progress)
            if progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            var line =
                "Imported \(Display.count(r.created + r.updated, "contact")): \(r.created) new, \(r.updated) updated, \(Display.count(r.optInsSet, "opt-in value")) set."
            if !r.fieldsCreated.isEmpty { line += " New data fields: \(r.fieldsCreated.joined(separator: ", "))." }
            say(line)
        }
    }
}

struct OptinsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optins", abstract: "Opt-ins from messaging_optins webhook payloads.", subcommands: [Ingest.self])

    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest JSON lines, one webhook POST body a line; a malformed line refuses the file.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The JSON-lines file.") var file: String

        func run() throws {
            try InputFile.check(file)  // refused before the database is opened
            let r = try Context(global).workspace(creating: false).optIns.ingest(file: file)
            var line = "Opted in \(r.optedIn) contact\(r.optedIn == 1 ? "" : "s") (\(r.unchanged) already were)."
            if r.linked > 0 {
                line += " \(r.linked) checkbox opt-in\(r.linked == 1 ? "" : "s") now ha\(r.linked == 1 ? "s" : "ve") a PSID."
            }
            if let first = r.unknownContacts.first {
                line +=
                    " Skipped \(r.unknownContactCount) opt-in\(r.unknownContactCount == 1 ? "" : "s") for unknown contacts (first: \(Display.quoted(first)))."
            }
            if r.otherEvents > 0 { line += " Ignored \(r.otherEvents) event\(r.otherEvents == 1 ? "" : "s") that are not opt-ins." }
            say(line)
        }
    }
}

struct ReceiptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipts", abstract: "Delivery and read receipts from webhook payloads.", subcommands: [Ingest.self])

    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest message_deliveries / message_reads JSON lines; ingesting twice changes nothing.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The JSON-lines file.") var file: String

        func run() throws {
            try InputFile.check(file)  // refused before the database is opened
            let r = try Context(global).workspace(creating: false).receipts.ingest(file: file)
            var line = "Marked \(r.delivered) message\(r.delivered == 1 ? "" : "s") delivered and \(r.read) read."
            if r.otherEvents > 0 { line += " Ignored \(r.otherEvents) event\(r.otherEvents == 1 ? "" : "s") that are not receipts." }
            say(line)
        }
    }
}

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
    /// the receiver from starting.
    func service(_ context: Context, metrics: ServiceMetrics? = nil, log: @escaping @Sendable (String) -> Void = { printError($0) }) throws
        -> WebhookService
    {
        let (host, port) = try WebhookListener.address(listen)
        guard (1...1_000_000).contains(spoolMaxMb) else { throw DomainError("--spool-max-mb must be 1 to 1000000") }
        guard (1...86_400).contains(maxLag) else { throw DomainError("--max-lag must be 1 to 86400 seconds") }
        let verifyToken = try Self.secret(verifyTokenFile, "verify token")
        warnIfShared(verifyTokenFile, appSecretFile ?? context.settings.appSecretFile)
        let appSecret = try AppCredentials.load(settings: context.settings, appSecretFile: appSecretFile)
            .requireSecret(for: "the webhook (it checks the signature of every POST)")
        guard FileManager.default.fileExists(atPath: context.databasePath) else {
            throw DomainError("no database at \(context.databasePath): create one with `messenger-dash demo` or `pages import`")
        }
        var options = WebhookService.Options(
            host: host, port: port, verifyToken: verifyToken, appSecret: appSecret,
            spoolFolder: WebhookSpool.folder(forDatabase: context.databasePath))
        options.spoolMaxBytes = Int64(spoolMaxMb) << 20
        options.maxLagSeconds = Double(maxLag)
        let clock = try context.clock
        return try WebhookService(
            options: options, workspace: { try context.workspace(creating: false) }, now: { clock.nowMillis() }, metrics: metrics,
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

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Build a demo workspace (pages, 3 profiles, contacts, 3 programs, 7 days of runs and receipts).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "How many contacts.") var contacts = 2_000
    @Option(help: "The seed; the same seed gives the same database.") var seed: UInt64 = 1

    func validate() throws {
        guard (1...5_000_000).contains(contacts) else { throw ValidationError("--contacts must be 1 to 5000000") }
    }

    func run() throws {
        let context = try Context(global)
        let workspace = try context.workspace(creating: true)
        let verbose = isatty(STDERR_FILENO) == 1
        var progress: (@Sendable (String) -> Void)?
        if verbose { progress = { step in FileHandle.standardError.write(Data("\r\u{1B}[Kdemo: \(step)".utf8)) } }
        let summary = try Demo.build(
            database: workspace.database, calendar: workspace.calendar, appID: workspace.appID,
            now: workspace.clock.nowMillis(), options: DemoOptions(contacts: contacts, seed: seed), progress: progress)
        if verbose { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        say(
            "Demo ready in \(context.databasePath): \(summary.contacts) contacts, \(summary.sent) sent, \(summary.delivered) delivered, \(summary.warned) warnings over 7 days."
        )
        say("Main profile: \(Demo.mainProfile). Try: messenger-dash stats \"\(Demo.mainProfile)\"\(global.db.map { " --db \($0)" } ?? "")")
    }
}
