import MessengerCore
import TerminalKit

/// The contacts behind one number: a profile, a kind, a day, and what `/` searches for.
public struct ContactsQuery: Equatable, Sendable {
    public var profile: String
    public var kind: ContactKind
    public var day: DayNumber
    public var search: String = ""
    public var pageSize: Int

    public init(profile: String, kind: ContactKind, day: DayNumber, search: String = "", pageSize: Int = 50) {
        self.profile = profile
        self.kind = kind
        self.day = day
        self.search = search
        self.pageSize = pageSize
    }
}
