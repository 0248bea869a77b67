/// A bordered box with an optional title, the frame most widgets sit in.
public struct Block: Sendable {
    public var title: String
    public var style: Style
    public var titleStyle: Style

    public init(title: String = "", style: Style, titleStyle: Style? = nil) {
        self.title = title
        self.style = style
        self.titleStyle = titleStyle ?? style.with(.bold)
    }

    /// Draws the border and returns the inner area.
    @discardableResult
    public func render(into buffer: inout Buffer, area: Rect) -> Rect {
        guard area.width >= 2, area.height >= 2 else { return Rect(x: area.x, y: area.y, width: 0, height: 0) }
        let horizontal = String(repeating: "─", count: area.width - 2)
        buffer.write("┌" + horizontal + "┐", x: area.x, y: area.y, style: style)
        for y in (area.y + 1)..<(area.maxY - 1) {
            buffer.write("│", x: area.x, y: y, style: style)
            buffer.write("│", x: area.maxX - 1, y: y, style: style)
        }
        buffer.write("└" + horizontal + "┘", x: area.x, y: area.maxY - 1, style: style)
        if !title.isEmpty, area.width > 4 {
            buffer.write(" " + DisplayWidth.truncate(title, to: area.width - 4) + " ", x: area.x + 1, y: area.y, style: titleStyle)
        }
        return area.inset(1)
    }
}

/// A line of text clipped to its area; the simplest widget.
public struct Label: Sendable {
    public var text: String
    public var style: Style

    public init(_ text: String, style: Style) {
        self.text = text
        self.style = style
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        guard !area.isEmpty else { return }
        buffer.write(DisplayWidth.truncate(text, to: area.width), x: area.x, y: area.y, style: style, maxWidth: area.width)
    }
}

/// Word-wraps text to a width in display columns; a word longer than a line is cut, and a
/// character wider than the whole line becomes `…`.
public enum TextWrap {
    public static func lines(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var out: [String] = []
        for paragraph in text.components(separatedBy: "\n") {
            var line = ""
            var lineWidth = 0
            for word in paragraph.split(separator: " ", omittingEmptySubsequences: false) {
                let ww = DisplayWidth.of(String(word))
                if lineWidth > 0 && lineWidth + 1 + ww > width {
                    out.append(line)
                    line = ""
                    lineWidth = 0
                }
                if lineWidth > 0 {
                    line += " "
                    lineWidth += 1
                }
                for c in word {
                    var c = c
                    var w = DisplayWidth.of(c)
                    if w > width {
                        c = "…"
                        w = 1
                    }
                    if lineWidth + w > width {
                        out.append(line)
                        line = ""
                        lineWidth = 0
                    }
                    line.append(c)
                    lineWidth += w
                }
            }
            out.append(line)
        }
        return out
    }
}

/// Label–value rows down an area: the label in a column of `labelWidth`, the value after it;
/// rows past the bottom are dropped. `y` is where the next row goes.
public struct FieldRows {
    public let area: Rect
    public let labelWidth: Int
    public let labelStyle: Style
    public var y: Int

    public init(area: Rect, labelWidth: Int, labelStyle: Style) {
        self.area = area
        self.labelWidth = labelWidth
        self.labelStyle = labelStyle
        y = area.y
    }

    public mutating func add(_ label: String, _ value: String, style: Style, into buffer: inout Buffer) {
        guard y < area.maxY else { return }
        Label(label, style: labelStyle).render(into: &buffer, area: Rect(x: area.x, y: y, width: labelWidth, height: 1))
        Label(value, style: style).render(
            into: &buffer, area: Rect(x: area.x + labelWidth, y: y, width: area.width - labelWidth, height: 1))
        y += 1
    }
}
