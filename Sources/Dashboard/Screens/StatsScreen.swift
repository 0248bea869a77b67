import MessengerCore
import TerminalKit

/// Screen 4: one row per date with sent, delivered and not sent; `f` cycles the filter.
/// (Drill-down to the contacts behind a number comes with the stats issue.)
public struct StatsScreenState: Equatable, Sendable {
    public var profile: String
    public var filter: StatsFilter = .all
    public var details: StatsDetails?
    public var table = TableState()

    public init(profile: String) { self.profile = profile }

    public static let keys: [(key: String, action: String)] = [("j/k", "move"), ("f", "cycle filter"), ("Esc", "back"), ("?", "help")]

    mutating func handle(_ key: Key, visibleRows: Int) -> [ScreenCommand] {
        let count = details?.days.count ?? 0
        if let move = ListKeys.movement(key, page: visibleRows) {
            if let to = move.absolute { table.moveTo(min(to, max(0, count - 1)), count: count, visible: visibleRows) }
            else { table.move(by: move.delta, count: count, visible: visibleRows) }
            return []
        }
        switch key {
        case .escape, .char("q"): return [.pop]
        case .char("f"):
            filter = filter.next
            return [.run(.loadStats(profile: profile, filter: filter))]
        default: return []
        }
    }

    func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        guard let details else {
            Label("Loading…", style: theme.muted).render(into: &buffer, area: area.inset(1))
            return
        }
        let calendar = AccountCalendar(timeZone: .gmt)
        let parts = Layout.vertical(area, [.length(1), .fill])
        Label("\(details.profile) · \(calendar.string(for: details.from)) to \(calendar.string(for: details.to)) · filter: \(filter.rawValue)",
              style: theme.header).render(into: &buffer, area: parts[0])
        var columns = [TableColumn("DATE", width: .length(12))]
        let show: [String]
        switch filter {
        case .all: show = ["sent", "delivered", "warnings"]
        case .sent: show = ["sent"]
        case .delivered: show = ["delivered"]
        case .warnings: show = ["warnings"]
        }
        for name in show { columns.append(TableColumn(name == "warnings" ? "NOT SENT" : name.uppercased(), width: .length(11), alignment: .right)) }
        columns.append(TableColumn("REASONS"))
        let rows = details.days.map { day -> [String] in
            var cells = [calendar.string(for: day.day)]
            for name in show {
                cells.append(String(name == "sent" ? day.sent : name == "delivered" ? day.delivered : day.warnings))
            }
            cells.append(day.reasons.map { "\($0.reason): \($0.count)" }.joined(separator: "; "))
            return cells
        }
        Table(columns: columns, source: ArrayRowSource(rows), theme: theme).render(into: &buffer, area: parts[1], state: table)
    }
}
