import Foundation
import MessengerCore
import TerminalKit

/// Screen 7: a program's Messenger node. Tab moves between the profile, how it sends (a utility
/// template, or a tag before Meta retired them), the message and the preview; the message takes
/// typing (with `@` opening the data-field picker); the counts, the preview and the flags (R7 for
/// tags, Meta's template rules for utility, R13) follow every keystroke. `u` converts a tagged
/// node to a utility template, keeping its text.
public struct NodeEditorState: Equatable, Sendable {
    public enum Focus: Equatable, Sendable { case profile, tag, message, preview }
    public enum Picker: Equatable, Sendable { case profile, tag, field }

    public var program: String
    public var data: NodeEditorData?
    public var profile: String?
    public var tag: String?
    /// How the node sends: a tag or a utility template (R13).
    public var kind: NodeKind = .tag
    public var language = "en_US"
    public var editor = TextAreaState()
    public var saved: (profile: String?, tag: String?, message: String) = (nil, nil, "")
    public var savedKind: NodeKind = .tag
    public var focus: Focus = .message
    public var picker: Picker?
    public var pickerState = PickerState(items: [])
    public var sample: SampleContact?

    public init(program: String) { self.program = program }

    public static func == (a: NodeEditorState, b: NodeEditorState) -> Bool {
        a.program == b.program && a.data == b.data && a.profile == b.profile && a.tag == b.tag && a.editor == b.editor
            && a.kind == b.kind && a.savedKind == b.savedKind && a.language == b.language
            && a.saved.profile == b.saved.profile && a.saved.tag == b.saved.tag && a.saved.message == b.saved.message
            && a.focus == b.focus && a.picker == b.picker && a.pickerState == b.pickerState && a.sample == b.sample
    }

    public var isDirty: Bool {
        profile != saved.profile || kind != savedKind || (kind == .tag && tag != saved.tag) || editor.text != saved.message
    }

    mutating func load(_ data: NodeEditorData) {
        self.data = data
        profile = data.program.profile
        tag = data.program.tag
        kind = data.program.kind
        language = data.program.latestTemplate?.language ?? "en_US"
        editor = TextAreaState(data.program.message)
        saved = (profile, tag, data.program.message)
        savedKind = kind
    }

    /// After a save: the node as stored now (its template's review, which version sends).
    mutating func saved(_ program: ProgramSummary) {
        data?.program = program
        saved = (profile, tag, editor.text)
        savedKind = kind
    }

    var currentTag: MessageTag? { data?.tags.first { $0.name == tag } }
    var optInField: String? { data?.profiles.first { $0.name == profile }?.optInField }

    /// The live checks, recomputed from the text as it stands: counts, preview for the sample
    /// contact, flags, a template error.
    typealias LiveCheck = (check: MessageCheck, preview: String?, templateError: String?)

    var live: LiveCheck? {
        guard let data else { return nil }
        if kind == .utility {
            return ProgramService.checkUtility(message: editor.text, fields: data.fields, examples: data.examples, sample: sample)
        }
        guard let tag = currentTag else { return nil }
        return ProgramService.check(message: editor.text, tag: tag, allTags: data.tags, fields: data.fields, sample: sample)
    }

    /// The tag is retired today (R12): say so, and how to convert.
    var tagRetired: String? {
        guard kind == .tag, let tag = currentTag, let today = data?.today, tag.isRetired(on: today) else { return nil }
        return tag.state(on: today)
    }

    /// What the "Send as" line says, short enough for half of 80 columns: the tag and its state,
    /// or the template version and its review. `reviewNote` says the rest.
    var sendsAsText: String {
        switch kind {
        case .tag:
            guard let tag else { return "(none: press t)" }
            return tagRetired != nil ? "⚑ \(tag) (retired)" : "tag \(tag)"
        case .utility:
            guard let latest = data?.program.latestTemplate, data?.program.kind == .utility else {
                return "utility template (new)"
            }
            var text = "utility v\(latest.version) \(latest.status.rawValue)"
            if latest.status != .approved, let sending = data?.program.sendingTemplate, sending.version != latest.version {
                text += " · v\(sending.version) sends"
            }
            return text
        }
    }

