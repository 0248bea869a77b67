import Foundation
import MessengerCore
import TerminalKit

/// Screen 6: the programs with their node's profile and how it sends (a utility template's
/// review, or a tag, flagged ⚑ once Meta retired it), `a` to activate or pause, `r`/`R` to run,
/// Enter to open the Messenger node.
public struct ProgramsState: Equatable, Sendable {
    public var programs: [ProgramSummary] = []
    public var loaded = false
    public var table = TableState()
    /// The run in progress or just finished, shown over the list.
    public var run: RunView?
    /// `/`: the programs shown, filtered as you type.
    var filter = ListFilter()

    /// The programs the list shows: those the filter matches (by what their row shows).
    public var visible: [ProgramSummary] {
        filter.isEmpty ? programs : programs.filter { filter.matches(Self.cells(of: $0, wide: true)) }
    }

    /// What a row shows; the narrow table folds the schedule into the status as ↻.
    static func cells(of p: ProgramSummary, wide: Bool) -> [String] {
        // A narrow screen shows the last run as "11-30 14:02", which fits (#27: "20…" said nothing).
        let lastRun =
            p.lastRunAt.map {
                let full = AccountCalendar(timeZone: .gmt).timestamp(ofMillis: $0).replacingOccurrences(of: "T", with: " ")
                    .replacingOccurrences(of: "Z", with: "")
                return wide ? full : String(full.dropFirst(5).prefix(11))
            } ?? "never"
        let status = p.status.rawValue + (!wide && p.schedule != nil ? " ↻" : "")
        let first = [p.name, status, p.profile ?? "-", p.sendsAs, String(p.enrolled)]
        return first + (wide ? [p.schedule.map { "\($0)" } ?? "-"] : []) + [lastRun]
    }

    public struct RunView: Equatable, Sendable {
        public var program: String
        public var progress: RunProgress?
        public var elapsed: Double = 0
        public var summary: RunSummary?
        public var cancelling = false
    }

    /// The question the rows answer is how many of this screen's own writes (`a`) they include:
    /// keys pressed before the first list, or between an `a` and the list it changed, wait for
    /// it (#23), so a second `a` pauses what the first activated, as the person saw it.
    var loading = ListLoad(asking: 0)
    /// Activations and pauses asked for, and those Facebook's database answered (or refused).
    var writes = 0
    var writesAnswered = 0

    public init() {}

    /// Keys that move over or act on a program: held while the list on screen is not the newest.
    static func actsOnRows(_ key: Key) -> Bool {
        if ListKeys.movement(key, page: 1) != nil { return true }
        return [.enter, .char("a"), .char("r"), .char("R")].contains(key)
    }

