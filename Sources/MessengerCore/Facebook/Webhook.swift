import Foundation

/// The Messenger webhook events the product ingests, parsed from the bodies Facebook POSTs:
/// `{"object":"page","entry":[{"id":PAGE_ID,"time":MS,"messaging":[EVENT...]}]}`.
public enum WebhookEvent: Equatable, Sendable {
    /// `messaging_optins`: `optin.ref` names the contact (its email), the sender is its PSID.
    /// From the checkbox plugin there is no sender: `psid` is then `OptInValue.userRef(…)`, the
    /// plugin's `optin.user_ref`, which the Send API takes until a PSID arrives.
    case optin(pageID: String, psid: String, ref: String, timestamp: Int64)
    /// A person who opted in through the checkbox plugin wrote to the page: the event's
    /// `prior_message` (source `checkbox_plugin`) names the `user_ref`, the sender is the PSID.
    case userRefLinked(pageID: String, psid: String, userRef: String, timestamp: Int64)
    /// `message_deliveries`: messages to this PSID sent at or before the watermark were delivered.
    case delivery(pageID: String, psid: String, mids: [String], watermark: Int64, timestamp: Int64)
    /// `message_reads`: messages to this PSID sent at or before the watermark were read.
    case read(pageID: String, psid: String, watermark: Int64, timestamp: Int64)
    /// `message_template_status_update` (an entry's `changes`): Meta reviewed a utility template.
    /// `time` is the entry's time; `event` is Graph's status word (APPROVED, REJECTED, …).
    case templateStatus(pageID: String, templateID: String?, name: String, language: String?, event: String, reason: String?, time: Int64)

    public var pageID: String {
        switch self {
        case .optin(let p, _, _, _), .delivery(let p, _, _, _, _), .read(let p, _, _, _), .templateStatus(let p, _, _, _, _, _, _),
            .userRefLinked(let p, _, _, _):
            return p
        }
    }

    /// Deliveries and reads: what `ReceiptService` acts on.
    public var isReceipt: Bool {
        switch self {
        case .delivery, .read: return true
        case .optin, .templateStatus, .userRefLinked: return false
        }
    }
}

/// What an opt-in field holds (R4): a PSID, or (checkbox plugin, no PSID yet) `user_ref:` and the
/// plugin's user_ref. Either way the contact is opted in; the Send API takes the user_ref as
/// `recipient.user_ref` until a PSID replaces it.
public enum OptInValue {
    public static let userRefPrefix = "user_ref:"

    public static func userRef(_ ref: String) -> String { userRefPrefix + ref }

    /// The user_ref of a stored value, nil for a PSID.
    public static func userRef(of value: String) -> String? {
        value.hasPrefix(userRefPrefix) ? String(value.dropFirst(userRefPrefix.count)) : nil
    }
}

public enum WebhookPayload {
    /// The largest body accepted, as Facebook's own limit for a batch is far below it.
    public static let maxBodyBytes = 1 << 20

    /// The events of a body the product acts on, and how many others it carried and skipped.
    public struct Parsed: Equatable, Sendable {
        public var events: [WebhookEvent] = []
        /// Events and changes of kinds the product doesn't act on: people's messages, echoes,
        /// postbacks, reactions, referrals, standby, other objects' and fields' changes…
        public var skipped = 0
    }

    /// The events of one POST body; see `parseCounted`.
    public static func parse(body: Data) throws -> [WebhookEvent] {
        try parseCounted(body: body).events
    }

    /// Parses one POST body. Every shape Meta documents for a page subscription is accepted: the
    /// events the product uses (opt-ins, deliveries, reads, template status updates) are read,
    /// strictly; the rest (messages, `message_echoes` whose sender is the page, postbacks,
    /// reactions, `standby`, other `changes`, other objects) are skipped and counted. A body that
    /// is not JSON, or not shaped as a webhook at all, throws with what is wrong. Facebook retries
    /// a refused POST and may turn a failing webhook off, so only a broken body is refused.
    public static func parseCounted(body: Data) throws -> Parsed {
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
        guard let kind = object["object"] as? String else { throw DomainError("\"object\" must be a string") }
        guard let entries = object["entry"] as? [Any] else { throw DomainError("\"entry\" must be an array") }
        var parsed = Parsed()
        guard kind == "page" else {
            // Another product's subscription (instagram, user, permissions) on the same app.
            parsed.skipped = entries.count
            return parsed
        }
        for entryAny in entries {
            guard let entry = entryAny as? [String: Any] else { throw DomainError("an entry is not an object") }
            let entryPage = try idString(entry["id"], "entry.id")
            if let changes = entry["changes"] {
                guard let changes = changes as? [Any] else { throw DomainError("entry \(entryPage): \"changes\" must be an array") }
                let time = (try? millis(entry["time"], "entry.time")) ?? 0
                let templates = try templateChanges(changes, page: entryPage, time: time)
                parsed.events += templates
                parsed.skipped += changes.count - templates.count
            }
            // Events for another app that has the thread (handover protocol): not ours to act on.
            if let standby = entry["standby"] as? [Any] { parsed.skipped += standby.count }
            guard let messagingAny = entry["messaging"] else { continue }
            guard let messaging = messagingAny as? [Any] else { throw DomainError("entry \(entryPage): \"messaging\" must be an array") }
            for eventAny in messaging {
                guard let event = eventAny as? [String: Any] else { throw DomainError("a messaging event is not an object") }
                if let used = try usedEvent(event, entryPage: entryPage) { parsed.events.append(used) } else { parsed.skipped += 1 }
            }
        }
        return parsed
    }

