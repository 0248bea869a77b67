import MessengerCore
import TerminalKit

/// Screen 4: one row per date with sent, delivered and warnings (not sent, with the reason). ←/→ pick a column, Enter opens
/// the contacts behind that number, `f` cycles the filter, `D` picks a day or a range, `x` exports.
public struct StatsScreenState: Equatable, Sendable {
    public var profile: String
    public var filter: StatsFilter = .all
    public var details: StatsDetails?
    public var table = TableState()
    public var from: DayNumber?
    public var to: DayNumber?
    public var today: DayNumber?
    /// The date picker, while open; `rangeStart` is the day Space marked.
    public var datePicker: PickerState?
    public var rangeStart: Int?
    /// `/`: the days shown, filtered as you type over what their row shows (a date, a reason).
    var textFilter = ListFilter()
    /// The newest filter and dates asked for and those the rows on screen answer (#23).
    var loading: ListLoad<Question>

    /// What a table of days answers: a filter and a day or range (nil: the 7 days).
    struct Question: Equatable, Sendable {
        var filter: StatsFilter
        var from: DayNumber?
        var to: DayNumber?

        /// Whether `details` answers this: the same filter, and these dates (the 7 days when none).
        func isAnswered(by details: StatsDetails) -> Bool {
            guard details.filter == filter else { return false }
            guard let from, let to else { return details.to - details.from == 6 }
            return details.from == from && details.to == to
        }
    }

    /// The screen as it opens: asking for the 7 days unfiltered (the command that pushes it sends it).
    public init(profile: String) {
        self.profile = profile
        loading = ListLoad(asking: Question(filter: .all, from: nil, to: nil))
    }

    /// The days the table shows: those `/` matches.
    var visibleDays: [DayStats] {
        guard let details else { return [] }
        return textFilter.isEmpty ? details.days : details.days.filter { textFilter.matches(cells(of: $0)) }
    }

    /// What a day's row shows: its date, the counts of the columns the filter shows, and (where
    /// warnings are shown) their reasons. The CSV export writes the same columns.
    func cells(of day: DayStats) -> [String] {
        var cells = [AccountCalendar(timeZone: .gmt).string(for: day.day)]
        for column in countColumns {
            cells.append(String(column.kind == .sent ? day.sent : column.kind == .delivered ? day.delivered : day.warnings))
        }
        if showsReasons { cells.append("  " + day.reasons.map { "\($0.reason): \($0.count)" }.joined(separator: "; ")) }
        return cells
    }

    /// Reasons belong to warnings: with `f` on sent or delivered the column goes, as in the CSV.
    var showsReasons: Bool { filter == .all || filter == .warnings }

    /// Whether the rows on screen answer the filter and dates now chosen.
    var rowsMatch: Bool { details != nil && !loading.isWaiting }

    /// The days' keys, declared once: the bar, the help and the handling (`Binding`).
    static let bindings: [Binding<StatsScreenState>] = [
        Binding([.left, .char("h")], "←/→", bar: "column", help: "the count column to the left (h too)") { s, _ in
            s.table.column = max(0, s.table.column - 1)
            return []
        },
        Binding([.right, .char("l")], "→", bar: nil, help: "the count column to the right (l too)") { s, _ in
            s.table.column = min(s.countColumns.count - 1, s.table.column + 1)
            return []
        },
        Binding([.enter], "Enter", bar: "contacts", help: "the contacts behind the number under the cursor") { s, context in
            s.openContacts(visibleRows: context.visibleRows - 1)
        },
        Binding([.char("f")], "f", bar: "counts", help: "cycle the counts shown: all, warnings, sent, delivered") { s, _ in
            s.filter = s.filter.next
            s.table.column = 0
            return [s.ask()]
        },
        Binding([.char("/")], "/", bar: "filter", help: "filter the days as you type (a date, a reason); Enter keeps it") { _, _ in [] },
        Binding([.char("D")], "D", bar: "dates", help: "one day or a range of the 7") { s, _ in
            s.openDatePicker()
            return []
        },
        Binding([.char("R")], "R", bar: "retry day", help: "retry the day's rate limits, timeouts and unknown outcomes (asked first)") {
            s, _ in
            // The day under the cursor: its rate limits, timeouts and unknown outcomes (R16).
            let days = s.visibleDays
            guard days.indices.contains(s.table.cursor) else { return [] }
            return [.run(.planRetry(profile: s.profile, day: days[s.table.cursor].day))]
        },
        Binding([.char("x")], "x", bar: "export CSV", help: "write what the screen shows, every page, as CSV beside the database") { s, _ in
            [.run(.exportStats(profile: s.profile, filter: s.filter, from: s.from, to: s.to))]
        },
        Binding([.escape, .char("q")], "Esc", bar: "back", help: "back to the profile (a kept filter is cleared first)") { _, _ in [.pop] },
    ]
    public static var keys: [(key: String, action: String)] { bindings.keyBar() }
    public static let pickerKeys: [(key: String, action: String)] = [("Enter", "choose"), ("Space", "start a range"), ("Esc", "close")]

