import Foundation
import GRDB

/// A contact suppressed for a page (R15): since when, and which answer did it.
public struct SuppressedContact: Equatable, Sendable {
    public let email: String
    public let pageID: String
    public let pageName: String
    public let contactID: Int64
    public let since: DayNumber
    public let code: String

    /// "suppressed since 2026-11-20 (551)", the warning later runs give.
    public func reason(_ calendar: AccountCalendar) -> String {
        Suppression.reason(since: calendar.string(for: since), code: code)
    }
}

/// Lists and lifts suppressions (R15). Lifting is the person's call: the contact turned messages
/// back on, say. The next run asks Facebook again; a 551 then suppresses them again.
public struct SuppressionService: Sendable {
    let workspace: Workspace

    /// The suppressions of a contact (every page), or of a page (every contact), or all of them.
    public func list(email: String? = nil, pageID: String? = nil) throws -> [SuppressedContact] {
        try workspace.database.snapshot { db in
            var conditions: [String] = []
            var arguments: StoreArguments = []
            if let email {
                conditions.append(db.sameEmail("contact.email"))
                arguments += [try Self.email(email)]
            }
            if let pageID {
                conditions.append("suppression.page_id = ?")
                arguments += [pageID]
            }
            return try Self.fetch(db, where: conditions.isEmpty ? "TRUE" : conditions.joined(separator: " AND "), arguments)
        }
    }

    /// The suppressions `condition` (literal SQL over `suppression` and `contact`, values bound)
    /// picks, with the page's name, by email and page.
    static func fetch(_ db: any StoreConnection, where condition: String, _ arguments: StoreArguments) throws -> [SuppressedContact] {
        try db.rows(
            """
            SELECT contact.email, suppression.page_id, COALESCE(page.name, suppression.page_id) AS page_name,
                   suppression.contact_id, suppression.day, suppression.error_code, suppression.error_subcode
            FROM suppression JOIN contact ON contact.id = suppression.contact_id
            LEFT JOIN page ON page.id = suppression.page_id
            WHERE \(condition) ORDER BY contact.email, page_name
            """, arguments
        ).map { row in
            SuppressedContact(
                email: row["email"], pageID: row["page_id"], pageName: row["page_name"], contactID: row["contact_id"],
                since: row["day"], code: Suppression.codeText(code: row["error_code"], subcode: row["error_subcode"]))
        }
    }

    static func email(_ text: String) throws -> String {
        let email = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !email.isEmpty, email.count <= ContactService.maxEmailLength else { throw DomainError("give the contact's email") }
        return email
    }

    /// Lifts a contact's suppression for one page, or (no page) for every page. Returns how many
    /// were lifted; a contact that isn't suppressed is an error, so a typo never passes silently.
    @discardableResult
    public func lift(email: String, pageID: String? = nil) throws -> Int {
        let email = try Self.email(email)
        return try workspace.database.transaction { db in
            guard let contactID = try db.value(Int64.self, "SELECT id FROM contact WHERE \(db.sameEmail())", [email]) else {
                throw DomainError("no contact \(Display.quoted(email))")
            }
            let lifted = try SendLedger.writing(db) { ledger in try ledger.lift(contact: contactID, page: pageID) }
            guard lifted > 0 else {
                throw DomainError("\(Display.quoted(email)) is not suppressed" + (pageID.map { " for page \($0)" } ?? ""))
            }
            return lifted
        }
    }
}