    /// The list's keys, declared once: the bar, the help and the handling (`Binding`).
    static let bindings: [Binding<ProgramsState>] = [
        Binding([.enter], "Enter", bar: "edit node", help: "open the program's Messenger node") { s, _ in s.openNode() },
        Binding([.char("a")], "a", bar: "activate/pause", help: "activate the program, or pause it") { s, _ in s.toggleActive() },
        Binding([.char("r")], "r", bar: "run now", help: "run now: asks first, naming how many contacts it would message") { s, _ in
            s.askToRun(reenrol: false)
        },
        Binding([.char("R")], "R", bar: "re-enrol all, run", help: "enrol every contact again and run: asks first") { s, _ in
            s.askToRun(reenrol: true)
        },
        Binding([.char("/")], "/", bar: "filter", help: "filter as you type; Enter keeps it, Esc clears it") { _, _ in [] },
        Binding([.escape, .char("q")], "Esc", bar: "back", help: "back to Profiles (a kept filter is cleared first)") { _, _ in [.pop] },
    ]
    public static var keys: [(key: String, action: String)] { bindings.keyBar() }
    public static let runKeys: [(key: String, action: String)] = [("Esc", "cancel the run")]
    public static let summaryKeys: [(key: String, action: String)] = [("Enter/Esc", "close")]

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        if let current = run {
            if current.summary != nil {
                if key == .escape || key == .enter || key == .char("q") {
                    run = nil
                    return [.run(.loadPrograms)]
                }
            } else if key == .escape, !current.cancelling {
                run?.cancelling = true
                return [.run(.cancelRun(name: current.program))]
            }
            return []
        }
        if !filter.isTyping, loading.isWaiting, Self.actsOnRows(key) {
            loading.hold(key)
            return []
        }
        return handleKey(key, context)
    }

    private mutating func handleKey(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        let visibleRows = context.visibleRows
        if filter.take(key, table: &table) { return [] }
        if ListKeys.apply(key, to: &table, count: visible.count, visible: visibleRows) { return [] }
        return Self.bindings.run(key, on: &self, context) ?? []
    }

    private var currentProgram: ProgramSummary? {
        let programs = visible
        return programs.indices.contains(table.cursor) ? programs[table.cursor] : nil
    }

    private mutating func toggleActive() -> [ScreenCommand] {
        guard let p = currentProgram else { return [] }
        writes += 1
        loading.ask(writes)
        return [.run(.setProgramActive(name: p.name, active: p.status != .active))]
    }

    private func openNode() -> [ScreenCommand] {
        guard let name = currentProgram?.name else { return [] }
        return [.push(.nodeEditor(NodeEditorState(program: name))), .run(.loadNodeEditor(program: name))]
    }

    /// Nothing goes to Facebook on one keystroke (#27): the app asks first, naming how many
    /// contacts the run would message; the run view opens when the run starts.
    private func askToRun(reenrol: Bool) -> [ScreenCommand] {
        guard let name = currentProgram?.name else { return [] }
        return [.run(.planRun(name: name, reenrol: reenrol))]
    }

    mutating func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        if loaded && programs.isEmpty {
            Label("No programs yet: create one with `messenger-dash programs create NAME`.", style: theme.muted).render(
                into: &buffer, area: area.inset(1))
            return
        }
        // The schedule `serve` runs it on (#25): a column of its own on a wide screen; on a narrow
        // one a ↻ after the status (the CLI's `programs list` names it).
        let wide = area.width >= 110
        var columns = [
            TableColumn("NAME", width: .percent(wide ? 22 : 18)), TableColumn("STATUS", width: .length(wide ? 8 : 9)),
            TableColumn("PROFILE", width: .percent(wide ? 20 : 15)),
            TableColumn("SENDS AS", width: .percent(wide ? 26 : 31)), TableColumn("ENROLLED", width: .length(9), alignment: .right),
        ]
        if wide { columns.append(TableColumn("SCHEDULE", width: .length(12))) }
        columns.append(TableColumn(wide ? "LAST RUN (UTC)" : "LAST (UTC)"))
        let rows = visible
        let parts = Layout.vertical(area, [.fill, .length(1)])
        Table(columns: columns, source: ArrayRowSource(rows.map { Self.cells(of: $0, wide: wide) }), theme: theme).render(
            into: &buffer, area: parts[0], state: &table)
        filter.renderStatus("\(rows.count) of \(programs.count) programs", into: &buffer, area: parts[1], theme: theme)
        if let run { render(run, into: &buffer, area: area, theme: theme) }
    }

    private func render(_ run: RunView, into buffer: inout Buffer, area: Rect, theme: Theme) {
        let box = area.centered(width: min(area.width - 4, 72), height: 11)
        buffer.fill(box, style: theme.text)
        let inner = Block(title: "Run: \(run.program)", style: theme.border, titleStyle: theme.accent).render(into: &buffer, area: box)
        var lines: [(String, Style)] = []
        if let summary = run.summary {
            lines.append(
                (
                    summary.cancelled ? "Cancelled — the rest stays enrolled for the next run." : "Finished.",
                    summary.cancelled ? theme.warning : theme.success
                ))
            // One unit (#27): each contact had one outcome, sent or not; a killed run's claim
            // recorded now counts among them, and says so.
            let outcomes = summary.sent + summary.warned
            var counts =
                "\(Display.count(outcomes, "contact")): sent \(Display.grouped(summary.sent)) · warnings \(Display.grouped(summary.warned))"
            if summary.enrolled > 0 { counts += " · \(Display.grouped(summary.enrolled)) newly enrolled" }
            lines.append((counts, theme.text))
            if summary.recovered > 0 {
                lines.append(("\(Display.grouped(summary.recovered)) of them from an interrupted run, recorded now", theme.muted))
            }
            // The reasons, counts aligned; a list cut short says how many more it has.
            let room = max(0, inner.height - lines.count - (summary.stoppedBecause == nil ? 0 : 1))
            let shown = summary.warnings.count <= room ? summary.warnings : Array(summary.warnings.prefix(max(0, room - 1)))
            let width = shown.map { String($0.count).count }.max() ?? 0
            for r in shown { lines.append(("  " + String(r.count).leftPadded(width) + "  " + r.reason, theme.text)) }
            if shown.count < summary.warnings.count {
                let rest = summary.warnings.dropFirst(shown.count)
                lines.append(
                    (
                        "  +\(rest.count) more reason\(rest.count == 1 ? "" : "s") (\(Display.count(rest.reduce(0) { $0 + $1.count }, "contact"))): the profile's stats list them",
                        theme.muted
                    ))
            }
            if let stop = summary.stoppedBecause { lines.append(("Stopped: " + stop, theme.error)) }
        } else if let p = run.progress {
            let fraction = p.total == 0 ? 1 : Double(p.done) / Double(p.total)
            let barWidth = max(1, inner.width - 2)
            let filled = Int(fraction * Double(barWidth))
            lines.append((String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled), theme.accent))
            let rate = run.elapsed > 0 ? Double(p.done) / run.elapsed : 0
            let left = rate > 0 ? Double(p.total - p.done) / rate : 0
            lines.append(("\(p.done) / \(p.total) contacts · \(Int(rate)) a second · \(Int(left.rounded())) s left", theme.text))
            lines.append(("sent \(p.sent) · warnings \(p.warned)", theme.text))
            lines.append((run.cancelling ? "Cancelling after this batch…" : "Esc cancels; what is done stays done.", theme.muted))
        } else {
            lines.append(("Starting…", theme.muted))
        }
        for (i, line) in lines.prefix(inner.height).enumerated() {
            Label(line.0, style: line.1).render(
                into: &buffer, area: Rect(x: inner.x + 1, y: inner.y + i, width: inner.width - 2, height: 1))
        }
    }
}

