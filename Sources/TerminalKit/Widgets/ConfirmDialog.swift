/// A yes/no question. The focus starts on Cancel, so Enter alone never destroys anything.
public struct ConfirmDialogState: Equatable, Sendable {
    public enum Choice: Equatable, Sendable { case cancel, confirm }
    public enum Outcome: Equatable, Sendable { case pending, cancelled, confirmed }

    public var title: String
    public var message: String
    public var confirmLabel: String
    public private(set) var focus: Choice = .cancel

    public init(title: String, message: String, confirmLabel: String = "Confirm") {
        self.title = title
        self.message = message
        self.confirmLabel = confirmLabel
    }

    /// Tab and arrows move the focus; Enter takes the focused button; Esc and `n` cancel; `y` confirms.
    public mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .tab, .backTab, .left, .right, .char("h"), .char("l"):
            focus = focus == .cancel ? .confirm : .cancel
            return .pending
        case .enter: return focus == .confirm ? .confirmed : .cancelled
        case .escape, .char("n"), .char("q"): return .cancelled
        case .char("y"): return .confirmed
        default: return .pending
        }
    }
}

public struct ConfirmDialog {
    public var theme: Theme
    public init(theme: Theme) { self.theme = theme }

    public func render(into buffer: inout Buffer, area: Rect, state: ConfirmDialogState) {
        let width = min(area.width, max(40, min(70, DisplayWidth.of(state.message) + 4)))
        let lines = TextWrap.lines(state.message, width: max(1, width - 4))
        let box = area.centered(width: width, height: lines.count + 5)
        guard box.width >= 12, box.height >= 5 else { return }
        buffer.fill(box, style: theme.text)
        buffer.region(area, .inert)
        let inner = Block(title: state.title, style: theme.border, titleStyle: theme.warning).render(into: &buffer, area: box)
        for (i, line) in lines.enumerated() where i < inner.height - 2 {
            buffer.write(line, x: inner.x + 1, y: inner.y + 1 + i, style: theme.text, maxWidth: inner.width - 2)
        }
        let cancel = "[ Cancel ]"
        let confirm = "[ \(state.confirmLabel) ]"
        let y = inner.maxY - 1
        let total = DisplayWidth.of(cancel) + 2 + DisplayWidth.of(confirm)
        let x = inner.x + max(0, (inner.width - total) / 2)
        buffer.write(cancel, x: x, y: y, style: state.focus == .cancel ? theme.selection : theme.text)
        buffer.region(Rect(x: x, y: y, width: DisplayWidth.of(cancel), height: 1), .key(.escape))
        buffer.region(Rect(x: x + DisplayWidth.of(cancel) + 2, y: y, width: DisplayWidth.of(confirm), height: 1), .key(.char("y")))
        buffer.write(
            confirm, x: x + DisplayWidth.of(cancel) + 2, y: y,
            style: state.focus == .confirm ? theme.selection.with(.underline) : theme.text)
    }
}
