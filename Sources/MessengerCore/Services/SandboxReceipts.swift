import Foundation
import GRDB

/// Facebook's part in the sandbox, played by `serve` (#25): a message sent is delivered a few
/// seconds later, and some are read later, as webhook POSTs through the same spool and ingester
/// as real ones, so a demo's statistics move as a real page's do. Deterministic: every message is
/// delivered `deliverAfter` after it was sent; a PSID reads its messages (`readAfter` after they
/// were sent) when its hash says so, 6 PSIDs in 10.
///
/// Only sends made since the service started (less a minute) are played: the demo's history
/// keeps the receipts it was built with.
public final class SandboxReceipts: @unchecked Sendable {
    public static let deliverAfter: Int64 = 3_000
    public static let readAfter: Int64 = 30_000
    let workspace: Workspace
    private var delivered: Int64
    private var read: Int64

    public init(workspace: Workspace, since: Int64) {
        self.workspace = workspace
        delivered = since
        read = since
    }

    /// Whether this PSID reads what it gets (FNV-1a of its bytes: the same on every run).
    public static func reads(_ psid: String) -> Bool {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in psid.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash % 10 < 6
    }

    /// The webhook bodies of the receipts due at `now` that were not played yet: one body a page
    /// and kind, at most 100 events each, with a watermark (the newest send it covers).
    public func due(now: Int64) throws -> [Data] {
        let calendar = workspace.calendar
        let deliverUpTo = now - Self.deliverAfter
        let readUpTo = now - Self.readAfter
        let (from, readFrom) = (delivered, read)
        guard deliverUpTo > from || readUpTo > readFrom else { return [] }
        let rows = try workspace.database.snapshot { db -> [StoreRow] in
            let first = calendar.day(ofMillis: min(from, readFrom))
            let last = calendar.day(ofMillis: now)
            return try db.rows(
                """
                SELECT s.page_id, s.psid, s.at FROM profile p
                JOIN send s ON s.profile_id = p.id AND s.day BETWEEN ? AND ? AND s.outcome = 'sent'
                WHERE s.at > ? AND s.at <= ? AND s.psid IS NOT NULL
                """, [first, last, min(from, readFrom), max(deliverUpTo, readUpTo)])
        }
        var deliveries: [String: [String: Int64]] = [:]
        var reads: [String: [String: Int64]] = [:]
        for row in rows {
            let (page, psid, at): (String, String, Int64) = (row["page_id"], row["psid"], row["at"])
            if at > from && at <= deliverUpTo { deliveries[page, default: [:]][psid] = max(deliveries[page]?[psid] ?? 0, at) }
            if at > readFrom && at <= readUpTo && Self.reads(psid) { reads[page, default: [:]][psid] = max(reads[page]?[psid] ?? 0, at) }
        }
        if deliverUpTo > from { delivered = deliverUpTo }
        if readUpTo > readFrom { read = readUpTo }
        var bodies: [Data] = []
        for (kind, byPage, after) in [("delivery", deliveries, Self.deliverAfter), ("read", reads, Self.readAfter)] {
            for (page, psids) in byPage.sorted(by: { $0.key < $1.key }) {
                let events = psids.sorted { $0.key < $1.key }.map { psid, at -> [String: Any] in
                    ["sender": ["id": psid], "recipient": ["id": page], "timestamp": at + after, kind: ["watermark": at]]
                }
                for start in stride(from: 0, to: events.count, by: 100) {
                    let entry: [String: Any] = [
                        "id": page, "time": now, "messaging": Array(events[start..<min(events.count, start + 100)]),
                    ]
                    bodies.append(try JSONSerialization.data(withJSONObject: ["object": "page", "entry": [entry]], options: [.sortedKeys]))
                }
            }
        }
        return bodies
    }
}
