import Foundation

/// Where a PostgreSQL database is: `postgresql://USER@HOST:PORT/DB` (or `postgres://`), as
/// `--db`, `MESSENGER_DASH_DB` or `database_url` give it (#30).
///
/// A password never comes in the address: it would be in the shell's history, in `ps` and in
/// the process's environment for anyone on the host to read. libpq reads it from `PGPASSFILE`
/// (or `~/.pgpass`, `chmod 600`), so the address is refused when it carries one, in its user part
/// or as a `password` parameter.
public struct PostgresAddress: Equatable, Sendable, CustomStringConvertible {
    /// The address as given (no password in it), which libpq parses itself.
    public let uri: String
    public let user: String?
    public let host: String?
    public let port: Int?
    public let database: String?

    /// Whether `text` names PostgreSQL rather than a database file: a `postgresql://` or
    /// `postgres://` address (a file path never starts so).
    public static func names(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://")
    }

    public init(_ text: String) throws {
        guard Self.names(text), let parts = URLComponents(string: text) else {
            throw DomainError(
                "a PostgreSQL address is postgresql://USER@HOST:PORT/DATABASE, not \(Display.quoted(Display.safe(text, limit: 80)))")
        }
        if parts.password != nil || (parts.queryItems ?? []).contains(where: { $0.name.lowercased() == "password" }) {
            // The password is not repeated: the line may be logged or shown to others.
            throw DomainError(
                "a PostgreSQL address must not carry a password (it would show in ps and the shell's history): put it in PGPASSFILE or ~/.pgpass (chmod 600)"
            )
        }
        guard let name = parts.path.split(separator: "/").first.map(String.init), !name.isEmpty,
            parts.path.split(separator: "/").count == 1
        else {
            throw DomainError("a PostgreSQL address names its database: postgresql://USER@HOST:PORT/DATABASE")
        }
        uri = text
        user = parts.user.flatMap { $0.isEmpty ? nil : $0 }
        host = parts.host.flatMap { $0.isEmpty ? nil : $0 }
        port = parts.port
        database = name.removingPercentEncoding ?? name
    }

    /// The address as it may be shown: it holds no secret.
    public var description: String { uri }
}
