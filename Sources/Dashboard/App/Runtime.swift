import Foundation
import MessengerCore
import TerminalKit

/// Runs the app on a terminal: reads events, calls `update`, performs effects on a background
/// queue (so a slow query never freezes typing), polls for other processes' writes, and draws.
public final class Runtime {
    let workspace: Workspace
    let terminal: any Terminal
    let themeFolders: [String]
    public private(set) var state: AppState
    private let work = DispatchQueue(label: "messenger-dash.effects")
    private let inbox = Inbox()
    private let watcher: ChangeWatcher?
    /// Internal, not private: the session tests check that every flag is removed when its work ends.
    let runs = RunRegistry()

    /// Tests run effects inline, so a scripted session is deterministic.
    let synchronousEffects: Bool

    /// `plain`: plain mode (see `PlainMode`), whatever the theme.
    public init(
        workspace: Workspace, terminal: any Terminal, themeName: String, themeFolders: [String], plain: Bool = false,
        synchronousEffects: Bool = false
    ) {
        self.synchronousEffects = synchronousEffects
        self.workspace = workspace
        self.terminal = terminal
        self.themeFolders = themeFolders
        let (theme, warning) = ThemeLoader.load(named: themeName, from: themeFolders, depth: terminal.colorDepth)
        state = AppState(theme: plain ? theme.plainMode() : theme, themeName: themeName, width: terminal.width, height: terminal.height)
        state.usesGraph = workspace.graph != nil
        state.themeNames = Self.themeNames(in: themeFolders)
        if let warning { state.show(warning, kind: .error) }
        watcher = try? ChangeWatcher(database: workspace.database)
    }

