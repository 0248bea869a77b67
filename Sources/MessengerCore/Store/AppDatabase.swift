import Foundation
import GRDB

/// Owns the database, SQLite's file or PostgreSQL's (#30): opening, connection settings and
/// migrations, set in this one place.
public final class AppDatabase: Sendable {
    /// The engine and its connections. GRDB and libpq stay inside MessengerCore: the dashboard,
    /// the CLI and the bench reach the database only through the services and the methods below.
    enum Engine: Sendable {
        case sqlite(DatabasePool)
        case postgres(PostgresPool)
    }

    let engine: Engine
    /// Where the database is, as it may be shown: the file's path, or the PostgreSQL address
    /// (it holds no password).
    public let location: String
    /// What a run keeps on this host beside its database (its answer journals) is named after
    /// this: the SQLite file's path (the journal sits beside the file), or for PostgreSQL a name
    /// in this host's state folder (`PostgresStateFolder`): every host journals what it asked.
    let sideFilesBase: String

    var isPostgres: Bool {
        if case .postgres = engine { return true }
        return false
    }

    /// SQLite's pool, for the code not yet written for both engines (#30): on PostgreSQL it
    /// refuses in one line rather than doing a SQLite thing beside a PostgreSQL database.
    var writer: DatabasePool {
        get throws {
            guard case .sqlite(let pool) = engine else { throw Self.notOnPostgres }
            return pool
        }
    }

    /// The SQLite file (what sits beside it, a run's lease and journal, is named after it);
    /// refused on PostgreSQL as `writer` is.
    public var path: String {
        get throws {
            guard case .sqlite = engine else { throw Self.notOnPostgres }
            return location
        }
    }

    static let notOnPostgres = DomainError(
        "this part of messenger-dash does not run on PostgreSQL yet: use a SQLite database file for it", isStorageFailure: true)

    public enum OpenMode: Sendable {
        /// Create the file (not its folder) when missing.
        case createIfMissing
        /// Refuse a missing file: a reader has nothing to read.
        case mustExist
    }

    /// `upgrading` is called before migrations change a database an earlier version wrote: they
    /// can take a while on a big one (v5: about 20 s at a million contacts), so say so first.
    public init(path: String, mode: OpenMode, upgrading: () -> Void = {}) throws {
        location = path
        sideFilesBase = path
        let fm = FileManager.default
        let folder = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if !folder.isEmpty, !(fm.fileExists(atPath: folder, isDirectory: &isDir) && isDir.boolValue) {
            throw DomainError("no folder \(folder) for the database \(path)")
        }
        if !fm.fileExists(atPath: path) {
            if case .mustExist = mode {
                throw DomainError("no database at \(path): create one with `messenger-dash demo` or `pages import`")
            }
        } else if !fm.isReadableFile(atPath: path) || !fm.isWritableFile(atPath: path) {
            throw DomainError("database \(path) is not readable and writable by this user")
        }

        var config = Configuration()
        config.busyMode = .timeout(5)
        config.foreignKeysEnabled = true
        do {
            let writer = try DatabasePool(path: path, configuration: config)
            engine = .sqlite(writer)
            // FULL on the one writing connection: every commit syncs the WAL before it returns.
            // Under NORMAL a WAL commit is atomic but not durable: a power cut or an OS crash can
            // roll it back. A run's claim is committed before its messages go to Facebook, and
            // the webhook answers 200 only after it recorded the events; both promises need the
            // commit to survive a power cut (a claim that vanished would send its messages again).
            // Set here, not in `prepareDatabase`: GRDB sets NORMAL after that when it turns WAL on.
            // Proven under strace in Tests/e2e/durability.sh; its cost is in `make bench`.
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            // Opening reads: a database that is up to date needs no write lock, so every command
            // and the dashboard open while another process holds it (an import, a run).
            let (superseded, complete, started) = try writer.read { db in
                (
                    try Schema.migrator.hasBeenSuperseded(db), try Schema.migrator.hasCompletedMigrations(db),
                    try !Schema.migrator.completedMigrations(db).isEmpty
                )
            }
            if superseded {
                throw DomainError("database \(path) was written by a newer messenger-dash; upgrade to open it")
            }
            if !complete {
                if started { upgrading() }
                try Schema.migrator.migrate(writer)
            }
        } catch let error as DomainError {
            throw error
        } catch let error as DatabaseError {
            throw DomainError(Self.explain(error, path: path))
        }
    }

    /// Opens a PostgreSQL database, applying the migrations it lacks (two hosts that open it at
    /// once take turns: `PostgresSchema.migrate`).
    /// `stateFolder`: where this host keeps its side files (`sideFilesBase`); by default
    /// `$XDG_STATE_HOME/messenger-dash`, else `~/.local/state/messenger-dash`, made private.
    public init(postgres address: PostgresAddress, stateFolder: String? = nil) throws {
        location = address.description
        sideFilesBase = try Self.sideFilesBase(postgres: address, stateFolder: stateFolder)
        let connection = try PostgresConnection(address)
        do {
            try PostgresSchema.migrate(connection)
        } catch let error as PostgresError {
            throw DomainError(Self.explain(error, location: location), isStorageFailure: true)
        }
        engine = .postgres(PostgresPool(address: address, first: connection))
    }

