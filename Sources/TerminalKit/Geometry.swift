/// A rectangle of cells: columns x..<x+width, rows y..<y+height.
public struct Rect: Equatable, Hashable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width == 0 || height == 0 }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// Shrinks the rectangle by `by` cells on every side.
    public func inset(_ by: Int) -> Rect { Rect(x: x + by, y: y + by, width: width - 2 * by, height: height - 2 * by) }

    public func intersection(_ other: Rect) -> Rect {
        let x0 = max(x, other.x)
        let y0 = max(y, other.y)
        return Rect(x: x0, y: y0, width: min(maxX, other.maxX) - x0, height: min(maxY, other.maxY) - y0)
    }

    /// A rectangle of `width` x `height` centred in this one (clamped to fit).
    public func centered(width w: Int, height h: Int) -> Rect {
        let cw = min(w, width)
        let ch = min(h, height)
        return Rect(x: x + (width - cw) / 2, y: y + (height - ch) / 2, width: cw, height: ch)
    }

    /// Row `i` of this rectangle as a one-row rectangle.
    public func row(_ i: Int) -> Rect { Rect(x: x, y: y + i, width: width, height: i < height ? 1 : 0) }
}

/// How a layout divides space: fixed cells, a share of what remains, or everything left.
public enum Constraint: Equatable, Sendable {
    case length(Int)
    case percent(Int)
    case fill
}

public enum Layout {
    /// Splits `rect` top to bottom.
    public static func vertical(_ rect: Rect, _ constraints: [Constraint]) -> [Rect] {
        sizes(total: rect.height, constraints).reduce(into: (rects: [Rect](), at: rect.y)) { acc, size in
            acc.rects.append(Rect(x: rect.x, y: acc.at, width: rect.width, height: size))
            acc.at += size
        }.rects
    }

    /// Splits `rect` left to right.
    public static func horizontal(_ rect: Rect, _ constraints: [Constraint]) -> [Rect] {
        sizes(total: rect.width, constraints).reduce(into: (rects: [Rect](), at: rect.x)) { acc, size in
            acc.rects.append(Rect(x: acc.at, y: rect.y, width: size, height: rect.height))
            acc.at += size
        }.rects
    }

    static func sizes(total: Int, _ constraints: [Constraint]) -> [Int] {
        var remaining = total
        var sizes = constraints.map { c -> Int in
            switch c {
            case .length(let n):
                let s = min(max(0, n), remaining)
                remaining -= s
                return s
            case .percent(let p):
                let s = min(total * max(0, p) / 100, remaining)
                remaining -= s
                return s
            case .fill: return 0
            }
        }
        let fills = constraints.indices.filter { constraints[$0] == .fill }
        for (k, i) in fills.enumerated() {
            sizes[i] = remaining / fills.count + (k < remaining % fills.count ? 1 : 0)
        }
        return sizes
    }
}