    /// The page an event is for (`recipient.id`): it must be the entry's.
    private static func page(of event: [String: Any], kind: String, entryPage: String) throws -> String {
        guard let recipient = event["recipient"] as? [String: Any] else { throw DomainError("\(kind) event without \"recipient\"") }
        let page = try idString(recipient["id"], "recipient.id")
        guard page == entryPage else { throw DomainError("\(kind) event: recipient.id \(page) is not the entry's page \(entryPage)") }
        return page
    }

    /// The checkbox plugin's opt-in: no sender; `optin.user_ref` stands for the person until a
    /// PSID arrives, and `optin.ref` (the plugin's `ref`) names the contact as for other opt-ins.
    private static func checkboxOptin(_ event: [String: Any], ref: Any?, userRef: Any, entryPage: String) throws -> WebhookEvent {
        let page = try self.page(of: event, kind: "optin", entryPage: entryPage)
        guard let ref = ref as? String, !ref.isEmpty else { throw DomainError("the opt-in's ref must be a non-empty string") }
        guard let userRef = userRef as? String, !userRef.isEmpty, userRef.count <= 250 else {
            throw DomainError("optin.user_ref must be a non-empty string of at most 250 characters")
        }
        return .optin(pageID: page, psid: OptInValue.userRef(userRef), ref: ref, timestamp: try millis(event["timestamp"], "timestamp"))
    }

    /// A message or postback from someone who opted in through the checkbox plugin: its
    /// `prior_message.identifier` is the user_ref, the sender its PSID.
    private static func userRefLinked(_ event: [String: Any], identifier: Any?, entryPage: String) throws -> WebhookEvent {
        guard let sender = event["sender"] as? [String: Any] else { throw DomainError("prior_message event without \"sender\"") }
        let page = try self.page(of: event, kind: "prior_message", entryPage: entryPage)
        guard let userRef = identifier as? String, !userRef.isEmpty else {
            throw DomainError("prior_message.identifier must be a non-empty string")
        }
        return .userRefLinked(
            pageID: page, psid: try idString(sender["id"], "sender.id"), userRef: userRef,
            timestamp: try millis(event["timestamp"], "timestamp"))
    }

    /// An opt-in, a delivery or a read, checked strictly; nil for every other kind of event.
    private static func usedEvent(_ event: [String: Any], entryPage: String) throws -> WebhookEvent? {
        // Opt-ins come three ways: the Send to Messenger plugin (`optin.ref`), an m.me link
        // (`referral.ref`), or an m.me link that starts a first conversation (`postback.referral.ref`).
        // Each names the contact by the ref and gives its PSID as the sender.
        var ref: Any?
        let kind: String
        if event["delivery"] != nil {
            kind = "delivery"
        } else if event["read"] != nil {
            kind = "read"
        } else if let optin = event["optin"] as? [String: Any], optin["ref"] != nil, event["sender"] == nil, let userRef = optin["user_ref"]
        {
            return try checkboxOptin(event, ref: optin["ref"], userRef: userRef, entryPage: entryPage)
        } else if let prior = event["prior_message"] as? [String: Any], prior["source"] as? String == "checkbox_plugin",
            event["sender"] != nil
        {
            return try userRefLinked(event, identifier: prior["identifier"], entryPage: entryPage)
        } else if let optin = event["optin"] as? [String: Any], optin["ref"] != nil, event["sender"] != nil {
            kind = "optin"
            ref = optin["ref"]
        } else if let referral = event["referral"] as? [String: Any], referral["ref"] != nil, event["sender"] != nil {
            kind = "optin"
            ref = referral["ref"]
        } else if let postback = event["postback"] as? [String: Any], let referral = postback["referral"] as? [String: Any],
            referral["ref"] != nil,
            event["sender"] != nil
        {
            kind = "optin"
            ref = referral["ref"]
        } else {
            return nil
        }  // a message, an echo, a plain postback, a reaction, a checkbox opt-in without a ref…
        guard let sender = event["sender"] as? [String: Any] else { throw DomainError("\(kind) event without \"sender\"") }
        let page = try self.page(of: event, kind: kind, entryPage: entryPage)
        let psid = try idString(sender["id"], "sender.id")
        let timestamp = try millis(event["timestamp"], "timestamp")
        switch kind {
        case "optin":
            guard let ref = ref as? String, !ref.isEmpty else { throw DomainError("the opt-in's ref must be a non-empty string") }
            return .optin(pageID: page, psid: psid, ref: ref, timestamp: timestamp)
        case "delivery":
            guard let delivery = event["delivery"] as? [String: Any] else { throw DomainError("delivery must be an object") }
            let watermark = try millis(delivery["watermark"], "delivery.watermark")
            var mids: [String] = []
            if let list = delivery["mids"] {
                guard let strings = list as? [String] else { throw DomainError("delivery.mids must be an array of strings") }
                mids = strings
            }
            return .delivery(pageID: page, psid: psid, mids: mids, watermark: watermark, timestamp: timestamp)
        default:
            guard let read = event["read"] as? [String: Any] else { throw DomainError("read must be an object") }
            let watermark = try millis(read["watermark"], "read.watermark")
            return .read(pageID: page, psid: psid, watermark: watermark, timestamp: timestamp)
        }
    }

