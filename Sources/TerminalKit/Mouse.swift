/// A mouse event, in cells from the top-left corner. Only the left button and the wheel are
/// read: the right and middle buttons stay the terminal's (paste, menus).
public struct MouseEvent: Equatable, Hashable, Sendable {
    public enum Kind: Equatable, Hashable, Sendable {
        /// The left button went down; `doublePress` when it went down on the same cell within
        /// `MouseEvent.doubleInterval` of the last press.
        case press, doublePress, wheelUp, wheelDown
    }

    public let kind: Kind
    public let x: Int
    public let y: Int

    public init(_ kind: Kind, x: Int, y: Int) {
        self.kind = kind
        self.x = x
        self.y = y
    }

    /// Seconds between two presses that make a double press (GTK and lazygit use about this).
    public static let doubleInterval = 0.4
}

/// What a press on a part of the frame does. Widgets register regions while they draw, so the
/// frame itself answers "what is under the pointer": the dashboard never keeps a second map of
/// its layout that could drift from what is on screen.
public enum HitAction: Equatable, Hashable, Sendable {
    /// Acts as this key would (a key-bar entry, a dialog button).
    case key(Key)
    /// Row `index` of the screen's table.
    case row(Int)
    /// Covered by an overlay: a press here does nothing (a dialog's body).
    case inert
}

public struct HitRegion: Equatable, Hashable, Sendable {
    public let rect: Rect
    public let action: HitAction

    public init(_ rect: Rect, _ action: HitAction) {
        self.rect = rect
        self.action = action
    }
}

/// Tells a double press from two presses: the same cell within `MouseEvent.doubleInterval`.
public struct DoublePressDetector: Sendable {
    private var last: (x: Int, y: Int, at: Double)?

    public init() {}

    /// The kind of a press at `x`,`y` at `time` (seconds on any monotonic clock).
    public mutating func kind(x: Int, y: Int, at time: Double) -> MouseEvent.Kind {
        if let last, last.x == x, last.y == y, time - last.at <= MouseEvent.doubleInterval {
            self.last = nil  // a third press starts over
            return .doublePress
        }
        last = (x, y, time)
        return .press
    }
}

extension Key {
    /// The key a key-bar label names (`Esc`, `Enter`, `Ctrl-S`, `x`, `Space`, `PgDn`); nil for a
    /// label naming several keys (`j/k`, `←/→`), which a press can't choose between.
    public init?(label: String) {
        switch label {
        case "Esc": self = .escape
        case "Enter": self = .enter
        case "Tab": self = .tab
        case "Shift-Tab": self = .backTab
        case "Space": self = .char(" ")
        case "Backspace": self = .backspace
        case "Del": self = .delete
        case "↑": self = .up
        case "↓": self = .down
        case "←": self = .left
        case "→": self = .right
        case "Home": self = .home
        case "End": self = .end
        case "PgUp": self = .pageUp
        case "PgDn": self = .pageDown
        default:
            if label.hasPrefix("Ctrl-"), label.count == 6, let c = label.last {
                self = .ctrl(Character(c.lowercased()))
                return
            }
            if label.hasPrefix("F"), let n = Int(label.dropFirst()), (1...12).contains(n) {
                self = .function(n)
                return
            }
            guard label.count == 1, let c = label.first else { return nil }
            self = .char(c)
        }
    }
}
