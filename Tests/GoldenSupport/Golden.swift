import Foundation
import TerminalKit
import XCTest

/// Golden screens, compared as ratatui's TestBackend compares cells: the text in `Golden/NAME.txt`
/// and the styles in `Golden/NAME.styles.txt` beside the calling test file, so a regression in the
/// selection, the column cursor or a highlight fails even when the text is the same.
///
/// Re-record after a deliberate change with `RECORD_GOLDEN=1 swift test`, which fails for every
/// screen it changed (a re-record must be a reviewed diff, not a silent green run); then review
/// the diff in git and run the tests again without it.
public func assertGolden(_ name: String, _ buffer: Buffer, file: StaticString = #filePath, line: UInt = #line) {
    let folder = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Golden")
    let text = buffer.lines().joined(separator: "\n") + "\n"
    compare(text, folder.appendingPathComponent(name + ".txt"), what: "screen", file: file, line: line)
    compare(StyleMap(buffer).text, folder.appendingPathComponent(name + ".styles.txt"), what: "styles", file: file, line: line)
}

private func compare(_ actual: String, _ path: URL, what: String, file: StaticString, line: UInt) {
    let name = path.lastPathComponent
    if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" {
        try? FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let previous = try? String(contentsOf: path, encoding: .utf8)
        try? actual.write(to: path, atomically: true, encoding: .utf8)
        if previous != actual {
            XCTFail(
                "recorded \(name) (it changed): review the diff in git, then run the tests without RECORD_GOLDEN", file: file, line: line)
        }
        return
    }
    guard let expected = try? String(contentsOf: path, encoding: .utf8) else {
        XCTFail("no golden file \(path.path): record it with RECORD_GOLDEN=1 swift test", file: file, line: line)
        return
    }
    XCTAssertEqual(actual, expected, "\(what) differ from \(name)", file: file, line: line)
}

/// A frame's styles as text a person can review: a legend naming each style with one character
/// (in order of first appearance, reading the frame row by row), then the frame with each cell
/// replaced by its style's character.
public struct StyleMap {
    public let text: String

    static let symbols = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    public init(_ buffer: Buffer) {
        var names: [Style: Character] = [:]
        var legend: [String] = []
        var rows: [String] = []
        for y in 0..<buffer.height {
            var row = ""
            for x in 0..<buffer.width {
                let style = buffer[x, y].style
                if names[style] == nil {
                    // Past 62 styles the rest share `?`: no screen has come near that.
                    let symbol = legend.count < Self.symbols.count ? Self.symbols[legend.count] : "?"
                    names[style] = symbol
                    if symbol != "?" { legend.append("\(symbol) \(Self.describe(style))") }
                }
                row.append(names[style]!)
            }
            rows.append(row)
        }
        text = legend.joined(separator: "\n") + "\n--\n" + rows.joined(separator: "\n") + "\n"
    }

    static func describe(_ style: Style) -> String {
        var words = ["fg=\(describe(style.foreground))", "bg=\(describe(style.background))"]
        let attributes: [(Attributes, String)] = [(.bold, "bold"), (.dim, "dim"), (.reverse, "reverse"), (.underline, "underline")]
        words += attributes.filter { style.attributes.contains($0.0) }.map(\.1)
        return words.joined(separator: " ")
    }

    static func describe(_ color: Color) -> String {
        switch color {
        case .default: return "default"
        case .indexed(let i): return i < Color.names.count ? Color.names[Int(i)] : "\(i)"
        case .rgb(let r, let g, let b): return String(format: "#%02x%02x%02x", r, g, b)
        }
    }
}
