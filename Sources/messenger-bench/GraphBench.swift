import FlyingFox
import Foundation
import MessengerCore

// The Graph section of `make bench`: runs through the real GraphTransport against a fake Send API
// with Facebook's latency, in a child process this bench starts and stops, each page measured
// beside Meta's limit of 300 messages a second.

/// `messenger-bench --fake-send-api MS`: answers every POST after MS milliseconds with a message
/// id; prints its port, then serves until killed.
func runFakeSendAPI(latencyMS: Int) async throws -> Never {
    struct Handler: HTTPHandler {
        let latency: UInt64
        func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
            _ = try await request.bodyData
            try await Task.sleep(nanoseconds: latency)
            return HTTPResponse(
                statusCode: .ok, headers: [.contentType: "application/json"],
                body: Data(#"{"recipient_id":"1","message_id":"m_fake"}"#.utf8))
        }
    }
    let server = HTTPServer(
        address: try .inet(ip4: "127.0.0.1", port: 0), timeout: 60, logger: .disabled,
        handler: Handler(latency: UInt64(latencyMS) * 1_000_000))
    let serving = Task { try await server.run() }
    try await server.waitUntilListening(timeout: 5)
    if case .ip4(_, let port) = await server.listeningAddress {
        FileHandle.standardOutput.write(Data("\(port)\n".utf8))
    }
    try await serving.value
    exit(0)
}

enum GraphBench {
    static let pages = ["7001", "7002", "7003"]

    /// A fake Send API child with this latency, stopped when `body` returns.
    static func withFake<T>(latencyMS: Int, _ body: (String) throws -> T) throws -> T {
        try withChild(["--fake-send-api", String(latencyMS)]) { port, _ in try body("http://127.0.0.1:" + port) }
    }

    /// Three pages, a profile and a program each, every contact opted in to all three. With
    /// `pagesOfPrograms`, programs A, B… on those pages instead.
    static func database(contacts: Int, folder: URL, pagesOfPrograms: [String]? = nil) throws -> AppDatabase {
        let database = try AppDatabase(path: folder.appendingPathComponent("graph.db").path, mode: .createIfMissing)
        let workspace = Workspace(database: database)
        let accounts = [
            "data": pages.map { ["id": $0, "name": "Page \($0)", "tasks": ["MANAGE", "MESSAGING"], "access_token": "TOKEN-\($0)-BENCH"] }
        ]
        try workspace.pages.importAccounts(try JSONSerialization.data(withJSONObject: accounts))
        var fields: [String] = []
        for page in pages { fields.append(try workspace.profiles.create(name: "Profile \(page)", pageID: page).summary.optInField) }
        var csv = "EMAIL,FIRSTNAME," + fields.joined(separator: ",") + "\n"
        for i in 0..<contacts { csv += "c\(i)@example.com,N\(i)," + pages.map { "\($0)\(100_000 + i)" }.joined(separator: ",") + "\n" }
        try workspace.contacts.importCSV(Data(csv.utf8))
        let programs =
            pagesOfPrograms.map { list in list.enumerated().map { (String(UnicodeScalar(UInt8(65 + $0.offset))), $0.element) } }
            ?? pages.map { ($0, $0) }
        for (name, page) in programs {
            try workspace.programs.create(name: "Program \(name)")
            try workspace.programs.setUtilityNode(
                program: "Program \(name)", profile: "Profile \(page)",
                message: "Hi @FIRSTNAME@, your order has shipped today.", acceptFlags: false)
            try workspace.programs.activate(name: "Program \(name)")
        }
        return database
    }

    /// Messages a second for each program run at once, each in its own thread, and the CPU
    /// seconds this process spent per 1,000 messages.
    static func run(_ programs: [String], database: AppDatabase, base: String, separateSenders: Bool = false) throws -> (
        rates: [Double], cpuPerThousand: Double
    ) {
        var settings = try GraphConfig(baseURL: base, version: "v25.0")
        settings.sharedRateFolder = (database.path as NSString).deletingLastPathComponent
        let config = settings
        let shared = Workspace(database: database, transport: GraphTransport(config: config))
        let cpuBefore = cpuSeconds()
        let rates = RateBox(count: programs.count)
        let group = DispatchGroup()
        for (i, program) in programs.enumerated() {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                // Separate senders: a transport (and so a limiter) each, as two processes have; only
                // the rate file beside the database is shared.
                let workspace = separateSenders ? Workspace(database: database, transport: GraphTransport(config: config)) : shared
                let started = DispatchTime.now().uptimeNanoseconds
                guard let summary = try? ProgramRunner(workspace: workspace).run(program: program, reenrol: true) else { return }
                rates.set(i, Double(summary.sent) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9), sent: summary.sent)
            }
        }
        group.wait()
        let sent = Double(rates.sent)
        return (rates.all, sent > 0 ? (cpuSeconds() - cpuBefore) / sent * 1000 : 0)
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    final class RateBox: @unchecked Sendable {
        private let lock = NSLock()
        private var rates: [Double]
        private var total = 0
        init(count: Int) { rates = Array(repeating: 0, count: count) }
        func set(_ i: Int, _ rate: Double, sent: Int) {
            lock.lock()
            rates[i] = rate
            total += sent
            lock.unlock()
        }
        var all: [Double] {
            lock.lock()
            defer { lock.unlock() }
            return rates
        }
        var sent: Int {
            lock.lock()
            defer { lock.unlock() }
            return total
        }
    }

    static func figures(quick: Bool, folder: URL) throws -> [Figure] {
        let perPage = quick ? 1_200 : 4_500
        var out: [Figure] = []
        for latency in quick ? [200] : [50, 200, 400] {
            let database = try Self.database(
                contacts: perPage, folder: folder.appendingPathComponent("graph-\(latency)", isDirectory: true).creatingFolder())
            let (rates, cpu) = try withFake(latencyMS: latency) { base in try run(["Program 7001"], database: database, base: base) }
            let target = latency == 200 ? 0.95 : 0.90
            out.append(
                Figure(
                    name: "graph: 1 page at \(latency) ms latency (\(perPage) messages)", median: rates[0], worst: rates[0], unit: "/s",
                    peer: 300, ratio: rates[0] / 300, target: "≥ \(Int(target * 300))/s of Meta's 300", met: rates[0] >= target * 300))
            if latency == 200 {
                out.append(
                    Figure(
                        name: "graph: CPU seconds per 1,000 messages (200 ms)", median: cpu, worst: cpu, unit: "s", target: "this process"))
            }
        }
        let database = try Self.database(
            contacts: quick ? 600 : perPage, folder: folder.appendingPathComponent("graph-pages", isDirectory: true).creatingFolder())
        let (rates, _) = try withFake(latencyMS: 200) { base in try run(pages.map { "Program \($0)" }, database: database, base: base) }
        let slowest = rates.min() ?? 0
        out.append(
            Figure(
                name: "graph: 3 pages at once, 200 ms, slowest page", median: slowest, worst: slowest, unit: "/s",
                peer: 300, ratio: slowest / 300, target: "≥ 285/s each (total \(Int(rates.reduce(0, +)))/s)", met: slowest >= 285))
        // Two senders for one page (two programs on it, with their own limiters as two processes
        // have): together they stay under the page's 300 and both finish.
        let onePage = try Self.database(
            contacts: quick ? 600 : perPage / 2, folder: folder.appendingPathComponent("graph-shared", isDirectory: true).creatingFolder(),
            pagesOfPrograms: ["7001", "7001"])
        let (pair, _) = try withFake(latencyMS: 200) { base in
            try run(["Program A", "Program B"], database: onePage, base: base, separateSenders: true)
        }
        let together = pair.reduce(0, +)
        out.append(
            Figure(
                name: "graph: 2 senders on one page, 200 ms, together", median: together, worst: together, unit: "/s",
                peer: 300, ratio: together / 300,
                target:
                    "one page's 300 shared, not 2 × 300: ≤ 330/s (\(pair.map { String(Int($0)) }.joined(separator: " + ")); a first second may start 300 at once)",
                met: together <= 330 && pair.allSatisfy { $0 > 0 }))
        return out
    }
}

extension URL {
    func creatingFolder() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
