import Foundation

/// What happened to the messages of the batch in flight, beside the database
/// (`<db>-answers-<program>`): which claim it is, each message just before it goes to Facebook,
/// and each answer as it arrives. A run killed between its claim and the commit that records the
/// batch leaves this behind, and the next run records each claimed message as it really is:
/// - answered: as Facebook answered (sent with the message id, or failed with the reason);
/// - asked and never answered: unknown (it may or may not have gone), never resent;
/// - never asked: left to be sent, as if it had never been claimed.
///
/// Each line is one `write(2)` to an O_APPEND file, so after a SIGKILL the kernel has every line
/// written before it. Not after a power cut or an OS crash: the lines are not synced (that would
/// be one sync per message). So "never asked" is trusted only when the machine has not restarted
/// since the journal was written (the boot id in its first line matches); after a restart every
/// claimed message without an answer is unknown, as it was before this journal. A line cut short
/// by a kill is skipped. The journal is reset once its batch is committed, and removed when a run
/// finishes.
final class AnswerJournal: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var fd: Int32 = -1
    /// One encoder, used under the lock: two lines a message on a run's hot path.
    private let encoder = JSONEncoder()

    init(path: String) {
        self.path = path
    }

    deinit {
        if fd >= 0 { _ = Foundation.close(fd) }  // the file stays: a run that failed leaves it for the next
    }

    static func path(database: String, programID: Int64) -> String { "\(database)-answers-\(programID)" }

    /// The machine's boot: a power cut or an OS crash changes it.
    static var bootID: String? {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct Line: Codable, Equatable {
        /// The claim this journal is about (first line): node and enrolment id range, and the boot.
        var claim: Header?
        /// A message about to go (`ask`) or its answer (the rest).
        var ask: Bool?
        var e: Int64?
        var psid: String?
        var text: String?
        var mid: String?
        var code: Int?
        var sub: Int?
        var reason: String?
    }

    /// A claim as the journal's first line writes it, with the machine's boot.
    struct Header: Codable, Equatable {
        var node: Int64
        var after: Int64
        var through: Int64
        var boot: String?

        init(_ claim: Claim) {
            (node, after, through) = (claim.node, claim.after, claim.through)
            boot = AnswerJournal.bootID
        }

        func isOf(_ claim: Claim) -> Bool { node == claim.node && after == claim.after && through == claim.through }
    }

    /// Before the transaction that claims a batch commits: its header goes after what is there,
    /// so a kill before the commit still leaves the batch before intact, and a kill after it finds
    /// the new claim's header with nothing asked under it.
    func prepare(_ claim: Claim) {
        lock.lock()
        defer { lock.unlock() }
        append(Line(claim: Header(claim)))
    }

    /// After that commit: the journal starts over with only the new claim's header. Written to a
    /// new file and renamed over the old one, so a kill finds one or the other, never neither.
    func begin(_ claim: Claim) {
        lock.lock()
        defer { lock.unlock() }
        guard var data = try? encoder.encode(Line(claim: Header(claim))) else {
            return
        }
        data.append(0x0A)
        // A fresh file renamed into place; neither name is ever written through a link (#26).
        let fresh = path + ".new"
        unlink(fresh)
        guard let out = try? OutputFile.open(fresh, O_WRONLY | O_CREAT | O_EXCL) else { return }
        let wrote = data.withUnsafeBytes { Foundation.write(out, $0.baseAddress, $0.count) }
        _ = Foundation.close(out)
        guard wrote == data.count, rename(fresh, path) == 0 else { return }
        if fd >= 0 {
            _ = Foundation.close(fd)
            fd = -1
        }
        openIfNeeded()
    }

    func asking(_ message: OutgoingMessage) {
        lock.lock()
        defer { lock.unlock() }
        append(Line(ask: true, e: message.enrolmentID))
    }

    func answered(_ message: OutgoingMessage, _ result: SendResult) {
        var line = Line(e: message.enrolmentID, psid: message.recipientPSID, text: message.text)
        switch result {
        case .sent(let id): line.mid = id
        case .failed(let error):
            line.code = error.code
            line.sub = error.subcode
            line.reason = error.reason
        }
        lock.lock()
        defer { lock.unlock() }
        append(line)
    }

    /// Empties it: nothing is claimed and unrecorded.
    func reset() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 { _ = ftruncate(fd, 0) } else if FileManager.default.fileExists(atPath: path) { _ = truncate(path, 0) }
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 {
            _ = Foundation.close(fd)
            fd = -1
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    private func openIfNeeded() {
        if fd < 0 { fd = (try? OutputFile.open(path, O_WRONLY | O_APPEND | O_CREAT)) ?? -1 }
    }

    /// Under the lock. Without a journal (it can't be opened) a kill leaves its batch unknown.
    private func append(_ line: Line) {
        openIfNeeded()
        guard fd >= 0, var data = try? encoder.encode(line) else { return }
        data.append(0x0A)
        data.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    }

    /// What a dead run's journal says of one claim.
    struct ClaimLog {
        var answers: [Int64: Line] = [:]
        var asked = Set<Int64>()
        /// Whether the journal is whole for this claim: then a message it never saw asked was not.
        var knowsWhatWasAsked = false
    }

    /// The lines under the last header for this claim (up to the next header).
    static func read(_ path: String, claim wanted: Claim) -> ClaimLog {
        var recovery = ClaimLog()
        guard let data = FileManager.default.contents(atPath: path) else { return recovery }
        let decoder = JSONDecoder()
        var inClaim = false
        for raw in data.split(separator: 0x0A) {
            guard let line = try? decoder.decode(Line.self, from: Data(raw)) else { continue }
            if let claim = line.claim {
                inClaim = claim.isOf(wanted)
                if inClaim {
                    recovery = ClaimLog()
                    recovery.knowsWhatWasAsked = claim.boot != nil && claim.boot == bootID
                }
                continue
            }
            guard inClaim, let e = line.e else { continue }
            if line.ask == true { recovery.asked.insert(e) } else { recovery.answers[e] = line }
        }
        return recovery
    }
}
