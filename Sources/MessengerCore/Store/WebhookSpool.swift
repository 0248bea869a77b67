import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a record of the webhook spool starts or ends: a segment (its file) and a byte offset.
public struct SpoolPosition: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var segment: Int64
    public var offset: Int64

    public init(segment: Int64, offset: Int64) {
        self.segment = segment
        self.offset = offset
    }

    public static let start = SpoolPosition(segment: 0, offset: 0)
    public static func < (a: SpoolPosition, b: SpoolPosition) -> Bool { (a.segment, a.offset) < (b.segment, b.offset) }
    public var description: String { "\(segment):\(offset)" }
}

/// One verified webhook POST as the spool keeps it.
public struct SpoolRecord: Sendable {
    public var start: SpoolPosition
    /// Where the next record starts: what the ingester commits once this one is applied.
    public var next: SpoolPosition
    /// When the receiver took it, in milliseconds of the machine's clock.
    public var receivedAt: Int64
    public var body: Data
}

/// The webhook's spool (#25): every POST whose signature verifies is appended here and synced
/// before it is answered 200, so the answer never waits for the database (locked by an import,
/// migrating, or not open at all). `WebhookIngester` applies the records behind, in batches.
///
/// A folder beside the database (`messenger.db.spool/`) of segment files, `NUMBER.seg`, each at
/// most `segmentBytes`; numbers grow (the first one a process opens is at least the time in
/// microseconds, so a new folder never reuses a number an ingester has passed). Each process
/// appends to a segment of its own: one left by a crash may end in a torn record, which the
/// reader skips. A record: "MDS1", the body's length (UInt32), when it was received (Int64 ms),
/// the first 8 bytes of the SHA-256 of those 12 bytes and the body, then the body.
///
/// Durability is group commit: appends write into the file at once (page cache) and wait; one
/// thread `fdatasync`s whatever has been written so far and wakes every append that sync covered,
/// so 2,000 POSTs a second share a few hundred syncs. A spool over `maxBytes`, or a disk that
/// refuses the write (ENOSPC, EIO), refuses the append: the receiver answers 503 and Facebook
/// retries later. One process at a time spools into a folder (an exclusive lock on `lock`).
public final class WebhookSpool: @unchecked Sendable {
    public struct Full: Error, CustomStringConvertible {
        public let description: String
    }

    public let folder: String
    /// Which spool this is, kept in the folder's `id` file: the ingester's position in the
    /// database is this spool's (`webhook_spool.spool`), so two receivers on two hosts sharing a
    /// PostgreSQL database never take each other's place. A folder spooled into before spools had
    /// ids is "", as its one row was migrated (Schema v14).
    public let id: String
    public let maxBytes: Int64
    public let segmentBytes: Int64
    static let magic: [UInt8] = Array("MDS1".utf8)
    static let headerBytes = 24

    private let state = NSCondition()
    private var fd: Int32 = -1
    private var segment: Int64 = 0
    private var written: Int64 = 0
    private var synced: SpoolPosition
    /// The first segment this process wrote: the ones before it are complete (or torn) files.
    public let firstSegment: Int64
    private var total: Int64 = 0
    private var waiting: [(end: SpoolPosition, resume: CheckedContinuation<Void, any Error>)] = []
    private var syncing = false
    private var closed = false
    private let lockFD: Int32
    private var syncer: Thread?
    private let syncerDone = DispatchSemaphore(value: 0)
    /// Syncs so far, and appends they covered: the group commit's ratio, for the metrics.
    public private(set) var syncs = 0
    public private(set) var appends = 0

    /// The spool folder of a database: named after its side-files base (the SQLite file, or
    /// on PostgreSQL a name in this host's state folder: each host spools what it answered).
    public static func folder(forDatabase path: String) -> String { path + ".spool" }

