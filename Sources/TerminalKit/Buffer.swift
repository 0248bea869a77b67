/// One terminal cell: a grapheme and its style. A wide character fills its own cell and marks the
/// next one as its continuation (`isContinuation`), as ratatui does.
public struct Cell: Equatable, Hashable, Sendable {
    public var symbol: String
    public var style: Style
    public var isContinuation: Bool

    public init(_ symbol: String = " ", style: Style = .plain, isContinuation: Bool = false) {
        self.symbol = symbol
        self.style = style
        self.isContinuation = isContinuation
    }

    public static let blank = Cell()
}

public struct CursorPosition: Equatable, Hashable, Sendable {
    public let x: Int
    public let y: Int
    public init(x: Int, y: Int) {
        self.x = x
        self.y = y
    }
}

/// A full frame: screens draw everything into it, then the terminal writes only what changed.
public struct Buffer: Equatable, Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var cells: [Cell]
    /// What a mouse press does where, registered by widgets as they draw (later ones on top).
    public var regions: [HitRegion] = []
    /// Where the terminal's cursor goes (plain mode: the focused row or the caret), so a screen
    /// reader follows the focus; nil leaves it hidden.
    public var cursor: CursorPosition?

    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    public var area: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// Registers what a press inside `rect` does.
    public mutating func region(_ rect: Rect, _ action: HitAction) {
        let r = rect.intersection(area)
        if !r.isEmpty { regions.append(HitRegion(r, action)) }
    }

    /// What a press at `x`,`y` does: the last region drawn there, nil for none.
    public func hit(x: Int, y: Int) -> HitAction? {
        regions.last { $0.rect.contains(x: x, y: y) }?.action
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Fills `rect` with spaces in `style`.
    public mutating func fill(_ rect: Rect, style: Style) {
        let r = rect.intersection(area)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            // A wide character cut by either edge goes whole, so no row grows or keeps a stray half.
            clearWide(at: r.x, y: y)
            clearWide(at: r.maxX - 1, y: y)
            for x in r.x..<r.maxX { self[x, y] = Cell(" ", style: style) }
        }
    }

    /// Applies `style` over the cells of `rect`, keeping their text.
    public mutating func restyle(_ rect: Rect, _ change: (inout Style) -> Void) {
        let r = rect.intersection(area)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { change(&cells[y * width + x].style) }
        }
    }

    /// Writes sanitised `text` from (x, y), clipped to `maxWidth` columns and the buffer. A wide
    /// character that doesn't fit whole is replaced by a space. Returns the columns used.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: Style, maxWidth: Int = .max) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let limit = min(maxWidth, width - x)
        var column = 0
        for character in Sanitizer.clean(text) {
            let w = DisplayWidth.of(character)
            if w == 0 {
                // Zero-width: joins the previous grapheme when there is one on this line.
                if column > 0, x + column - 1 >= 0 {
                    var base = x + column - 1
                    if self[base, y].isContinuation, base > 0 { base -= 1 }
                    self[base, y].symbol += String(character)
                }
                continue
            }
            if column + w > limit {
                if column < limit, x + column >= 0 { self[x + column, y] = Cell(" ", style: style) }
                break
            }
            let cx = x + column
            if cx >= 0 {
                clearWide(at: cx, y: y)
                self[cx, y] = Cell(String(character), style: style)
                for k in 1..<max(1, w) where cx + k < width {
                    clearWide(at: cx + k, y: y)
                    self[cx + k, y] = Cell("", style: style, isContinuation: true)
                }
            }
            column += w
        }
        return column
    }

    /// Overwriting part of a wide character blanks the rest of it.
    private mutating func clearWide(at x: Int, y: Int) {
        if self[x, y].isContinuation {
            var start = x
            while start > 0 && self[start, y].isContinuation { start -= 1 }
            self[start, y] = Cell(" ", style: self[start, y].style)
            var k = start + 1
            while k < width && self[k, y].isContinuation && k != x {
                self[k, y] = Cell(" ", style: self[k, y].style)
                k += 1
            }
        }
        var k = x + 1
        while k < width && self[k, y].isContinuation {
            self[k, y] = Cell(" ", style: self[k, y].style)
            k += 1
        }
    }

    /// The cells that differ from `previous` (all of them when the sizes differ), row by row.
    /// A wide character is rewritten when its continuation cell changed too.
    public func diff(from previous: Buffer?) -> [(x: Int, y: Int, cell: Cell)] {
        var changes: [(x: Int, y: Int, cell: Cell)] = []
        let full = previous == nil || previous!.width != width || previous!.height != height
        let old = full ? [] : previous!.cells
        cells.withUnsafeBufferPointer { new in
            old.withUnsafeBufferPointer { old in
                for i in 0..<new.count where !new[i].isContinuation {
                    let continuationChanged =
                        i + 1 < new.count && (i + 1) % width != 0 && new[i + 1].isContinuation
                        && (full || old[i + 1] != new[i + 1])
                    if full || continuationChanged || old[i] != new[i] {
                        changes.append((i % width, i / width, new[i]))
                    }
                }
            }
        }
        return changes
    }

    /// The frame as text, one line per row (for golden files and tests).
    public func lines() -> [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width where !self[x, y].isContinuation { line += self[x, y].symbol }
            return line
        }
    }

    /// The widest row in display columns: never more than `width` (checked by the fuzz tests).
    public func widestLine() -> Int {
        var widest = 0
        for y in 0..<height {
            var columns = 0
            for x in 0..<width {
                let cell = cells[y * width + x]
                if cell.isContinuation { continue }
                // One ASCII byte is one column; anything else is measured.
                columns += cell.symbol.utf8.count == 1 ? 1 : DisplayWidth.of(cell.symbol)
            }
            widest = max(widest, columns)
        }
        return widest
    }

}
