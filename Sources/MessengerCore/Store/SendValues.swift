import GRDB

/// The stable class of a `send` row (schema v1's CHECK also allows 'sending', which migration v2
/// settled for good: no code writes it since).
public enum SendOutcome: String, Sendable, CaseIterable, DatabaseValueConvertible {
    /// Facebook answered with a message id.
    case sent
    /// Not sent, with a reason: Facebook's error, a rule of the tool (R3, R6, R15) or an unknown
    /// outcome.
    case warning
}

/// The finer state of a `send` row, as the contacts list and the contact page show it.
public enum SendStatus: String, Sendable, CaseIterable, DatabaseValueConvertible {
    case sent
    /// A receipt moved a sent row on (R9).
    case delivered, read
    /// Facebook refused it; `error_code` and `reason` say why.
    case failed
    /// Asked, and the answer never came (a killed run or a timeout): never resent by a run, only
    /// by a retry that says so (R16).
    case unknown
    /// Settled without asking Facebook: no opt-in (R3), suppressed for the page (R15), or the
    /// personalised message over the limit (R6).
    case noOptIn = "no_optin"
    case suppressed
    case tooLong = "too_long"

    /// The state as a person reads it: a word, not the stored code (#27: the contacts list
    /// showed `no_optin`). JSON and CSV keep the code, which scripts match on.
    public var word: String {
        switch self {
        case .sent: return "sent"
        case .delivered: return "delivered"
        case .read: return "read"
        case .failed: return "failed"
        case .unknown: return "unknown"
        case .noOptIn: return "no opt-in"
        case .suppressed: return "suppressed"
        case .tooLong: return "too long"
        }
    }
}

/// The outcome a `daily_stat` count is kept under (R8, R9).
public enum StatOutcome: String, Sendable, CaseIterable, DatabaseValueConvertible {
    case sent, delivered, read, warning
}
