/// A person's role on a Facebook page, derived from the Graph API's `tasks` (R2).
public enum PageRole: String, Sendable, CaseIterable, Codable {
    case admin = "Admin"
    case editor = "Editor"
    case moderator = "Moderator"
    case advertiser = "Advertiser"
    case analyst = "Analyst"

    /// MANAGE → Admin, else CREATE_CONTENT → Editor, else MODERATE → Moderator,
    /// else ADVERTISE → Advertiser, else Analyst.
    public init(tasks: [String]) {
        let set = Set(tasks.map { $0.uppercased() })
        if set.contains("MANAGE") {
            self = .admin
        } else if set.contains("CREATE_CONTENT") {
            self = .editor
        } else if set.contains("MODERATE") {
            self = .moderator
        } else if set.contains("ADVERTISE") {
            self = .advertiser
        } else {
            self = .analyst
        }
    }

    public var canSendMessages: Bool {
        switch self {
        case .admin, .editor, .moderator: return true
        case .advertiser, .analyst: return false
        }
    }
}

/// Whether a page can be linked to a profile, and if not, why (R2). Linking needs the Admin,
/// Editor or Moderator role and the MESSAGING task.
public enum PageEligibility: Equatable, Sendable {
    case eligible
    case ineligible(reason: String)

    public init(tasks: [String]) {
        let role = PageRole(tasks: tasks)
        if !role.canSendMessages {
            self = .ineligible(reason: "your role is \(role.rawValue); sending needs Admin, Editor or Moderator")
        } else if !tasks.contains(where: { $0.uppercased() == "MESSAGING" }) {
            self = .ineligible(reason: "your \(role.rawValue) role lacks the MESSAGING task")
        } else {
            self = .eligible
        }
    }

    public var reason: String? {
        if case .ineligible(let reason) = self { return reason }
        return nil
    }
}
