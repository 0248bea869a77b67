import Foundation
import XCTest
import TerminalKit

/// Golden screens: a buffer's text compared with `Golden/NAME.txt` beside the calling test file.
/// Re-record after a deliberate change with `RECORD_GOLDEN=1 swift test` (which fails for every
/// screen it changed), then review the diff in git before committing.
public func assertGolden(_ name: String, _ buffer: Buffer, file: StaticString = #filePath, line: UInt = #line) {
    let folder = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Golden")
    let path = folder.appendingPathComponent(name + ".txt")
    let actual = buffer.lines().joined(separator: "\n") + "\n"
    if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let previous = try? String(contentsOf: path, encoding: .utf8)
        try? actual.write(to: path, atomically: true, encoding: .utf8)
        // Recording never passes: a re-record must be a reviewed diff, not a silent green run.
        if previous != actual {
            XCTFail("recorded \(name).txt (it changed): review the diff in git, then run the tests without RECORD_GOLDEN", file: file, line: line)
        }
        return
    }
    guard let expected = try? String(contentsOf: path, encoding: .utf8) else {
        XCTFail("no golden file \(path.path): record it with RECORD_GOLDEN=1 swift test", file: file, line: line)
        return
    }
    XCTAssertEqual(actual, expected, "screen differs from \(name).txt", file: file, line: line)
}
