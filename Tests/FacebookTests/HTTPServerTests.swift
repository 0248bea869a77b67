import FlyingFox
import Foundation
import XCTest

@testable import WebhookServer

/// The webhook's own HTTP/1.1 reader (#25): the requests RFC 9112 says to reject are 400, and a
/// connection carries request after request (keep-alive, pipelining) under its limits.
final class HTTPServerTests: XCTestCase {
    func head(_ text: String) throws -> GuardedHTTPServer.Head {
        try GuardedHTTPServer.parseHead(ArraySlice(Array(text.utf8)))
    }

    func testRequestsRFC9112RejectsAreRefused() {
        let base = "POST /webhook HTTP/1.1\r\nHost: x\r\n"
        let refused: [(String, String)] = [
            (base + "Content-Length: 28\r\nContent-Length: 28", "two Content-Length headers"),
            (base + "Content-Length: 28, 28", "a list"),
            (base + "Content-Length : 28", "whitespace before the colon"),
            (base + "Content-Length: +28", "a sign"),
            (base + "Content-Length: -1", "negative"),
            (base + "Content-Length: 0x1c", "hex"),
            (base + "Content-Length: 99999999999999999999", "overflow"),
            (base + "X-A: b\r\n c", "a folded line"),
            (base + "X-A: b\r\n\tc", "a folded line with a tab"),
            ("POST /webhook HTTP/1.9\r\nHost: x", "HTTP/1.9"),
            ("POST /webhook HTTP/2.0\r\nHost: x", "HTTP/2.0"),
            ("POST  /webhook HTTP/1.1\r\nHost: x", "two spaces"),
            ("POST /webhook\r\nHost: x", "no version"),
            ("POST /webhook HTTP/1.1", "HTTP/1.1 without Host"),
            (base + "Host: y", "a second Host"),
            (base + "X-Hub-Signature-256: sha256=aa\r\nx-hub-signature-256: sha256=bb", "a second signature"),
            (base + "X-A: b\rc", "a bare CR"),
            (base + "X-A: b\nc", "a bare LF"),
            (base + "X-A: b\u{0}c", "a NUL"),
            (base + "X A: b", "a space in a name"),
            (base + ": b", "no name"),
            (base + "X-A", "no colon"),
            ("P\u{1B}ST /webhook HTTP/1.1\r\nHost: x", "a control byte in the method"),
        ]
        for (text, why) in refused {
            XCTAssertThrowsError(try head(text), why) { error in
                XCTAssertEqual((error as? GuardedHTTPServer.Refusal)?.status.code, 400, why)
            }
        }
        XCTAssertThrowsError(try head(base + "Transfer-Encoding: chunked")) { error in
            XCTAssertEqual((error as? GuardedHTTPServer.Refusal)?.status.code, 411)
        }
    }

    func testWellFormedRequestsAreRead() throws {
        let h = try head("POST /webhook?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 28\r\nX-Hub-Signature-256: sha256=ab\r\nX-B:  c \t")
        XCTAssertEqual(h.method, "POST")
        XCTAssertEqual(h.target, "/webhook?a=1")
        XCTAssertEqual(h.length, 28)
        XCTAssertEqual(h.headers[HTTPHeader("x-b")], "c", "optional whitespace around a value is not part of it")
        XCTAssertTrue(h.keepAlive, "HTTP/1.1 keeps the connection by default")
        XCTAssertFalse(try head("POST / HTTP/1.1\r\nHost: x\r\nConnection: close").keepAlive)
        XCTAssertFalse(try head("POST / HTTP/1.0").keepAlive, "HTTP/1.0 closes unless asked")
        XCTAssertTrue(try head("POST / HTTP/1.0\r\nConnection: keep-alive").keepAlive)
        XCTAssertTrue(try head("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue").expectsContinue)
    }

    /// The reaper reads the clock before it looks at the connections; one may enter a phase on
    /// another thread in between. That must count as no time, not trap (it ended the process
    /// under the benchmark's load before this).
    func testAPhaseBegunAfterTheClockWasReadCountsAsNoTime() {
        XCTAssertEqual(GuardedHTTPServer.seconds(from: 2_000_000_000, to: 1_000_000_000), 0)
        XCTAssertEqual(GuardedHTTPServer.seconds(from: 1_000_000_000, to: 3_500_000_000), 2.5)
    }

