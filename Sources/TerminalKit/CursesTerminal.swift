import CNcursesw
import Foundation

/// The real terminal, through ncursesw. The only type that touches curses. It flushes only the
/// cells that changed since the last frame, and always gives the terminal back: on `restore()`,
/// on SIGINT/SIGTERM, and from `deinit` (so a thrown error restores it too).
public final class CursesTerminal: Terminal {
    public private(set) var width = 0
    public private(set) var height = 0
    public let colorDepth: ColorDepth
    private var previous: Buffer?
    private var pairs: [Style.ColorPairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private var restored = false
    private var doublePresses = DoublePressDetector()
    private var cursorShown = false
    /// Where raw sequences (OSC 52) go: the terminal, or the file frames go to.
    private let rawOutput: FileHandle

    /// `outputPath` sends the frames to a file instead of the terminal (the benchmark uses /dev/null).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, mouse: Bool = false, outputPath: String? = nil) {
        shim_setlocale_all()
        rawOutput = outputPath.flatMap { FileHandle(forWritingAtPath: $0) } ?? FileHandle.standardOutput
        if let outputPath {
            guard shim_newterm_to(environment["TERM"] ?? "xterm-256color", outputPath) != nil else { fatalError("newterm failed") }
        } else {
            _ = initscr()
            CursesTerminal.installSignalHandlers()
        }
        _ = cbreak()
        if outputPath == nil { Self.disableFlowControl() }
        _ = noecho()
        _ = nonl()
        _ = keypad(shim_stdscr(), true)
        _ = set_escdelay(25)
        _ = curs_set(0)
        var depth = ColorDepth.none
        if has_colors() {
            _ = start_color()
            _ = use_default_colors()
            depth = ThemeLoader.depth(reportedColors: Int(shim_colors()), environment: environment)
        }
        colorDepth = depth
        if mouse { shim_enable_mouse() }
        updateSize()
    }

    deinit { restore() }

    /// Forgets the last frame, so the next `draw` writes every cell.
    public func invalidate() { previous = nil }

    /// Gives the terminal back as it was. Safe to call twice.
    public func restore() {
        guard !restored else { return }
        restored = true
        _ = endwin()
    }

    private func updateSize() {
        var y: Int32 = 0
        var x: Int32 = 0
        shim_getmaxyx(shim_stdscr(), &y, &x)
        height = Int(y)
        width = Int(x)
    }

    public func draw(_ buffer: Buffer) {
        let window = shim_stdscr()
        if previous == nil || previous!.width != buffer.width || previous!.height != buffer.height {
            _ = werase(window)
            previous = nil
        }
        // Changed cells that follow each other on a row in one style go out as one string:
        // one move and one attribute change per run instead of per cell.
        var run = ""
        var runStyle = Style.plain
        var runY = -1
        var nextX = -1
        func flushRun() {
            guard !run.isEmpty else { return }
            apply(runStyle)
            _ = waddstr(window, run)
            run = ""
        }
        let erased = previous == nil
        for change in buffer.diff(from: previous) {
            // Writing the bottom-right cell would scroll some terminals; leave it.
            if change.y == buffer.height - 1 && change.x == buffer.width - 1 { continue }
            // After an erase the window is already blank in the default style.
            if erased && change.cell.style == .plain && change.cell.symbol == " " { continue }
            let symbol = change.cell.symbol.isEmpty ? " " : change.cell.symbol
            if change.y != runY || change.x != nextX || change.cell.style != runStyle {
                flushRun()
                _ = wmove(window, Int32(change.y), Int32(change.x))
                runStyle = change.cell.style
                runY = change.y
            }
            run += symbol
            nextX = change.x + (symbol.utf8.count == 1 ? 1 : max(1, DisplayWidth.of(symbol)))
        }
        flushRun()
        // Plain mode puts the terminal's cursor on the focus (screen readers follow it).
        if let cursor = buffer.cursor, buffer.contains(x: cursor.x, y: cursor.y) {
            _ = wmove(window, Int32(cursor.y), Int32(cursor.x))
            if !cursorShown {
                _ = curs_set(1)
                cursorShown = true
            }
        } else if cursorShown {
            _ = curs_set(0)
            cursorShown = false
        }
        _ = wrefresh(window)
        previous = buffer
    }

    private func apply(_ style: Style) {
        var attrs = shim_a_normal()
        if style.attributes.contains(.bold) { attrs |= shim_a_bold() }
        if style.attributes.contains(.dim) { attrs |= shim_a_dim() }
        if style.attributes.contains(.reverse) { attrs |= shim_a_reverse() }
        if style.attributes.contains(.underline) { attrs |= shim_a_underline() }
        _ = shim_set_style(shim_stdscr(), attrs, pair(for: style))
    }

