import TerminalKit

/// One key of a screen, declared once (#27, as lazygit's `Binding`): the keys it answers to, the
/// label the key bar and the help show, its words on the bar (none: help only), its line in the
/// help, and what it does. A screen's `bindings` are its key bar, its part of `?` and its key
/// handling at once, so the three can't disagree.
struct Binding<Screen>: Sendable {
    let keys: [Key]
    let label: String
    let bar: String?
    let help: String
    let action: @Sendable (inout Screen, ScreenContext) -> [ScreenCommand]

    init(
        _ keys: [Key], _ label: String, bar: String?, help: String,
        _ action: @escaping @Sendable (inout Screen, ScreenContext) -> [ScreenCommand]
    ) {
        self.keys = keys
        self.label = label
        self.bar = bar
        self.help = help
        self.action = action
    }
}

extension Array {
    /// The binding for `key`, run on `screen`; nil when none answers to it.
    func run<Screen>(_ key: Key, on screen: inout Screen, _ context: ScreenContext) -> [ScreenCommand]? where Element == Binding<Screen> {
        first { $0.keys.contains(key) }.map { $0.action(&screen, context) }
    }

    /// The key bar: the bindings with words for it, in order.
    func keyBar<Screen>() -> [(key: String, action: String)] where Element == Binding<Screen> {
        compactMap { b in b.bar.map { (b.label, $0) } }
    }

    /// The screen's part of the help: every binding, in its help words.
    func help<Screen>() -> [(key: String, action: String)] where Element == Binding<Screen> {
        map { ($0.label, $0.help) }
    }
}

/// The moves every list shares (`ListKeys`), as the help names them.
enum ListHelp {
    static let moves: [(key: String, action: String)] = [
        ("j/k", "move (arrows too)"), ("g/G", "top / bottom"), ("PgUp/PgDn", "page (Ctrl-U/Ctrl-D too)"),
    ]
}
