import MessengerCore
import TerminalKit

/// The Elm-style core of the dashboard: `update` takes a message and returns the effects to
/// run; `view` draws the whole frame. Neither does I/O, so both are tested directly.
public enum App {
    /// The `:` commands, listed once: completion, the help and the refusal of an unknown one
    /// read them (#27). `argument` names what follows, for the help.
    static let commandList: [(name: String, argument: String?)] = [
        ("profiles", nil), ("programs", nil), ("stats", "NAME"), ("theme", "NAME"), ("help", nil), ("q", nil), ("quit", nil), ("q!", nil),
    ]
    public static var commands: [String] { commandList.map(\.name) }
    /// "profiles, programs, stats NAME, theme NAME, help, q": as the help and a refusal say them.
    static var commandSummary: String {
        commandList.filter { $0.name != "quit" && $0.name != "q!" }.map { $0.name + ($0.argument.map { " " + $0 } ?? "") }
            .joined(separator: ", ")
    }

    public static func update(_ state: inout AppState, _ msg: Msg) -> [Effect] {
        guardRuns(&state, effects: dispatch(&state, msg))
    }

    /// Runs are the app's, not a screen's: one at a time per program (a second `r` is refused,
    /// even from a Programs screen opened anew), and quitting waits for them (see `requestQuit`).
    static func guardRuns(_ state: inout AppState, effects: [Effect]) -> [Effect] {
        var out: [Effect] = []
        for effect in effects {
            if case .retryDay(let profile, _, let programs) = effect {
                let ids = programs.map { RunID(.retry, program: $0) }
                if let going = state.runs.first(where: { run in ids.contains { $0.conflicts(with: run) } }) {
                    state.show("Can't retry \"\(profile)\" now: \(going) is going", kind: .error)
                    continue
                }
                state.runs.formUnion(ids)
            }
            if case .planRun(let name, _) = effect, isRunning(state, name) {
                // Nobody is asked to confirm a run that can't start.
                state.show("\"\(name)\" is already running", kind: .error)
                continue
            }
            if case .runProgram(let name, _) = effect {
                guard !isRunning(state, name) else {
                    state.show("\"\(name)\" is already running", kind: .error)
                    continue
                }
                state.runs.insert(RunID(.run, program: name))
                // The Programs screen shows the run it started, over its list.
                if case .programs(var programs) = state.current {
                    programs.run = ProgramsState.RunView(program: name)
                    state.stack[state.stack.count - 1] = .programs(programs)
                }
            }
            out.append(effect)
        }
        if state.quitting, !state.runs.isEmpty, !state.quitAfterRuns {
            // A quit asked for while a run goes on: ask first (the run would stop mid-batch).
            state.quitting = false
            let names = state.runs.sorted { $0.programKey < $1.programKey }.map(\.description).joined(separator: ", ")
            state.overlay = .confirm(
                ConfirmDialogState(
                    title: "A run is in progress",
                    message:
                        "Quit while \(names) is running? The run stops after its current batch and records it; the rest stays enrolled for the next run.",
                    confirmLabel: "Stop and quit"), then: .stopRunsAndQuit)
        }
        return out
    }

    /// Quitting, as `q` on the first screen, `:q` and Ctrl-C ask for it: an unsaved edit on any
    /// screen of the stack asks first; then `guardRuns` asks about runs still going. `:q!` skips
    /// the first question, never the second (a run's batch is recorded either way).
    static func requestQuit(_ state: inout AppState) {
        if let unsaved = state.stack.lazy.compactMap({ $0.model.unsavedChanges }).first {
            state.overlay = .confirm(
                ConfirmDialogState(title: "Unsaved changes", message: "Quit and discard \(unsaved)?", confirmLabel: "Discard and quit"),
                then: .discardAndQuit)
            return
        }
        state.quitting = true
    }

    /// Whether a run or retry of the program is going.
    static func isRunning(_ state: AppState, _ name: String) -> Bool {
        state.runs.contains { $0.conflicts(with: RunID(.run, program: name)) }
    }

