import MessengerCore
import TerminalKit

/// Screen 5: the contacts behind one number, a keyset page at a time, newest first.
public struct ContactsState: Equatable, Sendable {
    public var query: ContactsQuery
    public var page: ContactPage?
    public var request: ContactPageRequest = .first
    public var times: [String] = []
    public var table = TableState()
    public var searchField: TextFieldState?
    public var pageNumber = 1

    public init(query: ContactsQuery) { self.query = query }

    public static let keys: [(key: String, action: String)] = [
        ("j/k", "move"), ("PgUp/PgDn", "page"), ("g/G", "first/last"), ("Enter", "contact"), ("/", "search"), ("x", "export CSV"),
        ("Esc", "back"),
    ]

    var title: String {
        let date = AccountCalendar(timeZone: .gmt).string(for: query.day)
        return "\(query.kind.rawValue) \(date)" + (query.search.isEmpty ? "" : " /\(query.search)")
    }

    func load(_ request: ContactPageRequest) -> ScreenCommand { .run(.loadContacts(query, page: request)) }

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        let commands = handleKey(key)
        // A page request remembers where it came from, for live refresh.
        for case .run(.loadContacts(_, let page)) in commands { request = page }
        return commands
    }

    private mutating func handleKey(_ key: Key) -> [ScreenCommand] {
        if var field = searchField {
            switch key {
            case .enter:
                searchField = nil
                query.search = field.text
                pageNumber = 1
                return [load(.first)]
            case .escape:
                searchField = nil
            default:
                field.handle(key)
                searchField = field
            }
            return []
        }
        let rows = page?.rows ?? []
        switch key {
        case .escape, .char("q"):
            if !query.search.isEmpty {
                query.search = ""
                pageNumber = 1
                return [load(.first)]
            }
            return [.pop]
        case .char("j"), .down:
            if table.cursor + 1 < rows.count {
                table.cursor += 1
            } else if let next = page?.next {
                table.cursor = 0
                pageNumber += 1
                return [load(.after(next))]
            }
        case .char("k"), .up:
            if table.cursor > 0 {
                table.cursor -= 1
            } else if page?.hasPrevious == true, let first = rows.first {
                pageNumber = max(1, pageNumber - 1)
                table.cursor = max(0, query.pageSize - 1)
                return [load(.before(ContactCursor(at: first.at, sendID: first.sendID)))]
            }
        case .pageDown, .char(" "):
            if let next = page?.next {
                table.cursor = 0
                pageNumber += 1
                return [load(.after(next))]
            }
            table.cursor = max(0, rows.count - 1)
        case .pageUp:
            if page?.hasPrevious == true, let first = rows.first {
                pageNumber = max(1, pageNumber - 1)
                return [load(.before(ContactCursor(at: first.at, sendID: first.sendID)))]
            }
            table.cursor = 0
        case .char("g"), .home:
            table.cursor = 0
            pageNumber = 1
            return [load(.first)]
        case .char("G"), .end:
            table.cursor = Int.max
            pageNumber = 0
            return [load(.last)]
        case .char("/"): searchField = TextFieldState(query.search)
        case .char("x"): return [.run(.exportContacts(query))]
        case .enter:
            guard rows.indices.contains(table.cursor) else { return [] }
            let row = rows[table.cursor]
            return [.push(.contactDetail(ContactDetailState(sendID: row.sendID))), .run(.loadContactDetail(sendID: row.sendID))]
        default: break
        }
        return []
    }

    mutating func loaded(_ page: ContactPage, times: [String], request: ContactPageRequest) {
        self.page = page
        self.times = times
        self.request = request
        table.cursor = page.rows.isEmpty ? 0 : min(table.cursor, page.rows.count - 1)
        table.offset = 0
    }

    func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        let parts = Layout.vertical(area, [.length(1), .fill, .length(1)])
        let kindWord =
            ["sent": "were sent", "delivered": "were delivered", "warning": "were not sent (warnings)"][query.kind.rawValue] ?? ""
        Label(
            "\(query.profile) · contacts who \(kindWord) on \(AccountCalendar(timeZone: .gmt).string(for: query.day))",
            style: theme.header
        ).render(into: &buffer, area: parts[0])
        guard let page else {
            Label("Loading…", style: theme.muted).render(into: &buffer, area: parts[1].inset(1))
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
                    page.rows.enumerated().map { i, r in [i < times.count ? times[i] : "", r.email, r.status.rawValue, r.reason ?? ""] }),
                theme: theme
            ).render(into: &buffer, area: parts[1], state: table)
        }
        if let field = searchField {
            TextField(theme: theme).render(into: &buffer, area: parts[2], state: TextFieldState("/" + field.text))
        } else {
            var status = pageNumber > 0 ? "page \(pageNumber)" : "last page"
            if page.hasPrevious { status += " · PgUp newer" }
            if page.next != nil { status += " · PgDn older" }
            if !query.search.isEmpty { status += " · search: \(query.search) (Esc clears)" }
            Label(status, style: theme.muted).render(into: &buffer, area: parts[2])
        }
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

    public static let keys: [(key: String, action: String)] = [("L", "lift suppression"), ("Esc", "back"), ("?", "help")]
    /// `L` is offered only where there is a suppression to lift.
    public static let keysNotSuppressed: [(key: String, action: String)] = [("Esc", "back"), ("?", "help")]

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        if key == .char("L") {
            guard let detail, let suppression = detail.suppression else { return [.toast("This contact is not suppressed", .info)] }
            return [.run(.liftSuppression(email: detail.email, pageID: suppression.pageID, sendID: sendID))]
        }
        return key == .escape || key == .char("q") || key == .enter ? [.pop] : []
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
        line("Status", d.status.rawValue, d.reason == nil ? theme.success : theme.warning)
        if let id = d.messageID { line("Message id", id, theme.text) }
        if let code = d.errorCode {
            line("Error", "\(code)" + (d.errorSubcode.map { "/\($0)" } ?? "") + " — " + (d.reason ?? ""), theme.error)
        } else if let reason = d.reason {
            line("Reason", reason, theme.warning)
        }
        for earlier in d.earlierAttempts {
            line("Attempt \(earlier.attempt)", earlier.status.rawValue + (earlier.reason.map { " — \($0)" } ?? ""), theme.muted)
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
    var keyBar: [(key: String, action: String)] { searchField != nil ? [("Enter", "search"), ("Esc", "cancel")] : Self.keys }
    var isTyping: Bool { searchField != nil }
    var tableCursor: Int? { table.cursor }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        if case .contactsLoaded(let query, let page, let times) = msg, self.query == query {
            loaded(page, times: times, request: request)
        }
        return []
    }
}

extension ContactDetailState: ScreenModel {
    var screen: Screen { .contactDetail(self) }
    var title: String { detail?.email ?? "Contact" }
    var keyBar: [(key: String, action: String)] { detail?.suppression == nil ? Self.keysNotSuppressed : Self.keys }

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
