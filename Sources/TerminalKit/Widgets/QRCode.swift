import CQRencode

/// A QR code of a short text (the device login's link, #24), encoded by libqrencode and drawn with
/// half blocks: one character cell holds two modules, top and bottom, so a 29-module code takes
/// 33×17 cells with its quiet zone.
///
/// It is drawn dark on light with explicit colours (black on white), never with the terminal's own:
/// on a dark theme a code drawn in the default colours comes out inverted, which many phone
/// cameras don't read.
public struct QRCode: Equatable, Sendable {
    /// Modules per side, without the quiet zone.
    public let size: Int
    /// Row-major, `true` for a dark module.
    public let modules: [Bool]
    /// Light modules around the code on every side. The standard asks for 4; 2 is what terminal
    /// QR tools draw and phones read, and it keeps the code inside an 80×24 screen.
    public let quietZone: Int

    /// Nil when the text can't be encoded (empty, or too long for a code a terminal can show).
    public init?(_ text: String, quietZone: Int = 2) {
        guard !text.isEmpty, text.utf8.count <= 256 else { return nil }
        // Level L (7% of the code may be lost): a code on a screen is never torn or stained, and L
        // keeps Meta's link (51 characters) at version 3, 29 modules, which fits beside the text
        // on an 80×24 screen; M would take version 4 (33) and not fit.
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        // Bit 0 of each byte is the module's colour (1: dark); the other bits are libqrencode's own.
        modules = (0..<width * width).map { code.pointee.data[$0] & 1 == 1 }
        size = width
        self.quietZone = quietZone
    }

    /// Width and height in character cells, quiet zone included.
    public var cells: (width: Int, height: Int) {
        let side = size + 2 * quietZone
        return (side, (side + 1) / 2)
    }

    /// Whether the module at (x, y), counted from the quiet zone's corner, is dark.
    public func isDark(x: Int, y: Int) -> Bool {
        let (cx, cy) = (x - quietZone, y - quietZone)
        guard cx >= 0, cy >= 0, cx < size, cy < size else { return false }
        return modules[cy * size + cx]
    }

    /// The code's rows of half blocks, for black on white: "█" both dark, "▀" top dark, "▄" bottom
    /// dark, " " both light.
    public var lines: [String] {
        let side = size + 2 * quietZone
        return stride(from: 0, to: side, by: 2).map { y in
            String(
                (0..<side).map { x -> Character in
                    switch (isDark(x: x, y: y), isDark(x: x, y: y + 1)) {
                    case (true, true): return "█"
                    case (true, false): return "▀"
                    case (false, true): return "▄"
                    case (false, false): return " "
                    }
                })
        }
    }

    /// The style it is drawn in: black on white (ANSI 0 on 7, which 8-colour terminals have too),
    /// whatever the theme.
    public static let style = Style(foreground: .indexed(0), background: .indexed(7))

    /// Whether a code can be drawn readably on `theme`: not without colour (NO_COLOR, plain mode),
    /// where it would take the terminal's colours and come out inverted on a dark one.
    public static func drawable(on theme: Theme) -> Bool { theme.depth != .none && !theme.plain }

    /// Draws the code with its top-left corner at (x, y); nothing when it doesn't fit whole (a cut
    /// code can't be read).
    @discardableResult
    public func render(into buffer: inout Buffer, x: Int, y: Int, within area: Rect) -> Bool {
        let cells = self.cells
        guard x >= area.x, y >= area.y, x + cells.width <= area.maxX, y + cells.height <= area.maxY else { return false }
        for (row, text) in lines.enumerated() { _ = buffer.write(text, x: x, y: y + row, style: Self.style, maxWidth: cells.width) }
        return true
    }

    /// The code for a terminal outside the dashboard: ANSI black on white, each row reset at its end.
    public var ansiLines: [String] { lines.map { "\u{1B}[30;47m" + $0 + "\u{1B}[0m" } }
}