    /// The template's review in full, and what sends meanwhile (R13); nil when there is nothing to add.
    var reviewNote: (String, isProblem: Bool)? {
        guard kind == .utility else { return nil }
        guard let latest = data?.program.latestTemplate, data?.program.kind == .utility else {
            return ("Ctrl-S submits this text to Meta as a utility template; it sends once approved", false)
        }
        if latest.status == .approved && editor.text == saved.message { return nil }  // the line above says it all
        var text = "\(latest.name) (\(latest.language)) \(latest.status.rawValue)"
        if let reason = latest.reason { text += ": " + UtilityRules.explain(reason) }
        if latest.status != .approved {
            if let sending = data?.program.sendingTemplate, sending.version != latest.version {
                text += "; v\(sending.version) (\(sending.name)) sends meanwhile"
            } else {
                text += "; nothing sends until a version is approved"
            }
        }
        if editor.text != saved.message { text += "; Ctrl-S submits the edited text as v\(latest.version + 1)" }
        return (text, latest.status != .approved)
    }

    /// The editor's keys, declared once (`Binding`), each with when it works: outside the
    /// message a letter is a key; in it every key the bindings don't take is text.
    static let bindings: [Binding<NodeEditorState>] = {
        let outsideMessage: @Sendable (NodeEditorState) -> Bool = { $0.focus != .message }
        let order: [Focus] = [.profile, .tag, .message, .preview]
        return [
            Binding([.ctrl("s")], "Ctrl-S", bar: "save", help: "save; a utility node's changed text is submitted to Meta") { s, _ in
                s.save()
            },
            Binding([.tab], "Tab", bar: "next field", help: "the next field: profile, send as, message, preview") { s, _ in
                s.focus = order[(order.firstIndex(of: s.focus)! + 1) % 4]
                return []
            },
            Binding([.backTab], "Shift-Tab", bar: nil, help: "the field before") { s, _ in
                s.focus = order[(order.firstIndex(of: s.focus)! + 3) % 4]
                return []
            },
            Binding(
                [.enter], "Enter", bar: nil, help: "pick the focused field's value (profile or send as)",
                when: { $0.focus == .profile || $0.focus == .tag }
            ) {
                s, _ in
                if s.focus == .profile { s.openProfilePicker() } else { s.openTagPicker() }
                return []
            },
            Binding([.char("p")], "p", bar: "pick profile", help: "pick the profile (Enabled ones only)", when: outsideMessage) { s, _ in
                s.openProfilePicker()
                return []
            },
            Binding(
                [.char("t")], "t", bar: "send as", help: "how it sends: a utility template, or a tag and its state", when: outsideMessage
            ) {
                s, _ in
                s.openTagPicker()
                return []
            },
            Binding(
                [.char("u")], "u", bar: "to utility template", help: "convert a tagged node to a utility template, text kept",
                when: { $0.focus != .message && $0.kind == .tag }
            ) { s, _ in s.convertToUtility() },
            Binding([.char("]")], "[/]", bar: "previous/next contact", help: "the preview's next contact", when: { $0.focus == .preview }) {
                s, _ in [.run(.loadSample(after: s.sample?.id, forward: true, optInField: s.optInField))]
            },
            Binding([.char("[")], "[", bar: nil, help: "the preview's previous contact", when: { $0.focus == .preview }) { s, _ in
                [.run(.loadSample(after: s.sample?.id, forward: false, optInField: s.optInField))]
            },
            Binding([.char("@")], "@", bar: "insert field", help: "insert a data field", when: { $0.focus == .message }) { s, _ in
                s.openFieldPicker()
                return []
            },
            Binding([.ctrl("z")], "Ctrl-Z", bar: "undo", help: "undo the last edit", when: { $0.focus == .message }) { s, _ in
                s.editor.handle(.ctrl("z"))
                return []
            },
            Binding([.escape], "Esc", bar: "back", help: "back to the programs (unsaved changes ask first)") { s, _ in s.leave() },
        ]
    }()

