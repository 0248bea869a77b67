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

    /// #27: every shipped theme's text reads on its background, and the cursor row's text on the
    /// selection, at WCAG 2's 4.5:1 for text, wherever the colours are known (a theme that keeps
    /// the terminal's own background can't be measured: the terminal picks it). Borders and
    /// charts are not text. The light theme drew its cursor row white on pale blue (1.1:1).
    func testEveryShippedThemesTextHasWCAGContrast() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: themesFolder).filter { $0.hasSuffix(".toml") }
        var measured = 0
        for name in names {
            let theme = try ThemeLoader.parse(file: themesFolder + "/" + name)
            let background = theme.color(.background)
            for key in [ThemeKey.text, .muted, .accent, .header, .warning, .error, .success, .marked] {
                guard let ratio = Color.contrast(theme.color(key), background) else { continue }
                measured += 1
                XCTAssertGreaterThanOrEqual(ratio, 4.5, "\(name): \(key) on the background is \(ratio):1")
            }
            let selection = theme.selection
            if let ratio = Color.contrast(selection.foreground, selection.background) {
                measured += 1
                XCTAssertGreaterThanOrEqual(ratio, 4.5, "\(name): the cursor row's text is \(ratio):1")
            }
        }
        XCTAssertGreaterThanOrEqual(measured, 25, "the RGB and indexed themes were measured")
        XCTAssertEqual(Color.contrast(.rgb(0, 0, 0), .rgb(255, 255, 255))!, 21, accuracy: 0.01)
        XCTAssertEqual(Color.contrast(.indexed(15), .indexed(0))!, 21, accuracy: 0.01)
        XCTAssertNil(Color.contrast(.default, .indexed(0)))
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
