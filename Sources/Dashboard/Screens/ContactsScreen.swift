import MessengerCore
import TerminalKit

/// Screen 5: the contacts behind one number, a keyset page at a time, newest first.
public struct ContactsState: Equatable, Sendable {
    public var query: ContactsQuery
    public var page: ContactPage?
    public var times: [String] = []
    public var table = TableState()
    /// `/`: filters as you type, as on every list; the database does the matching (the list is
    /// paged), over what a row shows and the contact's names.
    var filter = ListFilter()
    public var pageNumber = 1
    /// The newest page asked for and the one on screen (#23): rows of another search never show
    /// under this one's name, and keys pressed before its rows arrive wait for them.
    var loading: ListLoad<Question>

    /// What a page of contacts answers: the query (its search included) and which page.
    struct Question: Equatable, Sendable {
        var query: ContactsQuery
        var request: ContactPageRequest
    }

    /// The screen as it opens: asking for the first page (the command that pushes it sends it).
    public init(query: ContactsQuery) {
        self.query = query
        loading = ListLoad(asking: Question(query: query, request: .first))
    }

    /// The page asked for last, for a live refresh.
    public var request: ContactPageRequest { loading.asked?.request ?? .first }

    /// The list's keys, declared once: the bar, the help and the handling (`Binding`). The moves
    /// are its own: the list is keyset-paged, so a move past either end loads the next page.
    static let bindings: [Binding<ContactsState>] = [
        Binding([.char("j"), .down], "j/k", bar: "move", help: "down, into the next page at the end (arrows too)") { s, _ in s.down() },
        Binding([.char("k"), .up], "k", bar: nil, help: "up, into the page before at the top") { s, _ in s.up() },
        Binding([.pageDown, .char(" ")], "PgUp/PgDn", bar: "page", help: "the next page, older sends (Space too)") { s, _ in s.nextPage() },
        Binding([.pageUp], "PgUp", bar: nil, help: "the page before, newer sends") { s, _ in s.previousPage() },
        Binding([.char("g"), .home], "g/G", bar: "first/last", help: "the first page") { s, _ in
            s.table.cursor = 0
            s.pageNumber = 1
            return [s.load(.first)]
        },
        Binding([.char("G"), .end], "G", bar: nil, help: "the last page") { s, _ in
            s.table.cursor = Int.max
            s.pageNumber = 0
            return [s.load(.last)]
        },
        Binding([.enter], "Enter", bar: "contact", help: "the contact: its fields, the message, the answer") { s, _ in s.openContact() },
        Binding([.char("/")], "/", bar: "filter", help: "filter as you type (email, status, reason, name); Enter keeps it") { _, _ in [] },
        Binding([.char("x")], "x", bar: "export CSV", help: "write every contact of the list as CSV beside the database") { s, _ in
            [.run(.exportContacts(s.query))]
        },
        Binding([.escape, .char("q")], "Esc", bar: "back", help: "back to the days (a kept filter is cleared first)") { _, _ in [.pop] },
    ]
    public static var keys: [(key: String, action: String)] { bindings.keyBar() }

    var title: String {
        let date = AccountCalendar(timeZone: .gmt).string(for: query.day)
        // The count's one name (#27): "warnings", as the stats column and the CLI say it.
        let kind = query.kind == .warning ? "warnings" : query.kind.rawValue
        return "\(kind) \(date)" + (query.search.isEmpty ? "" : " /\(query.search)")
    }

    mutating func load(_ request: ContactPageRequest) -> ScreenCommand {
        loading.ask(Question(query: query, request: request))
        return .run(.loadContacts(query, page: request))
    }

