import MessengerCore
import TerminalKit

/// One screen of the navigation stack, each with its own value state.
public enum Screen: Equatable, Sendable {
    case profiles(ProfilesState)
    case newProfile(NewProfileState)
    case profilePage(ProfilePageState)
    case stats(StatsScreenState)
    case programs(ProgramsState)
    case contacts(ContactsState)
    case contactDetail(ContactDetailState)
    case nodeEditor(NodeEditorState)
}

/// What floats over the current screen.
public enum Overlay: Equatable, Sendable {
    case help
    case commandLine(TextFieldState)
    case confirm(ConfirmDialogState, then: Effect)
}

/// The whole app: a stack of screens, an overlay, a toast, the theme and the terminal size.
public struct AppState: Equatable, Sendable {
    public var stack: [Screen]
    public var overlay: Overlay?
    public var toast: Toast?
    /// When the toast goes, in ticks of the runtime (about 100 ms each).
    public var toastTicks = 0
    public var theme: Theme
    public var themeName: String
    public var width: Int
    public var height: Int
    public var quitting = false
    /// Programs this dashboard is running, and whether to quit once they stopped.
    /// The runs and retries going, by the ids their leases have (`RunID`): the app keeps one per
    /// program, as the core does.
    public var runs: Set<RunID> = []
    public var quitAfterRuns = false
    /// Names offered by the command line's completion.
    public var profileNames: [String] = []
    public var themeNames: [String] = []
    /// Facebook is the Graph API: logging in takes a pasted user access token.
    public var usesGraph = false

    public init(theme: Theme, themeName: String = "default", width: Int, height: Int) {
        self.theme = theme
        self.themeName = themeName
        self.width = width
        self.height = height
        stack = [.profiles(ProfilesState())]
    }

    public var current: Screen { stack[stack.count - 1] }

    var breadcrumbs: [String] { stack.map(\.title) }

    /// The rows a screen's list has: the frame minus breadcrumbs, key bar and its own header.
    var bodyHeight: Int { max(1, height - 2) }

    mutating func show(_ message: String, kind: Toast.Kind = .info) {
        toast = Toast(message, kind: kind)
        toastTicks = kind == .error ? 60 : 30
    }
}
