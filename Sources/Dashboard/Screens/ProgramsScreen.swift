import Foundation
import MessengerCore
import TerminalKit

/// Screen 6, as far as the shell needs it: the programs with their node's profile and tag, and
/// `a` to activate or pause. (The node editor and runs come with the programs issue.)
public struct ProgramsState: Equatable, Sendable {
    public var programs: [ProgramSummary] = []
    public var loaded = false
    public var table = TableState()

    public init() {}

    public static let keys: [(key: String, action: String)] = [("j/k", "move"), ("a", "activate/pause"), ("Esc", "back"), ("?", "help")]

    mutating func handle(_ key: Key, visibleRows: Int) -> [ScreenCommand] {
        let count = programs.count
        if ListKeys.apply(key, to: &table, count: count, visible: visibleRows) { return [] }
        switch key {
        case .escape, .char("q"): return [.pop]
        case .char("a"):
            guard programs.indices.contains(table.cursor) else { return [] }
            let p = programs[table.cursor]
            return [.run(.setProgramActive(name: p.name, active: p.status != .active))]
        default: return []
        }
    }

    func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        if loaded && programs.isEmpty {
            Label("No programs yet: create one with `messenger-dash programs create NAME`.", style: theme.muted).render(into: &buffer, area: area.inset(1))
            return
        }
        Table(columns: [TableColumn("NAME", width: .percent(28)), TableColumn("STATUS", width: .length(9)), TableColumn("PROFILE", width: .percent(25)),
                        TableColumn("TAG", width: .length(24)), TableColumn("ENROLLED", width: .length(9), alignment: .right)],
              source: ArrayRowSource(programs.map { [$0.name, $0.status.rawValue, $0.profile ?? "-", $0.tag ?? "-", String($0.enrolled)] }),
              theme: theme).render(into: &buffer, area: area, state: table)
    }
}
