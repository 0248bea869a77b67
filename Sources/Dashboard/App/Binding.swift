import TerminalKit

/// One key of a screen, declared once (#27, as lazygit's `Binding`): the keys it answers to, the
/// label the key bar and the help show, its words on the bar (none: help only), its line in the
/// help, and what it does. A screen's `bindings` are its key bar, its part of `?` and its key
/// handling at once, so the three can't disagree. A key another layer takes first (a list's `/`,
/// which `ListFilter` has; the app's `:`) is declared here for the bar and the help, with an
/// action that does nothing.
struct Binding<Screen>: Sendable {
    let keys: [Key]
    let label: String
    let bar: String?
    let help: String
    /// When the key works (a focus, a mode); always when nil. The bar, the help and the
    /// handling all ask it, so a key is never shown where it does nothing.
    let when: (@Sendable (Screen) -> Bool)?
    let action: @Sendable (inout Screen, ScreenContext) -> [ScreenCommand]

    init(
        _ keys: [Key], _ label: String, bar: String?, help: String, when: (@Sendable (Screen) -> Bool)? = nil,
        _ action: @escaping @Sendable (inout Screen, ScreenContext) -> [ScreenCommand]
    ) {
        self.keys = keys
        self.label = label
        self.bar = bar
        self.help = help
        self.when = when
        self.action = action
    }
}

extension Array {
    /// The binding for `key` that works now, run on `screen`; nil when none answers to it.
    func run<Screen>(_ key: Key, on screen: inout Screen, _ context: ScreenContext) -> [ScreenCommand]? where Element == Binding<Screen> {
        let current = screen
        return first { $0.keys.contains(key) && $0.when?(current) != false }.map { $0.action(&screen, context) }
    }

    /// The key bar: the bindings with words for it that work now (all, without a screen), in order.
    func keyBar<Screen>(for screen: Screen? = nil) -> [(key: String, action: String)] where Element == Binding<Screen> {
        compactMap { b in
            guard let words = b.bar, screen.map({ b.when?($0) != false }) ?? true else { return nil }
            return (b.label, words)
        }
    }

    /// The screen's part of the help: the bindings that work now (all, without a screen), in their help words.
    func help<Screen>(for screen: Screen? = nil) -> [(key: String, action: String)] where Element == Binding<Screen> {
        filter { b in screen.map { b.when?($0) != false } ?? true }.map { ($0.label, $0.help) }
    }
}

/// The moves every list shares (`ListKeys`), as the help names them.
enum ListHelp {
    static let moves: [(key: String, action: String)] = [
        ("j/k", "move (arrows too)"), ("g/G", "top / bottom"), ("PgUp/PgDn", "page (Ctrl-U/Ctrl-D too)"),
    ]
}