    private func pair(for style: Style) -> Int32 {
        guard colorDepth != .none else { return 0 }
        let key = Style.ColorPairKey(foreground: style.foreground, background: style.background)
        if key.foreground == .default && key.background == .default { return 0 }
        if let known = pairs[key] { return known }
        guard nextPair < min(shim_color_pairs(), 32_767) else { return 0 }
        let number = nextPair
        nextPair += 1
        _ = init_extended_pair(number, curses(key.foreground), curses(key.background))
        pairs[key] = number
        return number
    }

    private func curses(_ color: Color) -> Int32 {
        switch color.reduced(to: colorDepth) {
        case .default: return -1
        case .indexed(let i): return Int32(i)
        case .rgb(let r, let g, let b): return Int32(r) << 16 | Int32(g) << 8 | Int32(b)  // direct-colour terminals
        }
    }

    public func nextEvent(timeoutMilliseconds: Int) -> Event {
        wtimeout(shim_stdscr(), Int32(timeoutMilliseconds))
        var code: wint_t = 0
        let result = wget_wch(shim_stdscr(), &code)
        if result == shim_err() { return .tick }
        if result == shim_key_code_yes() {
            if Int32(code) == shim_key_mouse() {
                var x: Int32 = 0
                var y: Int32 = 0
                switch shim_getmouse(&x, &y) {
                case 1:
                    let kind = doublePresses.kind(x: Int(x), y: Int(y), at: ProcessInfo.processInfo.systemUptime)
                    return .mouse(MouseEvent(kind, x: Int(x), y: Int(y)))
                case 4: return .mouse(MouseEvent(.wheelUp, x: Int(x), y: Int(y)))
                case 5: return .mouse(MouseEvent(.wheelDown, x: Int(x), y: Int(y)))
                default: return .tick
                }
            }
            if Int32(code) == shim_key_resize() {
                updateSize()
                previous = nil
                return .resize(width: width, height: height)
            }
            return Self.functionKey(Int32(code)).map(Event.key) ?? .tick
        }
        if code == 27 { return escapeOrSequence() }
        return Self.characterKey(UInt32(code)).map(Event.key) ?? .tick
    }

    /// A lone ESC is Escape. ESC followed at once by `[` or `O` is a sequence curses didn't know
    /// (a terminal whose TERM is wrong, say): it is swallowed whole rather than read as Escape
    /// plus letters, which would close screens. ESC then any other key is Escape, then that key.
    private func escapeOrSequence() -> Event {
        let window = shim_stdscr()
        wtimeout(window, 0)
        var code: wint_t = 0
        guard wget_wch(window, &code) != shim_err() else { return .key(.escape) }
        guard code == 91 || code == 79 else {  // not '[' or 'O': Escape, and the key is read next
            _ = unget_wch(wchar_t(code))
            return .key(.escape)
        }
        for _ in 0..<32 {
            guard wget_wch(window, &code) != shim_err() else { break }
            if (0x40...0x7E).contains(code) { break }
        }
        return .tick
    }

    static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_BTAB: return .backTab
        case KEY_ENTER: return .enter
        case KEY_F0 + 1...KEY_F0 + 12: return .function(Int(code - KEY_F0))
        default: return nil
        }
    }

    static func characterKey(_ code: UInt32) -> Key? {
        switch code {
        case 27: return .escape
        case 10, 13: return .enter
        case 9: return .tab
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(Unicode.Scalar(code + 96)!))
        case 0..<32: return nil
        default:
            guard let scalar = Unicode.Scalar(code) else { return nil }
            return .char(Character(scalar))
        }
    }

    public func writeRaw(_ sequence: String) {
        rawOutput.write(Data(sequence.utf8))
    }

    /// Ctrl-S is "save" here, not XOFF: turn off the tty's flow control. Ctrl-Z is "undo" in the
    /// editor, not "suspend": the tty's suspend character is turned off, so the key reaches us.
    /// Ctrl-C is a key too (#27: as SIGINT it quit at once, discarding an unsaved edit and
    /// leaving a run's contacts enrolled): the app quits by the path `q` takes, which asks. A
    /// SIGINT sent by `kill` still restores the terminal and exits. `endwin` restores all three.
    private static func disableFlowControl() {
        var modes = termios()
        guard tcgetattr(STDIN_FILENO, &modes) == 0 else { return }
        modes.c_iflag &= ~tcflag_t(IXON)
        withUnsafeMutableBytes(of: &modes.c_cc) { cc in
            if Int(VSUSP) < cc.count { cc[Int(VSUSP)] = 0 }  // _POSIX_VDISABLE
            if Int(VINTR) < cc.count { cc[Int(VINTR)] = 0 }
        }
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &modes)
        _ = def_prog_mode()
    }

    private static func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { number in
                _ = endwin()
                _exit(128 + number)
            }
        }
    }
}

extension Style {
    struct ColorPairKey: Hashable {
        let foreground: Color
        let background: Color
    }
}
