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
final class PostgresCluster: @unchecked Sendable {
    let folder: URL
    let port: Int
    let passfile: String
    let user = "messenger"
    private let server: Process

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// The newest PostgreSQL of Debian's (`/usr/lib/postgresql/N/bin`); `make deps` installs it.
    static func binaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw Failed(description: "PostgreSQL is not installed (/usr/lib/postgresql): run make deps")
        }
        return root.appendingPathComponent("\(newest)/bin")
    }

    init() throws {
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
    func address(database: String = "postgres") throws -> PostgresAddress {
        try PostgresAddress("postgresql://\(user)@127.0.0.1:\(port)/\(database)?passfile=\(passfile)")
    }

    /// A fast shutdown (SIGINT: the open sessions end), then the folder goes.
    func stop() {
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

/// A test class with its own private cluster: started before its first test, stopped after its
/// last (also when tests fail).
class PostgresTestCase: XCTestCase {
    nonisolated(unsafe) static var clusters: [ObjectIdentifier: PostgresCluster] = [:]

    override class func setUp() {
        super.setUp()
        clusters[ObjectIdentifier(self)] = try? PostgresCluster()
    }

    override class func tearDown() {
        clusters.removeValue(forKey: ObjectIdentifier(self))?.stop()
        super.tearDown()
    }

    /// This class's cluster; fails the test when it didn't start.
    var cluster: PostgresCluster {
        get throws { try XCTUnwrap(Self.clusters[ObjectIdentifier(Self.self)], "the test cluster didn't start") }
    }
}
