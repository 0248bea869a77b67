import Foundation
import MessengerCore
import XCTest

/// A private PostgreSQL cluster for the tests (#30): `initdb` in a temporary folder, `postgres`
/// on 127.0.0.1 on a free port, as a user that isn't root (PostgreSQL refuses to run as root:
/// `nobody` when the tests run as root). Password logins over TCP (scram-sha-256), the password
/// in a passfile as a user would keep it.
///
/// Stopped by `stop()` (the test class's tearDown, also when its tests fail); if the test
/// process dies first, the server gets SIGKILL with it (`setpriv --pdeathsig`), and its backends
/// end when they see their postmaster gone. Nothing is left running either way.
public final class PostgresCluster: @unchecked Sendable {
    public let folder: URL
    public let port: Int
    public let passfile: String
    public let user = "messenger"
    private let server: Process

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// The newest PostgreSQL of Debian's (`/usr/lib/postgresql/N/bin`); `make deps` installs it.
    public static func binaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw Failed(description: "PostgreSQL is not installed (/usr/lib/postgresql): run make deps")
        }
        return root.appendingPathComponent("\(newest)/bin")
    }

    public init() throws {
        let bin = try Self.binaries()
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("md-pg-\(UUID().uuidString.prefix(8))")
        let data = folder.appendingPathComponent("data")
        let sockets = folder.appendingPathComponent("sockets")
        try FileManager.default.createDirectory(at: sockets, withIntermediateDirectories: true)
        let password = UUID().uuidString
        let passwordFile = folder.appendingPathComponent("password")
        try Data((password + "\n").utf8).write(to: passwordFile)
        let asRoot = getuid() == 0
        if asRoot {
            for path in [folder.path, sockets.path, passwordFile.path] {
                try FileManager.default.setAttributes([.ownerAccountName: "nobody"], ofItemAtPath: path)
            }
        }
        // As nobody (when root), then the parent-death signal: set after the change of user,
        // which would clear it.
        func command(_ tool: String, _ arguments: [String]) -> (String, [String]) {
            let run = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", bin.appendingPathComponent(tool).path] + arguments
            return asRoot
                ? ("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + run)
                : (run[0], Array(run.dropFirst()))
        }
        let (initdb, initdbArguments) = command(
            "initdb",
            [
                "-D", data.path, "-U", user, "--pwfile=\(passwordFile.path)", "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--no-instructions",
            ])
        try Self.run(initdb, initdbArguments, log: folder.appendingPathComponent("initdb.log"))
        // A free port: bound and let go; another process taking it in between fails the start.
        port = try Self.freePort()
        passfile = folder.appendingPathComponent("pgpass").path
        try Data("127.0.0.1:\(port):*:\(user):\(password)\n".utf8).write(to: URL(fileURLWithPath: passfile))
        chmod(passfile, 0o600)
        let (postgres, arguments) = command(
            "postgres", ["-D", data.path, "-p", String(port), "-k", sockets.path, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on"])
        server = Process()
        server.executableURL = URL(fileURLWithPath: postgres)
        server.arguments = arguments
        let log = folder.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        server.standardOutput = try FileHandle(forWritingTo: log)
        server.standardError = try FileHandle(forWritingTo: log)
        try server.run()
        // Ready when a connection is taken (30 s at most; it takes about a second).
        let deadline = Date().addingTimeInterval(30)
        while true {
            if (try? PostgresConnection(address())) != nil { break }
            guard server.isRunning, Date() < deadline else {
                let said = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                stop()
                throw Failed(description: "the test cluster didn't start: \(said.suffix(400))")
            }
            usleep(50_000)
        }
    }

    /// `postgresql://messenger@127.0.0.1:PORT/DB`, the password from the passfile.
    public func address(database: String = "postgres") throws -> PostgresAddress {
        try PostgresAddress("postgresql://\(user)@127.0.0.1:\(port)/\(database)?passfile=\(passfile)")
    }

    /// A fast shutdown (SIGINT: the open sessions end), then the folder goes.
    public func stop() {
        if server.isRunning {
            server.interrupt()
            server.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    private static func run(_ tool: String, _ arguments: [String], log: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "\(tool) failed: \(((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(400))")
        }
    }

    private static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failed(description: "no socket for a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else { throw Failed(description: "no free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The engines a store test runs on (#30).
public enum TestEngine: String, CaseIterable, Sendable {
    case sqlite = "SQLite"
    case postgres = "PostgreSQL"
}

/// A test class whose tests run on both engines (#30): each test's body once on a temporary
/// SQLite file, once on a database of its own on the class's private PostgreSQL cluster
/// (started before the class's first test, stopped after its last, also when tests fail). A
/// failure says which engine it was on.
///
/// One test method runs both, rather than a subclass a engine: XCTest on Linux finds only the
/// tests a class declares itself, so an inherited test would silently not run.
open class StoreTestCase: XCTestCase {
    /// The engines this class's tests run on.
    open class var engines: [TestEngine] { TestEngine.allCases }

    nonisolated(unsafe) static var clusters: [ObjectIdentifier: Result<PostgresCluster, any Error>] = [:]
    /// The engine the running test's body is on, for its failures' messages.
    public private(set) var engine: TestEngine?

    override open class func setUp() {
        super.setUp()
        if engines.contains(.postgres) { clusters[ObjectIdentifier(self)] = Result { try PostgresCluster() } }
    }

    override open class func tearDown() {
        if case .success(let cluster) = clusters.removeValue(forKey: ObjectIdentifier(self)) { cluster.stop() }
        super.tearDown()
    }

    /// This class's cluster; fails the test (with why) when it didn't start.
    public var cluster: PostgresCluster {
        get throws {
            guard let started = Self.clusters[ObjectIdentifier(Self.self)] else {
                throw PostgresCluster.Failed(description: "\(Self.self) has no PostgreSQL cluster")
            }
            return try started.get()
        }
    }

    /// A new, empty database on `engine`, migrated.
    public func makeDatabase(_ engine: TestEngine) throws -> AppDatabase {
        switch engine {
        case .sqlite:
            return try AppDatabase.temporary()
        case .postgres:
            let cluster = try cluster
            let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
            try PostgresConnection(cluster.address()).execute("CREATE DATABASE \(name)")
            // The run's side files in the cluster's folder, which goes with it.
            let state = cluster.folder.appendingPathComponent("state-\(name)").path
            return try AppDatabase(postgres: cluster.address(database: name), stateFolder: state)
        }
    }

    /// `body` once on each of the class's engines, each time on a new database.
    public func onEachEngine(_ body: (AppDatabase) throws -> Void) throws {
        defer { engine = nil }
        for next in Self.engines {
            engine = next
            do {
                try body(try makeDatabase(next))
            } catch {
                throw PostgresCluster.Failed(description: "on \(next.rawValue): \(error)")
            }
        }
    }

    override open func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int, expected: Bool) {
        let on = engine.map { "on \($0.rawValue): " } ?? ""
        super.recordFailure(withDescription: on + description, inFile: filePath, atLine: lineNumber, expected: expected)
    }
}

/// A test class of PostgreSQL's own parts, on its class's private cluster.
open class PostgresTestCase: StoreTestCase {
    override open class var engines: [TestEngine] { [.postgres] }
}