extension ProgramsState: ScreenModel {
    var screen: Screen { .programs(self) }
    var title: String { "Programs" }
    var keyBar: [(key: String, action: String)] {
        if filter.isTyping { return ListFilter.typingKeys }
        guard let run else { return Self.keys }
        return run.summary == nil ? Self.runKeys : Self.summaryKeys
    }
    var tableCursor: Int? { table.cursor }
    var isTyping: Bool { filter.isTyping }
    var help: [(key: String, action: String)] { run == nil ? Self.bindings.help() + ListHelp.moves : keyBar }

    /// True when the screen shows the run of `program` (its progress and then its summary).
    func shows(runOf program: String) -> Bool { run?.program == program }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        switch msg {
        case .runProgress(let name, let progress, let elapsed):
            if shows(runOf: name), run?.summary == nil {
                run?.progress = progress
                run?.elapsed = elapsed
            }
        case .runFinished(let name, let summary):
            if shows(runOf: name) { run?.summary = summary }
        case .programsLoaded(let programs):
            // A list read before this screen's last write was answered shows the program as it was.
            guard loading.accept(writesAnswered) else { return [] }
            self.programs = programs
            loaded = true
            table.clamp(count: visible.count)
            return ListLoad.replay(&self, \.loading) { screen, key in screen.handleKey(key, context) }
        case .programChanged:
            // The app reloads the list after this; the list read then includes the write.
            writesAnswered = min(writes, writesAnswered + 1)
        case .failed where writesAnswered < writes:
            // Refused: nothing changed, so the rows on screen are right; what was typed after
            // the refused key was meant for a state that never came.
            writesAnswered += 1
            _ = loading.accept(writesAnswered)
            loading.dropHeld()
        default: break
        }
        return []
    }
}
