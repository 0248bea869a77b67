import Foundation
import GRDB

/// What a run would send, asked before it starts, for the confirmation that says so (#27: `r` sent
/// at once): the contacts that would go through the Messenger node, and how many of them would be
/// messaged (opted in to the node's profile and not suppressed for its page). A contact's opt-in
/// can change between the question and the run; the run's own summary says what went.
public struct RunPreview: Equatable, Sendable {
    public let program: String
    public let profile: String
    /// "template order_updates_v2" or "tag Post_purchase_update".
    public let sendsAs: String
    /// Enrolments the run takes through the node, each a message or a warning: the new ones
    /// (everyone again with re-enrol) and those a stopped run left unfinished (UNION ALL: a
    /// contact left unfinished and enrolled again goes through twice, as the run would take it).
    public let contacts: Int
    /// Of those, the ones a message goes to.
    public let messaged: Int
    public let reenrol: Bool

    public init(program: String, profile: String, sendsAs: String, contacts: Int, messaged: Int, reenrol: Bool) {
        self.program = program
        self.profile = profile
        self.sendsAs = sendsAs
        self.contacts = contacts
        self.messaged = messaged
        self.reenrol = reenrol
    }

    /// The confirmation's question, in one sentence with the numbers.
    public var question: String {
        let name = Display.quoted(program)
        guard messaged > 0 else {
            return
                "Run \(name)? None of its \(Display.count(contacts, "contact")) is opted in to \(Display.quoted(profile)): nothing would be sent."
        }
        let others = contacts - messaged
        return "Send to \(Display.count(messaged, "opted-in contact")) of \(name) now, as \(sendsAs) from \(Display.quoted(profile))?"
            + (others > 0 ? " \(Display.count(others, "other contact")) would be warned, not sent." : "")
            + (reenrol ? " Everyone is enrolled again, also those sent before." : "")
    }
}

extension ProgramRunner {
    /// What `run(program:reenrol:)` would do now; refused as the run would be (a draft or paused
    /// program, no node, a retired tag, a template not approved), so nobody is asked to confirm
    /// what can't happen.
    public func preview(program name: String, reenrol: Bool) throws -> RunPreview {
        let day = workspace.calendar.day(ofMillis: workspace.clock.nowMillis())
        return try workspace.database.snapshot { db in
            let programID = try ProgramService.id(db, named: name)
            let node = try NodePlan.load(db, programID: programID, name: name, day: day)
            let summary = try ProgramService.summary(db, programID: programID, today: day)
            let row = try db.row(
                """
                WITH going(contact_id) AS (
                    SELECT contact_id FROM enrolment WHERE program_id = ?1 AND finished_at IS NULL
                    UNION ALL
                    SELECT contact.id FROM contact
                    LEFT JOIN program_contact last ON last.program_id = ?1 AND last.contact_id = contact.id
                    WHERE ?2 = 1 OR last.contact_id IS NULL
                )
                SELECT count(*) AS contacts,
                       coalesce(sum(CASE WHEN v.value <> '' AND s.contact_id IS NULL THEN 1 ELSE 0 END), 0) AS messaged
                FROM going
                LEFT JOIN contact_value v ON v.contact_id = going.contact_id AND v.field_id = ?3
                LEFT JOIN suppression s ON s.page_id = ?4 AND s.contact_id = going.contact_id
                """, [programID, reenrol, node.optInFieldID, node.pageID])
            return RunPreview(
                program: summary.name, profile: summary.profile ?? "",
                sendsAs: summary.kind == .utility
                    ? "template \(summary.sendingTemplate?.name ?? "?")" : "tag \(summary.tag ?? "?")",
                contacts: row?["contacts"] ?? 0, messaged: row?["messaged"] ?? 0, reenrol: reenrol)
        }
    }
}
