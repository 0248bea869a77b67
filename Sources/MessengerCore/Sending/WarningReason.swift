/// Why a contact was not sent a node's message, as it is stored: a stable code, never its
/// wording (#28).
///
/// The code keys the day's statistics (`daily_stat.reason`) and sits on each send row
/// (`send.reason_code`), so rewording a message splits no day's counts and a retry takes its
/// count back from the key the row was counted under, whatever the words say today. The text a
/// person reads is rendered from the code where it is shown; the send row keeps, beside the code,
/// the words of its moment (`send.reason`: Facebook's own message, the day a suppression began).
///
/// Codes: `no_optin`, `unknown`, `too_long`, `suppressed:551`, `graph:613`, `graph:10/2018278`,
/// `graph:-1` (no answer), `graph:-2` (an answer that made no sense). Migration v12 gave the rows
/// written before codes theirs, from their texts; a text it could not read is kept as
/// `text:<the words>` and shown as it was.
public enum WarningReason: Hashable, Sendable {
    /// No opt-in: the contact's FBOPTIN field is empty (R3).
    case noOptIn
    /// Asked, and no answer was recorded: a run stopped in between (R6). Never resent by a run.
    case unknown
    /// Over 2,000 characters once personalised (R6).
    case tooLong
    /// Skipped: an earlier answer suppressed the contact for the page (R15).
    case suppressed(code: Int, subcode: Int?)
    /// Facebook's error answer (or -1: none came; -2: one that made no sense).
    case graph(code: Int, subcode: Int?)
    /// A text from before codes that migration v12 could not read: shown as it was.
    case text(String)

    /// The stored code.
    public var code: String {
        switch self {
        case .noOptIn: return "no_optin"
        case .unknown: return "unknown"
        case .tooLong: return "too_long"
        case .suppressed(let code, let subcode): return "suppressed:" + Suppression.codeText(code: code, subcode: subcode)
        case .graph(let code, let subcode): return "graph:" + Suppression.codeText(code: code, subcode: subcode)
        case .text(let words): return "text:" + words
        }
    }

    /// The reason of a stored code. Any string reads back: one no version wrote is shown as text.
    public init(code: String) {
        switch code {
        case "no_optin": self = .noOptIn
        case "unknown": self = .unknown
        case "too_long": self = .tooLong
        default:
            if code.hasPrefix("graph:"), let (c, s) = Self.codes(code.dropFirst(6)) {
                self = .graph(code: c, subcode: s)
            } else if code.hasPrefix("suppressed:"), let (c, s) = Self.codes(code.dropFirst(11)) {
                self = .suppressed(code: c, subcode: s)
            } else {
                self = .text(code.hasPrefix("text:") ? String(code.dropFirst(5)) : code)
            }
        }
    }

    /// `551`, `10/2018278` as numbers.
    private static func codes(_ text: Substring) -> (Int, Int?)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let code = Int(parts[0]) else { return nil }
        guard parts.count == 2 else { return (code, nil) }
        guard let subcode = Int(parts[1]) else { return nil }
        return (code, subcode)
    }

    /// The reason as a person reads it, in today's words.
    public var text: String {
        switch self {
        case .noOptIn: return "no opt-in: the FBOPTIN field is empty"
        case .unknown: return "unknown outcome: run stopped before Facebook answered"
        case .tooLong: return "message over 2000 characters after personalisation"
        case .suppressed(let code, let subcode):
            return "suppressed for this page after \(Suppression.codeText(code: code, subcode: subcode))"
        case .graph(let code, let subcode): return GraphError.reason(code: code, subcode: subcode, message: nil)
        case .text(let words): return words
        }
    }
}

extension GraphError {
    /// The warning this answer is counted under: its code and subcode, not its words.
    public var warning: WarningReason { .graph(code: code, subcode: subcode) }
}
