/// A terminal in memory for tests: a fixed size, scripted events and resizes, and the screen as
/// text and styles. It keeps the same diff the real terminal flushes, so tests see what changed.
public final class VirtualTerminal: Terminal {
    public private(set) var width: Int
    public private(set) var height: Int
    public let colorDepth: ColorDepth
    public private(set) var screen: Buffer
    /// How many cells the last `draw` wrote.
    public private(set) var lastFlushCount = 0
    public private(set) var rawWrites: [String] = []
    private var events: [Event] = []

    public init(width: Int, height: Int, colorDepth: ColorDepth = .trueColor) {
        self.width = width
        self.height = height
        self.colorDepth = colorDepth
        screen = Buffer(width: width, height: height)
    }

    public func enqueue(_ events: [Event]) { self.events += events }

    public func enqueue(keys: Key...) { events += keys.map(Event.key) }

    /// Types each character of `text` as a key.
    public func type(_ text: String) { events += text.map { .key(.char($0)) } }

    public func resize(width: Int, height: Int) {
        self.width = width
        self.height = height
        events.append(.resize(width: width, height: height))
    }

    public var hasPendingEvents: Bool { !events.isEmpty }

    public func draw(_ buffer: Buffer) {
        let changes = buffer.diff(from: screen)
        lastFlushCount = changes.count
        screen = buffer
    }

    public func nextEvent(timeoutMilliseconds: Int) -> Event {
        events.isEmpty ? .tick : events.removeFirst()
    }

    public func writeRaw(_ sequence: String) { rawWrites.append(sequence) }

    /// The screen as text, trailing spaces kept so golden files show the full width.
    public var text: String { screen.lines().joined(separator: "\n") }
}