    private static func dispatch(_ state: inout AppState, _ msg: Msg) -> [Effect] {
        switch msg {
        case .key(let key): return handleKey(&state, key)
        case .paste(let text):
            if case .commandLine(var field) = state.overlay {
                field.insert(text)
                state.overlay = .commandLine(field)
                return []
            }
            return text.flatMap { handleKey(&state, .char($0)) }
        case .mouse(let event): return handleMouse(&state, event)
        case .resize(let width, let height):
            state.width = width
            state.height = height
            let context = state.screenContext
            return perform(&state, state.updateCurrent { $0.receive(msg, context) })
        case .tick:
            if state.toastTicks > 0 {
                state.toastTicks -= 1
                if state.toastTicks == 0 { state.toast = nil }
            }
            return []
        case .databaseChanged:
            return reloadEffects(for: state.current)
        default:
            return apply(&state, msg)
        }
    }

    /// Effects that reload what the current screen shows (live refresh keeps the cursor).
    static func reloadEffects(for screen: Screen) -> [Effect] {
        switch screen {
        case .profiles: return [.loadProfiles]
        case .profilePage(let s): return [.loadProfile(name: s.name)]
        case .stats(let s): return [s.reload]
        case .programs: return [.loadPrograms]
        case .contacts(let s): return [.loadContacts(s.query, page: s.request)]
        case .newProfile, .contactDetail, .nodeEditor: return []
        }
    }

    /// A message from an effect: the app takes its share (toasts, dialogs, runs, the stack), then
    /// the screen it concerns takes its own in its `receive`: the current screen, or every
    /// profiles list for the messages that change them all.
    private static func apply(_ state: inout AppState, _ msg: Msg) -> [Effect] {
        var effects = applyToApp(&state, msg)
        let context = state.screenContext
        var commands: [ScreenCommand] = []
        switch msg {
        case .profilesLoaded, .deleted:
            for i in state.stack.indices { commands += state.stack[i].update { $0.receive(msg, context) } }
        default:
            commands = state.updateCurrent { $0.receive(msg, context) }
        }
        effects += perform(&state, commands)
        return effects
    }

    /// The app's share of a message from an effect: each kind of message has one reducer, and
    /// the others pass it by.
    private static func applyToApp(_ state: inout AppState, _ msg: Msg) -> [Effect] {
        applyProfileMessage(&state, msg) + applyRunMessage(&state, msg) + applySaveMessage(&state, msg) + applyOtherMessage(&state, msg)
    }

    /// Profiles created, enabled, disabled, subscribed, deleted.
    private static func applyProfileMessage(_ state: inout AppState, _ msg: Msg) -> [Effect] {
        switch msg {
        case .profilesLoaded(let profiles):
            state.profileNames = profiles.map(\.name)
        case .profileCreated(let details):
            state.show("Created \"\(details.summary.name)\" with opt-in field \(details.summary.optInField)", kind: .success)
            return [.loadProfiles]
        case .enabledChanged(let names, let enabled):
            state.show("\(enabled ? "Enabled" : "Disabled") \(ProfilesState.list(names))", kind: .success)
            return reloadEffects(for: state.current) + (state.stack.count > 1 ? [.loadProfiles] : [])
        case .disablePlanned(let names):
            state.overlay = .confirm(
                ConfirmDialogState(
                    title: "Disable",
                    message: "Disable \(ProfilesState.list(names))? Programs can't pick a disabled profile until it is enabled again.",
                    confirmLabel: "Disable"),
                then: .setEnabled(names: names, enabled: false))
        case .webhooksSubscribed(let name, let fields):
            state.show("Subscribed the page of \"\(name)\" to the app's webhooks (\(fields.count) fields)", kind: .success)
            return reloadEffects(for: state.current)
        case .deletionPlanned(let plan):
            let what = "\(ProfilesState.list(plan.profiles)) and \(plan.usageRecords) usage record\(plan.usageRecords == 1 ? "" : "s")"
            state.overlay = .confirm(
                ConfirmDialogState(
                    title: "Delete",
                    message:
                        "Delete \(what)? \(plan.profiles.count == 1 ? "Its page leaves" : "Their pages leave") the app's webhooks. This can't be undone.",
                    confirmLabel: "Delete"),
                then: .delete(names: plan.profiles))
        case .deleted(let plan):
            state.show(
                "Deleted \(ProfilesState.list(plan.profiles)) and \(plan.usageRecords) usage record\(plan.usageRecords == 1 ? "" : "s")",
                kind: .success)
            if case .profilePage = state.current { state.stack.removeLast() }
            return [.loadProfiles]
        default: break
        }
        return []
    }

