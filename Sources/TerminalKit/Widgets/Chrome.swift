import Foundation

/// The bottom bar: the keys that work on this screen.
public struct KeyBar {
    public var bindings: [(key: String, action: String)]
    public var theme: Theme

    public init(_ bindings: [(key: String, action: String)], theme: Theme) {
        self.bindings = bindings
        self.theme = theme
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        guard !area.isEmpty else { return }
        buffer.fill(area.row(0), style: theme.muted)
        var x = area.x
        for binding in Self.fitted(bindings, width: area.width) {
            let start = x
            x += buffer.write(binding.key, x: x, y: area.y, style: theme.accent)
            if !binding.action.isEmpty { x += buffer.write(" " + binding.action, x: x, y: area.y, style: theme.muted) }
            if let key = Key(label: binding.key) { buffer.region(Rect(x: start, y: area.y, width: x - start, height: 1), .key(key)) }
            x += buffer.write("  ", x: x, y: area.y, style: theme.muted)
        }
    }

    /// The bindings as they fit in `width` (#27: at 80 columns "Esc back  ? help" fell off the end
    /// unsaid): whole; else each action's first word ("edit node" → "edit"); else the last ones
    /// dropped for a "…", "? help" always kept last, as the help lists every key.
    public static func fitted(_ bindings: [(key: String, action: String)], width: Int) -> [(key: String, action: String)] {
        func size(_ list: [(key: String, action: String)]) -> Int {
            list.reduce(0) { $0 + DisplayWidth.of($1.key) + ($1.action.isEmpty ? 0 : 1 + DisplayWidth.of($1.action)) + 2 } - 2
        }
        if size(bindings) <= width { return bindings }
        let short = bindings.map { b -> (key: String, action: String) in
            let first = b.action.split(separator: " ").first.map(String.init) ?? b.action
            return (b.key, first.trimmingCharacters(in: CharacterSet(charactersIn: ",;:")))
        }
        if size(short) <= width { return short }
        let help = short.last { $0.key == "?" }
        var kept = short.filter { $0.key != "?" }
        let tail: [(key: String, action: String)] = [("…", "")] + (help.map { [$0] } ?? [])
        while !kept.isEmpty && size(kept + tail) > width { kept.removeLast() }
        return kept + tail
    }
}

/// Where you are: `Profiles › Northwind Shop › Stats (warnings)`.
public struct Breadcrumbs {
    public var trail: [String]
    public var theme: Theme

    public init(_ trail: [String], theme: Theme) {
        self.trail = trail
        self.theme = theme
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        guard !area.isEmpty else { return }
        var text = trail.joined(separator: " › ")
        // Drop crumbs from the left until it fits, keeping the current one.
        var dropped = 0
        while DisplayWidth.of(text) > area.width && dropped < trail.count - 1 {
            dropped += 1
            text = "… › " + trail.dropFirst(dropped).joined(separator: " › ")
        }
        buffer.write(DisplayWidth.truncate(text, to: area.width), x: area.x, y: area.y, style: theme.header)
    }
}

/// A short message in the bottom-right corner: a result or a refusal.
public struct Toast: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case info, success, error }
    public var message: String
    public var kind: Kind

    public init(_ message: String, kind: Kind = .info) {
        self.message = message
        self.kind = kind
    }

    public func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        guard area.width > 6, area.height > 2 else { return }
        let width = min(area.width - 2, DisplayWidth.of(message) + 4)
        let lines = TextWrap.lines(message, width: width - 4)
        let height = min(area.height - 1, lines.count + 2)
        let box = Rect(x: area.maxX - width - 1, y: area.maxY - height - 1, width: width, height: height)
        let style: Style = kind == .error ? theme.error : (kind == .success ? theme.success : theme.accent)
        buffer.fill(box, style: theme.text)
        let inner = Block(style: style).render(into: &buffer, area: box)
        for (i, line) in lines.enumerated() where i < inner.height {
            buffer.write(line, x: inner.x + 1, y: inner.y + i, style: style, maxWidth: inner.width - 1)
        }
    }
}

/// `?` help: the keys of the current screen in a centred box.
public struct HelpOverlay {
    public var title: String
    public var bindings: [(key: String, action: String)]
    public var theme: Theme

    public init(title: String, bindings: [(key: String, action: String)], theme: Theme) {
        self.title = title
        self.bindings = bindings
        self.theme = theme
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        let keyWidth = min(14, (bindings.map { DisplayWidth.of($0.key) }.max() ?? 4) + 2)
        let width = min(area.width - 2, max(30, keyWidth + (bindings.map { DisplayWidth.of($0.action) }.max() ?? 10) + 4))
        // A long line wraps under itself, not cut (#27); what doesn't fit the height ends in a line
        // that says how many more there are.
        let textWidth = max(1, width - 2 - keyWidth - 1)
        var lines: [(key: String, text: String)] = []
        for binding in bindings {
            for (i, line) in TextWrap.lines(binding.action, width: textWidth).enumerated() {
                lines.append((i == 0 ? binding.key : "", line))
            }
        }
        let box = area.centered(width: width, height: min(area.height - 2, lines.count + 3))
        guard box.height >= 3, box.width >= 10 else { return }
        buffer.fill(box, style: theme.text)
        let inner = Block(title: title, style: theme.border, titleStyle: theme.accent).render(into: &buffer, area: box)
        let room = inner.height - 1
        let shown = lines.count <= room ? lines : Array(lines.prefix(max(0, room - 1)))
        for (i, line) in shown.enumerated() {
            buffer.write(line.key, x: inner.x + 1, y: inner.y + i, style: theme.accent, maxWidth: keyWidth)
            buffer.write(line.text, x: inner.x + 1 + keyWidth, y: inner.y + i, style: theme.text, maxWidth: textWidth)
        }
        if shown.count < lines.count {
            let more = lines.dropFirst(shown.count).filter { !$0.key.isEmpty }.count
            buffer.write(
                "… \(more) more key\(more == 1 ? "" : "s"): a taller terminal shows them", x: inner.x + 1, y: inner.y + shown.count,
                style: theme.muted, maxWidth: inner.width - 1)
        }
        buffer.write("Esc or ? closes", x: inner.x + 1, y: inner.maxY - 1, style: theme.muted, maxWidth: inner.width - 1)
    }
}

/// Shown instead of a screen when the terminal is below the minimum; the app recovers on resize.
public struct TooSmall {
    public static let minimumWidth = 80
    public static let minimumHeight = 24

    public static func fits(width: Int, height: Int) -> Bool { width >= minimumWidth && height >= minimumHeight }

    public static func render(into buffer: inout Buffer, theme: Theme) {
        let lines = ["terminal too small", "needs \(minimumWidth)x\(minimumHeight)", "now \(buffer.width)x\(buffer.height)"]
        for (i, line) in lines.enumerated() {
            let text = DisplayWidth.truncate(line, to: buffer.width)
            let x = max(0, (buffer.width - DisplayWidth.of(text)) / 2)
            buffer.write(text, x: x, y: max(0, buffer.height / 2 - 1) + i, style: i == 0 ? theme.warning : theme.muted)
        }
    }
}
