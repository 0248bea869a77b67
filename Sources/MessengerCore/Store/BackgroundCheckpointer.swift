import Foundation
import GRDB

/// Copies the WAL back into the database on its own connection and thread while a long write
/// (a program run) goes on, so the writer never stops to checkpoint.
///
/// SQLite lets a PASSIVE checkpoint run beside a writer: it copies the frames committed so far and
/// waits for no one. The writer keeps `wal_autocheckpoint` off meanwhile and calls `writerCommitted`
/// after each commit: that wakes the checkpointer (requests coalesce). When the checkpointer has
/// caught up by the time the writer begins its next transaction, SQLite starts the WAL over, so
/// the file stays small; if it still grows past `limitBytes` (the checkpointer is behind), the
/// writer checkpoints itself, RESTART, which waits for the copy and starts the WAL over.
final class BackgroundCheckpointer: @unchecked Sendable {
    private let queue: DatabaseQueue
    private let walPath: String
    private let limitBytes: Int
    private let worker = DispatchQueue(label: "messenger-dash.checkpoint")
    private let lock = NSLock()
    private var requested = false
    private var running = false
    private let idle = DispatchGroup()

    init(database: AppDatabase, limitBytes: Int = 128 << 20) throws {
        var config = Configuration()
        config.busyMode = .timeout(5)
        let path = try database.path
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch let error as DatabaseError {
            throw DomainError(AppDatabase.explain(error, path: path))
        }
        walPath = path + "-wal"
        self.limitBytes = limitBytes
    }

    /// Call after each commit of the long write. Returns true when the WAL has outgrown the
    /// limit: the caller should checkpoint on the writer (`PRAGMA wal_checkpoint(RESTART)`).
    func writerCommitted() -> Bool {
        lock.lock()
        requested = true
        let start = !running
        if start {
            running = true
            idle.enter()
        }
        lock.unlock()
        if start { worker.async { self.drain() } }
        let size = (try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int) ?? 0
        return size > limitBytes
    }

    /// Waits until no checkpoint is running or requested.
    func stop() {
        idle.wait()
    }

    private func drain() {
        while true {
            lock.lock()
            guard requested else {
                running = false
                lock.unlock()
                idle.leave()
                return
            }
            requested = false
            lock.unlock()
            // A failed checkpoint (busy, I/O) leaves the frames in the WAL: the writer's own
            // checkpoint at the end of the run, or the next one, copies them.
            _ = try? queue.writeWithoutTransaction { db in try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        }
    }
}
