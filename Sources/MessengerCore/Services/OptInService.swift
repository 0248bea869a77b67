import Foundation
import GRDB

public struct OptInIngestResult: Equatable, Sendable {
    public var optedIn = 0
    public var unchanged = 0
    public var unknownContacts: [String] = []
    public var otherEvents = 0
}

/// Opt-ins from `messaging_optins` webhook payloads (R4): the page picks the profile, `optin.ref`
/// names the contact by email, and the sender's PSID becomes the value of the profile's field.
public struct OptInService: Sendable {
    let workspace: Workspace

    public func ingest(jsonLines data: Data) throws -> OptInIngestResult {
        try ingest(try WebhookPayload.parse(lines: data))
    }

    public func ingest(_ events: [(line: Int, event: WebhookEvent)]) throws -> OptInIngestResult {
        try workspace.database.write { db in
            var result = OptInIngestResult()
            var fieldByPage: [String: Int64] = [:]
            for (line, event) in events {
                guard case .optin(let pageID, let psid, let ref, _) = event else {
                    result.otherEvents += 1
                    continue
                }
                let fieldID: Int64
                if let known = fieldByPage[pageID] {
                    fieldID = known
                } else {
                    guard let id = try Int64.fetchOne(db, sql: "SELECT optin_field_id FROM profile WHERE page_id = ?", arguments: [pageID]) else {
                        throw DomainError("line \(line): page \(pageID) is not linked to any profile")
                    }
                    fieldByPage[pageID] = id
                    fieldID = id
                }
                guard let contactID = try Int64.fetchOne(db, sql: "SELECT id FROM contact WHERE email = ?", arguments: [ref]) else {
                    result.unknownContacts.append(ref)
                    continue
                }
                let current = try String.fetchOne(db, sql: "SELECT value FROM contact_value WHERE contact_id = ? AND field_id = ?", arguments: [contactID, fieldID])
                if current == psid {
                    result.unchanged += 1
                    continue
                }
                try db.execute(sql: """
                    INSERT INTO contact_value (contact_id, field_id, value) VALUES (?, ?, ?)
                    ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value
                    """, arguments: [contactID, fieldID, psid])
                result.optedIn += 1
            }
            return result
        }
    }
}
