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

/// One run or retry of a program at a time, across processes and inside one.
///
/// Inside one process (the dashboard can start several) `hold` comes first: the lease tells
/// processes apart by pid, so it can't refuse a second run of this one. Then `take`, in the
/// caller's write transaction: a live owner elsewhere refuses; a dead one's run is closed.
enum Lease {
    /// Holds `id` as this process's one run or retry of its program, until `release`.
    static func hold(_ id: RunID, database: String) throws -> RunsInThisProcess.Hold {
        try RunsInThisProcess.shared.hold(id, database: database)
    }

    /// Takes the program's lease for `id` and returns the new `program_run` row and the claims
    /// dead runs left. A run takes those claims over (it recovers them: they are cleared here);
    /// a retry leaves them for the next run and closes only the dead rows without one.
    static func take(_ db: Database, programID: Int64, for id: RunID, at now: Int64) throws -> (runID: Int64, deadClaims: [Claim]) {
        var deadClaims: [Claim] = []
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, pid, claim_node_id, claim_after, claim_through, finished_at FROM program_run
                WHERE program_id = ? AND (finished_at IS NULL OR claim_node_id IS NOT NULL)
                """, arguments: [programID])
        for row in rows {
            let claim = (row["claim_node_id"] as Int64?).map { Claim(node: $0, after: row["claim_after"], through: row["claim_through"]) }
            // This process's own unfinished row is one that failed before it could close: the
            // hold (`RunsInThisProcess`) guarantees it isn't still going.
            if (row["finished_at"] as Int64?) == nil { try refuseIfRunningElsewhere(owner: row["pid"], id) }
            switch id.kind {
            case .run:
                if let claim { deadClaims.append(claim) }
                try db.execute(
                    sql: "UPDATE program_run SET finished_at = COALESCE(finished_at, ?), claim_node_id = NULL WHERE id = ?",
                    arguments: [now, row["id"]])
            case .retry:
                // A dead row with a claim stays for the next run to settle.
                if claim == nil { try db.execute(sql: "UPDATE program_run SET finished_at = ? WHERE id = ?", arguments: [now, row["id"]]) }
            }
        }
        try db.execute(
            sql: "INSERT INTO program_run (program_id, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?)",
            arguments: [programID, Int64(getpid()), now, now])
        return (db.lastInsertedRowID, deadClaims)
    }

    /// The run's claim from now (nil: none), committed before any message of it leaves, with the
    /// heartbeat.
    static func claim(_ db: Database, runID: Int64, _ claim: Claim?, at now: Int64) throws {
        try db.execute(
            sql: "UPDATE program_run SET heartbeat_at = ?, claim_node_id = ?, claim_after = ?, claim_through = ? WHERE id = ?",
            arguments: [now, claim?.node, claim?.after, claim?.through, runID])
    }

    /// The lease's row is alive: a run or retry notes it with each batch.
    static func beat(_ db: Database, runID: Int64, at now: Int64) throws {
        try db.execute(sql: "UPDATE program_run SET heartbeat_at = ? WHERE id = ?", arguments: [now, runID])
    }

    /// Gives the lease back. A claim it still holds (a run that ended in an error) stays.
    static func close(_ db: Database, runID: Int64, at now: Int64) throws {
        try db.execute(sql: "UPDATE program_run SET finished_at = ? WHERE id = ?", arguments: [now, runID])
    }

    /// A run or retry of the program owned by another live process refuses this one.
    static func refuseIfRunningElsewhere(owner: Int64, _ id: RunID) throws {
        if owner != Int64(getpid()), isAlive(pid: owner) {
            throw DomainError("program \(Display.quoted(id.program)) is already running in process \(owner)")
        }
    }

    static func isAlive(pid: Int64) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        return kill(pid_t(pid), 0) == 0 || errno == EPERM
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
