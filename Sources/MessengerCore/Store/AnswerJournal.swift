import Foundation

/// What happened to the messages of the batch in flight, beside the database
/// (`<db>-answers-<program>`): which claim it is, the messages about to go to Facebook, and the
/// answers as they arrive. A run killed between its claim and the commit that records the batch
/// leaves this behind, and the next run records each claimed message as it really is:
/// - answered: as Facebook answered (sent with the message id, or failed with the reason);
/// - asked and never answered: unknown (it may or may not have gone), never resent;
/// - never asked: left to be sent, as if it had never been claimed.
///
/// Written a group at a time, in a compact binary form (#29: one JSON line per message asked and
/// one per answer, each a `write(2)`, were a third of a run's CPU):
/// - `asking` writes one record naming every message of a group *before* any of it goes (the
///   sandbox announces 64 at a time, Graph each request as it leaves): a kill can only make a
///   message that went look asked, never one asked look unasked, so nothing is sent twice;
/// - answers are kept in memory and written as one record when 64 have gathered, half a second
///   after the first of them, before the next group is announced, and when the batch's sending
///   ends (`flush`). A kill loses at most those: they become unknown, which is safe, and about
///   a second's worth at most.
///
/// Each record is one `write(2)` to an O_APPEND file, so after a SIGKILL the kernel has every
/// record written before it. Not after a power cut or an OS crash: the records are not synced. So
/// "never asked" is trusted only when the machine has not restarted since the journal was written
/// (the boot id in its header matches); after a restart every claimed message without an answer
/// is unknown. A record cut short (or torn) fails its length or checksum and ends the reading.
/// A journal of the JSON form an older version wrote reads as nothing known: every claimed
/// message without a row is then unknown, never resent. The journal is reset once its batch is
/// committed, and removed when a run finishes.
final class AnswerJournal: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var fd: Int32 = -1
    /// The boot the header records: the machine's (a test may name another).
    private let boot: String?
    /// Answers not written yet, encoded; how many, and since when.
    private var pending = [UInt8]()
    private var pendingCount = 0
    private var pendingSince: UInt64 = 0

    /// Answers kept in memory before they are written: at most this many, for at most this long.
    static let answersPerRecord = 64
    static let answersHeldNanoseconds: UInt64 = 500_000_000

    init(path: String, boot: String? = AnswerJournal.bootID) {
        self.path = path
        self.boot = boot
    }

    deinit {
        if fd >= 0 { _ = Foundation.close(fd) }  // the file stays: a run that failed leaves it for the next
    }

    static func path(database: String, programID: Int64) -> String { "\(database)-answers-\(programID)" }

    /// The machine's boot: a power cut or an OS crash changes it.
    static var bootID: String? {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A message's answer as the journal keeps it.
    struct Line: Equatable {
        var e: Int64
        var psid: String?
        var text: String?
        var mid: String?
        var code: Int?
        var sub: Int?
        var reason: String?
    }

    /// The record kinds.
    private enum Kind: UInt8 {
        case header = 0x48  // H: node, after, through, boot
        case asking = 0x41  // A: count, then that many enrolment ids
        case answers = 0x52  // R: count, then that many answers
    }

    // MARK: Writing

    /// Before the transaction that claims a batch commits: its header goes after what is there,
    /// so a kill before the commit still leaves the batch before intact, and a kill after it finds
    /// the new claim's header with nothing asked under it.
    func prepare(_ claim: Claim) {
        lock.lock()
        defer { lock.unlock() }
        flushPending()
        append(.header, header(claim))
    }

    /// After that commit: the journal starts over with only the new claim's header. Written to a
    /// new file and renamed over the old one, so a kill finds one or the other, never neither.
    func begin(_ claim: Claim) {
        lock.lock()
        defer { lock.unlock() }
        pending.removeAll(keepingCapacity: true)
        pendingCount = 0
        let record = Self.record(.header, header(claim))
        // A fresh file renamed into place; neither name is ever written through a link (#26).
        let fresh = path + ".new"
        unlink(fresh)
        guard let out = try? OutputFile.open(fresh, O_WRONLY | O_CREAT | O_EXCL) else { return }
        let wrote = record.withUnsafeBytes { Foundation.write(out, $0.baseAddress, $0.count) }
        _ = Foundation.close(out)
        guard wrote == record.count, rename(fresh, path) == 0 else { return }
        if fd >= 0 {
            _ = Foundation.close(fd)
            fd = -1
        }
        openIfNeeded()
    }

    /// Just before `messages` go to Facebook: one record naming them all. Answers held so far are
    /// written first.
    func asking<C: Collection>(_ messages: C) where C.Element == OutgoingMessage {
        var payload = [UInt8]()
        payload.reserveCapacity(4 + 8 * messages.count)
        Self.put(UInt32(messages.count), &payload)
        for message in messages { Self.put(UInt64(bitPattern: message.enrolmentID), &payload) }
        lock.lock()
        defer { lock.unlock() }
        flushPending()
        append(.asking, payload)
    }

    /// A message's answer: held, and written with others (see the type's comment).
    func answered(_ message: OutgoingMessage, _ result: SendResult) {
        lock.lock()
        defer { lock.unlock() }
        // The clock is read under the lock: answers come on several threads (SwiftNIO's event
        // loops), and a time read before it could be older than `pendingSince` set by another,
        // which overflowed the subtraction below and ended a 10-page run.
        let now = DispatchTime.now().uptimeNanoseconds
        if pendingCount == 0 { pendingSince = now }
        Self.put(UInt64(bitPattern: message.enrolmentID), &pending)
        Self.put(message.recipientPSID, &pending)
        Self.put(message.text, &pending)
        switch result {
        case .sent(let id):
            pending.append(0)
            Self.put(id, &pending)
        case .failed(let error):
            pending.append(1)
            Self.put(UInt64(bitPattern: Int64(error.code)), &pending)
            pending.append(error.subcode == nil ? 0 : 1)
            Self.put(UInt64(bitPattern: Int64(error.subcode ?? 0)), &pending)
            Self.put(error.reason, &pending)
        }
        pendingCount += 1
        if pendingCount >= Self.answersPerRecord || now &- pendingSince >= Self.answersHeldNanoseconds {
            flushPending()
        }
    }

    /// Writes the answers held: when the batch's sending ends, before its record is committed.
    func flush() {
        lock.lock()
        defer { lock.unlock() }
        flushPending()
    }

    /// Empties it: nothing is claimed and unrecorded.
    func reset() {
        lock.lock()
        defer { lock.unlock() }
        pending.removeAll(keepingCapacity: true)
        pendingCount = 0
        if fd >= 0 { _ = ftruncate(fd, 0) } else if FileManager.default.fileExists(atPath: path) { _ = truncate(path, 0) }
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        pending.removeAll()
        pendingCount = 0
        if fd >= 0 {
            _ = Foundation.close(fd)
            fd = -1
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    private func header(_ claim: Claim) -> [UInt8] {
        var payload = [UInt8]()
        Self.put(UInt64(bitPattern: claim.node), &payload)
        Self.put(UInt64(bitPattern: claim.after), &payload)
        Self.put(UInt64(bitPattern: claim.through), &payload)
        Self.put(boot ?? "", &payload)
        return payload
    }

    /// Under the lock.
    private func flushPending() {
        guard pendingCount > 0 else { return }
        var payload = [UInt8]()
        payload.reserveCapacity(4 + pending.count)
        Self.put(UInt32(pendingCount), &payload)
        payload += pending
        append(.answers, payload)
        pending.removeAll(keepingCapacity: true)
        pendingCount = 0
    }

    private func openIfNeeded() {
        if fd < 0 { fd = (try? OutputFile.open(path, O_WRONLY | O_APPEND | O_CREAT)) ?? -1 }
    }

    /// Under the lock. Without a journal (it can't be opened) a kill leaves its batch unknown.
    private func append(_ kind: Kind, _ payload: [UInt8]) {
        openIfNeeded()
        guard fd >= 0 else { return }
        let record = Self.record(kind, payload)
        record.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    }

    /// kind (1 byte), payload length (4), payload, FNV-1a of the payload (4).
    private static func record(_ kind: Kind, _ payload: [UInt8]) -> [UInt8] {
        var record = [UInt8]()
        record.reserveCapacity(payload.count + 9)
        record.append(kind.rawValue)
        put(UInt32(payload.count), &record)
        record += payload
        put(checksum(payload[...]), &record)
        return record
    }

    private static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var h: UInt32 = 0x811c_9dc5
        for byte in bytes {
            h ^= UInt32(byte)
            h = h &* 0x0100_0193
        }
        return h
    }

    private static func put(_ value: UInt32, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func put(_ value: UInt64, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func put(_ text: String, _ out: inout [UInt8]) {
        put(UInt32(text.utf8.count), &out)
        out.append(contentsOf: text.utf8)
    }

    // MARK: Reading

    /// What a dead run's journal says of one claim.
    struct ClaimLog {
        var answers: [Int64: Line] = [:]
        var asked = Set<Int64>()
        /// Whether the journal is whole for this claim: then a message it never saw asked was not.
        var knowsWhatWasAsked = false
    }

    /// The records under the last header for this claim (up to the next header).
    static func read(_ path: String, claim wanted: Claim) -> ClaimLog {
        var log = ClaimLog()
        guard let data = FileManager.default.contents(atPath: path) else { return log }
        let bytes = [UInt8](data)
        var at = 0
        var inClaim = false
        while at + 9 <= bytes.count, let kind = Kind(rawValue: bytes[at]) {
            let length = Int(Reader.uint32(bytes, at + 1))
            let end = at + 5 + length
            guard length >= 0, end + 4 <= bytes.count, checksum(bytes[(at + 5)..<end]) == Reader.uint32(bytes, end) else { break }
            var reader = Reader(bytes: bytes, at: at + 5, end: end)
            at = end + 4
            switch kind {
            case .header:
                guard let node = reader.int64(), let after = reader.int64(), let through = reader.int64(), let boot = reader.text()
                else { return log }
                inClaim = Claim(node: node, after: after, through: through) == wanted
                if inClaim {
                    log = ClaimLog()
                    log.knowsWhatWasAsked = !boot.isEmpty && boot == bootID
                }
            case .asking:
                guard inClaim, let count = reader.count() else { continue }
                for _ in 0..<count { if let e = reader.int64() { log.asked.insert(e) } }
            case .answers:
                guard inClaim, let count = reader.count() else { continue }
                for _ in 0..<count {
                    guard let line = reader.answer() else { break }
                    log.answers[line.e] = line
                }
            }
        }
        return log
    }

    /// Reads a record's payload; nil past its end (a record that doesn't hold what it says).
    private struct Reader {
        let bytes: [UInt8]
        var at: Int
        let end: Int

        static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
            bytes[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func count() -> Int? {
            guard at + 4 <= end else { return nil }
            defer { at += 4 }
            return Int(Self.uint32(bytes, at))
        }

        mutating func int64() -> Int64? {
            guard at + 8 <= end else { return nil }
            defer { at += 8 }
            return Int64(bitPattern: bytes[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) })
        }

        mutating func byte() -> UInt8? {
            guard at < end else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func text() -> String? {
            guard let length = count(), at + length <= end else { return nil }
            defer { at += length }
            return String(decoding: bytes[at..<(at + length)], as: UTF8.self)
        }

        mutating func answer() -> Line? {
            guard let e = int64(), let psid = text(), let message = text(), let kind = byte() else { return nil }
            var line = Line(e: e, psid: psid, text: message)
            if kind == 0 {
                guard let mid = text() else { return nil }
                line.mid = mid
            } else {
                guard let code = int64(), let hasSub = byte(), let sub = int64(), let reason = text() else { return nil }
                line.code = Int(code)
                line.sub = hasSub == 1 ? Int(sub) : nil
                line.reason = reason
            }
            return line
        }
    }
}