    /// Runs and retries: the questions before them and their ends.
    private static func applyRunMessage(_ state: inout AppState, _ msg: Msg) -> [Effect] {
        switch msg {
        case .runFinished(let name, let summary):
            state.runs.remove(RunID(.run, program: name))
            if state.quitAfterRuns && state.runs.isEmpty { state.quitting = true }
            // The Programs screen showing the run shows its summary; elsewhere a toast says it.
            let shown = if case .programs(let s) = state.current { s.shows(runOf: name) } else { false }
            if !shown {
                state.show("Run of \"\(name)\" finished. \(summary.headline)", kind: .success)
            }
            return [.loadPrograms]
        case .runPlanned(let preview):
            state.overlay = .confirm(
                ConfirmDialogState(
                    title: preview.reenrol ? "Re-enrol and send" : "Send",
                    message: preview.question, confirmLabel: preview.messaged > 0 ? "Send" : "Run"),
                then: .runProgram(name: preview.program, reenrol: preview.reenrol))
        case .retryPlanned(let profile, let day, let programs, let count, let dayText):
            guard count > 0 else {
                state.show("Nothing to retry on \(dayText): no rate limits, timeouts or unknown outcomes", kind: .info)
                return []
            }
            state.overlay = .confirm(
                ConfirmDialogState(
                    title: "Retry",
                    message: "Send \(count) warning\(count == 1 ? "" : "s") of \(dayText) again (\(programs.joined(separator: ", ")))? "
                        + "Rate limits, timeouts and unknown outcomes are retried; an unknown one may have reached the person already.",
                    confirmLabel: "Retry"), then: .retryDay(profile: profile, day: day, programs: programs))
        case .retryFinished(let programs, let text, let failed):
            state.runs.subtract(programs.map { RunID(.retry, program: $0) })
            if state.quitAfterRuns && state.runs.isEmpty { state.quitting = true }
            state.show(text, kind: failed ? .error : .success)
            return reloadEffects(for: state.current)
        default: break
        }
        return []
    }

    /// What a save or an export wrote.
    private static func applySaveMessage(_ state: inout AppState, _ msg: Msg) -> [Effect] {
        switch msg {
        case .exported(let path, let rows):
            state.show("Exported \(rows) row\(rows == 1 ? "" : "s") to \(path)", kind: .success)
        case .nodeSaved(let program):
            state.show("Saved the Messenger node of \"\(program)\"", kind: .success)
        case .utilityNodeSaved(_, let result, _):
            if let latest = result.latest {
                let approved = latest.status == .approved
                var text = (result.submitted ? "Submitted " : "Saved; template unchanged: ") + latest.described
                if !approved, let sending = result.sending, sending.version != latest.version {
                    text += "; v\(sending.version) sends meanwhile"
                }
                state.show(text, kind: approved ? .success : .error)
            }
        default: break
        }
        return []
    }

    /// The rest: suppressions, programs, files, the clipboard, themes, refusals.
    private static func applyOtherMessage(_ state: inout AppState, _ msg: Msg) -> [Effect] {
        switch msg {
        case .suppressionLifted(let email, _):
            state.show("Lifted the suppression of \(email): the next run asks Facebook again", kind: .success)
        case .programChanged(let name, let active):
            state.show("\(active ? "Activated" : "Paused") \"\(name)\"", kind: .success)
            return [.loadPrograms]
        case .fileWritten(let path):
            state.show("Wrote the opt-in code to \(path)", kind: .success)
        case .copied:
            // The terminal never says whether it took it: the toast says what was done, and the way
            // that works everywhere (#27).
            state.show("Sent the opt-in code to the terminal's clipboard (OSC 52); if it isn't there, f writes it to a file", kind: .info)
        case .themeLoaded(let theme, let name, let warning):
            // A theme that can't be loaded leaves the one on screen (#27: `:theme nope` dropped it
            // for the default); the warning says why.
            if let warning {
                state.show(
                    warning.replacingOccurrences(of: "; using the default theme", with: "; keeping \(state.themeName)"), kind: .error)
                return []
            }
            state.theme = state.theme.plain ? theme.plainMode() : theme
            state.themeName = name
            state.show("Theme \(name)")
        case .failed(let message):
            state.show(message, kind: .error)
        default: break
        }
        return []
    }

