import Foundation
import GRDB

/// What an ingest of webhook events adds up: results of batches sum to the file's.
public protocol EventIngestResult {
    init()
    /// Events of kinds this ingest doesn't act on.
    var otherEvents: Int { get set }
    mutating func add(_ other: Self)
}

/// A JSON-lines file of webhook POST bodies, applied as `optins ingest` and `receipts ingest` do
/// (#26): lines are read as they come (`WebhookPayload.forEachLine`) and applied a thousand
/// events at a time, all inside one write transaction. Memory is a batch's worth whatever the
/// file's size, and a bad line anywhere still keeps nothing: the transaction rolls back.
enum JSONLinesIngest {
    static let batchSize = 1_000

    static func run<Result: EventIngestResult>(
        _ database: AppDatabase, chunks next: () throws -> Data?,
        apply: (any StoreConnection, [(line: Int, event: WebhookEvent)]) throws -> Result
    ) throws -> Result {
        try database.transaction { db in
            var result = Result()
            var batch: [(line: Int, event: WebhookEvent)] = []
            func flush() throws {
                result.add(try apply(db, batch))
                batch.removeAll(keepingCapacity: true)
            }
            try WebhookPayload.forEachLine(chunks: next) { line, parsed in
                result.otherEvents += parsed.skipped
                for event in parsed.events { batch.append((line, event)) }
                if batch.count >= batchSize { try flush() }
            }
            try flush()
            return result
        }
    }
}
