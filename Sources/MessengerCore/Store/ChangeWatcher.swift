import GRDB

/// Notices commits by any other connection or process. `PRAGMA data_version` changes when another
/// connection commits; GRDB's observation can't see other processes, so the dashboard polls this.
public final class ChangeWatcher: @unchecked Sendable {
    private let queue: DatabaseQueue
    private var lastVersion: Int?

    public init(database: AppDatabase) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(1)
        queue = try DatabaseQueue(path: database.path, configuration: config)
        lastVersion = try queue.read { try Int.fetchOne($0, sql: "PRAGMA data_version") }
    }

    /// True when something was committed since the last call.
    public func hasChanged() throws -> Bool {
        let version = try queue.read { try Int.fetchOne($0, sql: "PRAGMA data_version") }
        defer { lastVersion = version }
        return version != lastVersion
    }
}