    static func keys(for s: NodeEditorState) -> [(key: String, action: String)] {
        if s.picker != nil { return [("j/k", "move"), ("Enter", "choose"), ("Esc", "close")] }
        return bindings.keyBar(for: s)
    }

    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand] {
        if picker != nil { return handlePicker(key) }
        if let commands = Self.bindings.run(key, on: &self, context) { return commands }
        if focus == .message { editor.handle(key) }
        return []
    }

    /// Esc: back, asking first when there are unsaved changes.
    private func leave() -> [ScreenCommand] {
        guard isDirty else { return [.pop] }  // the Programs list below reloads
        return [
            .confirm(
                ConfirmDialogState(
                    title: "Unsaved changes", message: "Leave the node of \"\(program)\" without saving?", confirmLabel: "Discard"),
                then: .popScreen)
        ]
    }

    /// `u`: the same text, as a utility template (saved and submitted on Ctrl-S).
    private mutating func convertToUtility() -> [ScreenCommand] {
        guard kind == .tag else { return [.toast("This node already sends a utility template", .info)] }
        kind = .utility
        return [.toast("Converted to a utility template, text kept: Ctrl-S submits it to Meta for review", .info)]
    }

    private mutating func save() -> [ScreenCommand] {
        guard let profile else { return [.toast("Pick a profile first (Tab to Profile, Enter)", .error)] }
        let (program, message, language) = (self.program, editor.text, self.language)
        if kind == .utility {
            return confirmingFlags(
                title: "Template check", label: "Submit anyway",
                question: { "Meta will likely reject this template: \($0). Submit anyway?" },
                save: { confirmed in
                    .saveUtilityNode(program: program, profile: profile, language: language, message: message, acceptFlags: confirmed)
                })
        }
        guard let tag else { return [.toast("Pick a tag first (t)", .error)] }
        if let retired = tagRetired {
            return [.toast("Tag \(tag) was \(retired) by Meta: press u to send a utility template instead", .error)]
        }
        return confirmingFlags(
            title: "Policy check", label: "Save anyway",
            question: { "This message is flagged: \($0). Facebook can stop a page that sends such messages. Save anyway?" },
            save: { confirmed in
                .saveNode(program: program, profile: profile, tag: tag, message: message, acceptFlags: confirmed)
            })
    }

    /// The save itself, or (the live check flags the message) a dialog that asks first and saves
    /// with the flags accepted.
    private func confirmingFlags(title: String, label: String, question: (String) -> String, save: (Bool) -> Effect) -> [ScreenCommand] {
        guard let live, !live.check.flags.isEmpty else { return [.run(save(false))] }
        let dialog = ConfirmDialogState(title: title, message: question(ProgramService.describe(live.check.flags)), confirmLabel: label)
        return [.confirm(dialog, then: save(true))]
    }

    private mutating func openProfilePicker() {
        guard let data else { return }
        // Only Enabled profiles can be picked; a Disabled one already on the node may be kept.
        pickerState = PickerState(
            items: data.profiles.map { p in
                PickerItem(
                    p.name, detail: p.enabled ? "Enabled" : "Disabled",
                    disabledReason: p.enabled || p.name == saved.profile ? nil : "disabled: enable it to pick it")
            }, cursor: data.profiles.firstIndex { $0.name == profile } ?? 0)
        picker = .profile
    }

    static let utilityChoice = "Utility message template"

    /// "Change tag": the utility template first (Meta's way since the tags retired), then each
    /// tag with its state; a retired tag can't be newly picked (R12).
    private mutating func openTagPicker() {
        guard let data else { return }
        let utility = PickerItem(
            Self.utilityChoice, detail: "a page template Meta reviews; sent as messaging_type UTILITY with each contact's fields")
        let tags = data.tags.map { t in
            let state = t.state(on: data.today).map { "[\($0)] " } ?? ""
            return PickerItem(
                t.name, detail: state + t.allows + " e.g. \"" + t.example + "\"",
                disabledReason: t.isRetired(on: data.today) && !(t.name == saved.tag && savedKind == .tag)
                    ? "retired: \(t.retiredNote ?? "")" : nil)
        }
        let cursor = kind == .utility ? 0 : (data.tags.firstIndex { $0.name == tag }.map { $0 + 1 } ?? 0)
        pickerState = PickerState(items: [utility] + tags, cursor: cursor)
        picker = .tag
    }

    private mutating func openFieldPicker() {
        guard let data else { return }
        pickerState = PickerState(
            items: data.fields.filter { !$0.isOptIn }.map {
                PickerItem("@\($0.name)@", detail: $0.defaultValue.isEmpty ? "no default" : "default: \($0.defaultValue)")
            })
        picker = .field
    }

    private mutating func handlePicker(_ key: Key) -> [ScreenCommand] {
        switch key {
        case .escape:
            if picker == .field { editor.insert("@") }  // Esc keeps the @ that was typed
            picker = nil
        case .char("j"), .down: pickerState.move(by: 1)
        case .char("k"), .up: pickerState.move(by: -1)
        case .char("g"), .home: pickerState.move(by: -pickerState.items.count)
        case .char("G"), .end: pickerState.move(by: pickerState.items.count)
        case .enter:
            guard let choice = pickerState.choice else {
                let reason =
                    pickerState.items.indices.contains(pickerState.cursor) ? pickerState.items[pickerState.cursor].disabledReason ?? "" : ""
                return [.toast("Can't pick this: \(reason)", .error)]
            }
            switch picker {
            case .profile?:
                profile = choice.label
                sample = nil
            case .tag?:
                if choice.label == Self.utilityChoice {
                    kind = .utility
                } else {
                    kind = .tag
                    tag = choice.label
                }
            case .field?: editor.insert(choice.label)
            case nil: break
            }
            picker = nil
            if sample == nil { return [.run(.loadSample(after: nil, forward: true, optInField: optInField))] }
        default: break
        }
        return []
    }

    /// Where the editor's parts go. Wide (120 columns and more): the message and the preview side
    /// by side over the whole height, the notes at the foot of the preview; narrow: the preview
    /// below, and the notes (`noteRows` of them, wrapped, at most 4) under the profile and tag
    /// (#27: one line of them with "(+1)" hid the one saying Ctrl-S submits to Meta).
    struct Areas {
        static let maxNoteRows = 4
        let header: Rect
        let message: Rect
        let preview: Rect
        let wide: Bool

        init(_ area: Rect, noteRows: Int = 1) {
            let notes = area.width >= 120 ? 1 : min(Self.maxNoteRows, max(1, noteRows))
            let rows = Layout.vertical(area, [.length(2 + notes), .fill, .length(min(8, max(4, area.height / 4)))])
            header = rows[0]
            wide = rows[1].width >= 120
            if wide {
                let main = Rect(x: rows[1].x, y: rows[1].y, width: rows[1].width, height: rows[1].height + rows[2].height)
                let body = Layout.horizontal(main, [.percent(55), .fill])
                (message, preview) = (body[0], body[1])
            } else {
                (message, preview) = (rows[1], rows[2])
            }
        }
    }

    mutating func render(into buffer: inout Buffer, area: Rect, theme: Theme) {
        guard let data else {
            Label("Loading…", style: theme.muted).render(into: &buffer, area: area.inset(1))
            return
        }
        let live = self.live
        let narrowNotes = noteLines(live, width: area.width - 2, theme: theme)
        let areas = Areas(area, noteRows: narrowNotes.count)
        renderHeader(data, into: &buffer, area: areas.header, theme: theme)
        renderMessage(live, into: &buffer, area: areas.message, theme: theme)
        let previewInner = renderPreview(live, into: &buffer, area: areas.preview, theme: theme)
        if areas.wide {
            let notes = noteLines(live, width: previewInner.width, theme: theme)
            let top = previewInner.maxY - notes.count
            for (i, line) in notes.enumerated() where top + i >= previewInner.y {
                Label(line.0, style: line.1).render(
                    into: &buffer, area: Rect(x: previewInner.x, y: top + i, width: previewInner.width, height: 1))
            }
        } else {
            // As many lines as the header has; more say how many, and where they all show.
            let room = areas.header.height - 2
            var shown = narrowNotes.count <= room ? narrowNotes : Array(narrowNotes.prefix(max(0, room - 1)))
            if shown.count < narrowNotes.count {
                shown.append(
                    ("… \(narrowNotes.count - shown.count) more lines: 120 columns show every note beside the preview", theme.muted))
            }
            for (i, line) in shown.enumerated() {
                Label(line.0, style: line.1).render(
                    into: &buffer, area: Rect(x: areas.header.x + 1, y: areas.header.y + 2 + i, width: areas.header.width - 2, height: 1))
            }
        }
        if picker != nil { renderPicker(into: &buffer, area: area, theme: theme) }
    }

    /// The profile and how the node sends, the focused one highlighted.
    private func renderHeader(_ data: NodeEditorData, into buffer: inout Buffer, area: Rect, theme: Theme) {
        func field(_ label: String, _ value: String, _ focused: Bool, x: Int, width: Int) {
            buffer.write(label, x: x, y: area.y + 1, style: theme.muted)
            buffer.write(
                DisplayWidth.truncate(value, to: width - DisplayWidth.of(label) - 1), x: x + DisplayWidth.of(label) + 1, y: area.y + 1,
                style: focused ? theme.selection : theme.text)
        }
        let half = area.width / 2
        let profileText =
            profile.map { p in p + (data.profiles.first { $0.name == p }?.enabled == false ? " (Disabled)" : "") }
            ?? "(none: Tab here, Enter)"
        field("Profile:", profileText, focus == .profile, x: area.x + 1, width: half - 1)
        field("Send as:", sendsAsText, focus == .tag, x: area.x + half, width: area.width - half)
    }

    /// The message being edited, its counts in the title (red past the limit) and the flagged
    /// words highlighted.
    private func renderMessage(_ live: LiveCheck?, into buffer: inout Buffer, area: Rect, theme: Theme) {
        let counts =
            live.map {
                "\($0.check.templateLength)/\(MessageTemplate.maxLength) · preview \($0.check.previewLength)/\(MessageTemplate.maxLength)"
            } ?? ""
        let inner = Block(
            title: "Message · " + counts, style: focus == .message ? theme.accent : theme.border,
            titleStyle: (live?.check.previewLength ?? 0) > MessageTemplate.maxLength ? theme.error : theme.header
        )
        .render(into: &buffer, area: area)
        TextArea(theme: theme, focused: focus == .message && picker == nil, highlights: highlights(live?.check.flags ?? []))
            .render(into: &buffer, area: inner, state: editor)
    }

    /// The message as the sample contact would get it (or the warning it would get instead);
    /// returns the box's inside, where the wide layout also puts the notes.
    private func renderPreview(_ live: LiveCheck?, into buffer: inout Buffer, area: Rect, theme: Theme) -> Rect {
        let title = "Preview" + (sample.map { " for \($0.email)" } ?? "") + " · [ ]"
        let inner = Block(title: title, style: focus == .preview ? theme.accent : theme.border, titleStyle: theme.header)
            .render(into: &buffer, area: area)
        var lines: [(String, Style)] = []
        if let sample, !sample.optedIn {
            let warning =
                "⚠ \(sample.email) has no opt-in for this profile: it would get a warning (\(WarningReason.noOptIn.text)) and move on through the program."
            lines = TextWrap.lines(warning, width: max(1, inner.width)).map { ($0, theme.warning) }
        } else if let preview = live?.preview {
            lines = TextWrap.lines(preview, width: max(1, inner.width)).map { ($0, theme.text) }
        }
        if let error = live?.templateError { lines = [("✗ " + error, theme.error)] }
        for (i, line) in lines.prefix(inner.height).enumerated() {
            Label(line.0, style: line.1).render(into: &buffer, area: inner.row(i))
        }
        return inner
    }

    /// The notes under the preview, most pressing first: a retired tag, a template problem, the
    /// policy flags (each with the words that raised it), unknown fields; else a ✓. With `wrap`
    /// each note wraps at `width`; without, the narrow layout shows only the first line.
    /// The notes, each wrapped to `width` (a fix is never cut mid-word, #27).
    private func noteLines(_ live: LiveCheck?, width: Int, theme: Theme) -> [(String, Style)] {
        func wrapped(_ text: String, _ style: Style) -> [(String, Style)] {
            TextWrap.lines(text, width: max(1, width)).map { ($0, style) }
        }
        var lines: [(String, Style)] = []
        for flag in live?.check.flags ?? [] {
            let text =
                "⚑ " + flag.explanation + (flag.words.isEmpty ? "" : ": " + flag.words.joined(separator: ", "))
                + (flag.fix.map { " → " + $0 } ?? "")
            lines += TextWrap.lines(text, width: max(1, width)).map { ($0, theme.error) }
        }
        if let unknown = live?.check.unknownFields, !unknown.isEmpty {
            lines.append(
                ("✗ unknown data field" + (unknown.count > 1 ? "s " : " ") + unknown.map { "@\($0)@" }.joined(separator: ", "), theme.error)
            )
        }
        if lines.isEmpty, live != nil {
            lines.append((kind == .utility ? "✓ passes Meta's template rules as we know them" : "✓ no policy flags", theme.success))
        }
        if let (note, problem) = reviewNote {
            if problem {
                lines.insert(contentsOf: wrapped("✗ " + note, theme.error), at: 0)
            } else {
                lines += wrapped("ℹ " + note, theme.muted)
            }
        }
        if let retired = tagRetired {
            lines.insert(
                contentsOf: wrapped(
                    "⚑ tag \(retired) by Meta (error 100): " + (focus == .message ? "Tab, then u" : "press u")
                        + " to send a utility template", theme.error), at: 0)
        }
        return lines
    }

    /// The open picker (profile, tag or data field), centred over the editor.
    private mutating func renderPicker(into buffer: inout Buffer, area: Rect, theme: Theme) {
        guard let picker else { return }
        let titles: [Picker: String] = [
            .profile: "Pick a profile (Enabled only)", .tag: "Change tag: send as", .field: "Insert a data field",
        ]
        let box = area.centered(width: min(area.width - 4, 100), height: min(area.height - 2, pickerState.items.count + 2))
        buffer.fill(box, style: theme.text)
        let inner = Block(title: titles[picker] ?? "", style: theme.border, titleStyle: theme.accent).render(into: &buffer, area: box)
        TerminalKit.Picker(theme: theme).render(into: &buffer, area: inner, state: &pickerState)
    }

    /// The flagged words, as character ranges per line, for the editor to highlight.
    func highlights(_ flags: [PolicyFlag]) -> [(line: Int, range: Range<Int>)] {
        let words = flags.flatMap(\.words)
        var out: [(line: Int, range: Range<Int>)] = []
        for (i, line) in editor.lines.enumerated() {
            let lower = line.lowercased()
            for word in words {
                var from = lower.startIndex
                while let r = lower.range(of: word, range: from..<lower.endIndex) {
                    out.append(
                        (
                            i,
                            lower.distance(
                                from: lower.startIndex, to: r.lowerBound)..<lower.distance(from: lower.startIndex, to: r.upperBound)
                        ))
                    from = r.upperBound
                }
            }
        }
        return out
    }
}

extension NodeEditorState: ScreenModel {
    var screen: Screen { .nodeEditor(self) }
    var title: String { "\(program): Messenger node" + (isDirty ? " (modified)" : "") }
    var unsavedChanges: String? { isDirty ? "the unsaved edit of the node of \"\(program)\"" : nil }
    var keyBar: [(key: String, action: String)] { Self.keys(for: self) }
    var help: [(key: String, action: String)] { picker != nil ? Self.keys(for: self) : Self.bindings.help(for: self) }
    var isTyping: Bool { focus == .message || picker != nil }

    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] {
        switch msg {
        case .nodeEditorLoaded(let data) where ProfileName.key(program) == ProfileName.key(data.program.name):
            load(data)
            return [.run(.loadSample(after: nil, forward: true, optInField: optInField))]
        case .sampleLoaded(let sample): self.sample = sample
        case .nodeSaved: saved = (profile, tag, editor.text)
        case .utilityNodeSaved(let program, _, let summary) where ProfileName.key(self.program) == ProfileName.key(program):
            saved(summary)
        default: break
        }
        return []
    }
}
