import Foundation
import MessengerCore
import TerminalKit

/// Screen 2: name → Log in to Facebook → page → status → save → the opt-in field and code.
public struct NewProfileState: Equatable, Sendable {
    public enum Step: Equatable, Sendable { case name, login, device, token, page, status, saving, done }

    public var step: Step = .name
    public var name = TextFieldState("", limit: 200)
    public var nameError: String?
    public var pages: [PageInfo] = []
    public var picker = PickerState(items: [])
    public var pageID: String?
    public var enabled = true
    public var created: ProfileDetails?
    public var writtenPath: String?
    /// Graph mode: "Log in" takes a user access token, pasted here and never shown.
    public var usesGraph = false
    public var token = TextFieldState("", limit: 1024)
    public var loginError: String?
    /// The device login's code while it waits for the person (#24).
    public var deviceCode: DeviceCode?
    /// The newest device login asked for: answers of an earlier one (cancelled) are dropped.
    public var deviceAttempt = 0

    public init() {}

    /// The screen's keys, declared once (`Binding`), each with the step it works on; on the name
    /// and token steps every other key is text.
    static let bindings: [Binding<NewProfileState>] = {
        func on(_ steps: Step...) -> @Sendable (NewProfileState) -> Bool { { steps.contains($0.step) } }
        let pasting: @Sendable (NewProfileState) -> Bool = { $0.usesGraph && ($0.step == .login || $0.step == .device) }
        return [
            Binding([.enter, .tab], "Enter", bar: "next", help: "on to the Facebook login", when: on(.name)) { s, context in
                s.nameDone(existing: context.profileNames)
            },
            Binding(
                [.enter], "Enter", bar: "log in to Facebook", help: "Facebook Login for Devices: a code to enter on a phone",
                when: on(.login)
            ) {
                s, _ in s.startLogin()
            },
            Binding([.char("p")], "p", bar: "paste a token instead", help: "paste a user access token instead", when: pasting) { s, _ in
                let wasWaiting = s.step == .device
                s.step = .token
                s.deviceCode = nil
                return wasWaiting ? [.run(.cancelDeviceLogin)] : []
            },
            Binding([.enter], "Enter", bar: "list my pages", help: "list the pages the pasted token can manage", when: on(.token)) { s, _ in
                s.connectWithToken()
            },
            Binding([.enter], "Enter", bar: "choose page", help: "link the highlighted page", when: on(.page)) { s, _ in s.choosePage() },
            Binding(
                [.char("j"), .char("k"), .up, .down, .char(" ")], "j/k", bar: "Enabled/Disabled", help: "switch the status (Space too)",
                when: on(.status)
            ) { s, _ in
                s.enabled.toggle()
                return []
            },
            Binding([.enter, .ctrl("s")], "Enter", bar: "save", help: "create the profile (Ctrl-S too)", when: on(.status)) { s, _ in
                s.save()
            },
            Binding([.char("y")], "y", bar: "copy code (OSC 52)", help: "send the opt-in code to the clipboard", when: on(.done)) { s, _ in
                s.created.map { [.run(.copyToClipboard($0.optInCode))] } ?? []
            },
            Binding(
                [.char("f"), .char("w")], "f", bar: "write code to a file", help: "write the opt-in code beside the database",
                when: on(.done)
            ) {
                s, _ in
                s.created.map { [.run(.writeFile(name: "optin-\($0.summary.optInField).html", contents: $0.optInCode + "\n"))] } ?? []
            },
            // The screen below reloads: it lists the new profile.
            Binding([.enter, .escape, .char("q")], "Enter/Esc", bar: "done", help: "back to the profiles", when: on(.done)) { _, _ in [.pop]
            },
            Binding(
                [.escape], "Esc", bar: "back", help: "the step before (a login waiting is cancelled)",
                when: { $0.step != .done && $0.step != .saving }
            ) { s, _ in s.stepBack() },
        ]
    }()

    /// The key bar of a step (the page picker's moves are listed too).
    public static func keys(for state: NewProfileState) -> [(key: String, action: String)] {
        let moves: [(key: String, action: String)] = state.step == .page ? [("j/k", "move")] : []
        let paste: [(key: String, action: String)] = state.step == .token ? [("paste", "user access token")] : []
        return paste + moves + bindings.keyBar(for: state)
    }

    /// R1 as you type: the same check the core makes, plus uniqueness against the loaded list.
    mutating func validateName(existing: [String]) {
        do {
            let name = try ProfileName(self.name.text)
            nameError = existing.contains { ProfileName.key($0) == name.key } ? "a profile named \"\(name.value)\" already exists" : nil
        } catch {
            nameError = self.name.text.isEmpty ? nil : "\(error)"
        }
    }

