import Foundation
import GRDB

/// What holds a program's one lease (#28): a run of it, or a retry of its warnings. The same type
/// keys the hold inside this process, the lease across processes (`program_run`), and the
/// dashboard's list of what is going. Two ids of one program conflict whatever their kind: a run
/// and a retry of one program never overlap.
public struct RunID: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case run, retry }
    public let kind: Kind
    /// The program as the person named it.
    public let program: String
    /// The program's name as it is unique: case-insensitively (R1), trimmed.
    public let programKey: String

    public init(_ kind: Kind, program: String) {
        self.kind = kind
        self.program = program
        self.programKey = ProfileName.key(program.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    public static func == (a: RunID, b: RunID) -> Bool { a.kind == b.kind && a.programKey == b.programKey }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(programKey)
    }

    /// Whether the two can't go at once: they are of one program.
    public func conflicts(with other: RunID) -> Bool { programKey == other.programKey }

    /// "Orders" for a run, "the retry of Orders" for a retry, as a sentence names it.
    public var description: String {
        kind == .run ? Display.quoted(program) : "the retry of \(Display.quoted(program))"
    }
}

/// A run's claim: the enrolments it has claimed for a node, `after` < id ≤ `through`, committed
/// before Facebook is asked; a dead run's claim is what recovery settles (with the journal).
struct Claim: Equatable, Sendable {
    var node: Int64
    var after: Int64
    var through: Int64
}

/// One run or retry of a program at a time, across processes and hosts, and inside one process.
///
/// Inside one process (the dashboard can start several) `hold` comes first: the lease tells
/// processes apart by pid, so it can't refuse a second run of this one. Then `take`, in the
/// caller's write transaction: a live owner elsewhere refuses; a dead one's run is closed.
///
/// Who is alive: a process on this host by its pid (it is alive while the pid is); a process on
/// another host (PostgreSQL, #30: hosts share the database) by its heartbeat, which it writes at
/// least every `LeaseHeartbeat.interval`: one not heard from for `expiry` is taken as dead. Its
/// heartbeat is on the database's clock, so the hosts' own clocks don't matter.
enum Lease {
    /// How long another host's run may go unheard before its lease can be taken: six heartbeats,
    /// so a slow transaction or two don't make a live run look dead.
    static let expiry: Int64 = 60_000

    /// This host's name, as the lease's rows and refusals name it.
    static let thisHost: String = {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return host.isEmpty ? "localhost" : String(host.prefix(200))
    }()

    /// Holds `id` as this process's one run or retry of its program, until `release`.
    static func hold(_ id: RunID, database: String) throws -> RunsInThisProcess.Hold {
        try RunsInThisProcess.shared.hold(id, database: database)
    }

    /// The lease's clock: the database's on PostgreSQL (one clock for every host), else `now`
    /// (a SQLite file has one host, whose clock it is; a pinned clock in tests).
    static func clock(_ db: any StoreConnection, now: Int64) throws -> Int64 {
        guard db.engine == .postgres else { return now }
        return try db.value(Int64.self, "SELECT CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS bigint)") ?? now
    }

    /// Takes the program's lease for `id` and returns the new `program_run` row and the claims
    /// dead runs left. A run takes those claims over (it recovers them: they are cleared here);
    /// a retry leaves them for the next run and closes only the dead rows without one.
    static func take(
        _ db: any StoreConnection, programID: Int64, for id: RunID, at now: Int64, host: String = thisHost
    ) throws -> (runID: Int64, deadClaims: [Claim]) {
        var deadClaims: [Claim] = []
        let clock = try Self.clock(db, now: now)
        let rows = try db.rows(
            """
            SELECT id, host, pid, heartbeat_at, claim_node_id, claim_after, claim_through, finished_at FROM program_run
            WHERE program_id = ? AND (finished_at IS NULL OR claim_node_id IS NOT NULL)
            """, [programID])
        for row in rows {
            let claim = (row["claim_node_id"] as Int64?).map { Claim(node: $0, after: row["claim_after"], through: row["claim_through"]) }
            // This process's own unfinished row is one that failed before it could close: the
            // hold (`RunsInThisProcess`) guarantees it isn't still going.
            if (row["finished_at"] as Int64?) == nil {
                try refuseIfRunningElsewhere(
                    owner: Owner(host: row["host"], pid: row["pid"], heartbeatAt: row["heartbeat_at"]), id, host: host, clock: clock)
            }
            switch id.kind {
            case .run:
                if let claim { deadClaims.append(claim) }
                try db.exec(
                    "UPDATE program_run SET finished_at = COALESCE(finished_at, ?), claim_node_id = NULL WHERE id = ?",
                    [now, row["id"] as Int64])
            case .retry:
                // A dead row with a claim stays for the next run to settle.
                if claim == nil { try db.exec("UPDATE program_run SET finished_at = ? WHERE id = ?", [now, row["id"] as Int64]) }
            }
        }
        let runID = try db.insert(
            "INSERT INTO program_run (program_id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)",
            [programID, host, Int64(getpid()), now, clock])
        return (runID, deadClaims)
    }

