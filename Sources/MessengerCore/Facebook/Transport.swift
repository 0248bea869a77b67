/// The approved utility template a message is sent with (R13), shared by every message of a run.
public struct UtilityTemplateRef: Sendable, Equatable {
    public let name: String
    public let language: String
    /// The NAMED parameters, in the order `OutgoingMessage.parameters` fills them.
    public let parameterNames: [String]

    public init(name: String, language: String, parameterNames: [String]) {
        self.name = name
        self.language = language
        self.parameterNames = parameterNames
    }
}

/// One message to one person, as the Send API takes it: tagged (the seed's way, retired by Meta
/// on 2026-04-27) or as a utility template with the contact's parameters.
public struct OutgoingMessage: Sendable, Equatable {
    public let pageID: String
    public let pageToken: String?
    public let recipientPSID: String
    /// The tag as sent: `CONFIRMED_EVENT_UPDATE` etc.; nil for a utility template.
    public let tag: String?
    /// The utility template, and this contact's value for each of its parameters.
    public let utility: UtilityTemplateRef?
    public let parameters: [String]
    /// The personalised text: what a tagged message says, and what a template says once filled.
    public let text: String
    /// The enrolment and node this message is for: unique per message, so a transport can derive
    /// stable message ids and keep a log, and a test can prove nothing went out twice.
    public let enrolmentID: Int64
    public let nodeID: Int64
    /// 1 for a run's send; a retry (R16) sends attempt 2, 3, …
    public var attempt = 1

    public init(
        pageID: String, pageToken: String?, recipientPSID: String, tag: String, text: String,
        enrolmentID: Int64, nodeID: Int64
    ) {
        self.pageID = pageID
        self.pageToken = pageToken
        self.recipientPSID = recipientPSID
        self.tag = tag
        self.utility = nil
        self.parameters = []
        self.text = text
        self.enrolmentID = enrolmentID
        self.nodeID = nodeID
    }

    public init(
        pageID: String, pageToken: String?, recipientPSID: String, utility: UtilityTemplateRef, parameters: [String],
        text: String, enrolmentID: Int64, nodeID: Int64
    ) {
        self.pageID = pageID
        self.pageToken = pageToken
        self.recipientPSID = recipientPSID
        self.tag = nil
        self.utility = utility
        self.parameters = parameters
        self.text = text
        self.enrolmentID = enrolmentID
        self.nodeID = nodeID
    }
}

/// A Graph API error, mapped to a stable reason a person can act on.
public struct GraphError: Error, Equatable, Sendable {
    public let code: Int
    public let subcode: Int?
    public let reason: String

    /// 10/1893063 "Pages temporarily restricted from sending messages" (Meta's changelog,
    /// 2026-06-25): the page's run stops as for a 190; it is neither retried nor a suppression.
    public static let pageRestrictedSubcode = 1_893_063
    public var isPageRestriction: Bool { code == 10 && subcode == Self.pageRestrictedSubcode }
    /// Whether nothing more should be asked for this page: its token is refused, or it is restricted.
    public var stopsThePage: Bool { code == 190 || isPageRestriction }

    /// -1/1: the request never left this machine: no connection could be made to the Graph API
    /// (refused, unreachable, or a TLS certificate not trusted) within the connect timeout. The
    /// run stops: the rest of its batch would wait as long for each group of requests. Counted
    /// apart from -1 (which may have gone), and retried with it (R16).
    public static let notSentSubcode = 1
    public var isUnreachable: Bool { code == Self.noAnswer && subcode == Self.notSentSubcode }

    public init(code: Int, subcode: Int? = nil, message: String? = nil) {
        self.code = code
        self.subcode = subcode
        self.reason = Self.reason(code: code, subcode: subcode, message: message)
    }

    /// No answer because nothing could be sent: `isUnreachable`, with what went wrong.
    public static func unreachable(_ why: String) -> GraphError {
        GraphError(code: noAnswer, subcode: notSentSubcode, message: why)
    }

