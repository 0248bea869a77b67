import Foundation

/// A flag one thread sets (Esc, Ctrl-C, quitting) and another checks between steps or sleeps on:
/// a run's batches, a device login's polls.
public final class CancelFlag: @unchecked Sendable {
    private let condition = NSCondition()
    private var value = false

    public init() {}

    public var isSet: Bool { condition.withLock { value } }

    public func set() {
        condition.withLock {
            value = true
            condition.broadcast()
        }
    }

    /// Sleeps `seconds`, or less when the flag is set meanwhile; false when it is set.
    public func wait(_ seconds: Double) -> Bool {
        condition.withLock {
            let deadline = Date().addingTimeInterval(seconds)
            while !value, condition.wait(until: deadline) {}
            return !value
        }
    }
}
