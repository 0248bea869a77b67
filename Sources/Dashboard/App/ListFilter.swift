import TerminalKit

/// `/` on a list, the same on every screen (#27): it opens a line under the list, and each key
/// typed there filters what the list shows at once; Enter keeps the filter, Esc clears it. On the
/// list, Esc clears a kept filter first (a second Esc goes back). A row matches when any cell it
/// shows contains the text, ignoring case. While the line is open the screen is typing: no key
/// there acts on a row (typing "/order" on Programs ran the program: `r`).
struct ListFilter: Equatable, Sendable {
    /// The filter the rows answer: kept, or as typed so far.
    private(set) var text = ""
    /// The line, while `/` is typing.
    private(set) var field: TextFieldState?

    init(_ text: String = "") { self.text = text }

    var isTyping: Bool { field != nil }
    var isEmpty: Bool { text.isEmpty }

    enum Outcome: Equatable {
        /// Not a key of the filter's: the screen's.
        case notMine
        /// Taken; the filter is as it was.
        case taken
        /// Taken, and the filter changed: the rows to show are others.
        case changed
    }

    mutating func handle(_ key: Key) -> Outcome {
        if var line = field {
            switch key {
            case .enter:
                field = nil
                return .taken
            case .escape:
                field = nil
                return clear()
            default:
                line.handle(key)
                field = line
                guard line.text != text else { return .taken }
                text = line.text
                return .changed
            }
        }
        switch key {
        case .char("/"):
            field = TextFieldState(text)
            return .taken
        case .escape where !text.isEmpty:
            return clear()
        default:
            return .notMine
        }
    }

    private mutating func clear() -> Outcome {
        guard !text.isEmpty else { return .taken }
        text = ""
        return .changed
    }

    /// The filter's share of a key, for a list filtered in memory: true when it took the key. A
    /// change puts the cursor on the first row the new filter shows, scrolled to the top.
    mutating func take(_ key: Key, table: inout TableState) -> Bool {
        switch handle(key) {
        case .changed:
            table.cursor = 0
            table.offset = 0
            return true
        case .taken: return true
        case .notMine: return false
        }
    }

    func matches(_ cells: [String]) -> Bool {
        text.isEmpty || cells.contains { $0.localizedCaseInsensitiveContains(text) }
    }

    /// The key bar while typing.
    static let typingKeys: [(key: String, action: String)] = [("Enter", "keep filter"), ("Esc", "clear filter")]

    /// The status line under a list: the open line while typing, else `status` with the kept
    /// filter named.
    func renderStatus(_ status: String, into buffer: inout Buffer, area: Rect, theme: Theme) {
        if let field {
            TextField(theme: theme).render(into: &buffer, area: area, state: TextFieldState("/" + field.text))
            return
        }
        Label(status + (text.isEmpty ? "" : " · filter: \(text) (Esc clears)"), style: theme.muted).render(into: &buffer, area: area)
    }
}
