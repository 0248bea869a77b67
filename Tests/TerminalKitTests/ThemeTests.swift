import Foundation
import XCTest

@testable import TerminalKit

final class ThemeTests: XCTestCase {
    private var themesFolder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("themes").path
    }

    func testEveryShippedThemeLoads() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: themesFolder).filter { $0.hasSuffix(".toml") }
        XCTAssertTrue(Set(names).isSuperset(of: ["default.toml", "light.toml", "high-contrast.toml", "catppuccin-mocha.toml"]))
        for name in names {
            let theme = try ThemeLoader.parse(file: themesFolder + "/" + name)
            XCTAssertEqual(theme.colors.count, ThemeKey.allCases.count, name)
        }
    }

    func testColourValuesParse() {
        XCTAssertEqual(Color(parsing: "#ff8000"), .rgb(255, 128, 0))
        XCTAssertEqual(Color(parsing: "208"), .indexed(208))
        XCTAssertEqual(Color(parsing: "bright-blue"), .indexed(12))
        XCTAssertEqual(Color(parsing: "default"), .default)
        XCTAssertNil(Color(parsing: "#ff80"))
        XCTAssertNil(Color(parsing: "256"))
        XCTAssertNil(Color(parsing: "bleu"))
    }

    func testTrueColourFallsBackTo256ThenTo16() {
        let orange = Color.rgb(255, 135, 0)
        XCTAssertEqual(orange.reduced(to: .trueColor), orange)
        XCTAssertEqual(orange.reduced(to: .indexed256), .indexed(208))
        XCTAssertEqual(Color.rgb(250, 250, 250).reduced(to: .ansi16), .indexed(15))
        XCTAssertEqual(Color.indexed(196).reduced(to: .ansi16), .indexed(9))
        XCTAssertEqual(orange.reduced(to: .none), .default)
    }

    func testDepthFromTerminalAndNoColor() {
        XCTAssertEqual(ThemeLoader.depth(reportedColors: 256, environment: [:]), .indexed256)
        XCTAssertEqual(ThemeLoader.depth(reportedColors: 8, environment: [:]), .ansi16)
        XCTAssertEqual(ThemeLoader.depth(reportedColors: 16_777_216, environment: [:]), .trueColor)
        XCTAssertEqual(ThemeLoader.depth(reportedColors: 256, environment: ["NO_COLOR": "1"]), .none)
    }

    func testNoColorKeepsAttributesOnly() {
        let theme = Theme.fallback.reduced(to: .none)
        XCTAssertEqual(theme.selection, Style(attributes: .reverse))
        XCTAssertEqual(theme.header.foreground, .default)
        XCTAssertTrue(theme.header.attributes.contains(.bold))
        XCTAssertTrue(theme.error.attributes.contains(.underline))
    }

    func testBadThemeNamesFileLineAndKeyAndFallsBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let good = try String(contentsOfFile: themesFolder + "/default.toml", encoding: .utf8)
        try good.replacingOccurrences(of: "warning = \"yellow\"", with: "warning = \"bleu\"")
            .write(to: dir.appendingPathComponent("typo.toml"), atomically: true, encoding: .utf8)
        let (theme, warning) = ThemeLoader.load(named: "typo", from: [dir.path], depth: .trueColor)
        XCTAssertEqual(theme, Theme.fallback)
        let line = good.components(separatedBy: "\n").firstIndex { $0.hasPrefix("warning") }! + 1
        XCTAssertEqual(
            warning,
            "\(dir.path)/typo.toml:\(line): key ui.warning: \"bleu\" is neither a palette name nor a colour; using the default theme")
        try good.replacingOccurrences(of: "error = \"red\"\n", with: "").write(
            to: dir.appendingPathComponent("missing.toml"), atomically: true, encoding: .utf8)
        XCTAssertTrue(ThemeLoader.load(named: "missing", from: [dir.path], depth: .trueColor).warning!.contains("ui.error is missing"))
        try Data([0, 1, 2, 0xFF]).write(to: dir.appendingPathComponent("binary.toml"))
        XCTAssertTrue(ThemeLoader.load(named: "binary", from: [dir.path], depth: .trueColor).warning!.contains("not a text file"))
        try "[ui\nbad".write(to: dir.appendingPathComponent("broken.toml"), atomically: true, encoding: .utf8)
        XCTAssertTrue(ThemeLoader.load(named: "broken", from: [dir.path], depth: .trueColor).warning!.contains("broken.toml:"))
        XCTAssertNotNil(ThemeLoader.load(named: "nope", from: [dir.path], depth: .trueColor).warning)
        XCTAssertNotNil(ThemeLoader.load(named: "../etc/passwd", from: [dir.path], depth: .trueColor).warning)
    }
}
