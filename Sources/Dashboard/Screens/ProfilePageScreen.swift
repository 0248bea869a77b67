import MessengerCore
import TerminalKit

/// Screen 3: one profile: details, page connection, 7-day totals and chart, errors, the replies note.
public struct ProfilePageState: Equatable, Sendable {
    public var name: String
    public var details: ProfileDetails?
    /// The last 7 days for the chart, oldest first.
    public var days: [DayStats] = []

    public init(name: String) { self.name = name }

    /// The page's keys, declared once: the bar, the help and the handling (`Binding`).
    static let bindings: [Binding<ProfilePageState>] = [
        Binding([.char("s"), .enter], "s", bar: "stats", help: "the statistics per date (Enter too)") { s, _ in
            [.push(.stats(StatsScreenState(profile: s.name))), .run(.loadStats(profile: s.name, filter: .all))]
        },
        Binding([.char("e")], "e", bar: "enable/disable", help: "enable, or disable (checked first, then asked)") { s, _ in
            guard let details = s.details else { return [] }
            // Checked first (an active program refuses it), then asked, as on the list.
            if details.summary.enabled { return [.run(.planDisable(names: [s.name]))] }
            return [.run(.setEnabled(names: [s.name], enabled: true))]
        },
        Binding([.char("d")], "d", bar: "delete", help: "delete the profile and its statistics (asked first)") { s, _ in
            [.run(.planDeletion(names: [s.name]))]
        },
        Binding([.char("w")], "w", bar: "webhooks", help: "subscribe the page to the app's webhooks again (asked first)") { s, _ in
            s.askToSubscribe()
        },
        Binding([.char("y")], "y", bar: "copy opt-in code", help: "send the opt-in code to the clipboard (OSC 52)") { s, _ in
            s.details.map { [.run(.copyToClipboard($0.optInCode))] } ?? []
        },
        Binding([.char("f")], "f", bar: "code to a file", help: "write the opt-in code to a file beside the database") { s, _ in
            // The way that works on any terminal: OSC 52 may not reach the clipboard (#27).
            s.details.map { [.run(.writeFile(name: "optin-\($0.summary.optInField).html", contents: $0.optInCode + "\n"))] } ?? []
        },
        Binding([.escape, .char("q")], "Esc", bar: "back", help: "back to the profiles") { _, _ in [.pop] },  // the list below reloads
    ]
    public static var keys: [(key: String, action: String)] { bindings.keyBar() }

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        Self.bindings.run(key, on: &self, context) ?? []
    }

    /// A call that changes what Facebook sends us: confirmed with what it asks for, as sends are.
    private func askToSubscribe() -> [ScreenCommand] {
        guard let details else { return [] }
        return [
            .confirm(
                ConfirmDialogState(
                    title: "Subscribe webhooks",
                    message:
                        "Subscribe the page \(details.summary.pageName) to the app's webhooks (\(WebhookFields.all.joined(separator: ", ")))? "
                        + "Facebook then sends its receipts, opt-ins and template reviews.",
                    confirmLabel: "Subscribe"),
                then: .subscribeWebhooks(name: name))
        ]
    }

    func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        guard let d = details else {
            Label("Loading…", style: theme.muted).render(into: &buffer, area: area.inset(1))
            return
        }
        let s = d.summary
        // The chart sits beside the details on a wide screen, below them on a tall one.
        let chartWidth = area.width >= 120 ? area.width / 2 : 0
        let chartBelow = chartWidth == 0 && area.height >= 36
        let columns = Layout.horizontal(area, [.fill, .length(chartWidth)])
        let left = Rect(x: columns[0].x + 1, y: columns[0].y + 1, width: columns[0].width - 2, height: columns[0].height - 1)
        var rows = FieldRows(area: left, labelWidth: 18, labelStyle: theme.muted)
        func field(_ label: String, _ value: String, _ style: Style) { rows.add(label, value, style: style, into: &buffer) }
        field("Profile", s.name, theme.header)
        field("Facebook page", "\(s.pageName) (\(s.pageID))", theme.text)
        field("Status", s.enabled ? "Enabled" : "Disabled", s.enabled ? theme.success : theme.warning)
        field(
            "Page connection", d.connectionError.map { "BROKEN: \($0)" } ?? "connected",
            d.connectionError == nil ? theme.success : theme.error)
        let facebook = Self.facebookLine(d.facebook)
        field("Facebook", facebook.text, facebook.ok ? theme.success : theme.error)
        field("Opt-in field", s.optInField, theme.accent)
        if let warning = d.optInCodeWarning {
            field("Opt-in code", warning, theme.warning)
        } else {
            field("Opt-in code", "press y to copy, f for a file (" + String(d.optInCode.count) + " characters)", theme.text)
        }
        field("Opt-in link", d.optInLink, theme.text)
        rows.y += 1
        field("Delivered, 7 days", String(s.delivered7d), theme.header)
        field("Funnel", "\(d.sent7d) sent → \(s.delivered7d) delivered → \(d.read7d) read", theme.text)
        rows.y += 1
        if d.notSent.isEmpty {
            field("Warnings", "none in the last 7 days", theme.success)
        } else {
            field("Warnings", "\(s.warnings7d) in the last 7 days:", theme.warning)
            // As many reasons as fit above the note; a list cut short says how many more, and
            // where they all are (#27: the 8th reason went without a word at 80x24).
            let room = max(0, left.maxY - 2 - rows.y)
            let shown = d.notSent.count <= room ? d.notSent[...] : d.notSent.prefix(max(0, room - 1))
            for r in shown {
                Label(String(r.count).leftPadded(7) + "  " + r.reason, style: theme.text).render(
                    into: &buffer, area: Rect(x: left.x + 2, y: rows.y, width: left.width - 2, height: 1))
                rows.y += 1
            }
            if shown.count < d.notSent.count {
                let rest = d.notSent.dropFirst(shown.count)
                Label(
                    "  +\(rest.count) more (\(Display.count(rest.reduce(0) { $0 + $1.count }, "contact"))): s shows them by day",
                    style: theme.muted
                ).render(into: &buffer, area: Rect(x: left.x + 2, y: rows.y, width: left.width - 2, height: 1))
                rows.y += 1
            }
        }
        rows.y += 1
        if rows.y < left.maxY {
            Label("Note: " + ProfileDetails.repliesNote, style: theme.muted).render(
                into: &buffer, area: Rect(x: left.x, y: rows.y, width: left.width, height: 1))
        }
        if chartBelow, !days.isEmpty {
            let top = max(rows.y + 1, area.maxY - 14)
            let inner = Block(title: "Last 7 days", style: theme.border, titleStyle: theme.header)
                .render(into: &buffer, area: Rect(x: area.x, y: top, width: area.width, height: area.maxY - top))
            BarChart(
                groups: days.map { BarChart.Group(label: String($0.dayLabel), values: [$0.sent, $0.delivered, $0.warnings]) },
                seriesNames: ["sent", "delivered", "warnings"], theme: theme
            ).render(into: &buffer, area: inner)
        }
        if chartWidth > 0, !days.isEmpty {
            let chartArea = Rect(x: columns[1].x, y: columns[1].y + 1, width: columns[1].width - 1, height: min(16, columns[1].height - 1))
            let inner = Block(title: "Last 7 days", style: theme.border, titleStyle: theme.header).render(into: &buffer, area: chartArea)
            BarChart(
                groups: days.map { BarChart.Group(label: String($0.dayLabel), values: [$0.sent, $0.delivered, $0.warnings]) },
                seriesNames: ["sent", "delivered", "warnings"], theme: theme
            ).render(into: &buffer, area: inner)
        }
    }
}

