import MessengerCore
import TerminalKit

/// Plain aligned columns for people reading a terminal; widths in display columns, user text
/// sanitised so it can't carry escape sequences to the terminal.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells.map(Sanitizer.clean)) }

    func render() -> String {
        var widths = headers.map(DisplayWidth.of)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = min(60, max(widths[i], DisplayWidth.of(cell))) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? DisplayWidth.truncate(c, to: 60) : DisplayWidth.pad(c, to: widths[i]) }
                .joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
