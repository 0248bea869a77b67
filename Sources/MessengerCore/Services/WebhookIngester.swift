import Foundation
import GRDB

/// What one batch of spooled POSTs did.
public struct IngestBatch: Equatable, Sendable {
    public var posts = 0
    public var events = 0
    public var optedIn = 0
    public var delivered = 0
    public var read = 0
    public var templates = 0
    /// Events of kinds the product doesn't use.
    public var skipped = 0
    /// Spooled bodies that turned out not to be webhooks, or that a rule refused: logged, dropped.
    public var refused = 0
    /// Events for pages no profile is linked to.
    public var unlinkedPages: [String] = []
    /// Events by kind (opt-in, delivery, read, template, user_ref), for the metrics.
    public var kinds: [String: Int] = [:]
}

/// Applies the webhook spool to the database behind the receiver (#25), the one writer of
/// `webhook_spool`. Each batch of records (at most 500 POSTs, about 4 MB) is applied in one write
/// transaction together with the spool position after its last record, so a crash at any point
/// applies a POST neither twice nor never: either the events and the position are committed, or
/// neither is and the batch is read again. (The events are idempotent too: a replay changes
/// nothing.) A locked or failing database makes the batch wait with back-off; the receiver goes on
/// answering meanwhile. Segments wholly behind the position are deleted.
public final class WebhookIngester: @unchecked Sendable {
    public let spool: WebhookSpool
    private let openWorkspace: @Sendable () throws -> Workspace
    private let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var workspace: Workspace?
    private var position: SpoolPosition?
    /// Totals since start, for the metrics.
    public private(set) var totals = IngestBatch()
    public private(set) var batches = 0
    public private(set) var lastError: String?

    public init(
        spool: WebhookSpool, workspace: @escaping @Sendable () throws -> Workspace, log: @escaping @Sendable (String) -> Void
    ) {
        self.spool = spool
        openWorkspace = workspace
        self.log = log
    }

    /// The database, opened on first use (it may be locked by a migration at start).
    private func opened() throws -> Workspace {
        if let workspace { return workspace }
        let opened = try openWorkspace()
        workspace = opened
        return opened
    }

