import MessengerCore

/// The `--json` shapes of SPEC.md: snake_case keys, stable; more keys may be added.
struct ProfileJSON: Encodable {
    let name: String
    let page_id: String
    let page_name: String
    let status: String
    let optin_field: String
    let delivered_7d: Int
    let warnings_7d: Int
    var optin_code: String?
    var not_sent: [ReasonCount]?
    var sent_7d: Int?
    var read_7d: Int?
    var page_connection: String?

    init(_ p: ProfileSummary) {
        name = p.name; page_id = p.pageID; page_name = p.pageName
        status = p.enabled ? "enabled" : "disabled"
        optin_field = p.optInField; delivered_7d = p.delivered7d; warnings_7d = p.warnings7d
    }

    init(_ d: ProfileDetails) {
        self.init(d.summary)
        optin_code = d.optInCode
        not_sent = d.notSent
        sent_7d = d.sent7d
        read_7d = d.read7d
        page_connection = d.connectionError.map { "broken: \($0)" } ?? "ok"
    }
}

struct PageJSON: Encodable {
    let id: String
    let name: String
    let role: String
    let linked_profile: String?
    let can_link: Bool
    let reason: String?

    init(_ p: PageInfo) {
        id = p.id; name = p.name; role = p.role.rawValue; linked_profile = p.linkedProfile
        can_link = p.eligibility == .eligible && p.linkedProfile == nil
        reason = p.eligibility.reason ?? p.linkedProfile.map { "already linked to profile \($0)" }
    }

    func encode(to encoder: Encoder) throws {
        // linked_profile is always present, null when unlinked.
        enum Keys: String, CodingKey { case id, name, role, linked_profile, can_link, reason }
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id); try c.encode(name, forKey: .name); try c.encode(role, forKey: .role)
        try c.encode(linked_profile, forKey: .linked_profile); try c.encode(can_link, forKey: .can_link)
        try c.encode(reason, forKey: .reason)
    }
}

struct ProgramJSON: Encodable {
    let name: String
    let status: String
    let profile: String?
    let tag: String?
    let enrolled: Int

    init(_ p: ProgramSummary) {
        name = p.name; status = p.status.rawValue; profile = p.profile; tag = p.tag; enrolled = p.enrolled
    }

    func encode(to encoder: Encoder) throws {
        enum Keys: String, CodingKey { case name, status, profile, tag, enrolled }
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(name, forKey: .name); try c.encode(status, forKey: .status)
        try c.encode(profile, forKey: .profile); try c.encode(tag, forKey: .tag); try c.encode(enrolled, forKey: .enrolled)
    }
}

struct StatsJSON: Encodable {
    struct Day: Encodable {
        let date: String
        let sent: Int
        let delivered: Int
        let read: Int
        let warnings: Int
        let reasons: [ReasonCount]
    }
    let profile: String
    let from: String
    let to: String
    let filter: String
    let days: [Day]

    init(_ d: StatsDetails, calendar: AccountCalendar) {
        profile = d.profile
        from = calendar.string(for: d.from)
        to = calendar.string(for: d.to)
        filter = d.filter.rawValue
        days = d.days.map {
            Day(date: calendar.string(for: $0.day), sent: $0.sent, delivered: $0.delivered, read: $0.read,
                warnings: $0.warnings, reasons: $0.reasons)
        }
    }
}

struct ContactJSON: Encodable {
    let email: String
    let time: String
    let status: String
    let reason: String?
    let message_id: String?
    let error_code: Int?

    init(_ c: ContactOutcome, kind: ContactKind, calendar: AccountCalendar) {
        email = c.email
        time = StatsExport.time(of: c, kind: kind, calendar: calendar)
        status = c.status
        reason = c.reason
        message_id = c.messageID
        error_code = c.errorCode
    }

    func encode(to encoder: Encoder) throws {
        enum Keys: String, CodingKey { case email, time, status, reason, message_id, error_code }
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(email, forKey: .email); try c.encode(time, forKey: .time); try c.encode(status, forKey: .status)
        try c.encode(reason, forKey: .reason); try c.encode(message_id, forKey: .message_id); try c.encode(error_code, forKey: .error_code)
    }
}