    /// Where this host keeps what it writes for a PostgreSQL database (a run's answer journals,
    /// the webhook's spool): a name in the private state folder, one per server and database.
    /// Known without connecting, so the webhook's receiver can start while the server is down.
    public static func sideFilesBase(postgres address: PostgresAddress, stateFolder: String? = nil) throws -> String {
        let folder = try stateFolder ?? Self.defaultStateFolder()
        try Self.makePrivateFolder(folder)
        // The address's parts, each kept to safe characters; its options too (a search_path
        // makes another store in the same database, whose journals must not meet this one's).
        let options = URLComponents(string: address.uri)?.queryItems?.first { $0.name == "options" }?.value
        let parts =
            [address.host ?? "local", address.port.map(String.init) ?? "5432", address.database ?? address.user ?? "db"]
            + (options.map { [$0] } ?? [])
        let name = parts.map { String($0.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" }.prefix(64)) }
        return (folder as NSString).appendingPathComponent("pg-" + name.joined(separator: "-"))
    }

    /// Where the dashboard writes the exports a person asks for: beside the SQLite file (where
    /// they keep their data), or for PostgreSQL the folder the dashboard was started in.
    public var exportFolder: String {
        switch engine {
        case .sqlite:
            let folder = (location as NSString).deletingLastPathComponent
            return folder.isEmpty ? "." : folder
        case .postgres:
            return FileManager.default.currentDirectoryPath
        }
    }

    /// The engine and its version, as `doctor` names it: "SQLite 3.46.1", "PostgreSQL 15.14".
    public func engineDescription() throws -> String {
        try snapshot { db in
            switch db.engine {
            case .sqlite: return "SQLite " + (try db.value(String.self, "SELECT sqlite_version()") ?? "?")
            case .postgres: return "PostgreSQL " + (try db.value(String.self, "SHOW server_version") ?? "?")
            }
        }
    }

    static func defaultStateFolder() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return (state as NSString).appendingPathComponent("messenger-dash")
        }
        guard let home = environment["HOME"], home.hasPrefix("/") else {
            throw DomainError("no HOME for this host's state folder: set XDG_STATE_HOME")
        }
        return (home as NSString).appendingPathComponent(".local/state/messenger-dash")
    }

    /// Creates `folder` (and its parents) readable by this user only; an existing one is kept.
    static func makePrivateFolder(_ folder: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DomainError("\(folder) is not a folder: it can't hold this host's state") }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DomainError("can't create the state folder \(folder): \(error.localizedDescription)")
        }
    }

    /// One line for a PostgreSQL error: a held write lock reads as SQLite's busy database.
    static func explain(_ error: PostgresError, location: String) -> String {
        switch error.sqlState {
        case "55P03":  // lock_not_available: lock_timeout passed
            return "database \(location) is locked by another process; try again when it finishes"
        default:
            return "database \(location): \(error.message)"
        }
    }

    /// A one-line, actionable message for the SQLite errors a user can meet when opening.
    static func explain(_ error: DatabaseError, path: String) -> String {
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return "\(path) is not a messenger-dash database (it is corrupt or another kind of file)"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "database \(path) is locked by another process; try again when it finishes"
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
            return "can't open database \(path) for writing (\(error.message ?? "permission denied"))"
        default:
            return "database \(path): \(error.message ?? "\(error.resultCode)")"
        }
    }

    /// An in-memory-like private database in a temporary file, for tests and benchmarks.
    public static func temporary() throws -> AppDatabase {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("messenger-dash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try AppDatabase(path: dir.appendingPathComponent("test.db").path, mode: .createIfMissing)
    }
}

extension AppDatabase {
    /// How a commit reaches the disk. The tool always runs `.full` (a commit under NORMAL can roll
    /// back after a power cut); `.normal` exists for the benchmark's cost-of-durability figure.
    public enum Durability: Sendable {
        case full, normal
    }

    /// Holds the database's write lock while `body` runs, as another process's import does: the
    /// benchmark's and the tests' stand-in for one.
    public static func holdingWriteLock(path: String, _ body: () -> Void) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.inDatabase { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            body()
            try db.execute(sql: "ROLLBACK")
        }
    }

    public func setDurability(_ durability: Durability) throws {
        let sql = durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"
        try writer.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    /// The bytes the database's pages in use take (free pages left out), for the history figures.
    public func bytesInUse() throws -> Int {
        try read { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let size = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            return (pages - free) * size
        }
    }

    /// Runs a write transaction, turning SQLite's errors into one-line refusals marked as storage
    /// failures (a rule's refusal, a `DomainError` thrown inside, stays as it is).
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.write(body)
        } catch let error as DatabaseError {
            throw DomainError(Self.explain(error, path: location), isStorageFailure: true)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.read(body)
        } catch let error as DatabaseError {
            throw DomainError(Self.explain(error, path: location), isStorageFailure: true)
        }
    }

    /// A write transaction on either engine (#30): SQLite's one writer, or PostgreSQL's writers
    /// taking turns on one lock across hosts (`PostgresPool.write`). Errors as `write`'s.
    @discardableResult
    func transaction<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        switch engine {
        case .sqlite:
            return try write(body)
        case .postgres(let pool):
            return try explained { try pool.write(body) }
        }
    }

    /// A read on either engine: one snapshot for all of `body`'s statements.
    func snapshot<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        switch engine {
        case .sqlite:
            return try read(body)
        case .postgres(let pool):
            return try explained { try pool.read(body) }
        }
    }

    /// PostgreSQL's errors as the one storage line the CLI and the dashboard show.
    private func explained<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError {
            throw DomainError(Self.explain(error, location: location), isStorageFailure: true)
        }
    }
}
