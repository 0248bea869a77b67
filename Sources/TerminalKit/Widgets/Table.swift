/// Where a table's rows come from. A source pages: the table asks only for the rows it shows,
/// so a million rows never sit in memory.
public protocol RowSource {
    var count: Int { get }
    /// The cells of rows `range` (already clamped to `0..<count`).
    func rows(_ range: Range<Int>) -> [[String]]
}

/// Rows held in memory: for short lists.
public struct ArrayRowSource: RowSource {
    public var rows: [[String]]
    public init(_ rows: [[String]]) { self.rows = rows }
    public var count: Int { rows.count }
    public func rows(_ range: Range<Int>) -> [[String]] { Array(rows[range]) }
}

public struct TableColumn: Sendable {
    public enum Alignment: Sendable { case left, right }
    public var title: String
    public var width: Constraint
    public var alignment: Alignment

    public init(_ title: String, width: Constraint = .fill, alignment: Alignment = .left) {
        self.title = title
        self.width = width
        self.alignment = alignment
    }
}

/// The cursor, scroll offset and marks of a table: plain values, moved by pure functions.
///
/// As ratatui's StatefulWidget (#27): key handling moves only the cursor; the offset is decided
/// where the table is drawn, from the rows it really has (`Table.render` writes it back with the
/// page height), so no reducer guesses the screen's height and a resize can't hide the cursor.
public struct TableState: Equatable, Sendable {
    public var cursor = 0
    /// The first row shown, as the table decided it when last drawn (0 scrolls to the top).
    public var offset = 0
    /// How many rows the table showed when last drawn: the step of PgDn. 0 before the first draw.
    public private(set) var page = 0
    public var marked: Set<Int> = []
    /// The highlighted column for tables with a column cursor (stats details).
    public var column = 0

    public init() {}

    /// The page step: the drawn height, or `hint` before the table has been drawn.
    public func pageStep(or hint: Int) -> Int { max(1, page > 0 ? page : hint) }

    /// Moves the cursor by `delta` rows within `count`.
    public mutating func move(by delta: Int, count: Int) {
        cursor = count > 0 ? min(max(0, cursor + delta), count - 1) : 0
    }

    public mutating func moveTo(_ row: Int, count: Int) {
        move(by: row - cursor, count: count)
    }

    /// The first row to draw in `visible` rows of `count`: the stored offset, moved the least that
    /// shows the cursor and fills the page, so scrolling is smooth and the cursor always shows.
    public func offset(showing visible: Int, of count: Int) -> Int {
        let v = max(1, visible)
        var start = min(offset, max(0, count - v))
        if cursor < start { start = cursor }
        if cursor >= start + v { start = cursor - v + 1 }
        return max(0, min(start, max(0, count - 1)))
    }

    /// What drawing `visible` rows of `count` decided: the offset shown and the page height.
    public mutating func settle(showing visible: Int, of count: Int) {
        offset = offset(showing: visible, of: count)
        page = visible
    }

    /// Keeps the cursor and marks valid when the row count changes (a refresh, a filter).
    public mutating func clamp(count: Int) {
        cursor = count == 0 ? 0 : min(cursor, count - 1)
        marked = marked.filter { $0 < count }
    }

    public mutating func toggleMark() {
        if marked.contains(cursor) { marked.remove(cursor) } else { marked.insert(cursor) }
    }
}

/// A table with a header row, a cursor row, marks and a scroll position.
public struct Table {
    public var columns: [TableColumn]
    public var source: any RowSource
    public var theme: Theme
    public var showsColumnCursor = false
    /// Rows shown greyed (an ineligible page, say).
    public var dimmedRows: Set<Int> = []

    public init(columns: [TableColumn], source: any RowSource, theme: Theme) {
        self.columns = columns
        self.source = source
        self.theme = theme
    }

    /// How many data rows fit in `area` (one row goes to the header).
    public static func visibleRows(in area: Rect) -> Int { max(0, area.height - 1) }

    /// Draws the rows that fit and writes back to `state` the offset it showed and the page height.
    public func render(into buffer: inout Buffer, area: Rect, state: inout TableState) {
        guard area.height > 0, area.width > 2 else { return }
        let markWidth = 2
        let widths = Layout.horizontal(Rect(x: 0, y: 0, width: area.width - markWidth, height: 1), columns.map(\.width)).map(\.width)
        func line(_ cells: [String], y: Int, style: Style, columnHighlight: Int?) {
            var x = area.x + markWidth
            for (i, column) in columns.enumerated() where i < cells.count {
                let w = max(0, widths[i] - 1)
                let text = DisplayWidth.truncate(cells[i], to: w)
                let pad = max(0, w - DisplayWidth.of(text))
                var cellStyle = style
                if columnHighlight == i { cellStyle = cellStyle.with([.underline, .bold]) }
                let shown = column.alignment == .right ? String(repeating: " ", count: pad) + text : text
                buffer.write(shown, x: x, y: y, style: cellStyle, maxWidth: w)
                x += widths[i]
            }
        }
        buffer.fill(area.row(0), style: theme.header)
        line(columns.map(\.title), y: area.y, style: theme.header, columnHighlight: nil)
        let visible = Table.visibleRows(in: area)
        state.settle(showing: visible, of: source.count)
        let start = state.offset
        let end = min(source.count, start + visible)
        guard start < end else { return }
        for (k, cells) in source.rows(start..<end).enumerated() {
            let index = start + k
            let y = area.y + 1 + k
            buffer.region(Rect(x: area.x, y: y, width: area.width, height: 1), .row(index))
            var style = dimmedRows.contains(index) ? theme.muted : theme.text
            if state.marked.contains(index) { style = theme.marked }
            if index == state.cursor {
                style = theme.selection
                buffer.fill(Rect(x: area.x, y: y, width: area.width, height: 1), style: style)
            }
            if state.marked.contains(index) { buffer.write("✓", x: area.x, y: y, style: style) }
            if index == state.cursor && theme.plain {
                // The focus in words a screen reader speaks, and the terminal's cursor on it.
                buffer.write(">", x: area.x + (state.marked.contains(index) ? 1 : 0), y: y, style: style)
                buffer.cursor = CursorPosition(x: area.x, y: y)
            }
            line(cells, y: y, style: style, columnHighlight: index == state.cursor && showsColumnCursor ? state.column : nil)
        }
        // A scroll position marker when there is more than fits.
        if source.count > visible, visible > 1 {
            let at = area.y + 1 + min(visible - 1, start * visible / max(1, source.count - visible + 1))
            buffer.write("▐", x: area.maxX - 1, y: at, style: theme.muted)
        }
    }
}
