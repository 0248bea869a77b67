import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A thread's share of the CPU when it competes (#25): the webhook's ingester runs at nice 10, so
/// on two cores the receiver answering Facebook (and the dashboard) come first, and the
/// ingester catches up with what is left, as its lag says (`/healthz`, the metrics).
public enum ThreadPriority {
    /// Lowers the calling thread's priority by `nice` (Linux: each thread has its own nice value;
    /// `gettid` is looked up at run time, as Swift's Glibc module doesn't carry it). False when it
    /// can't.
    @discardableResult
    public static func lowerCurrentThread(nice: Int32) -> Bool {
        typealias GetTID = @convention(c) () -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gettid") else { return false }
        let tid = unsafeBitCast(symbol, to: GetTID.self)()
        return setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), nice) == 0
    }
}
