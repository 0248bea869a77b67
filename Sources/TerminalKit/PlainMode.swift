/// Plain mode (`--plain`, `MESSENGER_DASH_PLAIN=1`, `plain = true`): the frame in ASCII for
/// screen readers, braille displays and dumb terminals. Widgets that need another shape in plain
/// mode (the chart as numbers, the focus marker) check `Theme.plain`; everything else is drawn
/// as usual and its glyphs are mapped here, so a new screen is plain without knowing about it.
/// Text in any script stays as it is; only the glyphs listed here are mapped, wherever they
/// stand, so a `→` or `—` in a person's own message reads `>` or `-` too.
public enum PlainMode {
    /// Each interface glyph and its ASCII stand-in, one cell for one cell.
    static let ascii: [String: String] = [
        "─": "-", "│": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+", "┤": "+", "┬": "+", "┴": "+", "┼": "+",
        "╭": "+", "╮": "+", "╰": "+", "╯": "+", "█": "#", "▓": "=", "░": ".", "▐": "#", "▌": "#",
        "›": ">", "…": ".", "✓": "*", "✗": "x", "⚑": "!", "⚠": "!", "●": "*", "○": "o", "◆": "*",
        "←": "<", "→": ">", "↑": "^", "↓": "v", "·": "-", "—": "-", "–": "-",
    ]

    /// The frame with every interface glyph replaced and no colour left (attributes stay: reverse
    /// still marks the focus for sighted users; the words carry the meaning for everyone).
    public static func apply(_ frame: Buffer) -> Buffer {
        var out = frame
        for y in 0..<frame.height {
            for x in 0..<frame.width {
                var cell = frame[x, y]
                if let stand = ascii[cell.symbol] { cell.symbol = stand }
                cell.style = Style(attributes: cell.style.attributes)
                out[x, y] = cell
            }
        }
        return out
    }
}