    /// Where the next record to apply starts, as committed.
    public func committedPosition() throws -> SpoolPosition {
        if let position { return position }
        let workspace = try opened()
        let stored = try workspace.database.snapshot { db in
            try db.row(#"SELECT segment, "offset" FROM webhook_spool WHERE spool = ?"#, [spool.id])
        }
        let at = stored.map { SpoolPosition(segment: $0["segment"], offset: $0["offset"]) } ?? .start
        position = at
        return at
    }

    /// Applies one batch; nil when the spool has nothing new. Throws when the database can't take
    /// it (the batch is read again next time).
    public func ingestBatch() throws -> IngestBatch? {
        try lock.withLock {
            let from = try committedPosition()
            let (records, next) = spool.read(from: from)
            guard !records.isEmpty || next != from else { return nil }
            let workspace = try opened()
            let batch: IngestBatch
            do {
                batch = try apply(records, next: next, workspace: workspace)
            } catch let error as DomainError where !error.isStorageFailure {
                // A rule refused one POST of the batch: apply them one by one, dropping that one.
                var one = IngestBatch()
                for record in records {
                    do {
                        let b = try apply([record], next: record.next, workspace: workspace)
                        Self.add(b, to: &one)
                    } catch let error as DomainError where !error.isStorageFailure {
                        try commit(record.next, workspace: workspace)
                        one.refused += 1
                        log("ingest: a POST refused: \(Display.safe(error.message))")
                    }
                }
                try commit(next, workspace: workspace)
                batch = one
            }
            position = next
            spool.removeSegments(before: next)
            Self.add(batch, to: &totals)
            batches += 1
            if batch.posts > 0 { log(Self.describe(batch)) }
            return batch
        }
    }

    private func commit(_ next: SpoolPosition, workspace: Workspace) throws {
        try workspace.database.transaction { db in try store(db, next) }
        position = next
    }

    /// This spool's position (each receiver's own row: on PostgreSQL two hosts each spool what
    /// they answered into one database).
    private func store(_ db: any StoreConnection, _ next: SpoolPosition) throws {
        // "offset" quoted: a column name to both engines, a reserved word to PostgreSQL unquoted.
        try db.exec(
            """
            INSERT INTO webhook_spool (spool, segment, "offset") VALUES (?, ?, ?)
            ON CONFLICT (spool) DO UPDATE SET segment = excluded.segment, "offset" = excluded."offset"
            """, [spool.id, next.segment, next.offset])
    }

    private func apply(_ records: [SpoolRecord], next: SpoolPosition, workspace: Workspace) throws -> IngestBatch {
        var batch = IngestBatch()
        var events: [(line: Int, event: WebhookEvent)] = []
        var lastEvent: [String: Int64] = [:]
        for record in records {
            batch.posts += 1
            guard let parsed = try? WebhookPayload.parseCounted(body: record.body) else {
                // The receiver checked it before spooling it; a body that fails now is logged.
                batch.refused += 1
                log("ingest: a spooled POST at \(record.start) is not a webhook payload; dropped")
                continue
            }
            batch.skipped += parsed.skipped
            for event in parsed.events {
                events.append((events.count + 1, event))
                lastEvent[event.pageID] = max(lastEvent[event.pageID] ?? 0, record.receivedAt)
                batch.kinds[event.kind, default: 0] += 1
            }
        }
        batch.events = events.count
        let (optins, receipts, templates) = try workspace.database.transaction { db in
            let optins = try OptInService.apply(db, events, unlinkedPages: .skip)
            let receipts = try ReceiptService.apply(db, events, unlinkedPages: .skip)
            let templates = try TemplateService.apply(db, events)
            for (page, at) in lastEvent { try PageService.noteEvents(db, pageIDs: [page], at: at) }
            try self.store(db, next)
            return (optins, receipts, templates)
        }
        batch.optedIn = optins.optedIn
        batch.delivered = receipts.delivered
        batch.read = receipts.read
        batch.templates = templates.updated
        batch.unlinkedPages = Set(optins.unlinkedPages + receipts.unlinkedPages).sorted()
        return batch
    }

    static func add(_ b: IngestBatch, to total: inout IngestBatch) {
        total.posts += b.posts
        total.events += b.events
        total.optedIn += b.optedIn
        total.delivered += b.delivered
        total.read += b.read
        total.templates += b.templates
        total.skipped += b.skipped
        total.refused += b.refused
        total.unlinkedPages = Set(total.unlinkedPages + b.unlinkedPages).sorted()
        for (kind, n) in b.kinds { total.kinds[kind, default: 0] += n }
    }

    /// Applies everything spooled so far (tests, and a service stopping). Throws as `ingestBatch`.
    @discardableResult
    public func drain() throws -> IngestBatch {
        var total = IngestBatch()
        while let batch = try ingestBatch() { Self.add(batch, to: &total) }
        return total
    }

    /// How far behind the receiver the database is: spooled bytes not applied yet, and when the
    /// oldest of them was received (ms); nil when it is caught up.
    public func lag() -> (bytes: Int64, oldestReceivedAt: Int64?) {
        guard let from = lock.withLock({ position }) else { return (spool.bytes, nil) }
        let (records, _) = spool.read(from: from, maxRecords: 1)
        let behind = max(0, spool.bytes - from.offset)
        return (records.isEmpty ? 0 : behind, records.first?.receivedAt)
    }

    /// Ingests until `stop` is set, then finishes the batch in hand and returns. A database that
    /// refuses (locked by an import, busy, failing) is waited for with back-off, up to 2 s between
    /// tries; the first refusal and then one every 30 s are logged, and catching up is.
    public func run(until stop: CancelFlag, idleWait: Double = 0.02) {
        // Answering Facebook comes first: on two cores the receiver must not wait for the CPU
        // this thread spends on the database (R18).
        ThreadPriority.lowerCurrentThread(nice: 10)
        var delay = 0.05
        var failingSince: Date?
        var lastLogged = Date.distantPast
        while !stop.isSet {
            let began = Date()
            do {
                guard try ingestBatch() != nil else {
                    _ = stop.wait(idleWait)
                    continue
                }
                if let since = failingSince {
                    log("ingest: caught up with the database after \(Int(Date().timeIntervalSince(since))) s")
                    failingSince = nil
                    lastError = nil
                }
                delay = 0.05
            } catch {
                let text = (error as? DomainError)?.message ?? "\(error)"
                lastError = text
                if failingSince == nil { failingSince = began }
                if Date().timeIntervalSince(lastLogged) >= 30 {
                    log("ingest: waiting for the database (\(Display.safe(text))); the webhook goes on answering")
                    lastLogged = Date()
                }
                _ = stop.wait(delay)
                delay = min(2, delay * 2)
            }
        }
    }

    static func describe(_ b: IngestBatch) -> String {
        var line =
            "ingest: \(b.posts) POST\(b.posts == 1 ? "" : "s"), \(b.events) event\(b.events == 1 ? "" : "s"): opt-ins \(b.optedIn), delivered \(b.delivered), read \(b.read), templates \(b.templates), skipped \(b.skipped) of other kinds"
        if b.refused > 0 { line += ", refused \(b.refused)" }
        if !b.unlinkedPages.isEmpty {
            line += "; skipped events for pages no profile is linked to: " + b.unlinkedPages.joined(separator: ", ")
        }
        return line
    }
}

extension WebhookEvent {
    /// The metrics' name of its kind.
    public var kind: String {
        switch self {
        case .optin: return "optin"
        case .userRefLinked: return "user_ref"
        case .delivery: return "delivery"
        case .read: return "read"
        case .templateStatus: return "template_status"
        }
    }
}
