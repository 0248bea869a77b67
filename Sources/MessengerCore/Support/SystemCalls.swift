import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The few glibc calls Swift's Glibc module doesn't carry (`gettid`, `malloc_trim`, and `prctl`,
/// which is variadic in C), looked up once by name at run time.
enum CFunction {
    static func lookup<T>(_ name: String, as type: T.Type) -> T? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: type) }
    }
}

/// A thread's share of the CPU when it competes (#25): the webhook's ingester runs at nice 10, so
/// on two cores the receiver answering Facebook (and the dashboard) come first, and the
/// ingester catches up with what is left, as its lag says (`/healthz`, the metrics).
public enum ThreadPriority {
    private static let gettid = CFunction.lookup("gettid", as: (@convention(c) () -> Int32).self)

    /// Lowers the calling thread's priority by `nice` (Linux: each thread has its own nice
    /// value). False when it can't.
    @discardableResult
    public static func lowerCurrentThread(nice: Int32) -> Bool {
        guard let tid = gettid?() else { return false }
        return setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), nice) == 0
    }
}

/// What a process does to keep what it holds: no core dumps of its tokens (#26), and memory a
/// flood left handed back (#25).
public enum ProcessSafety {
    private static let prctl = CFunction.lookup("prctl", as: (@convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32).self)
    private static let mallocTrim = CFunction.lookup("malloc_trim", as: (@convention(c) (Int) -> Int32).self)
    static let setDumpable: Int32 = 4
    static let getDumpable: Int32 = 3

    /// `prctl(PR_SET_DUMPABLE, 0)`: no core dump, and no ptrace by another process of the same
    /// user, of a process that read page tokens and secrets.
    public static func becomeNonDumpable() { _ = prctl?(setDumpable, 0, 0, 0, 0) }

    /// Whether this process can be dumped now.
    public static var isDumpable: Bool { (prctl?(getDumpable, 0, 0, 0, 0) ?? 1) != 0 }

    /// glibc's `malloc_trim(0)`: the pages a flood of request bodies left in malloc's arenas go
    /// back to the system (glibc keeps them otherwise: 1.64 GB stayed after 2,000 such sockets
    /// closed).
    public static func trimMalloc() { _ = mallocTrim?(0) }
}
