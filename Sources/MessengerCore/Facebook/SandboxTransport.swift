import Foundation

/// The embedded, deterministic stand-in for Messenger. Every answer is decided by the recipient's
/// PSID, so a run gives the same results every time:
///
/// - a PSID ending in `99551` gets 551 (person unavailable), `99278` gets 10/2018278 (outside the
///   window) for a tagged message and 10 (permission denied) for a utility template, which has no
///   window (#27: a template was answered a tag's error; Meta documents no template-specific code
///   for a person the page may not message), `99100` gets 100/2018001 (no matching user), `99613` gets 613 (rate limit: on a
///   message's first attempt only, as a rate limit passes; a retry goes through) and `99190` gets
///   190 (invalid token), `x1893063` (no numeric PSID ends so) gets 10/1893063 (the page restricted from sending); any other
///   PSID is accepted;
/// - an accepted message is delivered `1 + h % 600` seconds later unless `h % 100 >= 92`, and read
///   `h % 3600` seconds after delivery when `h % 100 < 60`, where `h` is a hash of the PSID.
///
/// It follows Facebook as it is on the day of the send (by `clock`, in `calendar`): from
/// 2026-04-27 a message with one of the three retired tags gets 100/1893061, as Facebook answers.
public struct SandboxTransport: Transport {
    /// Each message the sandbox was asked to send is appended here (one JSON line), when set, so a
    /// test can prove nothing went out twice.
    public let logPath: String?
    public let clock: any Clock
    public let calendar: AccountCalendar

    public init(logPath: String? = nil, clock: any Clock = SystemClock(), calendar: AccountCalendar = AccountCalendar(timeZone: .gmt)) {
        self.logPath = logPath
        self.clock = clock
        self.calendar = calendar
    }

    /// Each rule's answer; `templateSubcode` is the subcode a utility template gets instead, where
    /// the tagged answer has no meaning for one (a template has no tag window).
    public static let errorSuffixes: [(suffix: String, code: Int, subcode: Int?, templateSubcode: Int??)] = [
        ("99551", 551, nil, nil), ("99278", 10, 2_018_278, .some(nil)), ("99100", 100, 2_018_001, nil), ("99613", 613, nil, nil),
        ("99190", 190, nil, nil), ("x1893063", 10, GraphError.pageRestrictedSubcode, nil),
    ]

    public func send(_ message: OutgoingMessage) -> SendResult {
        send(message, tagsRetired: calendar.day(ofMillis: clock.nowMillis()) >= TagRetirement.day)
    }

    /// A batch, with the day read once for all of it (#29: reading the clock and the calendar for
    /// each message was a fifth of a tag run's CPU).
    public func send(
        batch: [OutgoingMessage], asking: @escaping @Sendable (Range<Int>) -> Void,
        answered: @escaping @Sendable (Int, SendResult) -> Void
    ) -> [SendResult] {
        let retired = calendar.day(ofMillis: clock.nowMillis()) >= TagRetirement.day
        return oneAfterAnother(batch: batch, asking: asking, answered: answered) { send($0, tagsRetired: retired) }
    }

    /// One message's answer on a day when the retired tags are (or are not yet) refused.
    private func send(_ message: OutgoingMessage, tagsRetired: Bool) -> SendResult {
        if let logPath { Self.appendLog(message, to: logPath) }
        if let tag = message.tag, tagsRetired, TagRetirement.apiNames.contains(tag) {
            return .failed(
                GraphError(
                    code: 100, subcode: TagRetirement.subcode,
                    message: "(#100) Param tag \(tag) was retired on \(TagRetirement.date); use a utility message template"))
        }
        for rule in Self.errorSuffixes where message.recipientPSID.hasSuffix(rule.suffix) {
            if rule.code == 613 && message.attempt > 1 { break }
            let subcode = message.utility != nil ? (rule.templateSubcode ?? rule.subcode) : rule.subcode
            return .failed(GraphError(code: rule.code, subcode: subcode))
        }
        let attempt = message.attempt > 1 ? "/" + String(message.attempt) : ""
        let h = Self.hash(message.recipientPSID + "/" + String(message.enrolmentID) + "/" + String(message.nodeID) + attempt)
        return .sent(messageID: "m_" + String(h, radix: 16))
    }

    /// The receipts Messenger would post later for a message accepted at `sentAt`.
    public static func receipts(pageID: String, psid: String, messageID: String, sentAt: Int64) -> [WebhookEvent] {
        let h = hash(psid)
        guard h % 100 < 92 else { return [] }
        let deliveredAt = sentAt + Int64(1 + h % 600) * 1000
        var events: [WebhookEvent] = [
            .delivery(pageID: pageID, psid: psid, mids: [messageID], watermark: deliveredAt, timestamp: deliveredAt)
        ]
        if h % 100 < 60 {
            let readAt = deliveredAt + Int64(h % 3600) * 1000
            events.append(.read(pageID: pageID, psid: psid, watermark: readAt, timestamp: readAt))
        }
        return events
    }

    /// FNV-1a: stable across runs and platforms, unlike Swift's seeded `Hasher`.
    public static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    private static func appendLog(_ message: OutgoingMessage, to path: String) {
        var record: [String: Any] = [
            "enrolment_id": message.enrolmentID, "node_id": message.nodeID, "page_id": message.pageID, "psid": message.recipientPSID,
        ]
        if message.attempt > 1 { record["attempt"] = message.attempt }
        if let template = message.utility { record["template"] = template.name }
        guard var data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(data)
            try? handle.close()
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        }
    }
}