    /// A key: the binding of the step the screen is on, else the step's text field or picker.
    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        if step == .saving { return [] }
        if step == .done, created == nil { return [.pop] }
        if let commands = Self.bindings.run(key, on: &self, context) { return commands }
        switch step {
        case .name:
            name.handle(key)
            validateName(existing: context.profileNames)
        case .token:
            token.handle(key)
            loginError = nil
        case .page:
            switch key {
            case .char("j"), .down: picker.move(by: 1)
            case .char("k"), .up: picker.move(by: -1)
            case .char("g"), .home: picker.move(by: -picker.items.count)
            case .char("G"), .end: picker.move(by: picker.items.count)
            default: break
            }
        default: break
        }
        return []
    }

    private mutating func nameDone(existing: [String]) -> [ScreenCommand] {
        validateName(existing: existing)
        if name.text.trimmingCharacters(in: .whitespaces).isEmpty { nameError = "give the profile a name (1–100 characters)" }
        if nameError == nil { step = .login }
        return []
    }

    /// Facebook Login for Devices: a code to enter on a phone (the sandbox's goes at once).
    private mutating func startLogin() -> [ScreenCommand] {
        loginError = nil
        deviceCode = nil
        step = .device
        deviceAttempt += 1
        return [.run(.startDeviceLogin(attempt: deviceAttempt))]
    }

    private mutating func connectWithToken() -> [ScreenCommand] {
        let text = token.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            loginError = "paste a user access token first"
            return []
        }
        loginError = nil
        // The token leaves the screen's state once it is handed over.
        token = TextFieldState("", limit: 1024)
        return [.run(.connectFacebook(token: text))]
    }

    private mutating func choosePage() -> [ScreenCommand] {
        guard picker.items.indices.contains(picker.cursor) else { return [] }
        if let reason = picker.items[picker.cursor].disabledReason { return [.toast("This page can't be chosen: \(reason)", .error)] }
        pageID = pages[picker.cursor].id
        step = .status
        return []
    }

    private mutating func save() -> [ScreenCommand] {
        guard let pageID else { return [] }
        step = .saving
        return [.run(.createProfile(name: name.text, pageID: pageID, enabled: enabled))]
    }

    /// Esc: the step before; from the name, back to the list; a device login waiting is cancelled.
    private mutating func stepBack() -> [ScreenCommand] {
        switch step {
        case .name: return [.pop]
        case .login: step = .name
        case .device:
            step = .login
            deviceCode = nil
            return [.run(.cancelDeviceLogin)]
        case .token:
            token = TextFieldState("", limit: 1024)
            loginError = nil
            step = .login
        case .page: step = .login
        case .status: step = .page
        case .saving, .done: break
        }
        return []
    }

    /// The directory's pages arrived: every page is listed, the ones that can't link say why.
    mutating func showPages(_ pages: [PageInfo]) {
        self.pages = pages
        picker = PickerState(
            items: pages.map { page in
                let reason = page.linkedProfile.map { "linked to profile \"\($0)\"" } ?? page.eligibility.reason
                return PickerItem(page.name, detail: "\(page.role.rawValue) · \(page.id)", disabledReason: reason)
            }, cursor: pages.firstIndex { $0.linkedProfile == nil && $0.eligibility == .eligible } ?? 0)
        step = .page
    }

    mutating func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        let inner = Rect(x: area.x + 2, y: area.y + 1, width: area.width - 4, height: area.height - 1)
        var y = inner.y
        func line(_ text: String, _ style: Style, indent: Int = 0) {
            guard y < inner.maxY else { return }
            Label(text, style: style).render(into: &buffer, area: Rect(x: inner.x + indent, y: y, width: inner.width - indent, height: 1))
            y += 1
        }
        let steps: [(Step, String)] = [
            (.name, "1 Name"), (step == .token || step == .device ? step : .login, "2 Log in to Facebook"), (.page, "3 Facebook page"),
            (.status, "4 Status"), (.done, "5 Opt-in code"),
        ]
        var x = inner.x
        for (s, label) in steps {
            let active = s == step || (step == .saving && s == .status)
            x += buffer.write(
                label + "   ", x: x, y: y, style: active ? theme.accent.with(.underline) : theme.muted, maxWidth: inner.maxX - x)
        }
        y += 2
        switch step {
        case .name:
            line("Name of the profile (1–100 characters, unique):", theme.text)
            TextField(theme: theme, placeholder: "e.g. Northwind Shop").render(
                into: &buffer, area: Rect(x: inner.x, y: y, width: min(60, inner.width), height: 1), state: name)
            y += 2
            if let nameError { line("✗ " + nameError, theme.error) } else if !name.text.isEmpty { line("✓ looks good", theme.success) }
        case .login:
            line("Profile: " + name.text.trimmingCharacters(in: .whitespaces), theme.text)
            y += 1
            line("[ Log in to Facebook ]", theme.selection)
            y += 1
            if let loginError {
                for text in TextWrap.lines("✗ " + loginError, width: max(10, inner.width)) { line(text, theme.error) }
            }
            line(
                usesGraph
                    ? "Shows a code to enter on your phone; p pastes a user access token instead."
                    : "Shows the sandbox's login code, then the pages it can send from (the sandbox directory).", theme.muted)
            line("Sending needs the Admin, Editor or Moderator role on the page.", theme.muted)
        case .device:
            guard let code = deviceCode else {
                line("Asking Facebook for a login code…", theme.muted)
                break
            }
            // A QR code of the direct link for a phone, beside the text when it fits whole there, else
            // not at all (the address and the code say the same; the dashboard is at least 80 wide).
            let qr = QRCode.drawable(on: theme) ? QRCode(code.directLink) : nil
            let top = y
            let beside = qr.map { inner.width >= $0.cells.width + 42 && top + $0.cells.height <= inner.maxY } ?? false
            let textWidth = beside ? inner.width - qr!.cells.width - 2 : inner.width
            func wrapped(_ text: String, _ style: Style, indent: Int = 0) {
                for part in TextWrap.lines(text, width: max(10, textWidth - indent)) { line(part, style, indent: indent) }
            }
            wrapped("On your phone or computer, open", theme.text)
            wrapped(code.verificationURI, theme.accent, indent: 2)
            wrapped("and enter the code", theme.text)
            wrapped(code.userCode, theme.header, indent: 2)
            y += 1
            wrapped("(or open \(code.directLink)" + (textWidth < inner.width ? ", or scan the code" : "") + ")", theme.muted)
            wrapped("Waiting for you to log in… Esc cancels" + (usesGraph ? "; p pastes a token instead." : "."), theme.muted)
            // Drawn after the text, whose lines clear the row they are on.
            if let qr, beside { qr.render(into: &buffer, x: inner.maxX - qr.cells.width, y: top, within: inner) }
        case .token:
            line("Paste a user access token (pages_show_list, pages_messaging); it is never shown:", theme.text)
            let masked = TextFieldState(String(repeating: "•", count: min(token.text.count, 60)), limit: 1024)
            TextField(theme: theme, placeholder: "paste the token, then Enter").render(
                into: &buffer, area: Rect(x: inner.x, y: y, width: min(62, inner.width), height: 1), state: masked)
            y += 2
            if let loginError {
                line("✗ " + loginError, theme.error)
            } else if !token.text.isEmpty {
                line("\(token.text.count) characters", theme.muted)
            }
        case .page:
            line("Choose the page this profile sends from (greyed pages can't be chosen):", theme.text)
            Picker(theme: theme).render(
                into: &buffer, area: Rect(x: inner.x, y: y, width: inner.width, height: min(12, inner.maxY - y)), state: &picker)
        case .status, .saving:
            line(
                "Profile: \(name.text.trimmingCharacters(in: .whitespaces))   Page: \(pages.first { $0.id == pageID }?.name ?? "?")",
                theme.text)
            y += 1
            line((enabled ? "● " : "○ ") + "Enabled", enabled ? theme.selection : theme.text)
            line((enabled ? "○ " : "● ") + "Disabled", enabled ? theme.text : theme.selection)
            y += 1
            line(step == .saving ? "Saving…" : "Enter or Ctrl-S saves.", theme.muted)
        case .done:
            guard let created else { return }
            line("Saved profile \"\(created.summary.name)\" (\(created.summary.enabled ? "Enabled" : "Disabled")).", theme.success)
            y += 1
            line("Opt-in data field: " + created.summary.optInField, theme.accent)
            line("Contacts who click the button get a value for this field and can be sent messages.", theme.muted)
            y += 1
            if let warning = created.optInCodeWarning { line("Warning: " + warning, theme.warning) }
            line("Opt-in code — paste it into a landing page:", theme.text)
            for codeLine in created.optInCode.components(separatedBy: "\n") { line(codeLine, theme.text, indent: 2) }
            y += 1
            if let writtenPath { line("Written to " + writtenPath, theme.success) }
        }
    }
}

extension NewProfileState: ScreenModel {
    var screen: Screen { .newProfile(self) }
    var title: String { "New profile" }
    /// `p` pastes a token only where it works: on the real Graph API (the sandbox logs in at once).
    var keyBar: [(key: String, action: String)] { Self.keys(for: self) }
    var help: [(key: String, action: String)] { Self.bindings.help(for: self) }
    var isTyping: Bool { step == .name }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        switch msg {
        case .pagesLoaded(let pages): if step == .device || step == .token || step == .login { showPages(pages) }
        case .deviceCodeShown(let code, let attempt): if step == .device, attempt == deviceAttempt { deviceCode = code }
        case .deviceLoggedIn(let pages, let attempt): if step == .device, attempt == deviceAttempt { showPages(pages) }
        case .deviceLoginEnded(let error, let attempt):
            if step == .device, attempt == deviceAttempt {
                step = .login
                deviceCode = nil
                loginError = error
            }
        case .profileCreated(let details):
            created = details
            step = .done
        case .fileWritten(let path): writtenPath = path
        // A failed save goes back to the status step, to try again.
        case .failed: if step == .saving { step = .status }
        default: break
        }
        return []
    }
}
