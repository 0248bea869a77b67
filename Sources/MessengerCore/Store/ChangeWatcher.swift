import GRDB

/// Notices commits by any other connection, process or host, for the dashboard's refresh.
///
/// SQLite: `PRAGMA data_version` changes when another connection commits (GRDB's observation
/// can't see other processes), so the dashboard polls it. PostgreSQL: every change of the
/// store's tables notifies a channel at its commit (`PostgresSchema.changeNotices`); a
/// connection of the watcher's own listens, and a poll makes one round trip on it: the server
/// sends the notices of every commit that finished before the poll ahead of the poll's answer
/// (PostgreSQL processes pending notifies before ReadyForQuery), so a commit another terminal
/// saw finish is on the next refresh, not one or two later.
public final class ChangeWatcher: @unchecked Sendable {
    private enum Source {
        case sqlite(DatabaseQueue)
        case postgres(PostgresAddress, PostgresConnection?)
    }

    private var source: Source
    private var lastVersion: Int?

    public init(database: AppDatabase) throws {
        switch database.engine {
        case .sqlite:
            var config = Configuration()
            config.readonly = true
            config.busyMode = .timeout(1)
            let queue = try DatabaseQueue(path: database.location, configuration: config)
            lastVersion = try queue.read { try Int.fetchOne($0, sql: "PRAGMA data_version") }
            source = .sqlite(queue)
        case .postgres(let pool):
            source = .postgres(pool.address, try Self.listen(pool.address))
        }
    }

    static let applicationName = "messenger-dash change watcher"

    private static func listen(_ address: PostgresAddress) throws -> PostgresConnection {
        let connection = try PostgresConnection(address)
        // Named, so an operator's pg_stat_activity says whose connection idles there.
        try connection.execute("SET application_name TO '\(applicationName)'")
        try connection.execute("LISTEN \(PostgresSchema.changeChannel)")
        return connection
    }

    /// True when something was committed since the last call.
    public func hasChanged() throws -> Bool {
        switch source {
        case .sqlite(let queue):
            let version = try queue.read { try Int.fetchOne($0, sql: "PRAGMA data_version") }
            defer { lastVersion = version }
            return version != lastVersion
        case .postgres(let address, let connection):
            // A connection that went (a restart, a network cut) may have missed notifications:
            // listen again and say "changed", so the screen reads afresh.
            guard let connection, (try? connection.execute("SELECT 1")) != nil,
                let count = try? connection.takeNotifications()
            else {
                source = .postgres(address, try? Self.listen(address))
                return true
            }
            return count > 0
        }
    }
}