    /// Stable, human reasons for the codes the Send API answers with.
    public static func reason(code: Int, subcode: Int?, message: String?) -> String {
        switch (code, subcode) {
        case (551, _): return "551 person unavailable: they can't receive messages right now"
        case (10, 2_018_278?): return "10/2018278 outside the allowed window for this tag"
        case (10, GraphError.pageRestrictedSubcode?):
            return "10/\(GraphError.pageRestrictedSubcode) page temporarily restricted from sending messages by Meta"
        case (10, _): return "10 permission denied for this message"
        case (100, 2_018_001?): return "100/2018001 no matching user for this PSID"
        case (100, TagRetirement.subcode?):
            return
                "100/\(TagRetirement.subcode) message tag retired by Meta on \(TagRetirement.date): convert the program to a utility template"
        case (100, _): return "100 no matching user or invalid parameter"
        case (613, _): return "613 rate limit reached; try again later"
        case (4, _): return "4 application request limit reached"
        case (2, _): return "2 Facebook service temporarily unavailable"
        case (190, _): return "190 page access token invalid: reconnect the page"
        case (200, _): return "200 permission missing (pages_messaging)"
        case (1200, _): return "1200 temporary send failure"
        case (-1, GraphError.notSentSubcode?):
            return "not sent: " + (message ?? "the Graph API could not be reached (no connection, or its certificate is not trusted)")
        case (-1, _):
            if let message { return "no answer from the Graph API: \(message)" }
            return "no answer from the Graph API (network error or timeout): the message may or may not have gone"
        case (-2, _): return "unexpected answer from the Graph API" + (message.map { ": \($0.prefix(80))" } ?? "")
        default:
            let sub = subcode.map { "/\($0)" } ?? ""
            return "\(code)\(sub) Graph API error" + (message.map { ": \($0.prefix(120))" } ?? "")
        }
    }
}

public enum SendResult: Sendable, Equatable {
    case sent(messageID: String)
    case failed(GraphError)
}

extension Sequence<SendResult> {
    /// The first answer that says the Graph API can't be reached (`GraphError.isUnreachable`).
    var unreachable: GraphError? {
        lazy.compactMap { result -> GraphError? in
            if case .failed(let error) = result, error.isUnreachable { return error }
            return nil
        }.first
    }

    /// The first answer that stops the page: its token was refused (190, R11) or Meta restricted
    /// the page from sending (10/1893063); the run stops.
    var refusedToken: GraphError? {
        lazy.compactMap { result -> GraphError? in
            if case .failed(let error) = result, error.stopsThePage { return error }
            return nil
        }.first
    }
}

/// How messages leave: the sandbox simulation or the Graph Send API.
public protocol Transport: Sendable {
    func send(_ message: OutgoingMessage) -> SendResult

    /// Sends a batch and answers one result per message, in order. After a 190 (the page's token
    /// was refused) nothing more is asked of Facebook: the rest are answered with that error.
    func send(batch: [OutgoingMessage]) -> [SendResult]

    /// The same, calling `asking` with the indices of messages just before any of them goes to
    /// Facebook (a group at a time where the transport sends them so, one where it sends each on
    /// its own) and `answered` with each result as soon as Facebook answered (from any thread), so
    /// a run can note both before the batch is recorded (`AnswerJournal`).
    func send(
        batch: [OutgoingMessage], asking: @escaping @Sendable (Range<Int>) -> Void,
        answered: @escaping @Sendable (Int, SendResult) -> Void
    ) -> [SendResult]

    /// How many messages a run claims at once: what a crash can leave unknown.
    var preferredBatchSize: Int { get }
}

extension Transport {
    public var preferredBatchSize: Int { 1_000 }

    public func send(batch: [OutgoingMessage]) -> [SendResult] {
        send(batch: batch, asking: { _ in }, answered: { _, _ in })
    }

    /// One message after another; a transport that can overlap requests overrides this.
    public func send(
        batch: [OutgoingMessage], asking: @escaping @Sendable (Range<Int>) -> Void,
        answered: @escaping @Sendable (Int, SendResult) -> Void
    ) -> [SendResult] {
        oneAfterAnother(batch: batch, asking: asking, answered: answered, send: send)
    }

    /// How many messages sent one after another are announced to `asking` at once: one journal
    /// record for them instead of one each (#29).
    public static var askingGroup: Int { 64 }

    /// Sends `batch` one message after another with `send`, announcing each group of
    /// `askingGroup` before any of it goes; after a message that stops the page, the rest are
    /// answered with its error without being asked.
    public func oneAfterAnother(
        batch: [OutgoingMessage], asking: (Range<Int>) -> Void, answered: (Int, SendResult) -> Void,
        send: (OutgoingMessage) -> SendResult
    ) -> [SendResult] {
        var results: [SendResult] = []
        results.reserveCapacity(batch.count)
        var broken: GraphError?
        var start = 0
        while start < batch.count {
            let group = start..<min(batch.count, start + Self.askingGroup)
            if broken == nil { asking(group) }
            for index in group {
                if let broken {
                    results.append(.failed(broken))
                    continue
                }
                let result = send(batch[index])
                if case .failed(let error) = result, error.stopsThePage { broken = error }
                answered(index, result)
                results.append(result)
            }
            start = group.upperBound
        }
        return results
    }
}