    // MARK: Mouse

    /// A press does what is under it in the frame as drawn (see `HitAction`): a key-bar entry or
    /// a dialog button acts as its key, a table row is selected (opened on a double press); the
    /// wheel moves the cursor three rows, as scrolling does in k9s and lazygit.
    static func handleMouse(_ state: inout AppState, _ event: MouseEvent) -> [Effect] {
        switch event.kind {
        case .wheelUp, .wheelDown:
            guard state.overlay == nil, !state.current.isTyping else { return [] }
            let key: Key = event.kind == .wheelUp ? .up : .down
            return (0..<3).flatMap { _ in handleKey(&state, key) }
        case .press, .doublePress:
            if case .commandLine = state.overlay { return [] }
            switch view(state).hit(x: event.x, y: event.y) {
            case .key(let key)?:
                return handleKey(&state, key)
            case .row(let index)?:
                guard state.overlay == nil, !state.current.isTyping, let cursor = state.current.tableCursor else { return [] }
                let step: Key = index > cursor ? .down : .up
                var effects = (0..<abs(index - cursor)).flatMap { _ in handleKey(&state, step) }
                if event.kind == .doublePress { effects += handleKey(&state, .enter) }
                return effects
            case .inert?, nil:
                // A press beside the help closes it, as any key does.
                if case .help = state.overlay { state.overlay = nil }
                return []
            }
        }
    }

    // MARK: Keys

    private static func handleKey(_ state: inout AppState, _ key: Key) -> [Effect] {
        // Ctrl-C is quitting, from anywhere, by the path `:q` takes (#27): an unsaved edit asks,
        // a run asks and stops after its batch. It closes what floats first; it never force-quits.
        if key == .ctrl("c") {
            state.overlay = nil
            requestQuit(&state)
            return []
        }
        if let overlay = state.overlay { return handleOverlayKey(&state, overlay, key) }
        // The screen's text entry gets every key first.
        if state.current.isTyping { return route(&state, key) }
        switch key {
        case .char("?"):
            state.overlay = .help
            return []
        case .char(":"):
            state.overlay = .commandLine(TextFieldState())
            return []
        default: return route(&state, key)
        }
    }

    /// A key while something floats over the screen: it is that overlay's.
    private static func handleOverlayKey(_ state: inout AppState, _ overlay: Overlay, _ key: Key) -> [Effect] {
        switch overlay {
        case .help:
            if key == .escape || key == .char("?") || key == .char("q") || key == .enter { state.overlay = nil }
            return []
        case .confirm(var dialog, let then):
            switch dialog.handle(key) {
            case .pending: state.overlay = .confirm(dialog, then: then)
            case .cancelled: state.overlay = nil
            case .confirmed:
                state.overlay = nil
                return confirmed(&state, then)
            }
            return []
        case .commandLine(var field):
            switch key {
            case .escape: state.overlay = nil
            case .enter:
                state.overlay = nil
                return runCommand(&state, field.text)
            case .tab:
                // Completed as far as the candidates agree; when they still differ, they are
                // listed (#27: Tab on `:pro` did nothing and said nothing).
                let completed = complete(field.text, state: state)
                let choices = candidates(completed, state: state)
                if completed == field.text, choices.count > 1 { state.show(choices.joined(separator: "  "), kind: .info) }
                field = TextFieldState(completed)
                state.overlay = .commandLine(field)
            default:
                field.handle(key)
                state.overlay = .commandLine(field)
            }
            return []
        }
    }

    /// What a confirmed dialog does: most run their effect; a few are the app's own.
    private static func confirmed(_ state: inout AppState, _ then: Effect) -> [Effect] {
        switch then {
        case .stopRunsAndQuit:
            state.quitAfterRuns = true
            state.show("Stopping the run after its current batch…", kind: .info)
            if state.runs.isEmpty { state.quitting = true }
            return [then]
        case .popScreen:
            if state.stack.count > 1 { state.stack.removeLast() }
            return reloadEffects(for: state.current)
        case .discardAndQuit:
            state.quitting = true
            return []
        default:
            return [then]
        }
    }

