import MessengerCore
import TerminalKit

/// Screen 1: the profiles, with their 7-day delivered and warning counts.
public struct ProfilesState: Equatable, Sendable {
    public var all: [ProfileSummary] = []
    public var loaded = false
    /// `/`: what the list shows, filtered as you type (`ListFilter`).
    var filter = ListFilter()
    public var table = TableState()
    /// Marked profiles, by id, so marks survive a refresh or a filter.
    public var marked: Set<Int64> = []
    /// The filter is applied here, so rows always match it; what waits is the first answer, and
    /// keys pressed before it arrives act on the rows once they are there (#23).
    var loading = ListLoad(asking: AllRows())

    public init() {}

    public var visible: [ProfileSummary] {
        guard !filter.isEmpty else { return all }
        return all.filter { filter.matches(Self.cells(of: $0)) }
    }

    /// What a row shows, as the table draws it and the filter matches it.
    static func cells(of p: ProfileSummary) -> [String] {
        [p.name, p.pageName, p.enabled ? "Enabled" : "Disabled", p.optInField, String(p.delivered7d), String(p.warnings7d)]
    }

    public var current: ProfileSummary? {
        let rows = visible
        return rows.indices.contains(table.cursor) ? rows[table.cursor] : nil
    }

    /// The rows an action applies to: the marked ones, else the current one.
    public var targets: [ProfileSummary] {
        let marked = all.filter { self.marked.contains($0.id) }
        return marked.isEmpty ? (current.map { [$0] } ?? []) : marked
    }

    /// New data keeps the cursor on the same profile when it is still there.
    public mutating func load(_ profiles: [ProfileSummary]) {
        let keep = current?.id
        all = profiles
        loaded = loading.accept(AllRows())
        marked = marked.filter { id in profiles.contains { $0.id == id } }
        if let keep, let index = visible.firstIndex(where: { $0.id == keep }) { table.cursor = index }
        table.clamp(count: visible.count)
    }

    /// The list's keys, declared once: the bar, the help and the handling (`Binding`). `:` and
    /// `?` are the app's (it takes them first); they are here for the bar and the help.
    static let bindings: [Binding<ProfilesState>] = [
        Binding([.enter], "Enter", bar: "open", help: "open the profile's page") { s, _ in
            guard let p = s.current else { return [] }
            return [.push(.profilePage(ProfilePageState(name: p.name))), .run(.loadProfile(name: p.name))]
        },
        Binding([.char("/")], "/", bar: "filter", help: "filter as you type; Enter keeps it, Esc clears it") { _, _ in [] },
        Binding([.char(" ")], "Space", bar: "mark", help: "mark the row (e and d act on the marked rows)") { s, context in
            s.toggleMark()
        },
        Binding([.char("n")], "n", bar: "new", help: "a new profile: name, Facebook login, page, status") { _, _ in
            [.push(.newProfile(NewProfileState()))]
        },
        Binding([.char("e")], "e", bar: "on/off", help: "enable, or disable (checked first, then asked)") { s, _ in s.enableOrDisable() },
        Binding([.char("d")], "d", bar: "del", help: "delete the profiles and their statistics (asked first)") { s, _ in
            let names = s.targets.map(\.name)
            return names.isEmpty ? [] : [.run(.planDeletion(names: names))]
        },
        Binding([.char("q")], "q", bar: "quit", help: "quit (an unsaved edit or a run asks first)") { _, _ in [.quit] },
        Binding([.char(":")], ":", bar: "cmd", help: "command line") { _, _ in [] },
        Binding([.escape], "Esc", bar: nil, help: "clear the filter, then the marks") { s, _ in
            s.marked = []
            return []
        },
    ]
    public static var keys: [(key: String, action: String)] { bindings.keyBar() + [("j/k", "move")] }

    private mutating func toggleMark() -> [ScreenCommand] {
        guard let id = current?.id else { return [] }
        if marked.contains(id) { marked.remove(id) } else { marked.insert(id) }
        table.move(by: 1, count: visible.count)
        return []
    }

