/// A refusal a person can act on. The command line prints `message` on one line and exits 1;
/// the dashboard shows it as a toast. Whatever raised it has changed nothing.
public struct DomainError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
