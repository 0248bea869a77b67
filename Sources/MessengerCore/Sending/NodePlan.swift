import GRDB

/// What a run or a retry sends (#28): the program's Messenger node as it sends today, with
/// everything a batch needs to personalise each contact's message and to write its row. One type
/// for both; `load` checks the node can send (R12, R13) and refuses with the fix.
struct NodePlan: Sendable {
    let programID: Int64
    /// The `program_run` row holding the lease: set once the lease is taken (`Lease.take`).
    var runID: Int64 = 0
    let nodeID: Int64
    /// Whether a node follows the Messenger node: if not, a contact finishes there.
    let hasNext: Bool
    let profileID: Int64
    let pageID: String
    let pageToken: String?
    let optInFieldID: Int64
    /// The tag as sent, or the approved utility template (R13).
    let tagAPIName: String?
    let utility: UtilityTemplateRef?
    /// The text personalised for each contact: the node's, or the sending template version's.
    let template: MessageTemplate
    /// The template's fields in `fieldNames` order: the id to read each value from.
    let fieldIDs: [Int64?]
    let defaults: [String]

    /// The program's Messenger node as it sends today; refuses (one line, with the fix) a program
    /// that is not active, has no complete node, or can't send (R12, R13). `doing` names the
    /// refused act: "run" or "retry".
    static func load(_ db: any StoreConnection, programID: Int64, name: String, day: DayNumber, doing: String = "run") throws -> NodePlan {
        let status = try db.value(ProgramStatus.self, "SELECT status FROM program WHERE id = ?", [programID]) ?? .draft
        guard status == .active else {
            let why =
                "program \(Display.quoted(name)) is \(status.rawValue): activate it before \(doing == "run" ? "running" : "a \(doing)")"
            throw DomainError(why + " (`programs activate`)", inDashboard: why + " (a on Programs)")
        }
        guard
            let node = try db.row(
                """
                SELECT node.id, node.profile_id, node.message, node.send_as, message_tag.api_name,
                       profile.page_id, profile.optin_field_id, page.access_token,
                       EXISTS (SELECT 1 FROM node n2 WHERE n2.program_id = node.program_id AND n2.position = 2) AS has_next
                FROM node JOIN profile ON profile.id = node.profile_id
                JOIN page ON page.id = profile.page_id
                LEFT JOIN message_tag ON message_tag.name = node.tag
                WHERE node.program_id = ? AND node.position = 1 AND (node.send_as = ? OR message_tag.name IS NOT NULL)
                """, [programID, NodeKind.utility])
        else {
            throw DomainError("program \(Display.quoted(name)) has no complete Messenger node: set it with `programs node`")
        }
        // A retired tag (R12) or a template that is not approved (R13) refuses the run, with the fix.
        let program = try ProgramService.summary(db, programID: programID, today: day)
        try ProgramService.requireSendable(program, doing: doing)
        var utility: UtilityTemplateRef?
        var text: String = node["message"]
        if program.kind == .utility, let sending = program.sendingTemplate {
            text = sending.message
            let fieldNames = try MessageTemplate(text).fieldNames
            utility = UtilityTemplateRef(
                name: sending.name, language: sending.language,
                parameterNames: fieldNames.map(UtilityTemplateDraft.parameterName))
        }
        let template = try MessageTemplate(text)
        let fields = try template.fieldNames.map { fieldName -> (id: Int64?, defaultValue: String) in
            let row = try db.row("SELECT id, default_value FROM data_field WHERE name = ?", [fieldName])
            return (row?["id"], row?["default_value"] ?? "")
        }
        return NodePlan(
            programID: programID, nodeID: node["id"], hasNext: node["has_next"],
            profileID: node["profile_id"], pageID: node["page_id"], pageToken: node["access_token"],
            optInFieldID: node["optin_field_id"], tagAPIName: utility == nil ? node["api_name"] : nil, utility: utility,
            template: template, fieldIDs: fields.map(\.id), defaults: fields.map(\.defaultValue))
    }

    /// Whom a row of this node's page is about.
    func recipient(enrolment: Int64, node: Int64? = nil, contact: Int64, psid: String?) -> SendLedger.Recipient {
        SendLedger.Recipient(
            enrolmentID: enrolment, nodeID: node ?? nodeID, profileID: profileID, contactID: contact, pageID: pageID, psid: psid)
    }

    /// One LEFT JOIN per field the template uses, on the column `contact` holds the contact
    /// id in, and the values as columns: the SQL's shape comes from the field count only;
    /// the field ids are bound, in `fieldIDs` order (an unknown field as -1, matching nothing).
    func fieldJoins(contact: String) -> (joins: String, columns: String) {
        var joins = ""
        var columns = ""
        for i in fieldIDs.indices {
            joins += " LEFT JOIN contact_value f\(i) ON f\(i).contact_id = \(contact) AND f\(i).field_id = ?"
            columns += ", f\(i).value"
        }
        return (joins, columns)
    }

    enum Composed {
        case message(OutgoingMessage)
        /// Over 2,000 characters after personalisation: not sent.
        case tooLong(String)
    }

    /// One contact's message: the node's text (or the sending template's) with their values.
    func compose(enrolmentID: Int64, psid: String, values: [String?], attempt: Int = 1) -> Composed {
        let text = template.personalise(values: values, defaults: defaults)
        // Counting characters walks grapheme clusters; a message of at most 2,000 UTF-8
        // bytes can't be longer than 2,000 characters, so most skip the walk.
        if text.utf8.count > MessageTemplate.maxLength && text.count > MessageTemplate.maxLength { return .tooLong(text) }
        var message: OutgoingMessage
        if let utility {
            // Each parameter as the text shows it: the contact's value, else the default.
            let parameters = values.indices.map { i in values[i].flatMap { $0.isEmpty ? nil : $0 } ?? defaults[i] }
            message = OutgoingMessage(
                pageID: pageID, pageToken: pageToken, recipientPSID: psid, utility: utility,
                parameters: parameters, text: text, enrolmentID: enrolmentID, nodeID: nodeID)
        } else {
            message = OutgoingMessage(
                pageID: pageID, pageToken: pageToken, recipientPSID: psid,
                tag: tagAPIName ?? "", text: text, enrolmentID: enrolmentID, nodeID: nodeID)
        }
        message.attempt = attempt
        return .message(message)
    }
}
