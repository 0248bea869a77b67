import Foundation

/// `serve`'s one workspace, opened on first use and then shared by its threads (the ingester, the
/// scheduler, the sandbox's receipts, the metrics). A database that can't be opened yet (a
/// PostgreSQL server still down when the service starts) is tried again later: the webhook answers
/// from its spool meanwhile, which needs no database, and each thread waits for it.
public final class SharedWorkspace: @unchecked Sendable {
    private let open: @Sendable () throws -> Workspace
    private let lock = NSLock()
    private var opened: Workspace?

    public init(_ open: @escaping @Sendable () throws -> Workspace) {
        self.open = open
    }

    /// The workspace, opened now if no one has yet; throws what opening it threw. One opening at a
    /// time: a thread asking meanwhile waits for it (at most libpq's `connect_timeout`).
    public func get() throws -> Workspace {
        try lock.withLock {
            if let opened { return opened }
            let workspace = try open()
            opened = workspace
            return workspace
        }
    }

    /// The workspace if it is open, without trying.
    public var current: Workspace? { lock.withLock { opened } }

    /// Waits for the workspace, trying every `seconds`; says what it waits for once, and again
    /// when the reason changes; nil when `stop` is set first.
    public func wait(
        until stop: CancelFlag, every seconds: Double = 5, log: (String) -> Void = { _ in }
    ) -> Workspace? {
        var said: String?
        repeat {
            do {
                let workspace = try get()
                if said != nil { log("the database is open") }
                return workspace
            } catch {
                let text = Display.safe((error as? DomainError)?.message ?? "\(error)")
                if text != said { log("waiting for the database (\(text))") }
                said = text
            }
        } while stop.wait(seconds)
        return nil
    }
}