    /// The `message_template_status_update` changes of an entry (or `messenger_template_status_update`:
    /// Meta spells the field both ways, see `WebhookFields`); other fields are not ours.
    private static func templateChanges(_ changes: [Any], page: String, time: Int64) throws -> [WebhookEvent] {
        var events: [WebhookEvent] = []
        for changeAny in changes {
            guard let change = changeAny as? [String: Any] else { throw DomainError("a change is not an object") }
            guard let field = change["field"] as? String, field == WebhookFields.template || field == WebhookFields.templateOtherSpelling
            else { continue }
            guard let value = change["value"] as? [String: Any] else {
                throw DomainError("message_template_status_update without a \"value\" object")
            }
            guard let event = value["event"] as? String, !event.isEmpty, event.count <= 40 else {
                throw DomainError("message_template_status_update: \"event\" must be a status word")
            }
            guard let rawName = value["message_template_name"] as? String, !rawName.isEmpty, rawName.count <= 512 else {
                throw DomainError("message_template_status_update: \"message_template_name\" must be a string")
            }
            let templateID = value["message_template_id"].flatMap { try? idString($0, "message_template_id") }
            // The name and language only find our row (ours are slugs and locale codes), but any
            // text from outside is made safe where it comes in (#26): a crafted one matches
            // nothing and can't reach a log or a screen raw. The reason is made safe where it is
            // stored (TemplateService), as it is kept.
            let name = Display.safe(rawName, limit: 512)
            let language = (value["message_template_language"] as? String).map { Display.safe($0, limit: 20) }
            let reason = (value["reason"] as? String).map { String($0.prefix(200)) }
            events.append(
                .templateStatus(
                    pageID: page, templateID: templateID, name: name, language: language,
                    event: event, reason: reason, time: time))
        }
        return events
    }

    /// Parses a JSON-lines file of POST bodies; a malformed line refuses the whole file.
    /// Each event comes with the number of the line it was on, for later refusals.
    public static func parse(lines data: Data) throws -> [(line: Int, event: WebhookEvent)] {
        try parseCounted(lines: data).events
    }

    /// The same, with the count of events of other kinds skipped.
    public static func parseCounted(lines data: Data) throws -> (events: [(line: Int, event: WebhookEvent)], skipped: Int) {
        var events: [(line: Int, event: WebhookEvent)] = []
        var skipped = 0
        try forEachLine(chunks: data.asOneChunk) { line, parsed in
            for event in parsed.events { events.append((line, event)) }
            skipped += parsed.skipped
        }
        return (events, skipped)
    }

    /// Streams JSON lines, a POST body a line, from `chunks` (pieces of any size, nil at the end):
    /// each line's events go to `body` as soon as the line ends, so memory is a line's worth
    /// whatever the file's size (#26: a 300 MB file took 1.57 GB before it was refused). A line
    /// over `maxBodyBytes` (1 MiB, the webhook's own limit) is refused with its number as soon as
    /// it is that long; an empty or blank line is skipped.
    public static func forEachLine(chunks next: () throws -> Data?, _ body: (_ line: Int, _ parsed: Parsed) throws -> Void) throws {
        try LineSplitter.forEachLine(chunks: next, maxBytes: maxBodyBytes) { number, bytes in
            guard let text = String(data: bytes, encoding: .utf8) else { throw DomainError("line \(number): not UTF-8 text") }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { return }
            let parsed: Parsed
            do {
                parsed = try parseCounted(body: Data(trimmed.utf8))
            } catch let error as DomainError {
                throw DomainError("line \(number): \(error.message)")
            }
            try body(number, parsed)
        }
    }

    /// Facebook sends ids as strings; numbers are accepted when they are whole.
    private static func idString(_ value: Any?, _ name: String) throws -> String {
        if let s = value as? String, !s.isEmpty, s.count <= 64,
            s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        {
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
