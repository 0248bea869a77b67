/// A list to choose one item from; some items can be shown but not chosen, each saying why
/// (the page picker greys pages whose role can't link).
public struct PickerItem: Equatable, Sendable {
    public var label: String
    public var detail: String
    /// nil when the item can be chosen; otherwise the reason it can't.
    public var disabledReason: String?

    public init(_ label: String, detail: String = "", disabledReason: String? = nil) {
        self.label = label
        self.detail = detail
        self.disabledReason = disabledReason
    }
}

public struct PickerState: Equatable, Sendable {
    public var items: [PickerItem]
    public var cursor = 0
    public var offset = 0

    public init(items: [PickerItem], cursor: Int = 0) {
        self.items = items
        self.cursor = items.isEmpty ? 0 : min(max(0, cursor), items.count - 1)
    }

    /// Moves the cursor; the offset follows where the picker is drawn (`Picker.render`).
    public mutating func move(by delta: Int) {
        guard !items.isEmpty else { return }
        cursor = min(max(0, cursor + delta), items.count - 1)
    }

    /// The current item when it can be chosen.
    public var choice: PickerItem? {
        guard items.indices.contains(cursor), items[cursor].disabledReason == nil else { return nil }
        return items[cursor]
    }
}

public struct Picker {
    public var theme: Theme
    public init(theme: Theme) { self.theme = theme }

    /// Draws the items that fit, scrolled the least that shows the cursor, and writes that
    /// offset back to `state`.
    public func render(into buffer: inout Buffer, area: Rect, state: inout PickerState) {
        guard !area.isEmpty else { return }
        let v = max(1, area.height)
        if state.cursor < state.offset { state.offset = state.cursor }
        if state.cursor >= state.offset + v { state.offset = state.cursor - v + 1 }
        state.offset = max(0, min(state.offset, max(0, state.items.count - v)))
        if state.items.isEmpty {
            Label("(nothing to choose)", style: theme.muted).render(into: &buffer, area: area)
            return
        }
        for row in 0..<area.height {
            let index = state.offset + row
            guard index < state.items.count else { break }
            let item = state.items[index]
            let y = area.y + row
            var style = item.disabledReason == nil ? theme.text : theme.muted
            if index == state.cursor {
                style = item.disabledReason == nil ? theme.selection : theme.muted.with(.reverse)
                buffer.fill(Rect(x: area.x, y: y, width: area.width, height: 1), style: style)
            }
            let marker = index == state.cursor ? "› " : "  "
            // The reason an item can't be chosen comes before its detail, so a narrow box keeps it.
            var text = marker + item.label
            if let reason = item.disabledReason { text += "  — " + reason }
            if !item.detail.isEmpty { text += "  " + item.detail }
            buffer.write(DisplayWidth.truncate(text, to: area.width), x: area.x, y: y, style: style, maxWidth: area.width)
        }
    }
}
