import Foundation
import GRDB

/// The stats filters of R9.
public enum StatsFilter: String, Sendable, CaseIterable, Codable {
    case all, warnings, sent, delivered

    public var next: StatsFilter {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// Which contacts are behind a number (R9).
public enum ContactKind: String, Sendable, CaseIterable, Codable {
    case sent, delivered, warning
}

public struct DayStats: Equatable, Sendable {
    public let day: DayNumber
    public var sent = 0
    public var delivered = 0
    public var read = 0
    public var warnings = 0
    public var reasons: [ReasonCount] = []
}

public struct StatsDetails: Equatable, Sendable {
    public let profile: String
    public let from: DayNumber
    public let to: DayNumber
    public let filter: StatsFilter
    /// Newest first, one entry per day of the range, days without sends included.
    public let days: [DayStats]
}

/// One contact behind a number.
public struct ContactOutcome: Equatable, Sendable {
    public let sendID: Int64
    public let email: String
    /// When it was sent (or warned), in milliseconds.
    public let at: Int64
    public let deliveredAt: Int64?
    public let readAt: Int64?
    public let status: SendStatus
    public let reason: String?
    public let errorCode: Int?
    public let messageID: String?
}

/// A position in the contacts list: keyset paging, newest first, so any page costs the same.
public struct ContactCursor: Equatable, Sendable {
    public let at: Int64
    public let sendID: Int64

    public init(at: Int64, sendID: Int64) {
        self.at = at
        self.sendID = sendID
    }
}

public struct ContactPage: Equatable, Sendable {
    public let rows: [ContactOutcome]
    /// nil on the last page.
    public let next: ContactCursor?
    /// Whether there are rows before this page (newer ones).
    public var hasPrevious = false
}

/// Which page of contacts to read. Every request is a keyset query, so the first, a middle and
/// the last page cost the same.
public enum ContactPageRequest: Equatable, Sendable {
    case first
    /// The page after (older than) this row.
    case after(ContactCursor)
    /// The page before (newer than) this row.
    case before(ContactCursor)
    case last
}

/// Statistics read from the daily rollups (never from the send events), and contact lists read
/// from the send table through indexes that start (profile, day, outcome).
public struct StatsService: Sendable {
    let workspace: Workspace

    /// The 7-day window, today and the 6 days before, in the account's time zone.
    public var window: ClosedRange<DayNumber> { workspace.calendar.window(today: workspace.today) }

    /// Checks that `from...to` lies inside the window; nil bounds default to its ends.
    public func range(from: DayNumber?, to: DayNumber?) throws -> ClosedRange<DayNumber> {
        let window = self.window
        let lower = from ?? window.lowerBound
        let upper = to ?? window.upperBound
        let text = { (d: DayNumber) in workspace.calendar.string(for: d) }
        for day in [lower, upper] where !window.contains(day) {
            throw DomainError("\(text(day)) is outside the last 7 days (\(text(window.lowerBound)) to \(text(window.upperBound)))")
        }
        guard lower <= upper else { throw DomainError("--from \(text(lower)) is after --to \(text(upper))") }
        return lower...upper
    }

    public func details(profile name: String, range: ClosedRange<DayNumber>? = nil, filter: StatsFilter = .all) throws -> StatsDetails {
        let range = try range ?? self.range(from: nil, to: nil)
        return try workspace.database.snapshot { db in
            let id = try ProfileService.id(db, named: name)
            let shown = try db.value(String.self, "SELECT name FROM profile WHERE id = ?", [id]) ?? name
            return StatsDetails(
                profile: shown, from: range.lowerBound, to: range.upperBound, filter: filter,
                days: try Self.days(db, profileID: id, range: range))
        }
    }

    static func days(_ db: any StoreConnection, profileID: Int64, range: ClosedRange<DayNumber>) throws -> [DayStats] {
        var byDay: [DayNumber: DayStats] = [:]
        for day in range { byDay[day] = DayStats(day: day) }
        let rows = try db.rows(
            """
            SELECT day, outcome, reason, count FROM daily_stat
            WHERE profile_id = ? AND day BETWEEN ? AND ?
            """, [profileID, range.lowerBound, range.upperBound])
        for row in rows {
            let day: DayNumber = row["day"]
            let count: Int = row["count"]
            switch row["outcome"] as StatOutcome {
            case .sent: byDay[day]?.sent += count
            case .delivered: byDay[day]?.delivered += count
            case .read: byDay[day]?.read += count
            case .warning:
                byDay[day]?.warnings += count
                byDay[day]?.reasons.append(ReasonCount(code: row["reason"], count: count))
            }
        }
        return range.reversed().map { day in
            var stats = byDay[day]!
            stats.reasons.sort(by: ReasonCount.ordered)
            return stats
        }
    }

    /// One page of the contacts behind a number, newest first, after `cursor`.
    public func contacts(
        profile name: String, kind: ContactKind, day: DayNumber, after cursor: ContactCursor? = nil,
        limit: Int = 50
    ) throws -> ContactPage {
        try contacts(profile: name, kind: kind, day: day, page: cursor.map { .after($0) } ?? .first, limit: limit)
    }

    /// One page of the contacts behind a number, newest first; `search` keeps the rows whose
    /// email, status or reason (what the list shows), or the contact's first or last name,
    /// contains it.
    public func contacts(
        profile name: String, kind: ContactKind, day: DayNumber, page: ContactPageRequest,
        search: String = "", limit: Int = 50
    ) throws -> ContactPage {
        try workspace.database.snapshot { db in
            try Self.contacts(
                db, profileID: try ProfileService.id(db, named: name), kind: kind, day: day, page: page, search: search, limit: limit)
        }
    }

    static func contacts(
        _ db: any StoreConnection, profileID: Int64, kind: ContactKind, day: DayNumber, page: ContactPageRequest,
        search: String, limit: Int
    ) throws -> ContactPage {
        // Each kind reads one index in order: no sort, no OFFSET, the same cost at any depth.
        let index: String
        let condition: String
        switch kind {
        case .sent: (index, condition) = ("send_by_outcome", "send.outcome = 'sent'")
        case .warning: (index, condition) = ("send_by_outcome", "send.outcome = 'warning'")
        case .delivered: (index, condition) = ("send_delivered", "send.delivered_at IS NOT NULL")
        }
        var arguments: StoreArguments = [profileID, day]
        var filter = ""
        if !search.isEmpty {
            let pattern =
                "%"
                + search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
            // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does so too.
            let like = db.engine == .sqlite ? "LIKE" : "ILIKE"
            filter = """
                 AND (contact.email \(like) ? ESCAPE '\\' OR send.status \(like) ? ESCAPE '\\' OR send.reason \(like) ? ESCAPE '\\' OR EXISTS (
                    SELECT 1 FROM contact_value v JOIN data_field f ON f.id = v.field_id
                    WHERE v.contact_id = send.contact_id AND f.name IN ('FIRSTNAME', 'LASTNAME') AND v.value \(like) ? ESCAPE '\\'))
                """
            arguments += [pattern, pattern, pattern, pattern]
        }
        var keyset = ""
        var ascending = false
        switch page {
        case .first: break
        case .after(let c):
            // A row value, so SQLite seeks the index to the cursor instead of scanning up to it.
            keyset = " AND (send.at, send.id) < (?, ?)"
            arguments += [c.at, c.sendID]
        case .before(let c):
            keyset = " AND (send.at, send.id) > (?, ?)"
            arguments += [c.at, c.sendID]
            ascending = true
        case .last:
            ascending = true
        }
        arguments += [limit + 1]
        let order = ascending ? "ASC" : "DESC"
        // SQLite is told the index that answers the page in order; PostgreSQL's planner has no
        // INDEXED BY and picks it itself.
        let indexed = db.engine == .sqlite ? " INDEXED BY \(index)" : ""
        let rows = try db.rows(
            """
            SELECT send.id, send.at, send.delivered_at, send.read_at, send.status, send.reason, send.error_code,
                   send.message_id, contact.email
            FROM send\(indexed) JOIN contact ON contact.id = send.contact_id
            WHERE send.profile_id = ? AND send.day = ? AND \(condition)\(filter)\(keyset)
            ORDER BY send.at \(order), send.id \(order) LIMIT ?
            """, arguments)
        var outcomes = rows.prefix(limit).map { row in
            ContactOutcome(
                sendID: row["id"], email: row["email"], at: row["at"], deliveredAt: row["delivered_at"],
                readAt: row["read_at"], status: row["status"], reason: row["reason"],
                errorCode: row["error_code"], messageID: row["message_id"])
        }
        let more = rows.count > limit
        if ascending { outcomes.reverse() }
        // Going forwards, "more" means older rows follow; backwards, that newer rows precede.
        let next: ContactCursor?
        let hasPrevious: Bool
        switch page {
        case .first:
            next = more ? outcomes.last.map(cursor) : nil
            hasPrevious = false
        case .after:
            next = more ? outcomes.last.map(cursor) : nil
            hasPrevious = true
        case .before:
            next = outcomes.last.map(cursor)
            hasPrevious = more
        case .last:
            next = nil
            hasPrevious = more
        }
        return ContactPage(rows: Array(outcomes), next: next, hasPrevious: hasPrevious)
    }

    private static func cursor(_ c: ContactOutcome) -> ContactCursor { ContactCursor(at: c.at, sendID: c.sendID) }

    /// Every contact behind a number, page by page (for exports and the command line).
    public func allContacts(profile name: String, kind: ContactKind, day: DayNumber, search: String = "") throws -> [ContactOutcome] {
        var out: [ContactOutcome] = []
        var cursor: ContactCursor?
        repeat {
            let page = try contacts(
                profile: name, kind: kind, day: day, page: cursor.map { .after($0) } ?? .first, search: search, limit: 1_000)
            out += page.rows
            cursor = page.next
        } while cursor != nil
        return out
    }

    /// One contact behind a number, for the detail view: its data fields, the message as it was
    /// personalised, and the message id or the error.
    public struct ContactDetail: Equatable, Sendable {
        public let email: String
        /// When it reached the node (or was sent), in milliseconds.
        public let at: Int64
        public let status: SendStatus
        public let reason: String?
        public let errorCode: Int?
        public let errorSubcode: Int?
        public let messageID: String?
        public let message: String?
        public let fields: [FieldValue]
        /// When the receipts said it was delivered and read, if they did.
        public var deliveredAt: Int64?
        public var readAt: Int64?
        /// Set when the contact is suppressed for the send's page (R15).
        public var suppression: SuppressedContact?
        /// What earlier attempts said, oldest first, when the send was retried (R16).
        public var earlierAttempts: [EarlierAttempt] = []

        public init(
            email: String, at: Int64, status: SendStatus, reason: String?, errorCode: Int?, errorSubcode: Int?,
            messageID: String?, message: String?, fields: [FieldValue], deliveredAt: Int64? = nil, readAt: Int64? = nil
        ) {
            self.email = email
            self.at = at
            self.status = status
            self.reason = reason
            self.errorCode = errorCode
            self.errorSubcode = errorSubcode
            self.messageID = messageID
            self.message = message
            self.fields = fields
            self.deliveredAt = deliveredAt
            self.readAt = readAt
        }
    }

    public struct EarlierAttempt: Equatable, Sendable {
        public let attempt: Int
        public let at: Int64
        public let status: SendStatus
        public let reason: String?
    }

    public func detail(sendID: Int64) throws -> ContactDetail {
        try workspace.database.snapshot { db in
            guard
                let row = try db.row(
                    """
                    SELECT send.contact_id, send.page_id, send.at, send.status, send.reason, send.error_code, send.error_subcode, send.message_id,
                           send.message, send.delivered_at, send.read_at, contact.email
                    FROM send JOIN contact ON contact.id = send.contact_id WHERE send.id = ?
                    """, [sendID])
            else { throw DomainError("that contact's record no longer exists") }
            let fields = try db.rows(
                """
                SELECT data_field.name, contact_value.value FROM contact_value
                JOIN data_field ON data_field.id = contact_value.field_id
                WHERE contact_value.contact_id = ? ORDER BY data_field.name
                """, [row["contact_id"] as Int64]
            ).map { FieldValue(name: $0["name"], value: $0["value"]) }
            var detail = ContactDetail(
                email: row["email"], at: row["at"], status: row["status"], reason: row["reason"], errorCode: row["error_code"],
                errorSubcode: row["error_subcode"], messageID: row["message_id"], message: row["message"], fields: fields,
                deliveredAt: row["delivered_at"], readAt: row["read_at"])
            detail.suppression = try SuppressionService.fetch(
                db, where: "suppression.contact_id = ? AND suppression.page_id = ?",
                [row["contact_id"] as Int64, row["page_id"] as String]
            ).first
            detail.earlierAttempts = try db.rows(
                """
                SELECT attempt, at, status, reason FROM send_attempt WHERE send_id = ? ORDER BY attempt
                """, [sendID]
            ).map { EarlierAttempt(attempt: $0["attempt"], at: $0["at"], status: $0["status"], reason: $0["reason"]) }
            return detail
        }
    }
}

/// A data field's name and a contact's value for it.
public struct FieldValue: Equatable, Sendable {
    public let name: String
    public let value: String
}
