import TerminalKit

/// What a screen's key handling asks of the app.
public enum ScreenCommand: Equatable, Sendable {
    case push(Screen)
    case pop
    case run(Effect)
    case confirm(ConfirmDialogState, then: Effect)
    case toast(String, Toast.Kind)
    case quit
}

/// The keys every list screen shares (k9s and lazygit conventions).
enum ListKeys {
    /// A cursor move for `key`, or nil when the key is not a movement.
    static func movement(_ key: Key, page: Int) -> (delta: Int, absolute: Int?)? {
        switch key {
        case .char("j"), .down: return (1, nil)
        case .char("k"), .up: return (-1, nil)
        case .pageDown, .ctrl("d"): return (page, nil)
        case .pageUp, .ctrl("u"): return (-page, nil)
        case .char("g"), .home: return (0, 0)
        case .char("G"), .end: return (0, Int.max)
        default: return nil
        }
    }

    /// Moves `table` for a movement key; false when `key` is not one.
    /// `visible` is the page step until the table has been drawn; then its drawn height is.
    static func apply(_ key: Key, to table: inout TableState, count: Int, visible: Int) -> Bool {
        guard let move = movement(key, page: table.pageStep(or: visible)) else { return false }
        if let to = move.absolute {
            table.moveTo(min(to, max(0, count - 1)), count: count)
        } else {
            table.move(by: move.delta, count: count)
        }
        return true
    }
}
