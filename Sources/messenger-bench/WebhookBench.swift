import Foundation
import MessengerCore
import WebhookServer

// The webhook section of `make bench` (#25): a steady rate of signed POSTs (1-event and 50-event
// bodies) on kept-alive connections against the receiver in a child process, beside the floor: the
// same socket side answering 200 once it has read the request, with no signature, parsing or
// spool. Latency is counted from when each POST was due, not when it went, so a stall shows as
// the wait it caused. Then the same load while another process holds the database's write lock
// the whole time (an import of `contacts` contacts; the quick run holds the lock itself), and how
// long the ingester takes to drain what it left.

/// `messenger-bench --webhook-child MODE DB`: serves the webhook (`spool`) or the floor on
/// 127.0.0.1, prints its port, and serves until killed.
func runWebhookChild(mode: String, database: String) async throws -> Never {
    let ready: @Sendable (UInt16) -> Void = { port in FileHandle.standardOutput.write(Data("\(port)\n".utf8)) }
    if mode == "floor" {
        try await WebhookListener.runFloor(host: "127.0.0.1", port: 0, ready: ready)
        exit(0)
    }
    let options = WebhookService.Options(
        host: "127.0.0.1", port: 0, verifyToken: "bench-verify", appSecret: WebhookBench.secret,
        spoolFolder: WebhookSpool.folder(forDatabase: database))
    let service = try WebhookService(
        options: options, workspace: { Workspace(database: try AppDatabase(path: database, mode: .mustExist)) },
        now: { SystemClock().nowMillis() }, log: { _ in })
    try service.run(stop: CancelFlag(), ready: ready)
    exit(0)
}

/// `messenger-bench --hold-lock DB SECONDS`: holds the database's write lock (BEGIN IMMEDIATE),
/// prints "locked", lets go after SECONDS.
func runLockHolder(database: String, seconds: Double) throws -> Never {
    try AppDatabase.holdingWriteLock(path: database) {
        FileHandle.standardOutput.write(Data("locked\n".utf8))
        Thread.sleep(forTimeInterval: seconds)
    }
    exit(0)
}

