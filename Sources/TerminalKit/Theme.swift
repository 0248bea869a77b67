import Foundation
import TOMLKit

/// The semantic colour keys every theme sets, as helix and k9s skins name theirs.
public enum ThemeKey: String, CaseIterable, Sendable {
    case background, text, muted, accent, border, header, selection, marked, warning, error, success
    case chartSent = "chart_sent"
    case chartDelivered = "chart_delivered"
    case chartWarnings = "chart_warnings"
}

/// A colour theme: semantic keys over a named palette, reduced to what the terminal can show.
/// Every style keeps an attribute (bold, reverse, underline, dim) so the screens stay readable
/// with NO_COLOR or a monochrome terminal.
public struct Theme: Equatable, Sendable {
    public let name: String
    public let colors: [ThemeKey: Color]
    public let depth: ColorDepth
    /// Plain mode, for screen readers and dumb terminals: no colour, ASCII only (`PlainMode`),
    /// charts as numbers, the terminal's cursor on the focused row.
    public private(set) var plain = false

    public init(name: String, colors: [ThemeKey: Color], depth: ColorDepth = .trueColor) {
        self.name = name
        self.colors = colors
        self.depth = depth
    }

    /// The same theme shown on a terminal of `depth` colours.
    public func reduced(to depth: ColorDepth) -> Theme {
        var theme = Theme(name: name, colors: colors.mapValues { $0.reduced(to: depth) }, depth: depth)
        theme.plain = plain
        return theme
    }

    /// This theme in plain mode: no colour at all (attributes only), whatever the terminal has.
    public func plainMode() -> Theme {
        var theme = Theme(name: name, colors: colors, depth: .none)
        theme.plain = true
        return theme
    }

    public func color(_ key: ThemeKey) -> Color {
        depth == .none ? .default : (colors[key] ?? .default)
    }

    private func style(_ fg: ThemeKey, _ attributes: Attributes = []) -> Style {
        Style(foreground: color(fg), background: color(.background), attributes: attributes)
    }

    public var text: Style { style(.text) }
    public var muted: Style { style(.muted, .dim) }
    public var accent: Style { style(.accent, .bold) }
    public var border: Style { style(.border) }
    public var header: Style { style(.header, [.bold, .underline]) }
    public var warning: Style { style(.warning, .bold) }
    public var error: Style { style(.error, [.bold, .underline]) }
    public var success: Style { style(.success, .bold) }
    public var marked: Style { style(.marked, .bold) }
    /// The cursor row: the selection colour as background, and reverse video without colour. Its
    /// text is the theme's background or text colour, whichever reads better on the selection
    /// (#27: the light theme drew white on pale blue, taking the background always).
    public var selection: Style {
        guard depth != .none else { return Style(attributes: .reverse) }
        let background = color(.selection)
        return Style(
            foreground: Self.readable(on: background, preferring: [color(.background), color(.text)]), background: background,
            attributes: .bold)
    }

    /// The colour text on `background` reads best in: the first of `preferred` (the theme's own)
    /// with the most contrast if it reaches WCAG's 4.5:1, else black or white, whichever has more.
    /// Where the terminal's default is involved nothing can be measured: the theme's background,
    /// or black on a default one, as before.
    static func readable(on background: Color, preferring preferred: [Color]) -> Color {
        let measured = { (list: [Color]) in
            list.compactMap { c in Color.contrast(c, background).map { (c, $0) } }.max { $0.1 < $1.1 }
        }
        if let best = measured(preferred), best.1 >= 4.5 { return best.0 }
        if let best = measured([.indexed(0), .indexed(15)]), background.rgb != nil { return best.0 }
        return preferred.first.flatMap { $0 == .default ? nil : $0 } ?? .indexed(0)
    }

    public func chart(_ series: Int) -> Style {
        let keys: [ThemeKey] = [.chartSent, .chartDelivered, .chartWarnings]
        return style(keys[series % 3])
    }

    /// The built-in default, used when a theme file is missing or bad.
    public static let fallback = Theme(
        name: "default",
        colors: [
            .background: .default, .text: .default, .muted: .indexed(8), .accent: .indexed(6), .border: .indexed(8),
            .header: .indexed(6), .selection: .indexed(4), .marked: .indexed(3), .warning: .indexed(3), .error: .indexed(1),
            .success: .indexed(2), .chartSent: .indexed(4), .chartDelivered: .indexed(2), .chartWarnings: .indexed(3),
        ])
}

