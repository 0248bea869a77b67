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

/// A process that holds tokens never leaves them in a core dump, nor to ptrace by another process
/// of the same user (#26): `prctl(PR_SET_DUMPABLE, 0)`, looked up at run time (prctl is variadic
/// in C, which Swift can't call).
public enum ProcessSafety {
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    static let setDumpable: Int32 = 4
    static let getDumpable: Int32 = 3

    static var prctl: Prctl? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl").map { unsafeBitCast($0, to: Prctl.self) }
    }

    public static func becomeNonDumpable() { _ = prctl?(setDumpable, 0, 0, 0, 0) }

    /// Whether this process can be dumped now.
    public static var isDumpable: Bool { (prctl?(getDumpable, 0, 0, 0, 0) ?? 1) != 0 }
}
