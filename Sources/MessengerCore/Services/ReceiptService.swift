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

    /// The query of a contact's sends a receipt can still change: (contact, profile, PSID).
    static func openSends(_ engine: StoreEngine) -> String {
        // A contact's sends are found through its enrolments (see Schema v5): per program, its
        // last enrolment in `program_contact`, then back along `previous_id`, each enrolment's
        // send rows by (enrolment, node). The PSID on the row keeps the match exact. One walk per
        // contact and event gives every send a receipt can still change (not read yet; read
        // implies delivered); the watermark and the message ids pick among them.
        // Each engine is held to that path: on SQLite by the CROSS JOIN and the unary +; on
        // PostgreSQL by `= ANY (ARRAY(…))` (probes the key per program, where `IN (SELECT …)`
        // scanned all of `program_contact`) and a LATERAL subquery by enrolment alone behind
        // `OFFSET 0` (a nested loop on `(enrolment_id, node_id)`, the conditions kept outside it:
        // a statement prepared while `send` was small otherwise kept a plan that walked the
        // profile's sent rows in `send_by_outcome`). Measured at 3,000 contacts: 8.7–17 ms a walk
        // before, 0.13–0.4 ms after.
        let chain = """
            WITH RECURSIVE chain(id) AS (
                SELECT last_enrolment_id FROM program_contact
                WHERE program_id \(engine == .sqlite ? "IN (SELECT id FROM program)" : "= ANY (ARRAY(SELECT id FROM program))")
                  AND contact_id = ?
                UNION ALL
                SELECT e.previous_id FROM chain JOIN enrolment e ON e.id = chain.id WHERE e.previous_id IS NOT NULL
            )
            SELECT s.id, s.profile_id, s.day, s.at, s.delivered_at, s.message_id

            """
        return engine == .sqlite
            ? chain + """
                FROM chain CROSS JOIN send s ON s.enrolment_id = chain.id
                WHERE +s.profile_id = ? AND +s.outcome = 'sent' AND s.psid = ? AND s.read_at IS NULL
                """
            : chain + """
                FROM chain CROSS JOIN LATERAL (SELECT * FROM send s WHERE s.enrolment_id = chain.id OFFSET 0) s
                WHERE s.profile_id = ? AND s.outcome = 'sent' AND s.psid = ? AND s.read_at IS NULL
                """
    }

    /// The receipts of `events`, inside the caller's transaction.
    static func apply(_ db: any StoreConnection, _ events: [(line: Int, event: WebhookEvent)], unlinkedPages: UnlinkedPages) throws
        -> ReceiptIngestResult
    {
        var result = ReceiptIngestResult()
        // page → (profile, its opt-in field); (page, PSID) → the contacts opted in with it.
        var profiles: [String: (id: Int64, field: Int64)] = [:]
        let contactsByPSID = "SELECT contact_id FROM contact_value WHERE field_id = ? AND value = ?"
        let openSends = Self.openSends(db.engine)
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