/// Reads `themes/NAME.toml`: a `[palette]` of named colours and a `[ui]` table of the semantic
/// keys, each a palette name, `#rrggbb`, 0–255, a colour name or `default`.
public enum ThemeLoader {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The theme named `name` from the first folder that has it; on any problem, the fallback and
    /// a one-line warning naming the file, line and key.
    public static func load(named name: String, from folders: [String], depth: ColorDepth) -> (theme: Theme, warning: String?) {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !name.isEmpty else {
            return (Theme.fallback.reduced(to: depth), "theme \"\(name)\": not a theme name; using the default theme")
        }
        for folder in folders {
            let path = folder + "/" + name + ".toml"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            do {
                return (try parse(file: path).reduced(to: depth), nil)
            } catch {
                return (Theme.fallback.reduced(to: depth), "\(error); using the default theme")
            }
        }
        if name == "default" { return (Theme.fallback.reduced(to: depth), nil) }
        return (
            Theme.fallback.reduced(to: depth), "theme \"\(name)\" not found in \(folders.joined(separator: ", ")); using the default theme"
        )
    }

    public static func parse(file path: String) throws -> Theme {
        // A theme is a small regular file: a FIFO or a device would block or never end.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: (path as NSString).resolvingSymlinksInPath),
            attributes[.type] as? FileAttributeType == .typeRegular, (attributes[.size] as? Int ?? .max) <= 1 << 20,
            let data = FileManager.default.contents(atPath: path)
        else { throw Failure(message: "\(path): not a readable theme file (a regular file up to 1 MiB)") }
        guard data.count <= 256 * 1024, !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            throw Failure(message: "\(path):1: not a text file")
        }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(text, name: name, file: path)
    }

    public static func parse(_ text: String, name: String, file: String) throws -> Theme {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw Failure(message: "\(file):\(error.source.begin.line): \(error.description)")
        } catch {
            throw Failure(message: "\(file):1: not TOML")
        }
        func line(of key: String) -> Int {
            let lines = text.components(separatedBy: "\n")
            return
                (lines.firstIndex {
                    $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + " ")
                        || $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + "=")
                } ?? 0) + 1
        }
        var palette: [String: Color] = [:]
        if let raw = table["palette"] {
            guard let paletteTable = raw.table else {
                throw Failure(message: "\(file):\(line(of: "palette")): key palette must be a table")
            }
            for key in paletteTable.keys {
                guard let value = paletteTable[key]?.string ?? paletteTable[key]?.int.map(String.init), let color = Color(parsing: value)
                else {
                    throw Failure(
                        message: "\(file):\(line(of: key)): key palette.\(key): not a colour (use #rrggbb, 0-255, a name or default)")
                }
                palette[key] = color
            }
        }
        guard let ui = table["ui"]?.table else { throw Failure(message: "\(file):1: missing the [ui] table") }
        var colors: [ThemeKey: Color] = [:]
        for key in ui.keys {
            guard let semantic = ThemeKey(rawValue: key) else {
                throw Failure(
                    message:
                        "\(file):\(line(of: key)): key ui.\(key): unknown (known: \(ThemeKey.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            guard let value = ui[key]?.string ?? ui[key]?.int.map(String.init) else {
                throw Failure(message: "\(file):\(line(of: key)): key ui.\(key): must be a string or a number")
            }
            guard let color = palette[value] ?? Color(parsing: value) else {
                throw Failure(message: "\(file):\(line(of: key)): key ui.\(key): \"\(value)\" is neither a palette name nor a colour")
            }
            colors[semantic] = color
        }
        if let missing = ThemeKey.allCases.first(where: { colors[$0] == nil }) {
            throw Failure(message: "\(file):1: key ui.\(missing.rawValue) is missing")
        }
        return Theme(name: name, colors: colors)
    }

    /// The colours a terminal can show, from what it reports and the environment; NO_COLOR wins.
    public static func depth(reportedColors: Int, environment: [String: String]) -> ColorDepth {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .none }
        let colorterm = environment["COLORTERM"]?.lowercased() ?? ""
        if reportedColors >= 16_777_216 || ((colorterm == "truecolor" || colorterm == "24bit") && reportedColors >= 256) {
            return reportedColors >= 16_777_216 ? .trueColor : .indexed256
        }
        if reportedColors >= 256 { return .indexed256 }
        if reportedColors >= 8 { return .ansi16 }
        return .none
    }
}
