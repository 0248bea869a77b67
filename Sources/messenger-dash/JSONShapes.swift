// The shapes' property names are their JSON keys (snake_case), as the README documents them.
// swift-format-ignore-file: AlwaysUseLowerCamelCase

import MessengerCore

/// An optional the JSON writes as null instead of leaving its key out, as the synthesised
/// `Encodable` does with a plain optional: the shapes keep their keys (a plain optional, as the
/// profile's detail-only keys, is left out when nil).
// swift-format-ignore: UseSynthesizedInitializer
@propertyWrapper
struct KeepNull<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    // Written out: with the synthesised one, Swift 6.3 fails to type-check the shapes' inits.
    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// The `--json` shapes (README, "Command line"): snake_case keys, stable; more keys may be added.
struct ProfileJSON: Encodable {
    let name: String
    let page_id: String
    let page_name: String
    let status: String
    let optin_field: String
    let delivered_7d: Int
    let warnings_7d: Int
    var optin_code: String?
    var optin_link: String?
    var not_sent: [ReasonCount]?
    var sent_7d: Int?
    var read_7d: Int?
    var page_connection: String?
    var webhooks: WebhooksJSON?

    /// The page's subscription to the app's webhooks (#24).
    struct WebhooksJSON: Encodable {
        let subscribed: Bool
        let fields: [String]
        @KeepNull var checked_at: String?
        @KeepNull var error: String?

        init(_ s: WebhookSubscription, calendar: AccountCalendar) {
            subscribed = s.subscribed
            fields = s.fields
            _checked_at = KeepNull(wrappedValue: s.checkedAt.map(calendar.timestamp(ofMillis:)))
            _error = KeepNull(wrappedValue: s.error)
        }
    }

    init(_ p: ProfileSummary) {
        name = p.name
        page_id = p.pageID
        page_name = p.pageName
        status = p.enabled ? "enabled" : "disabled"
        optin_field = p.optInField
        delivered_7d = p.delivered7d
        warnings_7d = p.warnings7d
    }

    init(_ d: ProfileDetails) {
        self.init(d.summary)
        optin_code = d.optInCode
        optin_link = d.optInLink
        not_sent = d.notSent
        sent_7d = d.sent7d
        read_7d = d.read7d
        page_connection = d.connectionError.map { "broken: \($0)" } ?? "connected"  // the screen's word (#27)
    }
}

struct PageJSON: Encodable {
    let id: String
    let name: String
    let role: String
    @KeepNull var linked_profile: String?
    let can_link: Bool
    @KeepNull var reason: String?

    init(_ p: PageInfo) {
        id = p.id
        name = p.name
        role = p.role.rawValue
        linked_profile = p.linkedProfile
        can_link = p.eligibility == .eligible && p.linkedProfile == nil
        reason = p.eligibility.reason ?? p.linkedProfile.map { "already linked to profile \($0)" }
    }
}

struct ProgramJSON: Encodable {
    let name: String
    let status: String
    @KeepNull var profile: String?
    @KeepNull var tag: String?
    let enrolled: Int
    let kind: String
    @KeepNull var template_status: String?
    let tag_retired: Bool
    /// "daily 09:30", "every 15m" (#25), and when next, in the account's zone.
    @KeepNull var schedule: String?
    @KeepNull var next_run: String?

    init(_ p: ProgramSummary, calendar: AccountCalendar) {
        name = p.name
        status = p.status.rawValue
        profile = p.profile
        tag = p.tag
        enrolled = p.enrolled
        kind = p.kind.rawValue
        template_status = p.latestTemplate?.status.rawValue
        tag_retired = p.tagRetired != nil
        schedule = p.schedule.map { "\($0)" }
        next_run = p.nextRunAt.map(calendar.timestamp(ofMillis:))
    }
}

/// `programs show --json`: `name, status, profile, kind, tag, message, template` (null for a tagged
/// node), plus which version sends while a newer one waits.
struct ProgramDetailJSON: Encodable {
    struct Template: Encodable {
        let name: String
        let language: String
        let version: Int
        let status: String
        @KeepNull var reason: String?
        @KeepNull var sending_version: Int?
    }
    let name: String
    let status: String
    @KeepNull var profile: String?
    let kind: String
    @KeepNull var tag: String?
    @KeepNull var tag_retired: String?
    let message: String
    @KeepNull var template: Template?
    let enrolled: Int

    init(_ p: ProgramSummary) {
        name = p.name
        status = p.status.rawValue
        profile = p.profile
        kind = p.kind.rawValue
        tag = p.tag
        tag_retired = p.tagRetired
        message = p.message
        enrolled = p.enrolled
        template = p.latestTemplate.map {
            Template(
                name: $0.name, language: $0.language, version: $0.version, status: $0.status.rawValue, reason: $0.reason,
                sending_version: p.sendingTemplate?.version)
        }
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
            Day(
                date: calendar.string(for: $0.day), sent: $0.sent, delivered: $0.delivered, read: $0.read,
                warnings: $0.warnings, reasons: $0.reasons)
        }
    }
}

struct ContactJSON: Encodable {
    let email: String
    let time: String
    let status: String
    @KeepNull var reason: String?
    @KeepNull var message_id: String?
    @KeepNull var error_code: Int?

    init(_ c: ContactOutcome, kind: ContactKind, calendar: AccountCalendar) {
        email = c.email
        time = StatsExport.time(of: c, kind: kind, calendar: calendar)
        status = c.status.rawValue
        reason = c.reason
        message_id = c.messageID
        error_code = c.errorCode
    }
}

/// `contacts suppressed --json`: one contact suppressed for one page (R15).
struct SuppressedJSON: Encodable {
    let email: String
    let page_id: String
    let page: String
    let since: String
    let code: String
}

struct DataFieldJSON: Encodable {
    let name: String
    let kind: String
    let default_value: String
    let contacts: Int
    @KeepNull var profile: String?
    let programs: [String]

    init(_ u: ContactService.FieldUse) {
        name = u.field.name
        kind = u.field.isOptIn ? "optin" : "text"
        default_value = u.field.defaultValue
        contacts = u.contacts
        profile = u.profile
        programs = u.programs
    }
}
