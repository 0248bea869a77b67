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

    public static func keys(for step: Step) -> [(key: String, action: String)] {
        switch step {
        case .name: return [("Enter", "next"), ("Esc", "back")]
        case .login: return [("Enter", "log in to Facebook"), ("p", "paste a token instead"), ("Esc", "back")]
        case .device: return [("Esc", "cancel"), ("p", "paste a token instead")]
        case .token: return [("paste", "user access token"), ("Enter", "list my pages"), ("Esc", "back")]
        case .page: return [("j/k", "move"), ("Enter", "choose page"), ("Esc", "back")]
        case .status: return [("j/k", "Enabled/Disabled"), ("Enter", "save"), ("Ctrl-S", "save"), ("Esc", "back")]
        case .saving: return []
        case .done: return [("y", "copy code (OSC 52)"), ("f", "write code to a file"), ("Enter/Esc", "done")]
        }
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

    /// One reducer a step: each key goes to the step the screen is on.
    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        switch step {
        case .name: return handleName(key, existing: context.profileNames)
        case .login: return handleLogin(key)
        case .device: return handleDevice(key)
        case .token: return handleToken(key)
        case .page: return handlePage(key)
        case .status: return handleStatus(key)
        case .saving: return []
        case .done: return handleDone(key)
        }
    }

    private mutating func handleName(_ key: Key, existing: [String]) -> [ScreenCommand] {
        switch key {
        case .escape: return [.pop]
        case .enter, .tab:
            validateName(existing: existing)
            if name.text.trimmingCharacters(in: .whitespaces).isEmpty { nameError = "give the profile a name (1–100 characters)" }
            if nameError == nil { step = .login }
        default:
            name.handle(key)
            validateName(existing: existing)
        }
        return []
    }

    private mutating func handleLogin(_ key: Key) -> [ScreenCommand] {
        switch key {
        case .escape: step = .name
        case .enter:
            // Facebook Login for Devices: a code to enter on a phone (the sandbox's goes at once).
            loginError = nil
            deviceCode = nil
            step = .device
            deviceAttempt += 1
            return [.run(.startDeviceLogin(attempt: deviceAttempt))]
        case .char("p") where usesGraph:
            // Meta lists no permissions for device login: pasting a token stays the other way in.
            step = .token
        default: break
        }
        return []
    }

    private mutating func handleDevice(_ key: Key) -> [ScreenCommand] {
        switch key {
        case .escape:
            step = .login
            deviceCode = nil
            return [.run(.cancelDeviceLogin)]
        case .char("p") where usesGraph:
            step = .token
            deviceCode = nil
            return [.run(.cancelDeviceLogin)]
        default: return []
        }
    }

    private mutating func handleToken(_ key: Key) -> [ScreenCommand] {
        switch key {
        case .escape:
            token = TextFieldState("", limit: 1024)
            loginError = nil
            step = .login
        case .enter:
            let text = token.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else {
                loginError = "paste a user access token first"
                return []
            }
            loginError = nil
            // The token leaves the screen's state once it is handed over.
            token = TextFieldState("", limit: 1024)
            return [.run(.connectFacebook(token: text))]
        default:
            token.handle(key)
            loginError = nil
        }
        return []
    }

    private mutating func handlePage(_ key: Key) -> [ScreenCommand] {
        switch key {
        case .escape: step = .login
        case .char("j"), .down: picker.move(by: 1, visible: 12)
        case .char("k"), .up: picker.move(by: -1, visible: 12)
        case .char("g"), .home: picker.move(by: -picker.items.count, visible: 12)
        case .char("G"), .end: picker.move(by: picker.items.count, visible: 12)
        case .enter:
            guard picker.items.indices.contains(picker.cursor) else { return [] }
            if let reason = picker.items[picker.cursor].disabledReason {
                return [.toast("This page can't be chosen: \(reason)", .error)]
            }
            pageID = pages[picker.cursor].id
            step = .status
        default: break
        }
        return []
    }

    private mutating func handleStatus(_ key: Key) -> [ScreenCommand] {
        switch key {
        case .escape: step = .page
        case .char("j"), .char("k"), .up, .down, .char(" "): enabled.toggle()
        case .enter, .ctrl("s"):
            guard let pageID else { return [] }
            step = .saving
            return [.run(.createProfile(name: name.text, pageID: pageID, enabled: enabled))]
        default: break
        }
        return []
    }

    private func handleDone(_ key: Key) -> [ScreenCommand] {
        guard let created else { return [.pop] }
        switch key {
        case .char("y"): return [.run(.copyToClipboard(created.optInCode))]
        case .char("f"), .char("w"):
            return [.run(.writeFile(name: "optin-\(created.summary.optInField).html", contents: created.optInCode + "\n"))]
        case .enter, .escape, .char("q"): return [.pop]  // the screen below reloads: it lists the new profile
        default: return []
        }
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

    func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
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
                into: &buffer, area: Rect(x: inner.x, y: y, width: inner.width, height: min(12, inner.maxY - y)), state: picker)
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
    var keyBar: [(key: String, action: String)] { Self.keys(for: step).filter { usesGraph || $0.key != "p" } }
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