    static func themeNames(in folders: [String]) -> [String] {
        Array(
            Set(
                folders.flatMap { (try? FileManager.default.contentsOfDirectory(atPath: $0)) ?? [] }
                    .filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) })
        ).sorted()
    }

    /// The loop, until the user quits.
    public func run(until stop: () -> Bool = { false }) {
        perform(.loadProfiles)
        var lastTick = Date()
        var lastCheck = Date()
        var drawn: AppState?
        while true {
            for msg in inbox.drain() { dispatch(msg) }
            if drawn != state {
                terminal.draw(App.draw(&state))
                drawn = state
            }
            if state.quitting || stop() { break }
            let event = terminal.nextEvent(timeoutMilliseconds: 100)
            switch event {
            case .key(let key): dispatch(.key(key))
            case .paste(let text): dispatch(.paste(text))
            case .resize(let width, let height): dispatch(.resize(width: width, height: height))
            case .mouse(let mouse): dispatch(.mouse(mouse))
            case .tick: break
            }
            let now = Date()
            if now.timeIntervalSince(lastTick) >= 0.1 {
                dispatch(.tick)
                lastTick = now
            }
            if now.timeIntervalSince(lastCheck) >= 0.7 {
                perform(.checkForChanges)
                lastCheck = now
            }
        }
    }

    /// Handles one event and draws the frame: what the loop does for each key, callable on its
    /// own by the benchmark (with synchronous effects, the frame includes the database work).
    public func handle(_ event: Event) {
        switch event {
        case .key(let key): dispatch(.key(key))
        case .paste(let text): dispatch(.paste(text))
        case .resize(let width, let height): dispatch(.resize(width: width, height: height))
        case .mouse(let mouse): dispatch(.mouse(mouse))
        case .tick: dispatch(.tick)
        }
        for msg in inbox.drain() { dispatch(msg) }
        terminal.draw(App.draw(&state))
    }

    /// Back to a fresh top screen after a quit, for the fuzz test's next round.
    public func restartForFuzz() {
        state.quitting = false
        state.stack = [.profiles(ProfilesState())]
        state.overlay = nil
        start()
    }

    /// Loads the first screen's data.
    public func start() {
        perform(.loadProfiles)
        for msg in inbox.drain() { dispatch(msg) }
        terminal.draw(App.draw(&state))
    }

    func dispatch(_ msg: Msg) {
        for effect in App.update(&state, msg) { perform(effect) }
    }

    /// Terminal work happens here, on the loop's thread; database work on the effects queue.
    func perform(_ effect: Effect) {
        switch effect {
        case .copyToClipboard(let text):
            terminal.writeRaw("\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}")
            dispatch(.copied)
            return
        case .checkForChanges:
            // One check at a time: a slow disk must not pile them up.
            guard watcher != nil, inbox.beginCheck() else { return }
        case .popScreen, .discardAndQuit:
            return
        case .cancelRun(let name):
            runs.cancel(.sending(RunID(.run, program: name)))
            return
        case .stopRunsAndQuit:
            runs.cancelAll()
            return
        case .runProgram(let name, let reenrol):
            startRun(name, reenrol: reenrol)
            return
        case .retryDay(let profile, let day, let programs):
            startRetry(profile: profile, day: day, programs: programs)
            return
        case .startDeviceLogin(let attempt):
            startDeviceLogin(attempt: attempt)
            return
        case .cancelDeviceLogin:
            runs.cancel(.deviceLogin)
            return
        default:
            break
        }
        let workspace = self.workspace
        let folders = themeFolders
        let depth = terminal.colorDepth
        let inbox = self.inbox
        let watcher = self.watcher
        if synchronousEffects {
            if let msg = Self.execute(effect, workspace: workspace, themeFolders: folders, depth: depth, watcher: watcher) { dispatch(msg) }
            if effect == .checkForChanges { inbox.endCheck() }
            return
        }
        work.async {
            let msg = Self.execute(effect, workspace: workspace, themeFolders: folders, depth: depth, watcher: watcher)
            if let msg { inbox.post(msg) }
            if effect == .checkForChanges { inbox.endCheck() }
        }
    }

    /// Long work (a run, a retry) on a thread of its own, posting to the inbox as it goes; inline
    /// when effects are synchronous (tests).
    private func onItsOwnThread(_ body: @escaping @Sendable () -> Void) {
        if synchronousEffects {
            body()
            for msg in inbox.drain() { dispatch(msg) }
        } else {
            Thread.detachNewThread(body)
        }
    }

    /// A stats-screen retry (R16) goes on its own thread like a run, one program after another;
    /// quitting stops it after its current batch (the registry's flag).
    private func startRetry(profile: String, day: DayNumber, programs: [String]) {
        let ids = programs.map { RunID(.retry, program: $0) }
        let flag = runs.start(ids.map { .sending($0) })
        let runs = self.runs
        let workspace = self.workspace
        let inbox = self.inbox
        let body: @Sendable () -> Void = {
            var retried = 0
            var sent = 0
            var warned = 0
            var problems: [String] = []
            for program in programs where !flag.isSet {
                do {
                    let s = try workspace.retries.retry(program: program, day: day, shouldCancel: { flag.isSet })
                    (retried, sent, warned) = (retried + s.retried, sent + s.sent, warned + s.warned)
                    if let stop = s.stoppedBecause { problems.append("\(program): \(stop)") }
                } catch {
                    problems.append("\(program): \((error as? DomainError)?.message ?? "\(error)")")
                }
            }
            let text = "Retried \(retried): \(sent) sent, \(Display.count(warned, "warning"))" + problems.map { "; " + $0 }.joined()
            runs.finish(ids.map { .sending($0) })
            inbox.post(.retryFinished(programs: programs, text: text, failed: !problems.isEmpty))
        }
        onItsOwnThread(body)
    }

    /// Facebook Login for Devices on its own thread: the code is posted at once, the polls wait
    /// on the cancel flag (Esc), then the pages go through `GraphConnect` (tokens that last) and
    /// the picker gets them. The sandbox answers at once; tests don't wait between polls.
    private func startDeviceLogin(attempt: Int) {
        let flag = runs.start([.deviceLogin])
        let runs = self.runs
        let workspace = self.workspace
        let inbox = self.inbox
        let waits = !synchronousEffects
        let body: @Sendable () -> Void = {
            defer { runs.finish([.deviceLogin], flag) }
            do {
                let service: any DeviceLoginService =
                    if let graph = workspace.graph {
                        try GraphDeviceLogin(config: graph, app: workspace.app)
                    } else {
                        SandboxDeviceLogin()
                    }
                let login = try DeviceLoginFlow.run(
                    service, show: { inbox.post(.deviceCodeShown($0, attempt: attempt)) },
                    wait: { seconds in waits ? flag.wait(seconds) : !flag.isSet })
                guard let login else { return inbox.post(.deviceLoginEnded(nil, attempt: attempt)) }
                if let graph = workspace.graph {
                    let outcome = try GraphConnect.connect(
                        userToken: login.token, via: "device login", config: graph, app: workspace.app, shortLivedOK: false,
                        calendar: workspace.calendar)
                    try workspace.pages.store(outcome.pages, connection: outcome.connection)
                }
                inbox.post(.deviceLoggedIn(try workspace.pages.list(), attempt: attempt))
            } catch {
                inbox.post(.deviceLoginEnded((error as? DomainError)?.message ?? "\(error)", attempt: attempt))
            }
        }
        onItsOwnThread(body)
    }

    /// A run goes on its own thread so the screen keeps drawing its progress; Esc sets the flag
    /// the runner checks between batches, so a cancelled run stops with every batch recorded.
    private func startRun(_ name: String, reenrol: Bool) {
        let id = RunID(.run, program: name)
        let flag = runs.start([.sending(id)])
        let runs = self.runs
        let workspace = self.workspace
        let inbox = self.inbox
        let started = Date()
        let body: @Sendable () -> Void = {
            defer { runs.finish([.sending(id)]) }
            do {
                let summary = try ProgramRunner(workspace: workspace).run(
                    program: name, reenrol: reenrol,
                    progress: { p in inbox.post(.runProgress(name: name, p, elapsed: Date().timeIntervalSince(started))) },
                    shouldCancel: { flag.isSet })
                inbox.post(.runFinished(name: name, summary))
                // What follows every run, off the screen's thread (see Compactor.afterRun).
                _ = workspace.compactor.afterRun()
            } catch {
                // A refusal (a draft program, say) closes the run with its reason.
                let message = (error as? DomainError).map { $0.inDashboard ?? $0.message } ?? "\(error)"
                inbox.post(.runFinished(name: name, RunSummary(stoppedBecause: message)))
            }
        }
        onItsOwnThread(body)
    }

    /// Performs one effect; the answer, or `.failed` with a one-line message.
    static func execute(_ effect: Effect, workspace: Workspace, themeFolders: [String], depth: ColorDepth, watcher: ChangeWatcher?) -> Msg?
    {
        do {
            switch effect {
            case .loadProfiles: return .profilesLoaded(try workspace.profiles.list())
            case .loadProfile(let name):
                return .profileLoaded(try workspace.profiles.details(named: name), days: try workspace.stats.details(profile: name).days)
            case .loadPages: return .pagesLoaded(try workspace.pages.list())
            case .connectFacebook(let token):
                guard let graph = workspace.graph else { return .pagesLoaded(try workspace.pages.list()) }
                // The app secret comes with the config (appsecret_proof): the token is exchanged
                // for a long-lived one; without it a short-lived token is refused (#24).
                let outcome = try GraphConnect.connect(
                    userToken: token, via: "pasted token", config: graph,
                    app: AppCredentials(appID: workspace.appID, appSecret: graph.appSecret),
                    shortLivedOK: false, calendar: workspace.calendar)
                try workspace.pages.store(outcome.pages, connection: outcome.connection)
                return .pagesLoaded(try workspace.pages.list())
            case .createProfile(let name, let pageID, let enabled):
                return .profileCreated(try workspace.profiles.create(name: name, pageID: pageID, enabled: enabled))
            case .setEnabled(let names, let enabled):
                try workspace.profiles.setEnabled(enabled, names: names)
                return .enabledChanged(names: names, enabled: enabled)
            case .subscribeWebhooks(let name):
                return .webhooksSubscribed(name: name, fields: try workspace.subscriptions.subscribe(profile: name).fields)
            case .planDeletion(let names): return .deletionPlanned(try workspace.profiles.deletionPlan(names: names))
            case .delete(let names): return .deleted(try workspace.profiles.delete(names: names))
            case .loadStats(let profile, let filter, let from, let to):
                let range = try workspace.stats.range(from: from, to: to)
                return .statsLoaded(try workspace.stats.details(profile: profile, range: range, filter: filter), today: workspace.today)
            case .loadContacts(let query, let request):
                let page = try workspace.stats.contacts(
                    profile: query.profile, kind: query.kind, day: query.day, page: request,
                    search: query.search, limit: query.pageSize)
                return .contactsLoaded(
                    query, page: page, times: page.rows.map { StatsExport.time(of: $0, kind: query.kind, calendar: workspace.calendar) },
                    request: request)
            case .loadContactDetail(let sendID):
                let detail = try workspace.stats.detail(sendID: sendID)
                return .contactDetailLoaded(
                    detail, time: workspace.calendar.timestamp(ofMillis: detail.at),
                    delivered: detail.deliveredAt.map(workspace.calendar.timestamp(ofMillis:)),
                    read: detail.readAt.map(workspace.calendar.timestamp(ofMillis:)))
            case .exportStats(let profile, let filter, let from, let to):
                let details = try workspace.stats.details(
                    profile: profile, range: try workspace.stats.range(from: from, to: to), filter: filter)
                let name =
                    "stats-\(Self.fileSafe(profile))-\(workspace.calendar.string(for: details.from))-\(workspace.calendar.string(for: details.to))-\(filter.rawValue).csv"
                let path = try Self.write(name, StatsExport.csv(details, calendar: workspace.calendar), beside: workspace)
                return .exported(path: path, rows: details.days.count)
            case .exportContacts(let query):
                let rows = try workspace.stats.allContacts(profile: query.profile, kind: query.kind, day: query.day, search: query.search)
                let name =
                    "contacts-\(Self.fileSafe(query.profile))-\(query.kind.rawValue)-\(workspace.calendar.string(for: query.day)).csv"
                let path = try Self.write(
                    name, StatsExport.contactsCSV(rows, kind: query.kind, calendar: workspace.calendar), beside: workspace)
                return .exported(path: path, rows: rows.count)
            case .loadPrograms: return .programsLoaded(try workspace.programs.list())
            case .setProgramActive(let name, let active):
                if active { try workspace.programs.activate(name: name) } else { try workspace.programs.pause(name: name) }
                return .programChanged(name: name, active: active)
            case .writeFile(let name, let contents):
                return .fileWritten(path: try Self.write(name, contents, beside: workspace))
            case .loadTheme(let name):
                let (theme, warning) = ThemeLoader.load(named: name, from: themeFolders, depth: depth)
                return .themeLoaded(theme, name: name, warning: warning)
            case .checkForChanges:
                return try watcher?.hasChanged() == true ? .databaseChanged : nil
            case .loadNodeEditor(let program):
                return .nodeEditorLoaded(try workspace.programs.editorData(program: program))
            case .loadSample(let after, let forward, let optInField):
                return .sampleLoaded(try workspace.contacts.sample(around: after, forward: forward, optInField: optInField))
            case .saveNode(let program, let profile, let tag, let message, let acceptFlags):
                _ = try workspace.programs.setNode(program: program, profile: profile, tag: tag, message: message, acceptFlags: acceptFlags)
                return .nodeSaved(program: program)
            case .saveUtilityNode(let program, let profile, let language, let message, let acceptFlags):
                let result = try workspace.programs.setUtilityNode(
                    program: program, profile: profile, language: language,
                    message: message, acceptFlags: acceptFlags)
                return .utilityNodeSaved(program: program, result, try workspace.programs.summary(named: program))
            case .planDisable(let names):
                try workspace.profiles.checkDisable(names: names)
                return .disablePlanned(names: names)
            case .planRun(let name, let reenrol):
                return .runPlanned(try ProgramRunner(workspace: workspace).preview(program: name, reenrol: reenrol))
            case .planRetry(let profile, let day):
                let programs = try workspace.retries.retryable(profile: profile, day: day)
                return .retryPlanned(
                    profile: profile, day: day, programs: programs.map(\.program), count: programs.reduce(0) { $0 + $1.count },
                    dayText: workspace.calendar.string(for: day))
            case .liftSuppression(let email, let pageID, let sendID):
                try workspace.suppressions.lift(email: email, pageID: pageID)
                return .suppressionLifted(email: email, sendID: sendID)
            case .copyToClipboard, .popScreen, .discardAndQuit, .cancelRun, .runProgram, .retryDay, .stopRunsAndQuit, .startDeviceLogin,
                .cancelDeviceLogin:
                return nil
            }
        } catch let error as DomainError {
            return .failed(error.inDashboard ?? error.message)
        } catch {
            return .failed("\(error)")
        }
    }
}

