import Foundation
import GRDB

public struct ReceiptIngestResult: Equatable, Sendable, EventIngestResult {
    public init() {}

    public var delivered = 0
    public var read = 0
    public var otherEvents = 0
    /// Pages no profile is linked to, when the caller asked to skip their events.
    public var unlinkedPages: [String] = []

    public mutating func add(_ other: ReceiptIngestResult) {
        delivered += other.delivered
        read += other.read
        otherEvents += other.otherEvents
        for page in other.unlinkedPages where !unlinkedPages.contains(page) { unlinkedPages.append(page) }
    }
}

/// Delivery and read receipts (R6): by watermark, every message to that person sent at or before
/// it is marked; the daily rollups move in the same transaction. Ingesting twice changes nothing.
/// The person is found as the contact whose opt-in field for the page's profile holds the PSID.
public struct ReceiptService: Sendable {
    let workspace: Workspace

    public func ingest(jsonLines data: Data) throws -> ReceiptIngestResult {
        try ingest(chunks: data.asOneChunk)
    }

    /// A JSON-lines file, streamed as `OptInService.ingest(file:)` is: bounded memory, one
    /// transaction.
    public func ingest(file path: String) throws -> ReceiptIngestResult {
        try InputFile.withChunks(path) { _, next in try ingest(chunks: next) }
    }

    private func ingest(chunks next: () throws -> Data?) throws -> ReceiptIngestResult {
        try JSONLinesIngest.run(workspace.database, chunks: next) { db, batch in try Self.apply(db, batch, unlinkedPages: .refuse) }
    }

    public func ingest(_ events: [(line: Int, event: WebhookEvent)], unlinkedPages: UnlinkedPages = .refuse) throws -> ReceiptIngestResult {
        try workspace.database.transaction { db in try Self.apply(db, events, unlinkedPages: unlinkedPages) }
    }

    /// The receipts of `events`, inside the caller's transaction.
    static func apply(_ db: any StoreConnection, _ events: [(line: Int, event: WebhookEvent)], unlinkedPages: UnlinkedPages) throws
        -> ReceiptIngestResult
    {
        var result = ReceiptIngestResult()
        // page → (profile, its opt-in field); (page, PSID) → the contacts opted in with it.
        var profiles: [String: (id: Int64, field: Int64)] = [:]
        let contactsByPSID = "SELECT contact_id FROM contact_value WHERE field_id = ? AND value = ?"
        // A contact's sends are found through its enrolments (see Schema v5): per program, its
        // last enrolment in `program_contact`, then back along `previous_id`, each enrolment's
        // send rows by (enrolment, node). On SQLite the CROSS JOIN and the unary + keep the
        // planner on that path; PostgreSQL has neither for this (no CROSS JOIN … ON, no unary +
        // on text) and finds the path itself. The PSID on the row keeps the match exact. One walk
        // per contact and event gives every send a receipt can still change (not read yet; read
        // implies delivered); the watermark and the message ids pick among them.
        let (join, plus) = db.engine == .sqlite ? ("CROSS JOIN", "+") : ("JOIN", "")
        let openSends = """
            WITH RECURSIVE chain(id) AS (
                SELECT last_enrolment_id FROM program_contact
                WHERE program_id IN (SELECT id FROM program) AND contact_id = ?
                UNION ALL
                SELECT e.previous_id FROM chain JOIN enrolment e ON e.id = chain.id WHERE e.previous_id IS NOT NULL
            )
            SELECT s.id, s.profile_id, s.day, s.at, s.delivered_at, s.message_id
            FROM chain \(join) send s ON s.enrolment_id = chain.id
            WHERE \(plus)s.profile_id = ? AND \(plus)s.outcome = 'sent' AND s.psid = ? AND s.read_at IS NULL
            """
        try SendLedger.writing(db) { ledger in
            for (line, event) in events {
                let pageID = event.pageID
                if !event.isReceipt {
                    result.otherEvents += 1
                    continue
                }
                let profile: (id: Int64, field: Int64)
                if let known = profiles[pageID] {
                    profile = known
                } else {
                    guard
                        let row = try db.row("SELECT id, optin_field_id FROM profile WHERE page_id = ?", [pageID])
                    else {
                        if unlinkedPages == .skip {
                            if !result.unlinkedPages.contains(pageID) { result.unlinkedPages.append(pageID) }
                            continue
                        }
                        throw DomainError("line \(line): page \(pageID) is not linked to any profile")
                    }
                    profile = (row[0], row[1])
                    profiles[pageID] = profile
                }
                switch event {
                case .delivery(_, let psid, let mids, let watermark, let timestamp):
                    let mids = Set(mids)
                    for contact in try db.rowsPrepared(contactsByPSID, [profile.field, psid]).map { $0[0] as Int64 } {
                        for row in try db.rowsPrepared(openSends, [contact, profile.id, psid])
                        where (row["delivered_at"] as Int64?) == nil && (row["at"] <= watermark || mids.contains(row["message_id"] ?? "")) {
                            try ledger.delivered(send: row["id"], profile: row["profile_id"], day: row["day"], at: timestamp)
                            result.delivered += 1
                        }
                    }
                case .read(_, let psid, let watermark, let timestamp):
                    for contact in try db.rowsPrepared(contactsByPSID, [profile.field, psid]).map { $0[0] as Int64 } {
                        for row in try db.rowsPrepared(openSends, [contact, profile.id, psid]) where row["at"] <= watermark {
                            let wasDelivered = (row["delivered_at"] as Int64?) != nil
                            try ledger.read(
                                send: row["id"], profile: row["profile_id"], day: row["day"], at: timestamp, wasDelivered: wasDelivered)
                            if !wasDelivered { result.delivered += 1 }
                            result.read += 1
                        }
                    }
                case .optin, .templateStatus, .userRefLinked:
                    break
                }
            }
        }
        return result
    }
}
