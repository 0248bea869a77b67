import Foundation

/// A colour as a theme names it: the terminal's own, one of the 256 indexed colours, or 24-bit.
public enum Color: Equatable, Hashable, Sendable {
    case `default`
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    /// The colour's red, green and blue, where it is known: an RGB colour, or an indexed one as
    /// xterm draws it by default (the 16 ANSI colours, the 6×6×6 cube, the greys); nil for the
    /// terminal's own default, which only the terminal knows.
    public var rgb: (r: Double, g: Double, b: Double)? {
        switch self {
        case .default: return nil
        case .rgb(let r, let g, let b): return (Double(r), Double(g), Double(b))
        case .indexed(let i):
            let ansi: [(Double, Double, Double)] = [
                (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
                (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
            ]
            if i < 16 { return ansi[Int(i)] }
            if i < 232 {
                let n = Int(i) - 16
                let level = { (v: Int) -> Double in v == 0 ? 0 : Double(55 + v * 40) }
                return (level(n / 36), level(n / 6 % 6), level(n % 6))
            }
            let grey = Double(8 + (Int(i) - 232) * 10)
            return (grey, grey, grey)
        }
    }

    /// WCAG 2's relative luminance, nil where the colour is the terminal's default.
    public var luminance: Double? {
        guard let (r, g, b) = rgb else { return nil }
        func linear(_ c: Double) -> Double {
            let s = c / 255
            return s <= 0.039_28 ? s / 12.92 : Foundation.pow((s + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    /// WCAG 2's contrast ratio of two colours (1 to 21); nil when either is the terminal's default.
    public static func contrast(_ a: Color, _ b: Color) -> Double? {
        guard let la = a.luminance, let lb = b.luminance else { return nil }
        return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
    }

    /// The sixteen ANSI names, in index order.
    public static let names = [
        "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
        "bright-black", "bright-red", "bright-green", "bright-yellow",
        "bright-blue", "bright-magenta", "bright-cyan", "bright-white",
    ]

    /// Parses `#rrggbb`, `0`–`255`, a colour name or `default`; nil when it is none of them.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "default" || t == "reset" {
            self = .default
            return
        }
        if let i = Self.names.firstIndex(of: t.replacingOccurrences(of: "_", with: "-")) {
            self = .indexed(UInt8(i))
            return
        }
        if t == "gray" || t == "grey" {
            self = .indexed(8)
            return
        }
        if let n = Int(t), (0...255).contains(n) {
            self = .indexed(UInt8(n))
            return
        }
        if t.hasPrefix("#"), t.count == 7, let v = UInt32(t.dropFirst(), radix: 16) {
            self = .rgb(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
            return
        }
        return nil
    }

    /// The nearest colour a terminal of `depth` can show.
    public func reduced(to depth: ColorDepth) -> Color {
        switch (self, depth) {
        case (.default, _), (_, .trueColor): return self
        case (_, .none): return .default
        case (.indexed(let i), .ansi16) where i >= 16: return Color.rgbOf(index: i).nearestANSI16
        case (.indexed, _): return self
        case (.rgb(let r, let g, let b), .indexed256): return .indexed(Self.nearest256(r, g, b))
        case (.rgb, .ansi16): return nearestANSI16
        }
    }

    private var nearestANSI16: Color {
        guard case .rgb(let r, let g, let b) = self else { return self }
        var best = 0
        var bestDistance = Int.max
        for i in 0..<16 {
            guard case .rgb(let pr, let pg, let pb) = Color.rgbOf(index: UInt8(i)) else { continue }
            let d = Self.distance(r, g, b, pr, pg, pb)
            if d < bestDistance {
                best = i
                bestDistance = d
            }
        }
        return .indexed(UInt8(best))
    }

    static func distance(_ r1: UInt8, _ g1: UInt8, _ b1: UInt8, _ r2: UInt8, _ g2: UInt8, _ b2: UInt8) -> Int {
        let dr = Int(r1) - Int(r2)
        let dg = Int(g1) - Int(g2)
        let db = Int(b1) - Int(b2)
        return 2 * dr * dr + 4 * dg * dg + 3 * db * db
    }

    /// xterm's 256-colour cube and grey ramp.
    static func nearest256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let levels: [Int] = [0, 95, 135, 175, 215, 255]
        func step(_ v: UInt8) -> Int { levels.enumerated().min { abs($0.element - Int(v)) < abs($1.element - Int(v)) }!.offset }
        let (ri, gi, bi) = (step(r), step(g), step(b))
        let cube = UInt8(16 + 36 * ri + 6 * gi + bi)
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyIndex = max(0, min(23, (average - 8 + 5) / 10))
        let grey = UInt8(8 + greyIndex * 10)
        let cubeDistance = distance(r, g, b, UInt8(levels[ri]), UInt8(levels[gi]), UInt8(levels[bi]))
        let greyDistance = distance(r, g, b, grey, grey, grey)
        return greyDistance < cubeDistance ? UInt8(232 + greyIndex) : cube
    }

    static func rgbOf(index: UInt8) -> Color {
        let ansi: [(UInt8, UInt8, UInt8)] = [
            (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
            (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
        ]
        if index < 16 {
            let c = ansi[Int(index)]
            return .rgb(c.0, c.1, c.2)
        }
        if index >= 232 {
            let v = UInt8(8 + (Int(index) - 232) * 10)
            return .rgb(v, v, v)
        }
        let levels: [UInt8] = [0, 95, 135, 175, 215, 255]
        let n = Int(index) - 16
        return .rgb(levels[n / 36], levels[n / 6 % 6], levels[n % 6])
    }
}

/// How many colours the terminal can show; `none` is NO_COLOR (attributes only).
public enum ColorDepth: Int, Sendable, Comparable {
    case none = 0
    case ansi16 = 16
    case indexed256 = 256
    case trueColor = 16_777_216

    public static func < (a: ColorDepth, b: ColorDepth) -> Bool { a.rawValue < b.rawValue }
}

/// Text attributes that work without colour.
public struct Attributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = Attributes(rawValue: 1)
    public static let dim = Attributes(rawValue: 2)
    public static let reverse = Attributes(rawValue: 4)
    public static let underline = Attributes(rawValue: 8)
}

public struct Style: Equatable, Hashable, Sendable {
    public var foreground: Color
    public var background: Color
    public var attributes: Attributes

    public init(foreground: Color = .default, background: Color = .default, attributes: Attributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = Style()

    public func with(_ extra: Attributes) -> Style {
        var s = self
        s.attributes.formUnion(extra)
        return s
    }
}