    /// Meta reuses connections: three requests on one, the last two pipelined in one write.
    func testOneConnectionCarriesRequestAfterRequest() async throws {
        let server = GuardedHTTPServer(
            log: { _ in }, handler: { request in HTTPResponse(statusCode: .ok, body: Data("seen \(request.path)".utf8)) })
        let port = PortBox()
        let ready = DispatchSemaphore(value: 0)
        let serving = Task.detached {
            try await server.run(host: "127.0.0.1", port: 0) { bound in
                port.value = bound
                ready.signal()
            }
        }
        defer { serving.cancel() }
        try await blocking { _ = ready.wait(timeout: .now() + 10) }
        let answers = try await blocking { [port] in
            try RawClient(port: port.value).exchange([
                "GET /one HTTP/1.1\r\nHost: x\r\n\r\n",
                "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            ])
        }
        XCTAssertEqual(answers.filter { $0.hasPrefix("HTTP/1.1 200") }.count, 3, answers.joined(separator: "\n---\n"))
        XCTAssertTrue(
            answers.joined().contains("seen /one") && answers.joined().contains("seen /two") && answers.joined().contains("seen /three"))
        XCTAssertTrue(answers[0].contains("Connection: keep-alive"))
        XCTAssertTrue(answers[2].contains("Connection: close"), "the last one asked to close")
    }

    /// CI saw it (2026-12-01): with a flood of unfinished bodies holding the total at its cap, a
    /// signed POST whose small body came whole in one read was picked as "the slowest body" and
    /// dropped unanswered. A body that completes is handed on, never shed.
    func testABodyThatArrivesWholeIsNeverShedForTheFlood() async throws {
        var limits = GuardedHTTPServer.Limits()
        limits.maxBufferedBodyBytes = 1000
        let server = GuardedHTTPServer(
            limits: limits, log: { _ in }, handler: { request in HTTPResponse(statusCode: .ok, body: Data("seen \(request.path)".utf8)) })
        let port = PortBox()
        let ready = DispatchSemaphore(value: 0)
        let serving = Task.detached {
            try await server.run(host: "127.0.0.1", port: 0) { bound in
                port.value = bound
                ready.signal()
            }
        }
        defer { serving.cancel() }
        try await blocking { _ = ready.wait(timeout: .now() + 10) }
        // The flood: 1,000 bytes of a 5,000-byte body, at the cap, and then nothing.
        let flood = try RawClient(port: port.value).open()
        defer { close(flood) }
        let head = "POST /flood HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "x", count: 1000)
        _ = Array(head.utf8).withUnsafeBytes { send(flood, $0.baseAddress, $0.count, 0) }
        let deadline = Date().addingTimeInterval(10)
        while server.bufferedBodyBytes < 1000 && Date() < deadline { try await Task.sleep(nanoseconds: 1_000_000) }
        XCTAssertEqual(server.bufferedBodyBytes, 1000, "the flood's bytes are held")
        // A one-byte body, whole in its first read: over the cap it would be the slowest by rate
        // (1 byte a millisecond against the flood's 1,000 bytes in less than a second).
        let answers = try await blocking { [port] in
            try RawClient(port: port.value).exchange(["POST /signed HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\n{"]
            )
        }
        XCTAssertEqual(answers.count, 1, "answered, not dropped")
        XCTAssertTrue(answers.first?.hasPrefix("HTTP/1.1 200") == true && answers.first?.contains("seen /signed") == true, "\(answers)")
        XCTAssertEqual(server.bufferedBodyBytes, 1000, "the whole body was never held against the cap")
    }
}

/// A client on a plain socket: writes each chunk, reads every answer (by Content-Length) until
/// the server closes the connection.
struct RawClient {
    let port: UInt16

    /// A connected socket with a 5 s receive timeout; the caller closes it.
    func open() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    func exchange(_ writes: [String]) throws -> [String] {
        let fd = try open()
        defer { close(fd) }
        var received: [UInt8] = []
        for text in writes {
            _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            // The answer to the first write before the next goes (keep-alive, not only pipelining).
            if text == writes.first {
                while !String(decoding: received, as: UTF8.self).contains("seen") {
                    let more = try chunk(fd)
                    if more.isEmpty { return [] }  // closed unanswered
                    received += more
                }
            }
        }
        while true {
            let more = try chunk(fd)
            if more.isEmpty { break }
            received += more
        }
        return String(decoding: received, as: UTF8.self).components(separatedBy: "HTTP/1.1 ").filter { !$0.isEmpty }
            .map { "HTTP/1.1 " + $0 }
    }

    private func chunk(_ fd: Int32) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n >= 0 else { throw POSIXError(.ETIMEDOUT) }
        return Array(buffer.prefix(n))
    }
}
