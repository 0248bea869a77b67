import Foundation
import MessengerCore
import TerminalKit

/// Plain aligned columns for people reading a terminal; widths in display columns, user text
/// sanitised so it can't carry escape sequences to the terminal.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells.map(Sanitizer.clean)) }

    /// On a terminal a cell is cut at 60 columns, with "…"; into a pipe or a file nothing is cut
    /// (#27: `pages list | grep` lost the end of CAN LINK).
    var cutAt: Int? = isatty(STDOUT_FILENO) == 1 ? 60 : nil

    func render() -> String {
        let limit = cutAt ?? Int.max
        var widths = headers.map(DisplayWidth.of)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = min(limit, max(widths[i], DisplayWidth.of(cell))) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? (cutAt.map { DisplayWidth.truncate(c, to: $0) } ?? c) : DisplayWidth.pad(c, to: widths[i])
            }.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
