import Foundation

/// The Messenger webhook events the product ingests, parsed from the bodies Facebook POSTs:
/// `{"object":"page","entry":[{"id":PAGE_ID,"time":MS,"messaging":[EVENT...]}]}`.
public enum WebhookEvent: Equatable, Sendable {
    /// `messaging_optins`: `optin.ref` names the contact (its email), the sender is its PSID.
    case optin(pageID: String, psid: String, ref: String, timestamp: Int64)
    /// `message_deliveries`: messages to this PSID sent at or before the watermark were delivered.
    case delivery(pageID: String, psid: String, mids: [String], watermark: Int64, timestamp: Int64)
    /// `message_reads`: messages to this PSID sent at or before the watermark were read.
    case read(pageID: String, psid: String, watermark: Int64, timestamp: Int64)
    /// `message_template_status_update` (an entry's `changes`): Meta reviewed a utility template.
    /// `time` is the entry's time; `event` is Graph's status word (APPROVED, REJECTED, …).
    case templateStatus(pageID: String, templateID: String?, name: String, language: String?, event: String, reason: String?, time: Int64)

    public var pageID: String {
        switch self {
        case .optin(let p, _, _, _), .delivery(let p, _, _, _, _), .read(let p, _, _, _), .templateStatus(let p, _, _, _, _, _, _): return p
        }
    }

    /// Deliveries and reads: what `ReceiptService` acts on.
    public var isReceipt: Bool {
        switch self {
        case .delivery, .read: return true
        case .optin, .templateStatus: return false
        }
    }
}

public enum WebhookPayload {
    /// The largest body accepted, as Facebook's own limit for a batch is far below it.
    public static let maxBodyBytes = 1 << 20