extension DayStats {
    /// `11-25` style label; the full date is in the stats details.
    var dayLabel: Substring {
        let text = AccountCalendar(timeZone: .gmt).string(for: day)
        return text.dropFirst(5)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

extension ProfilePageState: ScreenModel {
    var screen: Screen { .profilePage(self) }
    var title: String { name }
    var keyBar: [(key: String, action: String)] { Self.keys }
    var help: [(key: String, action: String)] { Self.bindings.help() }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        if case .profileLoaded(let details, let days) = msg, ProfileName.key(name) == ProfileName.key(details.summary.name) {
            self.details = details
            name = details.summary.name
            self.days = days.reversed()
        }
        return []
    }
}

extension ProfilePageState {
    /// "✓ token ✓ permissions ✓ webhooks (7) · event 2 min ago", from what is stored (short enough
    /// for the left column at 80x24);
    /// `messenger-dash doctor` asks Facebook and says how to fix each ✗ (#24).
    static func facebookLine(_ f: FacebookState) -> (text: String, ok: Bool) {
        func mark(_ ok: Bool) -> String { ok ? "✓" : "✗" }
        var parts = ["\(mark(f.tokenOK)) token"]
        if let permissions = f.permissionsOK { parts.append("\(mark(permissions)) permissions") }
        parts.append("\(mark(f.webhooksOK)) webhooks" + (f.webhookFields.map { " (\($0))" } ?? " (none)"))
        var text = parts.joined(separator: " ")
        if let ago = f.lastEventAgo {
            let when =
                ago < 60
                ? "just now" : ago < 3_600 ? "\(ago / 60) min ago" : ago < 86_400 ? "\(ago / 3_600) h ago" : "\(ago / 86_400) days ago"
            text += " · event " + when
        } else {
            text += " · no event yet"
        }
        return (text, f.tokenOK && f.webhooksOK && f.permissionsOK != false)
    }
}