    /// The run's claim from now (nil: none), committed before any message of it leaves, with the
    /// heartbeat.
    static func claim(_ db: any StoreConnection, runID: Int64, _ claim: Claim?, at now: Int64) throws {
        try db.exec(
            "UPDATE program_run SET heartbeat_at = ?, claim_node_id = ?, claim_after = ?, claim_through = ? WHERE id = ?",
            [try Self.clock(db, now: now), claim?.node, claim?.after, claim?.through, runID])
    }

    /// The lease's row is alive: a run or retry notes it with each batch, and its
    /// `LeaseHeartbeat` between them.
    static func beat(_ db: any StoreConnection, runID: Int64, at now: Int64) throws {
        try db.exec("UPDATE program_run SET heartbeat_at = ? WHERE id = ? AND finished_at IS NULL", [try Self.clock(db, now: now), runID])
    }

    /// Gives the lease back. A claim it still holds (a run that ended in an error) stays.
    static func close(_ db: any StoreConnection, runID: Int64, at now: Int64) throws {
        try db.exec("UPDATE program_run SET finished_at = ? WHERE id = ?", [now, runID])
    }

    /// Who holds an unfinished `program_run` row. `host` is '' for a row from before hosts were
    /// written (SQLite v13): this host's, as a SQLite file has one.
    struct Owner {
        let host: String
        let pid: Int64
        let heartbeatAt: Int64
    }

    /// A run or retry of the program owned by another live process refuses this one.
    static func refuseIfRunningElsewhere(owner: Owner, _ id: RunID, host: String = thisHost, clock: Int64) throws {
        if owner.host.isEmpty || owner.host == host {
            if owner.pid != Int64(getpid()), isAlive(pid: owner.pid) {
                throw DomainError("program \(Display.quoted(id.program)) is already running in process \(owner.pid)")
            }
            return
        }
        let silent = clock - owner.heartbeatAt
        if silent < expiry {
            throw DomainError(
                "program \(Display.quoted(id.program)) is already running on host \(Display.quoted(Display.safe(owner.host))) (process \(owner.pid), heard from \(max(0, silent) / 1000) s ago); a run silent for \(expiry / 1000) s is taken as dead"
            )
        }
    }

    static func isAlive(pid: Int64) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        return kill(pid_t(pid), 0) == 0 || errno == EPERM
    }
}

/// Writes a lease's heartbeat every `interval` on its own thread, between the batches that write
/// it too: a batch that waits on Facebook (a slow answer, a rate limit's pause) must not make the
/// run look dead to another host (`Lease.expiry`). Started for a run or retry on PostgreSQL, where
/// other hosts read it; stopped (and waited for) when the run ends.
final class LeaseHeartbeat: @unchecked Sendable {
    static let interval: TimeInterval = 10

    private let database: AppDatabase
    private let runID: Int64
    private let clock: any Clock
    private let condition = NSCondition()
    private var stopped = false
    private var finished = false
    /// Beats written, and the last one's error (a beat that fails is tried again next time).
    private(set) var beats = 0
    private(set) var lastError: String?

    init(database: AppDatabase, runID: Int64, clock: any Clock, interval: TimeInterval = LeaseHeartbeat.interval) {
        self.database = database
        self.runID = runID
        self.clock = clock
        let thread = Thread { [self] in loop(interval) }
        thread.name = "lease-heartbeat"
        thread.start()
    }

    private func loop(_ interval: TimeInterval) {
        condition.lock()
        while !stopped {
            // Woken early by `stop`; otherwise each interval a beat, outside the lock.
            if condition.wait(until: Date().addingTimeInterval(interval)) || stopped { continue }
            condition.unlock()
            let failure: String?
            do {
                try database.transaction { db in try Lease.beat(db, runID: runID, at: clock.nowMillis()) }
                failure = nil
            } catch {
                failure = "\(error)"
            }
            condition.lock()
            if failure == nil { beats += 1 }
            lastError = failure
            condition.broadcast()
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `count` beats were written or `timeout` passed; whether they were.
    func waitForBeats(_ count: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while beats < count { if !condition.wait(until: deadline) { return beats >= count } }
        return true
    }

    /// Stops beating and returns once no beat is being written.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}

/// The programs this process is running or retrying, per database.
final class RunsInThisProcess: @unchecked Sendable {
    static let shared = RunsInThisProcess()
    private let lock = NSLock()
    private var running = Set<String>()

    /// Holds `id`'s program (see `Lease`): a second run or retry of it in this process refuses.
    func hold(_ id: RunID, database: String) throws -> Hold {
        let key = database + "\u{0}" + id.programKey
        lock.lock()
        defer { lock.unlock() }
        guard running.insert(key).inserted else { throw DomainError("program \(Display.quoted(id.program)) is already running") }
        return Hold(key: key, owner: self)
    }

    struct Hold {
        let key: String
        let owner: RunsInThisProcess
        func release() {
            owner.lock.lock()
            owner.running.remove(key)
            owner.lock.unlock()
        }
    }
}
