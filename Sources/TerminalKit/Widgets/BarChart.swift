/// A grouped bar chart: one group per day, up to three series each (sent, delivered, warnings).
/// Each series has its own glyph as well as its own colour, so it reads without colour.
public struct BarChart {
    public struct Group: Equatable, Sendable {
        public var label: String
        public var values: [Int]
        public init(label: String, values: [Int]) {
            self.label = label
            self.values = values
        }
    }

    public static let glyphs: [Character] = ["█", "▓", "░"]

    public var groups: [Group]
    public var seriesNames: [String]
    public var theme: Theme

    public init(groups: [Group], seriesNames: [String], theme: Theme) {
        self.groups = groups
        self.seriesNames = seriesNames
        self.theme = theme
    }

    public func render(into buffer: inout Buffer, area: Rect) {
        if theme.plain { return renderNumbers(into: &buffer, area: area) }
        guard area.height >= 4, area.width >= 10, !groups.isEmpty else { return }
        // Legend on the first row.
        var x = area.x
        for (i, name) in seriesNames.enumerated() {
            let entry = "\(Self.glyphs[i % 3]) \(name)  "
            x += buffer.write(entry, x: x, y: area.y, style: theme.chart(i), maxWidth: area.maxX - x)
        }
        let plot = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 3)
        let maxValue = max(1, groups.flatMap(\.values).max() ?? 1)
        let series = max(1, seriesNames.count)
        let groupWidth = max(series + 1, plot.width / groups.count)
        let barWidth = max(1, (groupWidth - 1) / series)
        for (g, group) in groups.enumerated() {
            let gx = plot.x + g * groupWidth
            guard gx + series <= plot.maxX else { break }
            for (s, value) in group.values.enumerated() where s < series {
                let height = value == 0 ? 0 : max(1, value * plot.height / maxValue)
                for k in 0..<height {
                    let bar = String(repeating: String(Self.glyphs[s % 3]), count: barWidth)
                    buffer.write(
                        bar, x: gx + s * barWidth, y: plot.maxY - 1 - k, style: theme.chart(s), maxWidth: plot.maxX - gx - s * barWidth)
                }
            }
            buffer.write(DisplayWidth.truncate(group.label, to: groupWidth - 1), x: gx, y: plot.maxY, style: theme.muted)
            let total = group.values.first.map(String.init) ?? ""
            buffer.write(DisplayWidth.truncate(total, to: groupWidth - 1), x: gx, y: plot.maxY + 1, style: theme.text)
        }
    }

    /// Plain mode: the chart as a table of numbers, a row per group, newest first as drawn.
    private func renderNumbers(into buffer: inout Buffer, area: Rect) {
        guard area.height >= 2, !groups.isEmpty else { return }
        let width = max(8, seriesNames.map(DisplayWidth.of).max() ?? 8) + 2
        func line(_ label: String, _ cells: [String], y: Int, style: Style) {
            var x = area.x
            x += buffer.write(DisplayWidth.pad(label, to: 8), x: x, y: y, style: style, maxWidth: area.maxX - x)
            for cell in cells where x < area.maxX {
                let padded = String(repeating: " ", count: max(0, width - DisplayWidth.of(cell))) + cell
                x += buffer.write(padded, x: x, y: y, style: style, maxWidth: area.maxX - x)
            }
        }
        line("", seriesNames, y: area.y, style: theme.header)
        for (i, group) in groups.enumerated() where i + 1 < area.height {
            line(group.label, group.values.map(String.init), y: area.y + 1 + i, style: theme.text)
        }
    }
}
