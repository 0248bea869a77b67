import Foundation

/// A one-line text field: Unicode-aware editing by grapheme, scrolled by display columns.
public struct TextFieldState: Equatable, Sendable {
    public private(set) var text: String
    /// The cursor as a count of characters (graphemes) before it.
    public private(set) var cursor: Int
    public var limit: Int

    public init(_ text: String = "", limit: Int = 1_000) {
        self.text = String(text.prefix(limit))
        self.cursor = self.text.count
        self.limit = limit
    }

    /// Applies an editing key; returns false when the key is not an editing key.
    @discardableResult
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .char(let c): insert(String(c))
        case .backspace:
            guard cursor > 0 else { return true }
            let i = text.index(text.startIndex, offsetBy: cursor - 1)
            text.remove(at: i)
            cursor -= 1
        case .delete:
            guard cursor < text.count else { return true }
            text.remove(at: text.index(text.startIndex, offsetBy: cursor))
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(text.count, cursor + 1)
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = text.count
        case .ctrl("u"):
            text.removeFirst(cursor)
            cursor = 0
        case .ctrl("k"): text = String(text.prefix(cursor))
        default: return false
        }
        return true
    }

    /// Inserts at the cursor (a paste, say), dropping control characters and newlines.
    public mutating func insert(_ s: String) {
        let clean = Sanitizer.clean(s.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " "))
        let room = max(0, limit - text.count)
        let piece = String(clean.prefix(room))
        text.insert(contentsOf: piece, at: text.index(text.startIndex, offsetBy: cursor))
        cursor += piece.count
    }
}

public struct TextField {
    public var theme: Theme
    public var placeholder: String
    public var focused: Bool

    public init(theme: Theme, placeholder: String = "", focused: Bool = true) {
        self.theme = theme
        self.placeholder = placeholder
        self.focused = focused
    }

    public func render(into buffer: inout Buffer, area: Rect, state: TextFieldState) {
        guard !area.isEmpty else { return }
        let row = area.row(0)
        buffer.fill(row, style: theme.text.with(.underline))
        if state.text.isEmpty {
            buffer.write(placeholder, x: row.x, y: row.y, style: theme.muted, maxWidth: row.width)
        }
        // Scroll so the cursor stays visible: show the text ending at the cursor when needed.
        let before = String(state.text.prefix(state.cursor))
        var start = 0
        while DisplayWidth.of(String(before.dropFirst(start))) > row.width - 1 { start += 1 }
        let shown = String(state.text.dropFirst(start))
        if !state.text.isEmpty { buffer.write(shown, x: row.x, y: row.y, style: theme.text.with(.underline), maxWidth: row.width) }
        if focused {
            let cx = row.x + DisplayWidth.of(String(before.dropFirst(start)))
            if cx < row.maxX { buffer.restyle(Rect(x: cx, y: row.y, width: 1, height: 1)) { $0.attributes.insert(.reverse) } }
            if theme.plain { buffer.cursor = CursorPosition(x: min(cx, row.maxX - 1), y: row.y) }
        }
    }
}