    /// Any enabled target means "disable": checked first (an active program refuses it), then
    /// asked; all disabled means "enable".
    private func enableOrDisable() -> [ScreenCommand] {
        let targets = self.targets
        guard !targets.isEmpty else { return [] }
        let names = targets.map(\.name)
        if targets.contains(where: \.enabled) { return [.run(.planDisable(names: names))] }
        return [.run(.setEnabled(names: names, enabled: true))]
    }

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        if !filter.isTyping, loading.isWaiting, Self.actsOnRows(key) {
            loading.hold(key)
            return []
        }
        return handleKey(key, context)
    }

    /// Keys that move over or act on rows: held until the first answer is on screen.
    static func actsOnRows(_ key: Key) -> Bool {
        if ListKeys.movement(key, page: 1) != nil { return true }
        return [.enter, .char(" "), .char("e"), .char("d")].contains(key)
    }

    /// A write of this dashboard's is shown at once, before the reload it asks for: a second `e`
    /// must see the state the first one left, not the row as it was (#23).
    mutating func applyEnabled(_ names: [String], enabled: Bool) {
        let keys = Set(names.map(ProfileName.key))
        for i in all.indices where keys.contains(ProfileName.key(all[i].name)) { all[i] = all[i].with(enabled: enabled) }
    }

    mutating func applyDeletion(_ names: [String]) {
        let keys = Set(names.map(ProfileName.key))
        all.removeAll { keys.contains(ProfileName.key($0.name)) }
        marked = []
        table.clamp(count: visible.count)
    }

    private mutating func handleKey(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        let visibleRows = context.visibleRows
        if filter.take(key, table: &table) { return [] }
        if ListKeys.apply(key, to: &table, count: visible.count, visible: visibleRows) { return [] }
        return Self.bindings.run(key, on: &self, context) ?? []
    }

    static func list(_ names: [String]) -> String {
        names.count == 1 ? "\"\(names[0])\"" : "\(names.count) profiles (\(names.map { "\"\($0)\"" }.joined(separator: ", ")))"
    }

    mutating func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        let parts = Layout.vertical(area, [.fill, .length(1)])
        if loaded && all.isEmpty {
            let lines = [
                "No Messenger profiles yet.", "", "Press n to create the first one: name it, log in to Facebook,",
                "pick the page it sends from, and copy its opt-in code.",
            ]
            for (i, line) in lines.enumerated() {
                Label(line, style: i == 0 ? theme.header : theme.text).render(
                    into: &buffer, area: Rect(x: area.x + 2, y: area.y + 1 + i, width: area.width - 4, height: 1))
            }
            return
        }
        let wide = area.width >= 120
        var columns = [
            TableColumn("NAME", width: .percent(wide ? 24 : 25)), TableColumn("FACEBOOK PAGE", width: .percent(wide ? 24 : 22)),
            TableColumn("STATUS", width: .length(10)), TableColumn("OPT-IN FIELD", width: .length(14)),
            TableColumn("DELIVERED 7D", width: .length(13), alignment: .right),
            TableColumn("WARNINGS 7D", width: .length(12), alignment: .right),
        ]
        if !wide {
            // One word per count (#27): a narrow screen drops the "7D", which the status line
            // says instead, rather than shorten the word to "WARN".
            columns[3] = TableColumn("OPT-IN FIELD", width: .length(13))
            columns[4] = TableColumn("DELIVERED", width: .length(10), alignment: .right)
            columns[5] = TableColumn("WARNINGS", width: .length(9), alignment: .right)
        }
        let rows = visible
        var state = table
        state.marked = Set(rows.indices.filter { marked.contains(rows[$0].id) })
        var t = Table(
            columns: columns,
            source: ArrayRowSource(
                rows.map(Self.cells)), theme: theme)
        t.dimmedRows = Set(rows.indices.filter { !rows[$0].enabled })
        t.render(into: &buffer, area: parts[0], state: &state)
        state.marked = table.marked  // the marks are the profiles' ids (`marked`), shown per row
        table = state
        var status = "\(rows.count) of \(all.count) profiles" + (wide ? "" : " · counts of the last 7 days")
        if !marked.isEmpty { status += " · \(marked.count) marked" }
        filter.renderStatus(status, into: &buffer, area: parts[1], theme: theme)
    }
}

extension ProfilesState: ScreenModel {
    var screen: Screen { .profiles(self) }
    var title: String { "Profiles" }
    var keyBar: [(key: String, action: String)] {
        filter.isTyping ? ListFilter.typingKeys : Self.keys
    }
    var help: [(key: String, action: String)] { Self.bindings.help() + ListHelp.moves }
    var isTyping: Bool { filter.isTyping }
    var tableCursor: Int? { table.cursor }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        switch msg {
        case .profilesLoaded(let profiles):
            load(profiles)
            return ListLoad.replay(&self, \.loading) { screen, key in screen.handleKey(key, context) }
        case .enabledChanged(let names, let enabled): applyEnabled(names, enabled: enabled)
        case .deleted(let plan): applyDeletion(plan.profiles)
        case .resize: table.clamp(count: visible.count)
        default: break
        }
        return []
    }
}