    /// The rows on screen answer the current query (its search): false while another search's
    /// rows are all there is.
    var rowsMatchTheQuery: Bool { page != nil && loading.shows { $0.query == query } }

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        if !filter.isTyping, loading.isWaiting, Self.actsOnRows(key) {
            loading.hold(key)
            return []
        }
        if key == .escape { loading.dropHeld() }
        return handleKey(key, context)
    }

    /// Keys that move over or open rows: held while the rows on screen are not the newest answer.
    static func actsOnRows(_ key: Key) -> Bool {
        switch key {
        case .enter, .char("j"), .char("k"), .down, .up, .pageDown, .pageUp, .char(" "), .char("g"), .char("G"), .home, .end:
            return true
        default: return false
        }
    }

    private mutating func handleKey(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        switch filter.handle(key) {
        case .changed:
            query.search = filter.text
            pageNumber = 1
            table.cursor = 0
            return [load(.first)]
        case .taken: return []
        case .notMine: break
        }
        return Self.bindings.run(key, on: &self, context) ?? []
    }

    private var rows: [ContactOutcome] { page?.rows ?? [] }

    private mutating func down() -> [ScreenCommand] {
        if table.cursor + 1 < rows.count {
            table.cursor += 1
        } else if let next = page?.next {
            table.cursor = 0
            pageNumber += 1
            return [load(.after(next))]
        }
        return []
    }

    private mutating func up() -> [ScreenCommand] {
        if table.cursor > 0 {
            table.cursor -= 1
        } else if page?.hasPrevious == true, let first = rows.first {
            pageNumber = max(1, pageNumber - 1)
            table.cursor = max(0, query.pageSize - 1)
            return [load(.before(ContactCursor(at: first.at, sendID: first.sendID)))]
        }
        return []
    }

    private mutating func nextPage() -> [ScreenCommand] {
        if let next = page?.next {
            table.cursor = 0
            pageNumber += 1
            return [load(.after(next))]
        }
        table.cursor = max(0, rows.count - 1)
        return []
    }

    private mutating func previousPage() -> [ScreenCommand] {
        if page?.hasPrevious == true, let first = rows.first {
            pageNumber = max(1, pageNumber - 1)
            return [load(.before(ContactCursor(at: first.at, sendID: first.sendID)))]
        }
        table.cursor = 0
        return []
    }

    private func openContact() -> [ScreenCommand] {
        guard rows.indices.contains(table.cursor) else { return [] }
        let row = rows[table.cursor]
        return [.push(.contactDetail(ContactDetailState(sendID: row.sendID))), .run(.loadContactDetail(sendID: row.sendID))]
    }

    mutating func loaded(_ page: ContactPage, times: [String]) {
        self.page = page
        self.times = times
        table.cursor = page.rows.isEmpty ? 0 : min(table.cursor, page.rows.count - 1)
        table.offset = 0
    }

    mutating func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        let parts = Layout.vertical(area, [.length(1), .fill, .length(1)])
        let kindWord =
            ["sent": "were sent", "delivered": "were delivered", "warning": "were warned (not sent)"][query.kind.rawValue] ?? ""
        Label(
            "\(query.profile) · contacts who \(kindWord) on \(AccountCalendar(timeZone: .gmt).string(for: query.day))",
            style: theme.header
        ).render(into: &buffer, area: parts[0])
        guard let page, rowsMatchTheQuery else {
            // Rows of another search never show under this one's name (#23).
            let text = page == nil || query.search.isEmpty ? "Loading…" : "Searching for \"\(query.search)\"…"
            Label(text, style: theme.muted).render(into: &buffer, area: parts[1].inset(1))
            renderStatus(into: &buffer, area: parts[2], theme: theme)
            return
        }
        if page.rows.isEmpty {
            Label(
                query.search.isEmpty ? "No contacts behind this number." : "No contact matches \"\(query.search)\".",
                style: theme.muted
            ).render(into: &buffer, area: Rect(x: parts[1].x + 2, y: parts[1].y + 1, width: parts[1].width - 4, height: 1))
        } else {
            // The time column is named for what it holds: the delivered list shows when each was
            // delivered (still ordered by when it was sent), the others when it was sent or warned.
            let timeHeader = query.kind == .delivered ? "DELIVERED" : query.kind == .sent ? "SENT" : "WARNED"
            Table(
                columns: [
                    TableColumn(timeHeader, width: .length(27)), TableColumn("EMAIL", width: .percent(35)),
                    TableColumn("STATUS", width: .length(11)), TableColumn("REASON"),
                ],
                source: ArrayRowSource(
                    page.rows.enumerated().map { i, r in [i < times.count ? times[i] : "", r.email, r.status.word, r.reason ?? ""] }),
                theme: theme
            ).render(into: &buffer, area: parts[1], state: &table)
        }
        renderStatus(into: &buffer, area: parts[2], theme: theme)
    }

    /// The search being typed, or where the list is: the page, the search, and what is on its way.
    private func renderStatus(into buffer: inout Buffer, area: Rect, theme: Theme) {
        var status = pageNumber > 0 ? "page \(pageNumber)" : "last page"
        if let page, rowsMatchTheQuery {
            if page.hasPrevious { status += " · PgUp newer" }
            if page.next != nil { status += " · PgDn older" }
        }
        if loading.isWaiting {
            status += !rowsMatchTheQuery && !query.search.isEmpty ? " · searching…" : " · loading…"
            let held = loading.held.count
            if held > 0 { status += " (\(held) key\(held == 1 ? "" : "s") wait\(held == 1 ? "s" : "") for it)" }
        }
        filter.renderStatus(status, into: &buffer, area: area, theme: theme)
    }
}

/// One contact: its data fields, the message as personalised, the message id or the error.
public struct ContactDetailState: Equatable, Sendable {
    public var sendID: Int64
    public var detail: StatsService.ContactDetail?
    /// The times as the account's calendar writes them: sent (or warned), delivered, read.
    public var time = ""
    public var deliveredTime: String?
    public var readTime: String?

    public init(sendID: Int64) { self.sendID = sendID }