    public init(folder: String, maxBytes: Int64 = 1 << 30, segmentBytes: Int64 = 64 << 20) throws {
        self.folder = folder
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw DomainError("can't make the webhook spool \(folder): \(String(cString: strerror(errno)))")
        }
        lockFD = open(folder + "/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lockFD >= 0 else { throw DomainError("can't open \(folder)/lock: \(String(cString: strerror(errno)))") }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            close(lockFD)
            throw DomainError("another messenger-dash is receiving webhooks into \(folder): stop it first (one receiver per database)")
        }
        let existing = Self.segments(in: folder)
        do {
            id = try Self.identity(folder, legacy: !existing.isEmpty)
        } catch {
            close(lockFD)
            throw error
        }
        total = existing.reduce(0) { $0 + Self.size(of: Self.path(folder, $1)) }
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        segment = max((existing.last ?? 0) + 1, now)
        firstSegment = segment
        synced = SpoolPosition(segment: segment, offset: 0)
        do {
            try openSegment()
        } catch {
            close(lockFD)
            throw error
        }
        // Unowned(unsafe): the thread must not keep the spool alive, and it never outlives it:
        // `shutDown` (also from deinit, while the memory is still there) waits for it to end.
        let done = syncerDone
        let thread = Thread { [unowned(unsafe) self] in
            self.syncLoop()
            done.signal()
        }
        thread.name = "webhook spool sync"
        syncer = thread
        thread.start()
    }

    deinit { shutDown() }

    /// The folder's id: read from `id`, else made (a new UUID; "" for a folder that already holds
    /// segments) and synced before any record is spooled under it.
    static func identity(_ folder: String, legacy: Bool) throws -> String {
        let path = folder + "/id"
        if let data = FileManager.default.contents(atPath: path) {
            guard let text = String(data: data, encoding: .utf8), text.count <= 64,
                text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
            else { throw DomainError("\(path) is not a spool id: move the spool folder aside, or remove that file") }
            return text
        }
        let id = legacy ? "" : UUID().uuidString.lowercased()
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw DomainError("can't create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(id.utf8)
        let wrote = bytes.isEmpty ? 0 : Glibc.write(fd, bytes, bytes.count)
        let synced = fsync(fd) == 0
        close(fd)
        guard wrote == bytes.count, synced, rename(temporary, path) == 0 else {
            throw DomainError("can't write \(path): \(String(cString: strerror(errno)))")
        }
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
        return id
    }

    static func path(_ folder: String, _ segment: Int64) -> String { folder + "/" + String(segment) + ".seg" }

    static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// The segments on disk, oldest first.
    static func segments(in folder: String) -> [Int64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { $0.hasSuffix(".seg") ? Int64($0.dropLast(4)) : nil }.sorted()
    }

    public func segments() -> [Int64] { Self.segments(in: folder) }

    private func openSegment() throws {
        let path = Self.path(folder, segment)
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw DomainError("can't create \(path): \(String(cString: strerror(errno)))") }
        written = 0
        // The new name must survive a power cut too, or the records in it would be lost with it.
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// Appends one verified body and returns once it is on disk; throws `Full` when the spool
    /// can't take it (over its cap, the disk full or failing), having written nothing of it.
    public func append(_ body: Data, receivedAt: Int64) async throws {
        let end = try write(body, receivedAt: receivedAt)
        try await withCheckedThrowingContinuation { (resume: CheckedContinuation<Void, any Error>) in
            state.lock()
            if synced >= end {
                state.unlock()
                resume.resume()
                return
            }
            waiting.append((end, resume))
            state.signal()
            state.unlock()
        }
    }

    /// The record into the current segment (a new one when it is full): the bytes are in the page
    /// cache when this returns, not yet on disk.
    private func write(_ body: Data, receivedAt: Int64) throws -> SpoolPosition {
        let record = Self.encode(body, receivedAt: receivedAt)
        state.lock()
        defer { state.unlock() }
        guard !closed else { throw Full(description: "the spool is closed") }
        guard total + Int64(record.count) <= maxBytes else {
            throw Full(description: "the webhook spool holds \(total) bytes, its cap is \(maxBytes): the ingester is behind")
        }
        if written > 0, written + Int64(record.count) > segmentBytes { try rotate() }
        let wrote = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(written)) }
        guard wrote == record.count else {
            let reason = wrote < 0 ? String(cString: strerror(errno)) : "short write"
            // Nothing half-written stays: the next record starts where this one would have.
            _ = ftruncate(fd, off_t(written))
            throw Full(description: "the webhook spool can't write (\(reason))")
        }
        written += Int64(record.count)
        total += Int64(record.count)
        appends += 1
        return SpoolPosition(segment: segment, offset: written)
    }

    /// Called with the lock held: the full segment is synced and closed, a new one opened.
    private func rotate() throws {
        while syncing { state.wait() }
        guard fdatasync(fd) == 0 else { throw Full(description: "the webhook spool can't sync (\(String(cString: strerror(errno))))") }
        synced = SpoolPosition(segment: segment, offset: written)
        resumeCovered()
        close(fd)
        segment += 1
        try openSegment()
        synced = SpoolPosition(segment: segment, offset: 0)
    }

    private func resumeCovered() {
        var still: [(end: SpoolPosition, resume: CheckedContinuation<Void, any Error>)] = []
        for waiter in waiting {
            if waiter.end <= synced { waiter.resume.resume() } else { still.append(waiter) }
        }
        waiting = still
    }

    /// The group commit: sync whatever was written, wake the appends it covered, again.
    private func syncLoop() {
        state.lock()
        while true {
            while !closed && (waiting.isEmpty || synced >= SpoolPosition(segment: segment, offset: written)) { state.wait() }
            if closed && waiting.isEmpty { break }
            let target = SpoolPosition(segment: segment, offset: written)
            let file = fd
            syncing = true
            state.unlock()
            let ok = fdatasync(file) == 0
            let reason = ok ? "" : String(cString: strerror(errno))
            state.lock()
            syncing = false
            syncs += 1
            if ok {
                if target > synced { synced = target }
                resumeCovered()
            } else {
                // After a failed fsync the kernel may have dropped the pages: nothing written so
                // far is trusted. Every waiter gets 503 (Facebook sends again).
                let failure = Full(description: "the webhook spool can't sync (\(reason))")
                for waiter in waiting { waiter.resume.resume(throwing: failure) }
                waiting = []
            }
            state.broadcast()
            if closed && waiting.isEmpty { break }
        }
        state.unlock()
    }

    /// Everything appended so far is on disk up to here.
    public var syncedEnd: SpoolPosition { state.withLock { synced } }

    /// Bytes in the segments on disk.
    public var bytes: Int64 { state.withLock { total } }

    /// Deletes the segments wholly before `position` (the ingester has applied them), never the
    /// one being written.
    public func removeSegments(before position: SpoolPosition) {
        let current = state.withLock { segment }
        for old in segments() where old < position.segment && old < current {
            let path = Self.path(folder, old)
            let size = Self.size(of: path)
            if unlink(path) == 0 { state.withLock { total -= size } }
        }
    }

    /// Stops the sync thread once every waiting append is answered; closes the files.
    public func shutDown() {
        state.lock()
        guard !closed else { return state.unlock() }
        closed = true
        state.broadcast()
        state.unlock()
        if syncer != nil { syncerDone.wait() }
        state.lock()
        if fd >= 0 {
            fdatasync(fd)
            close(fd)
            fd = -1
        }
        state.unlock()
        close(lockFD)
    }

    // MARK: The record format

    static func encode(_ body: Data, receivedAt: Int64) -> Data {
        var head = Data(magic)
        withUnsafeBytes(of: UInt32(body.count).littleEndian) { head.append(contentsOf: $0) }
        withUnsafeBytes(of: receivedAt.littleEndian) { head.append(contentsOf: $0) }
        head.append(checksum(head.suffix(12), body))
        return head + body
    }

    static func checksum(_ head: Data, _ body: Data) -> Data {
        var hash = SHA256()
        hash.update(data: head)
        hash.update(data: body)
        return Data(hash.finalize().prefix(8))
    }

    /// Reads records from `position` on, at most `maxRecords` of them and about `maxBytes`, never
    /// past `limit` in this process's own segments (what is written but not yet synced). A torn or
    /// corrupt record ends its segment when a later one exists (a crash left it); at the end of the
    /// newest segment it means "nothing more yet". Returns the records and where reading stopped.
    public func read(from position: SpoolPosition, maxRecords: Int = 500, maxBytes: Int = 4 << 20) -> (
        records: [SpoolRecord], next: SpoolPosition
    ) {
        let limit = syncedEnd
        var records: [SpoolRecord] = []
        var at = position
        var bytes = 0
        for segment in segments() where segment >= at.segment {
            if segment > at.segment { at = SpoolPosition(segment: segment, offset: 0) }
            let own = segment >= firstSegment
            let path = Self.path(folder, segment)
            let end = own && segment >= limit.segment ? limit.offset : Self.size(of: path)
            guard let file = FileHandle(forReadingAtPath: path) else { break }
            defer { try? file.close() }
            while records.count < maxRecords, bytes < maxBytes, at.offset < end,
                let record = Self.record(in: file, at: at, end: end)
            {
                records.append(record)
                bytes += record.body.count
                at = record.next
            }
            if records.count >= maxRecords || bytes >= maxBytes { break }
            // The segment being written may still grow; any other one is done with, whole or torn.
            if own && segment >= limit.segment { break }
        }
        return (records, at)
    }

    private static func record(in file: FileHandle, at position: SpoolPosition, end: Int64) -> SpoolRecord? {
        guard (try? file.seek(toOffset: UInt64(position.offset))) != nil,
            let head = try? file.read(upToCount: headerBytes), head.count == headerBytes,
            Array(head.prefix(4)) == magic
        else { return nil }
        let length = head.subdata(in: 4..<8).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        let receivedAt = head.subdata(in: 8..<16).withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
        let next = position.offset + Int64(headerBytes) + Int64(length)
        guard length <= 16 << 20, next <= end,
            let body = try? file.read(upToCount: Int(length)) ?? Data(), body.count == Int(length),
            checksum(head.subdata(in: 4..<16), body) == head.subdata(in: 16..<24)
        else { return nil }
        return SpoolRecord(
            start: position, next: SpoolPosition(segment: position.segment, offset: next), receivedAt: receivedAt, body: body)
    }
}