    /// The count columns the filter shows, and the contacts each one opens.
    var countColumns: [(title: String, kind: ContactKind)] {
        switch filter {
        case .all: return [("SENT", .sent), ("DELIVERED", .delivered), ("WARNINGS", .warning)]
        case .sent: return [("SENT", .sent)]
        case .delivered: return [("DELIVERED", .delivered)]
        case .warnings: return [("WARNINGS", .warning)]
        }
    }

    var title: String {
        var parts = [filter.rawValue]
        if let from, let to {
            let c = AccountCalendar(timeZone: .gmt)
            parts.append(from == to ? c.string(for: from) : "\(c.string(for: from)) to \(c.string(for: to))")
        }
        return "Stats (" + parts.joined(separator: ", ") + ")"
    }

    var reload: Effect { .loadStats(profile: profile, filter: filter, from: from, to: to) }

    /// Asks for the days of the filter and dates now chosen.
    mutating func ask() -> ScreenCommand {
        loading.ask(Question(filter: filter, from: from, to: to))
        return .run(reload)
    }

    /// Keys that act on a day or move over the days: held while the days on screen answer
    /// another filter or other dates.
    static func actsOnRows(_ key: Key) -> Bool {
        if ListKeys.movement(key, page: 1) != nil { return true }
        return [.enter, .char("R"), .left, .right, .char("h"), .char("l")].contains(key)
    }

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        if datePicker == nil, !textFilter.isTyping, loading.isWaiting, Self.actsOnRows(key) {
            loading.hold(key)
            return []
        }
        if key == .escape { loading.dropHeld() }
        return handleKey(key, context)
    }

    /// The table sits under the filter line, one row fewer than a full-height list.
    private mutating func handleKey(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        let visibleRows = context.visibleRows - 1
        if datePicker != nil { return handlePicker(key) }
        if textFilter.take(key, table: &table) { return [] }
        if ListKeys.apply(key, to: &table, count: visibleDays.count, visible: visibleRows) { return [] }
        return Self.bindings.run(key, on: &self, context) ?? []
    }

    private func openContacts(visibleRows: Int) -> [ScreenCommand] {
        let days = visibleDays
        guard days.indices.contains(table.cursor), countColumns.indices.contains(table.column) else { return [] }
        let query = ContactsQuery(
            profile: profile, kind: countColumns[table.column].kind, day: days[table.cursor].day, pageSize: max(5, visibleRows - 1))
        return [.push(.contacts(ContactsState(query: query))), .run(.loadContacts(query, page: .first))]
    }

    private mutating func openDatePicker() {
        guard let today else { return }
        let calendar = AccountCalendar(timeZone: .gmt)
        datePicker = PickerState(items: [PickerItem("All 7 days")] + (0..<7).map { PickerItem(calendar.string(for: today - $0)) })
        rangeStart = nil
    }

    private mutating func handlePicker(_ key: Key) -> [ScreenCommand] {
        guard var picker = datePicker, let today else {
            datePicker = nil
            return []
        }
        switch key {
        case .escape:
            datePicker = nil
            rangeStart = nil
        case .char("j"), .down:
            picker.move(by: 1)
            datePicker = picker
        case .char("k"), .up:
            picker.move(by: -1)
            datePicker = picker
        case .char(" "):
            guard picker.cursor > 0 else { return [] }
            rangeStart = picker.cursor
            picker.items = picker.items.enumerated().map { i, item in
                PickerItem(item.label.replacingOccurrences(of: " ◆", with: "") + (i == picker.cursor ? " ◆" : ""))
            }
            datePicker = picker
        case .enter:
            datePicker = nil
            if picker.cursor == 0 {
                from = nil
                to = nil
            } else {
                let chosen = today - (picker.cursor - 1)
                let start = rangeStart.map { today - ($0 - 1) } ?? chosen
                from = min(start, chosen)
                to = max(start, chosen)
            }
            rangeStart = nil
            table.cursor = 0
            // Until the new dates arrive, no key acts on a row of the old ones (`loading` holds it).
            return [ask()]
        default: break
        }
        return []
    }

    mutating func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        guard let details, rowsMatch else {
            // Days of another filter or other dates never show under this one's name (#23).
            var text = "Loading the \(filter.rawValue) days…"
            let held = loading.held.count
            if held > 0 { text += " (\(held) key\(held == 1 ? "" : "s") wait\(held == 1 ? "s" : "") for them)" }
            Label(text, style: theme.muted).render(into: &buffer, area: area.inset(1))
            return
        }
        let calendar = AccountCalendar(timeZone: .gmt)
        let parts = Layout.vertical(area, [.length(1), .fill])
        if textFilter.isTyping || !textFilter.isEmpty {
            textFilter.renderStatus("\(visibleDays.count) of \(details.days.count) days", into: &buffer, area: parts[0], theme: theme)
        } else {
            Label(
                "\(details.profile) · \(calendar.string(for: details.from)) to \(calendar.string(for: details.to)) · filter: \(filter.rawValue) · Enter on a number lists its contacts",
                style: theme.header
            ).render(into: &buffer, area: parts[0])
        }
        var columns = [TableColumn("DATE", width: .length(12))]
        for column in countColumns { columns.append(TableColumn(column.title, width: .length(11), alignment: .right)) }
        if showsReasons { columns.append(TableColumn("  REASONS")) }
        let rows = visibleDays.map(cells)
        var state = table
        state.column = table.column + 1
        var t = Table(columns: columns, source: ArrayRowSource(rows), theme: theme)
        t.showsColumnCursor = true
        t.render(into: &buffer, area: parts[1], state: &state)
        state.column = table.column  // the DATE column is drawn first; the cursor counts from counts
        table = state
        if var picker = datePicker {
            let box = parts[1].centered(width: 36, height: 12)
            buffer.fill(box, style: theme.text)
            let inner = Block(title: "Dates", style: theme.border, titleStyle: theme.accent).render(into: &buffer, area: box)
            Picker(theme: theme).render(
                into: &buffer, area: Rect(x: inner.x, y: inner.y, width: inner.width, height: inner.height - 1), state: &picker)
            datePicker = picker
            Label(rangeStart == nil ? "Space marks the start of a range" : "Enter picks the end of the range", style: theme.muted)
                .render(into: &buffer, area: inner.row(inner.height - 1))
        }
    }
}

extension StatsScreenState: ScreenModel {
    var screen: Screen { .stats(self) }
    var keyBar: [(key: String, action: String)] {
        datePicker != nil ? Self.pickerKeys : textFilter.isTyping ? ListFilter.typingKeys : Self.keys
    }
    var isTyping: Bool { datePicker != nil || textFilter.isTyping }
    var help: [(key: String, action: String)] { datePicker != nil ? Self.pickerKeys : Self.bindings.help() + ListHelp.moves }
    var tableCursor: Int? { table.cursor }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        guard case .statsLoaded(let details, let today) = msg, ProfileName.key(profile) == ProfileName.key(details.profile),
            loading.accept(answering: { $0.isAnswered(by: details) })
        else { return [] }
        self.details = details
        self.today = today
        table.clamp(count: visibleDays.count)
        return ListLoad.replay(&self, \.loading) { screen, key in screen.handleKey(key, context) }
    }
}
