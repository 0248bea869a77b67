import Foundation
import GRDB

public struct ReceiptIngestResult: Equatable, Sendable {
    public var delivered = 0
    public var read = 0
    public var otherEvents = 0
}

/// Delivery and read receipts (R6): by watermark, every message to that person sent at or before
/// it is marked; the daily rollups move in the same transaction. Ingesting twice changes nothing.
public struct ReceiptService: Sendable {
    let workspace: Workspace

    public func ingest(jsonLines data: Data) throws -> ReceiptIngestResult {
        try ingest(try WebhookPayload.parse(lines: data))
    }

    public func ingest(_ events: [(line: Int, event: WebhookEvent)]) throws -> ReceiptIngestResult {
        try workspace.database.write { db in
            var result = ReceiptIngestResult()
            var rollup = Rollup()
            var knownPages = Set<String>()
            let pending = try db.cachedStatement(sql: """
                SELECT id, profile_id, day, delivered_at FROM send INDEXED BY send_receipts
                WHERE page_id = ? AND psid = ? AND outcome = 'sent' AND at <= ? AND read_at IS NULL
                """)
            let byMid = try db.cachedStatement(sql: """
                SELECT id, profile_id, day, delivered_at FROM send INDEXED BY send_receipts
                WHERE page_id = ? AND psid = ? AND outcome = 'sent' AND delivered_at IS NULL AND message_id = ?
                """)
            let markDelivered = try db.cachedStatement(sql: "UPDATE send SET delivered_at = ?, status = 'delivered' WHERE id = ?")
            let markRead = try db.cachedStatement(sql: """
                UPDATE send SET read_at = ?, delivered_at = COALESCE(delivered_at, ?), status = 'read' WHERE id = ?
                """)
            for (line, event) in events {
                let pageID = event.pageID
                if case .optin = event { result.otherEvents += 1; continue }
                if !knownPages.contains(pageID) {
                    guard try Bool.fetchOne(db, sql: "SELECT 1 FROM profile WHERE page_id = ?", arguments: [pageID]) == true else {
                        throw DomainError("line \(line): page \(pageID) is not linked to any profile")
                    }
                    knownPages.insert(pageID)
                }
                switch event {
                case .delivery(_, let psid, let mids, let watermark, let timestamp):
                    var rows = try Row.fetchAll(pending, arguments: [pageID, psid, watermark]).filter { ($0["delivered_at"] as Int64?) == nil }
                    for mid in mids { rows += try Row.fetchAll(byMid, arguments: [pageID, psid, mid]) }
                    var done = Set<Int64>()
                    for row in rows where done.insert(row["id"]).inserted {
                        try markDelivered.execute(arguments: [timestamp, row["id"]])
                        rollup.add(profile: row["profile_id"], day: row["day"], outcome: "delivered")
                        result.delivered += 1
                    }
                case .read(_, let psid, let watermark, let timestamp):
                    for row in try Row.fetchAll(pending, arguments: [pageID, psid, watermark]) {
                        try markRead.execute(arguments: [timestamp, timestamp, row["id"]])
                        if (row["delivered_at"] as Int64?) == nil {
                            rollup.add(profile: row["profile_id"], day: row["day"], outcome: "delivered")
                            result.delivered += 1
                        }
                        rollup.add(profile: row["profile_id"], day: row["day"], outcome: "read")
                        result.read += 1
                    }
                case .optin:
                    break
                }
            }
            try rollup.write(db)
            return result
        }
    }
}