    static let isSuppressed: @Sendable (ContactDetailState) -> Bool = { $0.detail?.suppression != nil }

    /// The contact's keys, declared once (`Binding`); `L` where there is a suppression to lift.
    static let bindings: [Binding<ContactDetailState>] = [
        Binding(
            [.char("L")], "L", bar: "lift suppression", help: "lift the contact's suppression: the next run asks Facebook again",
            when: isSuppressed
        ) { s, _ in
            guard let detail = s.detail, let suppression = detail.suppression else { return [] }
            return [.run(.liftSuppression(email: detail.email, pageID: suppression.pageID, sendID: s.sendID))]
        },
        Binding([.escape, .char("q"), .enter], "Esc", bar: "back", help: "back to the list (Enter too)") { _, _ in [.pop] },
    ]

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        if key == .char("L") && detail?.suppression == nil { return [.toast("This contact is not suppressed", .info)] }
        return Self.bindings.run(key, on: &self, context) ?? []
    }

    func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        guard let d = detail else {
            Label("Loading…", style: theme.muted).render(into: &buffer, area: area.inset(1))
            return
        }
        let inner = Rect(x: area.x + 1, y: area.y + 1, width: area.width - 2, height: area.height - 1)
        var rows = FieldRows(area: inner, labelWidth: 14, labelStyle: theme.muted)
        func line(_ label: String, _ value: String, _ style: Style) { rows.add(label, value, style: style, into: &buffer) }
        line("Contact", d.email, theme.header)
        line(d.messageID == nil ? "Warned" : "Sent", time, theme.text)
        if let deliveredTime { line("Delivered", deliveredTime, theme.text) }
        if let readTime { line("Read", readTime, theme.text) }
        line("Status", d.status.word, d.reason == nil ? theme.success : theme.warning)
        if let id = d.messageID { line("Message id", id, theme.text) }
        if let code = d.errorCode {
            line("Error", "\(code)" + (d.errorSubcode.map { "/\($0)" } ?? "") + " — " + (d.reason ?? ""), theme.error)
        } else if let reason = d.reason {
            line("Reason", reason, theme.warning)
        }
        for earlier in d.earlierAttempts {
            line("Attempt \(earlier.attempt)", earlier.status.word + (earlier.reason.map { " — \($0)" } ?? ""), theme.muted)
        }
        if let s = d.suppression {
            line(
                "Suppressed", "for \(s.pageName) since \(AccountCalendar(timeZone: .gmt).string(for: s.since)) (\(s.code)) · L lifts",
                theme.error)
        }
        rows.y += 1
        line("Message", d.message == nil ? "(none: nothing was sent)" : "", theme.muted)
        if let message = d.message {
            for text in TextWrap.lines(message, width: max(10, inner.width - 16)).prefix(max(0, (inner.maxY - rows.y) / 2)) {
                Label(text, style: theme.text).render(
                    into: &buffer, area: Rect(x: inner.x + 2, y: rows.y, width: inner.width - 2, height: 1))
                rows.y += 1
            }
        }
        rows.y += 1
        line("Data fields", "", theme.muted)
        for field in d.fields where rows.y < inner.maxY {
            Label(field.name, style: theme.accent).render(into: &buffer, area: Rect(x: inner.x + 2, y: rows.y, width: 20, height: 1))
            Label(field.value, style: theme.text).render(
                into: &buffer, area: Rect(x: inner.x + 24, y: rows.y, width: inner.width - 24, height: 1))
            rows.y += 1
        }
    }
}

extension ContactsState: ScreenModel {
    var screen: Screen { .contacts(self) }
    var keyBar: [(key: String, action: String)] { filter.isTyping ? ListFilter.typingKeys : Self.keys }
    var help: [(key: String, action: String)] { filter.isTyping ? ListFilter.typingKeys : Self.bindings.help() }
    var isTyping: Bool { filter.isTyping }
    var tableCursor: Int? { table.cursor }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        guard case .contactsLoaded(let query, let page, let times, let request) = msg,
            loading.accept(Question(query: query, request: request))
        else { return [] }
        loaded(page, times: times)
        return ListLoad.replay(&self, \.loading) { screen, key in screen.handleKey(key, context) }
    }
}

extension ContactDetailState: ScreenModel {
    var screen: Screen { .contactDetail(self) }
    var title: String { detail?.email ?? "Contact" }
    var keyBar: [(key: String, action: String)] { Self.bindings.keyBar(for: self) }
    var help: [(key: String, action: String)] { Self.bindings.help(for: self) }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        switch msg {
        case .contactDetailLoaded(let detail, let time, let delivered, let read):
            self.detail = detail
            self.time = time
            deliveredTime = delivered
            readTime = read
        case .suppressionLifted(_, let sendID) where sendID == self.sendID:
            return [.run(.loadContactDetail(sendID: sendID))]
        default: break
        }
        return []
    }
}
