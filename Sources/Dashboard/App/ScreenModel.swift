import TerminalKit

/// What a screen's reducer may read of the app. It never writes the app: it answers with
/// `ScreenCommand`s, which `App.perform` carries out (push, pop, run an effect, a dialog, a toast).
struct ScreenContext {
    /// The rows a table filling the screen's body would show: the page step until the table
    /// has been drawn and knows its own height (`TableState.pageStep`).
    var visibleRows: Int
    /// Every profile's name, for the new-profile screen's uniqueness check.
    var profileNames: [String]
}

/// A screen's own model, as Bubble Tea nests them: keys and the data its effects loaded come in,
/// commands go out, and it draws itself. `App` only routes: it hands the current screen its key
/// or message (`Screen.update`) and keeps what is the app's (the stack, overlays, toasts, runs).
///
/// To add a screen: a state struct conforming to this, a case in `Screen` and its line in
/// `Screen.model`; the messages it loads arrive in `receive`.
protocol ScreenModel: Sendable {
    /// The state wrapped back into the stack's enum.
    var screen: Screen { get }
    /// Its breadcrumb.
    var title: String { get }
    /// The key bar while the screen is shown with no overlay.
    var keyBar: [(key: String, action: String)] { get }
    /// The screen's part of `?`: its bindings' help lines where it declares them, else its bar.
    var help: [(key: String, action: String)] { get }
    /// True while a text entry of the screen takes every key (`?` and `:` included).
    var isTyping: Bool { get }
    /// The cursor of the screen's table, for a mouse press on a row; nil for screens without one.
    var tableCursor: Int? { get }
    /// What quitting now would throw away ("the edit of the node of \"Orders\""), nil when
    /// nothing: quitting asks first (#27).
    var unsavedChanges: String? { get }
    mutating func handle(_ key: Key, _ context: ScreenContext) -> [ScreenCommand]
    /// A message from an effect; a screen takes what is its own and ignores the rest.
    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand]
    /// Draws the screen; mutating because a table writes back the scroll offset it showed.
    mutating func render(into buffer: inout Buffer, area: Rect, theme: Theme)
}

extension ScreenModel {
    var isTyping: Bool { false }
    var help: [(key: String, action: String)] { keyBar }
    var tableCursor: Int? { nil }
    var unsavedChanges: String? { nil }
    mutating func receive(_ msg: Msg, _ context: ScreenContext) -> [ScreenCommand] { [] }
}

extension Screen {
    /// The state of this screen as its model: the one place that knows the cases.
    var model: any ScreenModel {
        switch self {
        case .profiles(let s): return s
        case .newProfile(let s): return s
        case .profilePage(let s): return s
        case .stats(let s): return s
        case .programs(let s): return s
        case .contacts(let s): return s
        case .contactDetail(let s): return s
        case .nodeEditor(let s): return s
        }
    }

    /// Runs `body` on the screen's model and stores the result back.
    mutating func update<Result>(_ body: (inout any ScreenModel) -> Result) -> Result {
        var model = self.model
        let result = body(&model)
        self = model.screen
        return result
    }

    public var title: String { model.title }
    var tableCursor: Int? { model.tableCursor }
    var isTyping: Bool { model.isTyping }
}

extension AppState {
    var screenContext: ScreenContext {
        ScreenContext(
            visibleRows: Table.visibleRows(in: Rect(x: 0, y: 0, width: width, height: bodyHeight - 1)),
            profileNames: profileNames)
    }

    /// Runs `body` on the current screen's model.
    mutating func updateCurrent<Result>(_ body: (inout any ScreenModel) -> Result) -> Result {
        stack[stack.count - 1].update(body)
    }
}
