import Foundation
import GRDB

public struct OptInIngestResult: Equatable, Sendable, EventIngestResult {
    public init() {}

    public var optedIn = 0
    /// The same PSID again, or an opt-in older than the one recorded (a replay out of order).
    public var unchanged = 0
    /// Opt-ins whose `ref` names no contact: how many, and the first few (a file of a million
    /// of them keeps ten, not a million).
    public var unknownContactCount = 0
    public var unknownContacts: [String] = []
    public var otherEvents = 0
    /// Checkbox opt-ins whose user_ref a PSID now replaces (`prior_message`).
    public var linked = 0
    /// Events for pages no profile is linked to, when the caller asked to skip them.
    public var unlinkedPages: [String] = []

    static let keptUnknownContacts = 10

    public mutating func add(_ other: OptInIngestResult) {
        optedIn += other.optedIn
        unchanged += other.unchanged
        unknownContactCount += other.unknownContactCount
        unknownContacts += other.unknownContacts.prefix(Self.keptUnknownContacts - min(Self.keptUnknownContacts, unknownContacts.count))
        otherEvents += other.otherEvents
        linked += other.linked
        for page in other.unlinkedPages where !unlinkedPages.contains(page) { unlinkedPages.append(page) }
    }
}

/// What an ingest does with an event for a page no profile is linked to: a file is refused whole
/// (the person can fix it); the webhook skips and logs them and records the rest.
public enum UnlinkedPages: Sendable {
    case refuse
    case skip
}

/// Opt-ins from `messaging_optins` webhook payloads (R4): the page picks the profile, `optin.ref`
/// names the contact by email, and the sender's PSID becomes the value of the profile's field.
public struct OptInService: Sendable {
    let workspace: Workspace

    public func ingest(jsonLines data: Data) throws -> OptInIngestResult {
        try ingest(chunks: data.asOneChunk)
    }

    /// A JSON-lines file, streamed (#26): memory is a batch of events whatever the file's size,
    /// and the whole file is still one transaction, kept all or nothing.
    public func ingest(file path: String) throws -> OptInIngestResult {
        try InputFile.withChunks(path) { _, next in try ingest(chunks: next) }
    }

    private func ingest(chunks next: () throws -> Data?) throws -> OptInIngestResult {
        try JSONLinesIngest.run(workspace.database, chunks: next) { db, batch in try Self.apply(db, batch, unlinkedPages: .refuse) }
    }

    public func ingest(_ events: [(line: Int, event: WebhookEvent)], unlinkedPages: UnlinkedPages = .refuse) throws -> OptInIngestResult {
        try workspace.database.transaction { db in try Self.apply(db, events, unlinkedPages: unlinkedPages) }
    }

    /// The opt-ins of `events`, inside the caller's transaction (the webhook's ingester applies a
    /// batch of POSTs and its spool position in one).
    static func apply(_ db: any StoreConnection, _ events: [(line: Int, event: WebhookEvent)], unlinkedPages: UnlinkedPages) throws
        -> OptInIngestResult
    {
        var result = OptInIngestResult()
        var fieldByPage: [String: Int64] = [:]
        for (line, event) in events {
            if case .userRefLinked(let pageID, let psid, let userRef, _) = event {
                // The PSID takes the user_ref's place in the field of the page's profile, and
                // in the page's sent rows, so watermark receipts find them.
                let linked = try db.exec(
                    """
                    UPDATE contact_value SET value = ?
                    WHERE value = ? AND field_id IN (SELECT optin_field_id FROM profile WHERE page_id = ?)
                    """, [psid, OptInValue.userRef(userRef), pageID])
                if linked > 0 {
                    result.linked += linked
                    try SendLedger.writing(db) { ledger in
                        try ledger.repoint(page: pageID, from: OptInValue.userRef(userRef), to: psid)
                    }
                } else {
                    result.unchanged += 1
                }
                continue
            }
            guard case .optin(let pageID, let psid, let ref, let timestamp) = event else {
                result.otherEvents += 1
                continue
            }
            let fieldID: Int64
            if let known = fieldByPage[pageID] {
                fieldID = known
            } else {
                guard let id = try db.value(Int64.self, "SELECT optin_field_id FROM profile WHERE page_id = ?", [pageID])
                else {
                    if unlinkedPages == .skip {
                        if !result.unlinkedPages.contains(pageID) { result.unlinkedPages.append(pageID) }
                        continue
                    }
                    throw DomainError("line \(line): page \(pageID) is not linked to any profile")
                }
                fieldByPage[pageID] = id
                fieldID = id
            }
            guard let contactID = try db.value(Int64.self, "SELECT id FROM contact WHERE \(db.sameEmail())", [ref]) else {
                result.unknownContactCount += 1
                if result.unknownContacts.count < OptInIngestResult.keptUnknownContacts { result.unknownContacts.append(ref) }
                continue
            }
            let current = try db.value(
                String.self, "SELECT value FROM contact_value WHERE contact_id = ? AND field_id = ?", [contactID, fieldID])
            let setAt = try db.value(Int64.self, "SELECT at FROM optin_time WHERE contact_id = ? AND field_id = ?", [contactID, fieldID])
            // The newest opt-in wins: an older one replayed (Facebook retries, out of order)
            // never takes the contact back to an earlier PSID.
            // A checkbox opt-in's user_ref never takes the place of a PSID the contact has.
            let downgrade =
                OptInValue.userRef(of: psid) != nil && current.map { !$0.isEmpty && OptInValue.userRef(of: $0) == nil } == true
            if current == psid || downgrade || (setAt.map { $0 > timestamp } ?? false) {
                result.unchanged += 1
                continue
            }
            try db.exec(
                """
                INSERT INTO contact_value (contact_id, field_id, value) VALUES (?, ?, ?)
                ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value
                """, [contactID, fieldID, psid])
            try db.exec(
                """
                INSERT INTO optin_time (contact_id, field_id, at) VALUES (?, ?, ?)
                ON CONFLICT (contact_id, field_id) DO UPDATE SET at = excluded.at
                """, [contactID, fieldID, timestamp])
            result.optedIn += 1
        }
        return result
    }
}
