import Foundation

/// A multi-line text editor's state: lines of text, a cursor (line, character), undo.
public struct TextAreaState: Equatable, Sendable {
    public private(set) var lines: [String]
    public private(set) var row = 0
    public private(set) var column = 0
    public var scroll = 0
    private var undoStack: [Snapshot] = []

    struct Snapshot: Equatable, Sendable {
        let lines: [String]
        let row: Int
        let column: Int
    }

    public init(_ text: String = "") {
        lines = text.components(separatedBy: "\n")
        row = lines.count - 1
        column = lines[row].count
    }

    public var text: String { lines.joined(separator: "\n") }
    public var characterCount: Int { text.count }

    /// Applies a key; returns false when it is not an editing key.
    @discardableResult
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .char(let c): insert(String(c))
        case .enter: insert("\n")
        case .tab: insert("    ")
        case .backspace: backspace()
        case .delete: deleteForward()
        case .left:
            if column > 0 {
                column -= 1
            } else if row > 0 {
                row -= 1
                column = lines[row].count
            }
        case .right:
            if column < lines[row].count {
                column += 1
            } else if row < lines.count - 1 {
                row += 1
                column = 0
            }
        case .up:
            if row > 0 {
                row -= 1
                column = min(column, lines[row].count)
            } else {
                column = 0
            }
        case .down:
            if row < lines.count - 1 {
                row += 1
                column = min(column, lines[row].count)
            } else {
                column = lines[row].count
            }
        case .home, .ctrl("a"): column = 0
        case .end, .ctrl("e"): column = lines[row].count
        case .ctrl("z"): undo()
        default: return false
        }
        return true
    }

    /// Inserts text at the cursor; newlines split the line. One undo step per call.
    public mutating func insert(_ raw: String) {
        let text = raw.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { Sanitizer.clean(String($0)) }.joined(separator: "\n")
        guard !text.isEmpty else { return }
        remember()
        let line = lines[row]
        let at = line.index(line.startIndex, offsetBy: column)
        let head = String(line[..<at])
        let tail = String(line[at...])
        let pieces = text.components(separatedBy: "\n")
        if pieces.count == 1 {
            lines[row] = head + text + tail
            column += text.count
        } else {
            var new = [head + pieces[0]]
            new += pieces[1..<(pieces.count - 1)]
            new.append(pieces[pieces.count - 1] + tail)
            lines.replaceSubrange(row...row, with: new)
            row += pieces.count - 1
            column = pieces[pieces.count - 1].count
        }
    }

    public mutating func backspace() {
        if column > 0 {
            remember()
            var line = lines[row]
            line.remove(at: line.index(line.startIndex, offsetBy: column - 1))
            lines[row] = line
            column -= 1
        } else if row > 0 {
            remember()
            let previous = lines[row - 1]
            column = previous.count
            lines[row - 1] = previous + lines[row]
            lines.remove(at: row)
            row -= 1
        }
    }

    public mutating func deleteForward() {
        if column < lines[row].count {
            remember()
            var line = lines[row]
            line.remove(at: line.index(line.startIndex, offsetBy: column))
            lines[row] = line
        } else if row < lines.count - 1 {
            remember()
            lines[row] += lines[row + 1]
            lines.remove(at: row + 1)
        }
    }

    public var canUndo: Bool { !undoStack.isEmpty }

    public mutating func undo() {
        guard let last = undoStack.popLast() else { return }
        lines = last.lines
        row = last.row
        column = last.column
    }

    private mutating func remember() {
        undoStack.append(Snapshot(lines: lines, row: row, column: column))
        if undoStack.count > 200 { undoStack.removeFirst() }
    }

    /// The screen rows of the text word-wrapped to `width`: (line, start character, text) each.
    /// A row breaks after its last space when it has one, else mid-word.
    public func wrapped(width: Int) -> [(line: Int, start: Int, text: String)] {
        let width = max(1, width)
        var out: [(Int, Int, String)] = []
        for (i, line) in lines.enumerated() {
            var characters = Array(line)
            var start = 0
            while true {
                var used = 0
                var end = 0
                while end < characters.count, used + DisplayWidth.of(characters[end]) <= width {
                    used += DisplayWidth.of(characters[end])
                    end += 1
                }
                if end == characters.count {
                    out.append((i, start, String(characters)))
                    break
                }
                if end == 0 { end = 1 }  // a character wider than the row still moves on
                if let space = characters[..<end].lastIndex(of: " "), space > 0 { end = space + 1 }
                out.append((i, start, String(characters[..<end])))
                characters.removeFirst(end)
                start += end
            }
        }
        return out
    }

    /// The cursor's screen row and column in the wrapped text.
    public func cursorPosition(width: Int) -> (row: Int, column: Int) {
        let rows = wrapped(width: width)
        for (k, r) in rows.enumerated() where r.line == row {
            let isLastOfLine = k + 1 == rows.count || rows[k + 1].line != row
            if column >= r.start && (column < r.start + r.text.count || isLastOfLine) {
                return (k, DisplayWidth.of(String(r.text.prefix(column - r.start))))
            }
        }
        return (0, 0)
    }
}

public struct TextArea {
    public var theme: Theme
    public var focused: Bool
    /// Character ranges to highlight per line (flagged words), as (line, range of characters).
    public var highlights: [(line: Int, range: Range<Int>)]

    public init(theme: Theme, focused: Bool = true, highlights: [(line: Int, range: Range<Int>)] = []) {
        self.theme = theme
        self.focused = focused
        self.highlights = highlights
    }

    /// Draws the wrapped text, scrolled so the cursor shows; returns the scroll used.
    @discardableResult
    public func render(into buffer: inout Buffer, area: Rect, state: TextAreaState) -> Int {
        guard !area.isEmpty else { return 0 }
        let rows = state.wrapped(width: area.width)
        let cursor = state.cursorPosition(width: area.width)
        var scroll = state.scroll
        if cursor.row < scroll { scroll = cursor.row }
        if cursor.row >= scroll + area.height { scroll = cursor.row - area.height + 1 }
        for k in 0..<area.height {
            let index = scroll + k
            guard index < rows.count else { break }
            let r = rows[index]
            var x = area.x
            for (offset, c) in r.text.enumerated() {
                let position = r.start + offset
                let flagged = highlights.contains { $0.line == r.line && $0.range.contains(position) }
                x += buffer.write(String(c), x: x, y: area.y + k, style: flagged ? theme.error : theme.text, maxWidth: area.maxX - x)
            }
        }
        if focused {
            let cx = area.x + min(cursor.column, area.width - 1)
            buffer.restyle(Rect(x: cx, y: area.y + cursor.row - scroll, width: 1, height: 1)) { $0.attributes.insert(.reverse) }
        }
        return scroll
    }
}