    /// A key for the current screen: its reducer answers with commands, which the app performs.
    private static func route(_ state: inout AppState, _ key: Key) -> [Effect] {
        let context = state.screenContext
        return perform(&state, state.updateCurrent { $0.handle(key, context) })
    }

    /// Carries out what a screen asked for.
    private static func perform(_ state: inout AppState, _ commands: [ScreenCommand]) -> [Effect] {
        var effects: [Effect] = []
        for command in commands {
            switch command {
            case .push(.newProfile(var screen)):
                screen.usesGraph = state.usesGraph
                state.stack.append(.newProfile(screen))
            case .push(let screen): state.stack.append(screen)
            case .pop:
                // The screen below may be stale: changes are reloaded only on the screen shown.
                if state.stack.count > 1 {
                    state.stack.removeLast()
                    effects += reloadEffects(for: state.current)
                }
            case .run(let effect): effects.append(effect)
            case .confirm(let dialog, let then): state.overlay = .confirm(dialog, then: then)
            case .toast(let message, let kind): state.show(message, kind: kind)
            case .quit: if state.stack.count == 1 { requestQuit(&state) }
            }
        }
        return effects
    }

    // MARK: The command line

    static func runCommand(_ state: inout AppState, _ text: String) -> [Effect] {
        let words = text.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1).map(String.init)
        guard let verb = words.first else { return [] }
        let argument = words.count > 1 ? words[1].trimmingCharacters(in: .whitespaces) : ""
        switch verb {
        case "q", "quit":
            requestQuit(&state)
        case "q!":
            state.quitting = true
        case "profiles":
            state.stack = [state.stack[0]]
            return [.loadProfiles]
        case "programs":
            var programs = ProgramsState()
            // A run still going shows again over a fresh list (its progress keeps coming).
            if let running = state.runs.filter({ $0.kind == .run }).map(\.program).sorted().first {
                programs.run = ProgramsState.RunView(program: running)
            }
            state.stack = [state.stack[0], .programs(programs)]
            return [.loadPrograms]
        case "stats":
            let name = argument.isEmpty ? currentProfileName(state) : argument
            guard let name, let match = state.profileNames.first(where: { ProfileName.key($0) == ProfileName.key(name) }) else {
                state.show(argument.isEmpty ? "usage: :stats PROFILE" : "no profile named \"\(argument)\"", kind: .error)
                return []
            }
            state.stack = [state.stack[0], .profilePage(ProfilePageState(name: match)), .stats(StatsScreenState(profile: match))]
            return [.loadProfile(name: match), .loadStats(profile: match, filter: .all)]
        case "theme":
            guard !argument.isEmpty else {
                state.show("usage: :theme NAME (\(state.themeNames.joined(separator: ", ")))", kind: .error)
                return []
            }
            return [.loadTheme(argument)]
        case "help":
            state.overlay = .help
        default:
            state.show("unknown command :\(verb) — the commands: \(commandSummary)", kind: .error)
        }
        return []
    }

    static func currentProfileName(_ state: AppState) -> String? {
        switch state.current {
        case .profiles(let s): return s.current?.name
        case .profilePage(let s): return s.name
        case .stats(let s): return s.profile
        default: return nil
        }
    }

    /// Tab completion: the command, then a profile or theme name.
    static func complete(_ text: String, state: AppState) -> String {
        let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count <= 1 {
            let matches = commands.filter { $0.hasPrefix(text) }
            return matches.count == 1
                ? matches[0] + (commandList.first { $0.name == matches[0] }?.argument != nil ? " " : "")
                : commonPrefix(matches, fallback: text)
        }
        let pool = parts[0] == "stats" ? state.profileNames : parts[0] == "theme" ? state.themeNames : []
        let matches = pool.filter { $0.lowercased().hasPrefix(parts[1].lowercased()) }
        return parts[0] + " " + (matches.count == 1 ? matches[0] : commonPrefix(matches, fallback: parts[1]))
    }

    /// What `text` could still become: the commands it begins, or the names for its argument.
    static func candidates(_ text: String, state: AppState) -> [String] {
        let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count <= 1 { return commands.filter { $0.hasPrefix(text) && !$0.hasPrefix("q") } }
        let pool = parts[0] == "stats" ? state.profileNames : parts[0] == "theme" ? state.themeNames : []
        return pool.filter { $0.lowercased().hasPrefix(parts[1].lowercased()) }
    }

    static func commonPrefix(_ words: [String], fallback: String) -> String {
        guard var prefix = words.first else { return fallback }
        for w in words.dropFirst() { while !w.hasPrefix(prefix) { prefix.removeLast() } }
        return prefix.count > fallback.count ? prefix : fallback
    }

    // MARK: View

    /// The frame of `state`, for tests and goldens: `draw` on a copy.
    public static func view(_ state: AppState) -> Buffer {
        var copy = state
        return draw(&copy)
    }

    /// Draws the frame. A table writes back into the screen's state the scroll offset it showed
    /// and its height (ratatui's StatefulWidget), which the next key's PgDn steps by.
    public static func draw(_ state: inout AppState) -> Buffer {
        var buffer = Buffer(width: state.width, height: state.height, fill: Cell(" ", style: state.theme.text))
        guard TooSmall.fits(width: state.width, height: state.height) else {
            TooSmall.render(into: &buffer, theme: state.theme)
            return state.theme.plain ? PlainMode.apply(buffer) : buffer
        }
        let parts = Layout.vertical(buffer.area, [.length(1), .fill, .length(1)])
        Breadcrumbs(state.breadcrumbs, theme: state.theme).render(into: &buffer, area: parts[0])
        let theme = state.theme
        state.updateCurrent { $0.render(into: &buffer, area: parts[1], theme: theme) }
        if case .commandLine(let field) = state.overlay {
            buffer.fill(parts[2], style: state.theme.text)
            buffer.write(":", x: 0, y: parts[2].y, style: state.theme.accent)
            TextField(theme: state.theme).render(
                into: &buffer, area: Rect(x: 1, y: parts[2].y, width: parts[2].width - 1, height: 1), state: field)
        } else {
            KeyBar(keys(for: state), theme: state.theme).render(into: &buffer, area: parts[2])
        }
        if let toast = state.toast { toast.render(into: &buffer, area: parts[1], theme: state.theme) }
        switch state.overlay {
        case .help:
            HelpOverlay(title: "\(state.current.title): keys", bindings: helpKeys(for: state), theme: state.theme).render(
                into: &buffer, area: parts[1])
        case .confirm(let dialog, _): ConfirmDialog(theme: state.theme).render(into: &buffer, area: parts[1], state: dialog)
        default: break
        }
        return state.theme.plain ? PlainMode.apply(buffer) : buffer
    }

    static func keys(for state: AppState) -> [(key: String, action: String)] {
        switch state.overlay {
        case .confirm: return [("Tab", "switch"), ("Enter", "choose"), ("Esc", "cancel")]
        case .help: return [("Esc", "close help")]
        default: break
        }
        // Every screen's bar ends in "? help" where `?` opens it (not while a text entry takes
        // every key); the bar keeps it when it has to cut (`KeyBar.fitted`).
        let bar = state.current.model.keyBar
        if state.current.isTyping || bar.contains(where: { $0.key == "?" }) { return bar }
        return bar + [("?", "help")]
    }

    /// The help: the screen's keys, then the keys every screen has, each key once (#27: ": cmd"
    /// and ": command line" both showed); where both name a key the screen's words win (Esc may
    /// cancel a run there), but for `:`, whose bar label is a short "cmd".
    static func helpKeys(for state: AppState) -> [(key: String, action: String)] {
        let everywhere: [(key: String, action: String)] = [
            (":", "command line: \(commandSummary) (Tab completes, lists the choices)"),
            ("g/G", "top / bottom"), ("PgUp/PgDn", "page"),
            ("Esc", "back (never quits)"), ("q", "back; on the first screen, quit"),
            ("Ctrl-C", "quit from anywhere (an unsaved edit or a run asks first)"),
        ]
        var out: [(key: String, action: String)] = []
        for binding in state.current.model.help + keys(for: state.withoutOverlay) where !out.contains(where: { $0.key == binding.key }) {
            let general = binding.key == ":" ? everywhere.first { $0.key == ":" } : nil
            out.append(general ?? binding)
        }
        for binding in everywhere where !out.contains(where: { $0.key == binding.key }) { out.append(binding) }
        return out
    }
}

extension AppState {
    var withoutOverlay: AppState {
        var s = self
        s.overlay = nil
        return s
    }
}