/// A child of this binary (`arguments` pick its part), stopped when `body` returns; `body` gets
/// the first line it printed (a port, "locked") and the process.
func withChild<T>(_ arguments: [String], _ body: (String, Process) throws -> T) throws -> T {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    defer {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
    var text = ""
    while !text.contains("\n") {
        let data = pipe.fileHandleForReading.availableData
        if data.isEmpty { throw DomainError("\(arguments[0]) did not start") }
        text += String(decoding: data, as: UTF8.self)
    }
    return try body(text.trimmingCharacters(in: .whitespacesAndNewlines), process)
}

enum WebhookBench {
    static let secret = "bench-secret"

    struct Load {
        var sent = 0
        var ok = 0
        var seconds = 0.0
        var p50 = 0.0
        var p99 = 0.0
        var worst = 0.0
        var rate: Double { Double(sent) / seconds }
    }

    /// The request bytes of `count` POSTs, each with `events` delivery receipts for the bench's
    /// pages and PSIDs, signed.
    static func requests(count: Int, events: Int, contacts: Int) -> [[UInt8]] {
        let now = SystemClock().nowMillis()
        return (0..<count).map { n in
            let page = GraphBench.pages[n % GraphBench.pages.count]
            let messaging = (0..<events).map { e -> String in
                let psid = "\(page)\(100_000 + (n * events + e) % max(1, contacts))"
                return #"{"sender":{"id":"\#(psid)"},"recipient":{"id":"\#(page)"},"timestamp":\#(now),"delivery":{"watermark":\#(now)}}"#
            }
            let body = Array(
                #"{"object":"page","entry":[{"id":"\#(page)","time":\#(now),"messaging":[\#(messaging.joined(separator: ","))]}]}"#.utf8)
            let signature = WebhookReceiver.signature(of: Data(body), secret: secret)
            let head =
                "POST /webhook HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nX-Hub-Signature-256: \(signature)\r\nContent-Length: \(body.count)\r\n\r\n"
            return Array(head.utf8) + body
        }
    }

    /// `rate` POSTs a second for `seconds` (or until `until` says stop), spread over `connections`
    /// kept-alive connections, each sending its share on schedule.
    static func load(port: UInt16, requests: [[UInt8]], rate: Double, seconds: Double, connections: Int = 64) -> Load {
        let total = Int(rate * seconds)
        let latencies = LatencyBox()
        let start = DispatchTime.now().uptimeNanoseconds + 50_000_000
        let interval = 1e9 / rate
        let group = DispatchGroup()
        for c in 0..<connections {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                guard var socket = Client(port: port) else { return }
                var n = c
                var answer = [UInt8](repeating: 0, count: 4096)
                while n < total {
                    let due = start + UInt64(Double(n) * interval)
                    let now = DispatchTime.now().uptimeNanoseconds
                    if due > now { usleep(UInt32((due - now) / 1000)) }
                    let ok = socket.exchange(requests[n % requests.count], into: &answer)
                    if !ok { socket = Client(port: port) ?? socket }
                    latencies.add(Double(DispatchTime.now().uptimeNanoseconds - due) / 1e6, ok: ok)
                    n += connections
                }
            }
        }
        group.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var result = latencies.summary()
        result.seconds = elapsed
        return result
    }

    /// A blocking client on one kept-alive connection: writes a request, reads its answer (its
    /// head, then Content-Length bytes); true for a 2xx.
    struct Client {
        let fd: Int32

        init?(port: UInt16) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected != 0 {
                close(fd)
                return nil
            }
        }

        func exchange(_ request: [UInt8], into buffer: inout [UInt8]) -> Bool {
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
                return false
            }
            var got = 0
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, $0.count - got, 0) }
                guard n > 0 else { return false }
                got += n
                let text = String(decoding: buffer[..<got], as: UTF8.self)
                guard let end = text.range(of: "\r\n\r\n") else { continue }
                let head = text[..<end.lowerBound]
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + length <= got {
                    return head.hasPrefix("HTTP/1.1 2")
                }
            }
        }
    }

    final class LatencyBox: @unchecked Sendable {
        private let lock = NSLock()
        private var samples: [Double] = []
        private var good = 0
        func add(_ ms: Double, ok: Bool) {
            lock.withLock {
                samples.append(ms)
                if ok { good += 1 }
            }
        }
        func summary() -> Load {
            lock.withLock {
                let sorted = samples.sorted()
                guard !sorted.isEmpty else { return Load() }
                return Load(
                    sent: sorted.count, ok: good, seconds: 0, p50: sorted[sorted.count / 2],
                    p99: sorted[min(sorted.count - 1, sorted.count * 99 / 100)], worst: sorted[sorted.count - 1])
            }
        }
    }

    /// Waits for /healthz to say the ingester caught up; seconds it took (nil after `limit`).
    static func drained(port: UInt16, limit: Double) -> Double? {
        let started = Date()
        while Date().timeIntervalSince(started) < limit {
            if let client = Client(port: port) {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let request = Array("GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".utf8)
                _ = request.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                let n = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
                close(client.fd)
                if n > 0, String(decoding: buffer[..<n], as: UTF8.self).contains("caught up") {
                    return Date().timeIntervalSince(started)
                }
            }
            usleep(100_000)
        }
        return nil
    }

    static func figures(quick: Bool, contacts: Int, folder: URL) throws -> [Figure] {
        let rate = 2_000.0
        let seconds = quick ? 2.0 : 10.0
        let benchContacts = quick ? 1_000 : 20_000
        let own = folder.appendingPathComponent("webhook", isDirectory: true)
        try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
        let database = try GraphBench.database(contacts: benchContacts, folder: own)
        let path = try database.path
        var figures: [Figure] = []
        for events in [1, 50] {
            let requests = requests(count: 2_000, events: events, contacts: benchContacts)
            let floor = try withChild(["--webhook-child", "floor", path]) { port, _ in
                load(port: UInt16(port)!, requests: requests, rate: rate, seconds: seconds)
            }
            let ours = try withChild(["--webhook-child", "spool", path]) { port, _ in
                let result = load(port: UInt16(port)!, requests: requests, rate: rate, seconds: seconds)
                _ = drained(port: UInt16(port)!, limit: 60)
                return result
            }
            figures.append(
                Figure(
                    name: "webhook: \(Int(rate))/s, \(events)-event POSTs, p50 (worst: p99)", median: ours.p50, worst: ours.p99, unit: "ms",
                    peer: floor.p99, ratio: floor.p99 / max(0.001, ours.p99),
                    target: "p99 ≤ 50 ms, all 2xx (\(ours.ok)/\(ours.sent))", met: ours.p99 <= 50 && ours.ok == ours.sent))
            figures.append(
                Figure(
                    name: "webhook: \(events)-event POSTs answered a second", median: Double(ours.ok) / ours.seconds,
                    worst: Double(ours.ok) / ours.seconds, unit: "/s", peer: Double(floor.ok) / floor.seconds,
                    ratio: (Double(ours.ok) / ours.seconds) / max(1, Double(floor.ok) / floor.seconds), target: "the rate offered"))
        }
        // The write lock held the whole time by another process: an import of `contacts`
        // contacts (the full run), or a holder (the quick run, whose import would be too short).
        let requests = requests(count: 2_000, events: 1, contacts: benchContacts)
        let (locked, drain, lockSeconds) = try withChild(["--webhook-child", "spool", path]) { port, _ -> (Load, Double?, Double) in
            let port = UInt16(port)!
            let started = Date()
            if quick {
                return try withChild(["--hold-lock", path, String(seconds + 1)]) { _, holder in
                    let result = load(port: port, requests: requests, rate: rate, seconds: seconds)
                    holder.waitUntilExit()
                    return (result, drained(port: port, limit: 120), Date().timeIntervalSince(started))
                }
            }
            let csv = folder.appendingPathComponent("webhook-import.csv").path
            var text = "EMAIL,CITY\n"
            text.reserveCapacity(contacts * 40)
            for i in 0..<contacts { text += "bulk.\(i)@example.com,City\(i % 313)\n" }
            try text.write(toFile: csv, atomically: false, encoding: .utf8)
            let importer = Process()
            importer.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            importer.arguments = ["--import-csv", csv, "--db", path]
            importer.standardOutput = FileHandle.nullDevice
            try importer.run()
            // The load for as long as the import holds the lock.
            var all = Load()
            var parts: [Load] = []
            while importer.isRunning {
                let part = load(port: port, requests: requests, rate: rate, seconds: 2)
                parts.append(part)
            }
            importer.waitUntilExit()
            let took = Date().timeIntervalSince(started)
            all.sent = parts.reduce(0) { $0 + $1.sent }
            all.ok = parts.reduce(0) { $0 + $1.ok }
            all.seconds = parts.reduce(0) { $0 + $1.seconds }
            all.p50 = parts.map(\.p50).sorted().last ?? 0
            all.p99 = parts.map(\.p99).max() ?? 0
            return (all, drained(port: port, limit: 300), took)
        }
        figures.append(
            Figure(
                name: "webhook: 2000/s while \(quick ? "another process holds" : "a \(contacts)-contact import holds") the lock",
                median: locked.p50, worst: locked.p99, unit: "ms",
                target: "p99 ≤ 50 ms, all 2xx (\(locked.ok)/\(locked.sent)) over \(String(format: "%.0f", lockSeconds)) s",
                met: locked.p99 <= 50 && locked.ok == locked.sent))
        figures.append(
            Figure(
                name: "webhook: the lag it left, drained after", median: drain ?? -1, worst: drain ?? -1, unit: "s",
                target: "drained", met: drain != nil))
        return figures
    }
}
