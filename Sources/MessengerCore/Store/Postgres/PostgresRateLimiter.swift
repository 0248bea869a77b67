import Foundation

/// The per-page rate limit shared by every host that sends for the page (#30): at most `limit`
/// starts in any `window`, less `reserve` for each sender with a start in it, counted in the
/// database (`send_start`, `send_start_take`) on the database server's clock, so two hosts'
/// clocks never have to agree. What `RateLimiter` does with a file beside a SQLite database,
/// which only one host can reach.
///
/// One round trip a start, on a connection of its own with `synchronous_commit` off: the table
/// is unlogged, and a second's starts are worth nothing after a crash.
/// `GraphTransport` takes it through `SharedPostgresLimit` when `GraphConfig.sharedRateDatabase` is set.
public final class PostgresRateLimiter: @unchecked Sendable {
    private let connection: PostgresConnection
    private let lock = NSLock()
    private let limit: Int
    private let reserve: Int
    private let windowMicroseconds: Int64
    /// This sender's id in `send_start`: unique across hosts and processes.
    public let sender = UUID().uuidString

    public init(_ address: PostgresAddress, limit: Int, reserve: Int, window: TimeInterval) throws {
        connection = try PostgresConnection(address)
        try connection.execute("SET synchronous_commit = off")
        self.limit = max(1, limit)
        self.reserve = max(0, min(reserve, limit - 1))
        windowMicroseconds = Int64(window * 1_000_000)
    }

    /// Blocks until a message to `page` may start, and counts it. Returns when it was counted,
    /// in microseconds on the database's clock.
    @discardableResult
    public func acquire(page: String) throws -> Int64 {
        while true {
            let row = try lock.withLock {
                try connection.execute(
                    "SELECT wait_us, at_us FROM send_start_take($1, $2, CAST($3 AS integer), CAST($4 AS integer), $5)",
                    [.text(page), .text(sender), .int(Int64(limit)), .int(Int64(reserve)), .int(windowMicroseconds)]
                ).rows.first
            }
            guard let row, let wait = row[0].flatMap({ Int64($0) }), let at = row[1].flatMap({ Int64($0) }) else {
                throw DomainError("the database's rate limit answered nothing", isStorageFailure: true)
            }
            if wait == 0 { return at }
            Thread.sleep(forTimeInterval: Double(wait) / 1e6)
        }
    }
}
