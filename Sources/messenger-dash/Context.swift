import ArgumentParser
import Foundation
import MessengerCore
import TerminalKit

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The database: a file (default: $XDG_DATA_HOME/messenger-dash/messenger.db) or a postgresql://user@host/db address; env MESSENGER_DASH_DB.",
            valueName: "PATH|URL"))
    var db: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Which Facebook to talk to: sandbox (the default) or graph (the real Graph API; see README). Overrides the config file and MESSENGER_DASH_FACEBOOK.",
            valueName: "MODE"))
    var facebook: String?
}

/// What a command needs, resolved once: settings (config file, then environment), the database
/// (flag, then MESSENGER_DASH_DB, then the default file) and the workspace over it.
struct Context {
    let settings: Settings
    /// The database as it may be shown: a file's path, or a PostgreSQL address (no password).
    let databasePath: String
    /// The PostgreSQL database, when the data is kept there (#30); nil for a SQLite file.
    let postgres: PostgresAddress?
    /// What this host keeps for the database is named after this: the file's path (beside it),
    /// or on PostgreSQL a name in this host's private state folder (`AppDatabase.sideFilesBase`).
    let sideFilesBase: String
    let environment: [String: String]

    init(_ options: GlobalOptions) throws {
        environment = ProcessInfo.processInfo.environment
        var settings = try Settings.load(configPath: Paths.configFile(environment), environment: environment)
        if let flag = options.facebook {
            settings.facebook = try Settings.mode(flag, source: "--facebook")
        }
        self.settings = settings
        var location: String
        if let flag = options.db, !flag.isEmpty {
            location = flag
        } else if let env = environment["MESSENGER_DASH_DB"], !env.isEmpty {
            location = env
        } else {
            location = Paths.defaultDatabase(environment)
            // The default folder is ours to make (private); an explicit path's folder is not.
            let folder = (location as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        // An address is checked here (one with a password in it is refused), so it never
        // becomes a file named "postgresql:".
        if PostgresAddress.names(location) {
            let address = try PostgresAddress(location)
            postgres = address
            location = address.description
            sideFilesBase = try AppDatabase.sideFilesBase(postgres: address)
        } else {
            postgres = nil
            sideFilesBase = location
        }
        databasePath = location
    }

    /// The clock: the system's, unless MESSENGER_DASH_NOW (ISO 8601) pins it for scripted tests.
    var clock: any Clock {
        get throws { try PinnedNow.clock(environment) }
    }

    func workspace(creating: Bool) throws -> Workspace { try workspaceOpener(creating: creating)() }

    /// Everything but the database checked and made now (the clock, the Graph settings, the
    /// app's secrets); the database opened when the closure is called, each time anew. `serve`
    /// on PostgreSQL calls it until the server is up.
    func workspaceOpener(creating: Bool) throws -> @Sendable () throws -> Workspace {
        let transport: any Transport
        let templates: any TemplateRegistry
        var subscriber: any PageSubscriber = SandboxPageSubscriber()
        var graph: GraphConfig?
        var app: AppCredentials?
        let clock = try self.clock
        let calendar = AccountCalendar(timeZone: settings.timeZone)
        switch settings.facebook {
        case .sandbox:
            transport = SandboxTransport(logPath: environment["MESSENGER_DASH_SANDBOX_LOG"], clock: clock, calendar: calendar)
            templates = SandboxTemplateRegistry()
        case .graph:
            // The secret files are read once: the app and the config's appsecret_proof share them.
            let credentials = try credentials()
            var config = try GraphConfig(baseURL: settings.graphBaseURL, version: settings.graphVersion, caFile: settings.graphCAFile)
            config.appSecret = credentials.appSecret
            // Every process sending for a page shares its limit: through files beside a SQLite
            // database (one host), or through PostgreSQL's table (every host that uses it).
            if let postgres {
                config.sharedRateDatabase = postgres
            } else {
                let folder = (databasePath as NSString).deletingLastPathComponent
                config.sharedRateFolder = folder.isEmpty ? "." : folder
            }
            graph = config
            app = credentials
            transport = GraphTransport(config: config)
            templates = GraphTemplateRegistry(config: config)
            subscriber = GraphPageSubscriber(config: config, appID: settings.appID)
        }
        let (appID, retentionDays) = (settings.appID, settings.retentionDays)
        return { [self, subscriber, graph, app] in
            Workspace(
                database: try openDatabase(creating: creating), clock: clock, calendar: calendar,
                appID: appID, transport: transport, subscriber: subscriber, templates: templates, graph: graph, app: app,
                retentionDays: retentionDays)
        }
    }

    /// The SQLite file (made when `creating`), or the PostgreSQL database (which must exist on
    /// its server: its schema is made or upgraded when missing).
    func openDatabase(creating: Bool) throws -> AppDatabase {
        if let postgres { return try AppDatabase(postgres: postgres) }
        return try AppDatabase(path: databasePath, mode: creating ? .createIfMissing : .mustExist) { [databasePath] in
            FileHandle.standardError.write(
                Data("Upgrading \(databasePath) for this version of messenger-dash (once; a big database can take a minute)…\n".utf8))
        }
    }

    /// The Graph API as the settings name it; with the app secret when one is set, so every call
    /// carries `appsecret_proof`.
    var graphConfig: GraphConfig {
        get throws {
            var config = try GraphConfig(baseURL: settings.graphBaseURL, version: settings.graphVersion, caFile: settings.graphCAFile)
            config.appSecret = try credentials().appSecret
            return config
        }
    }

    /// The Meta app: its id and the secrets its files hold (a command's flags win).
    func credentials(appSecretFile: String? = nil, clientTokenFile: String? = nil) throws -> AppCredentials {
        let app = try AppCredentials.load(settings: settings, appSecretFile: appSecretFile, clientTokenFile: clientTokenFile)
        warnIfShared(appSecretFile ?? settings.appSecretFile, clientTokenFile ?? settings.clientTokenFile)
        return app
    }
}

/// Warns, once a path, about secret files others can read (`chmod 600`, as ssh asks for keys).
func warnIfShared(_ paths: String?...) {
    for path in paths.compactMap({ $0 }) where SecretWarnings.first(path) {
        if let line = InputFile.sharedSecretWarning(path) { printError(line) }
    }
}

enum SecretWarnings {
    nonisolated(unsafe) private static var said: Set<String> = []
    private static let lock = NSLock()
    static func first(_ path: String) -> Bool { lock.withLock { said.insert(path).inserted } }
}

/// Reads a file named on the command line, refusing what can't be read with one line.
func readInputFile(_ path: String, limit: Int = 512 << 20) throws -> Data {
    try InputFile.read(path, limit: limit)
}

/// Asks "Delete WHAT? Type yes to confirm" on a terminal unless `yes`; off a terminal, refuses
/// with the flag to add. Either refusal is exit 1 with nothing deleted.
func confirmDeletion(of what: String, yes: Bool) throws {
    if yes { return }
    guard isatty(STDIN_FILENO) == 1 else { throw DomainError("deleting \(what) needs confirmation: add --yes") }
    say("Delete \(what)? Type yes to confirm: ", terminator: "")
    guard readLine()?.lowercased() == "yes" else { throw DomainError("cancelled; nothing deleted") }
}

/// Writes a line to standard error, sanitised: an error can quote Facebook's answer or a file.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((terminalSafe(text) + "\n").utf8))
}

/// Prints a line (or lines) for a person on standard output. Everything the command line prints
/// passes here or through `TextTable`, so nothing from outside (Graph answers, files, webhook
/// payloads, names) can carry a control character or an escape sequence to the terminal (R14).
func say(_ text: String = "", terminator: String = "\n") {
    Swift.print(terminalSafe(text), terminator: terminator)
}

/// Each line sanitised; the line breaks themselves are ours.
func terminalSafe(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { Sanitizer.clean(String($0)) }.joined(separator: "\n")
}

/// JSON output: stable snake_case keys, sorted, readable.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(Data(JSONSafety.escaped(String(decoding: data, as: UTF8.self)).utf8))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}
