/// A refusal a person can act on. The command line prints `message` on one line and exits 1;
/// the dashboard shows it as a toast. Whatever raised it has changed nothing.
public struct DomainError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    /// The store failed (busy, full, I/O): nothing was decided against the input, and trying
    /// again later may work. A webhook answers 503 for it, so Facebook delivers again.
    public let isStorageFailure: Bool
    /// The same refusal for the dashboard, when its fix is a key there rather than a command
    /// (#27: the dashboard named `programs convert` where `u` does it).
    public let inDashboard: String?

    public init(_ message: String, isStorageFailure: Bool = false, inDashboard: String? = nil) {
        self.message = message
        self.isStorageFailure = isStorageFailure
        self.inDashboard = inDashboard
    }

    public var description: String { message }
}