    /// Parses one POST body. Events of other kinds (messages, postbacks) are skipped; anything
    /// malformed throws with what is wrong.
    public static func parse(body: Data) throws -> [WebhookEvent] {
        guard body.count <= maxBodyBytes else {
            throw DomainError("body is \(body.count) bytes; the limit is \(maxBodyBytes)")
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: body, options: [])
        } catch {
            throw DomainError("not valid JSON")
        }
        guard let object = root as? [String: Any] else { throw DomainError("body is not a JSON object") }
        guard (object["object"] as? String) == "page" else { throw DomainError("\"object\" must be \"page\"") }
        guard let entries = object["entry"] as? [Any] else { throw DomainError("\"entry\" must be an array") }
        var events: [WebhookEvent] = []
        for case let entryAny in entries {
            guard let entry = entryAny as? [String: Any] else { throw DomainError("an entry is not an object") }
            let entryPage = try idString(entry["id"], "entry.id")
            if let changes = entry["changes"] {
                guard let changes = changes as? [Any] else { throw DomainError("entry \(entryPage): \"changes\" must be an array") }
                let time = (try? millis(entry["time"], "entry.time")) ?? 0
                events += try templateChanges(changes, page: entryPage, time: time)
            }
            if entry["messaging"] == nil, entry["changes"] != nil { continue }
            guard let messaging = entry["messaging"] as? [Any] else {
                throw DomainError("entry \(entryPage) has no \"messaging\" array")
            }
            for eventAny in messaging {
                guard let event = eventAny as? [String: Any] else { throw DomainError("a messaging event is not an object") }
                guard let sender = event["sender"] as? [String: Any] else { throw DomainError("event without \"sender\"") }
                guard let recipient = event["recipient"] as? [String: Any] else { throw DomainError("event without \"recipient\"") }
                let psid = try idString(sender["id"], "sender.id")
                let page = try idString(recipient["id"], "recipient.id")
                guard page == entryPage else {
                    throw DomainError("recipient.id \(page) is not the entry's page \(entryPage)")
                }
                let timestamp = try millis(event["timestamp"], "timestamp")
                if let optin = event["optin"] {
                    guard let optin = optin as? [String: Any], let ref = optin["ref"] as? String, !ref.isEmpty else {
                        throw DomainError("optin.ref must be a non-empty string")
                    }
                    events.append(.optin(pageID: page, psid: psid, ref: ref, timestamp: timestamp))
                } else if let delivery = event["delivery"] {
                    guard let delivery = delivery as? [String: Any] else { throw DomainError("delivery must be an object") }
                    let watermark = try millis(delivery["watermark"], "delivery.watermark")
                    var mids: [String] = []
                    if let list = delivery["mids"] {
                        guard let strings = list as? [String] else { throw DomainError("delivery.mids must be an array of strings") }
                        mids = strings
                    }
                    events.append(.delivery(pageID: page, psid: psid, mids: mids, watermark: watermark, timestamp: timestamp))
                } else if let read = event["read"] {
                    guard let read = read as? [String: Any] else { throw DomainError("read must be an object") }
                    let watermark = try millis(read["watermark"], "read.watermark")
                    events.append(.read(pageID: page, psid: psid, watermark: watermark, timestamp: timestamp))
                }
            }
        }
        return events
    }

    /// The `message_template_status_update` changes of an entry; other fields are not ours.
    private static func templateChanges(_ changes: [Any], page: String, time: Int64) throws -> [WebhookEvent] {
        var events: [WebhookEvent] = []
        for changeAny in changes {
            guard let change = changeAny as? [String: Any] else { throw DomainError("a change is not an object") }
            guard (change["field"] as? String) == "message_template_status_update" else { continue }
            guard let value = change["value"] as? [String: Any] else { throw DomainError("message_template_status_update without a \"value\" object") }
            guard let event = value["event"] as? String, !event.isEmpty, event.count <= 40 else {
                throw DomainError("message_template_status_update: \"event\" must be a status word")
            }
            guard let name = value["message_template_name"] as? String, !name.isEmpty, name.count <= 512 else {
                throw DomainError("message_template_status_update: \"message_template_name\" must be a string")
            }
            let templateID = value["message_template_id"].flatMap { try? idString($0, "message_template_id") }
            let language = (value["message_template_language"] as? String).map { String($0.prefix(20)) }
            let reason = (value["reason"] as? String).map { String($0.prefix(200)) }
            events.append(.templateStatus(pageID: page, templateID: templateID, name: name, language: language,
                                          event: event, reason: reason, time: time))
        }
        return events
    }

    /// Parses a JSON-lines file of POST bodies; a malformed line refuses the whole file.
    /// Each event comes with the number of the line it was on, for later refusals.
    public static func parse(lines data: Data) throws -> [(line: Int, event: WebhookEvent)] {
        guard let text = String(data: data, encoding: .utf8) else { throw DomainError("file is not UTF-8 text") }
        var events: [(line: Int, event: WebhookEvent)] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            do {
                for event in try parse(body: Data(trimmed.utf8)) { events.append((number, event)) }
            } catch let error as DomainError {
                throw DomainError("line \(number): \(error.message)")
            }
        }
        return events
    }

    /// Facebook sends ids as strings; numbers are accepted when they are whole.
    private static func idString(_ value: Any?, _ name: String) throws -> String {
        if let s = value as? String, !s.isEmpty, s.count <= 64, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
            return s
        }
        if !isBool(value), let n = value as? NSNumber, n.doubleValue == n.doubleValue.rounded(), n.doubleValue >= 0, n.doubleValue < 1e18 {
            return String(n.int64Value)
        }
        throw DomainError("\(name) must be an id string")
    }

    private static func millis(_ value: Any?, _ name: String) throws -> Int64 {
        if !isBool(value), let n = value as? NSNumber, n.doubleValue >= 0, n.doubleValue < 1e15 {
            return n.int64Value
        }
        throw DomainError("\(name) must be a number of milliseconds")
    }

    /// JSONSerialization gives booleans as NSNumber too; `true` is no timestamp.
    private static func isBool(_ value: Any?) -> Bool {
        guard let n = value as? NSNumber else { return false }
        return String(cString: n.objCType) == "c" || type(of: value!) == Bool.self
    }
}