extension Runtime {
    /// Writes a file the user asked for into the database's folder (private to the user), or
    /// on PostgreSQL the folder the dashboard was started in (`AppDatabase.exportFolder`).
    /// A new file: a second export of the same day gets a numbered name
    /// (said in the toast) instead of overwriting the first, and no link is followed (#26).
    static func write(_ name: String, _ contents: String, beside workspace: Workspace) throws -> String {
        try OutputFile.createNew(in: workspace.database.exportFolder, name: name, contents: Data(contents.utf8))
    }

    /// A name made safe for a file name: letters and digits kept, the rest as `-`.
    static func fileSafe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber ? $0 : "-" }).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}

/// The cancel flags of what goes on its own thread: runs and retries by their `RunID` (the ids
/// the app's `runs` and the core's leases have), and the device login. A flag is registered when
/// its work starts and removed when it ends.
final class RunRegistry: @unchecked Sendable {
    enum Key: Hashable {
        case sending(RunID)
        case deviceLogin
    }

    private let lock = NSLock()
    private var flags: [Key: CancelFlag] = [:]

    /// One flag for `keys` (a retry of a profile's programs shares one).
    func start(_ keys: [Key]) -> CancelFlag {
        lock.lock()
        defer { lock.unlock() }
        let flag = CancelFlag()
        for key in keys { flags[key] = flag }
        return flag
    }

    /// The work under `keys` ended; with `flag`, only if that flag is still theirs (a newer
    /// device login may have started since).
    func finish(_ keys: [Key], _ flag: CancelFlag? = nil) {
        lock.lock()
        defer { lock.unlock() }
        for key in keys where flag == nil || flags[key] === flag { flags[key] = nil }
    }

    func cancel(_ key: Key) {
        lock.lock()
        let flag = flags[key]
        lock.unlock()
        flag?.set()
    }

    func cancelAll() {
        lock.lock()
        let all = Array(flags.values)
        lock.unlock()
        for flag in all { flag.set() }
    }

    /// How many flags are registered: the tests' check that none is left behind.
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return flags.count
    }
}

/// Messages from the effects queue to the loop, and whether a change check is in flight.
final class Inbox: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [Msg] = []
    private var checking = false

    func post(_ msg: Msg) {
        lock.lock()
        defer { lock.unlock() }
        messages.append(msg)
    }

    func drain() -> [Msg] {
        lock.lock()
        defer { lock.unlock() }
        let out = messages
        messages = []
        return out
    }

    func beginCheck() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if checking { return false }
        checking = true
        return true
    }

    func endCheck() {
        lock.lock()
        defer { lock.unlock() }
        checking = false
    }
}
