/// A key as the screens see it, whatever the terminal sent.
public enum Key: Equatable, Hashable, Sendable {
    case char(Character)
    case ctrl(Character)
    case enter, escape, tab, backTab, backspace, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)

    /// How the key is written in key bars and help: `j`, `Ctrl-S`, `Enter`, `PgDn`.
    public var label: String {
        switch self {
        case .char(" "): return "Space"
        case .char(let c): return String(c)
        case .ctrl(let c): return "Ctrl-" + String(c).uppercased()
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .backspace: return "Backspace"
        case .delete: return "Del"
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .home: return "Home"
        case .end: return "End"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .function(let n): return "F\(n)"
        }
    }
}

public enum Event: Equatable, Sendable {
    case key(Key)
    case paste(String)
    case resize(width: Int, height: Int)
    /// Only when mouse support is on (`mouse = true`).
    case mouse(MouseEvent)
    /// Nothing happened within the wait: a chance to poll for outside changes.
    case tick
}

/// Where frames go and events come from: ncurses for people, a virtual screen for tests.
public protocol Terminal: AnyObject {
    var width: Int { get }
    var height: Int { get }
    var colorDepth: ColorDepth { get }
    /// Writes the cells that changed since the last frame.
    func draw(_ buffer: Buffer)
    /// The next event, or `.tick` after `timeoutMilliseconds` without one.
    func nextEvent(timeoutMilliseconds: Int) -> Event
    /// Writes an escape sequence the frame model doesn't cover (OSC 52 clipboard), already safe.
    func writeRaw(_ sequence: String)
}
