import TerminalKit

/// A list's newest question to the database and the question its rows on screen answer, so the
/// list never shows rows under a filter they don't match, and keys never act on them (#23).
///
/// A screen `ask`s when it sends a load (a search, a filter, a page) and `accept`s an answer only
/// if it answers the newest question; an answer to an older one is dropped. Effects run in order
/// on one queue (`Runtime.work`), so an answer to the same question can't overtake another: the
/// question itself is enough to tell the newest answer, and no ticket travels with the effects.
///
/// Keys that act on rows (open, move, page, mark, delete, run…) pressed while the answer is on its
/// way are held, as a terminal holds type-ahead, and replayed in order once it arrives (`replay`):
/// a person who types `/ann` Enter Enter opens what the search found, never a row of the list
/// before it. What is held is said in the status line ("searching…", "loading…").
struct ListLoad<Question: Equatable & Sendable>: Equatable, Sendable {
    /// The newest question asked; nil before the first.
    private(set) var asked: Question?
    /// The question the rows on screen answer; nil before the first answer.
    private(set) var shown: Question?
    /// Keys pressed while waiting, oldest first.
    private(set) var held: [Key] = []

    /// At most this many keys are held: a stuck load must not turn into a flood of actions later.
    static var holdLimit: Int { 16 }

    init(asking question: Question? = nil) { asked = question }

    /// The rows on screen don't answer the newest question yet.
    var isWaiting: Bool { asked != shown }

    /// The rows on screen answer this question's filter: false while they answer another.
    func shows(_ matches: (Question) -> Bool) -> Bool { shown.map(matches) ?? false }

    mutating func ask(_ question: Question) { asked = question }

    /// True when `answer` answers the newest question: the screen then takes the rows. An answer
    /// to an older question is dropped (false), and what is held stays held for the newest.
    mutating func accept(_ answer: Question) -> Bool {
        guard answer == asked else { return false }
        shown = answer
        return true
    }

    /// The same, for an answer that says what it answers in its own terms (the stats' resolved
    /// dates): accepted when it answers the newest question.
    mutating func accept(answering: (Question) -> Bool) -> Bool {
        guard let asked, answering(asked) else { return false }
        shown = asked
        return true
    }

    /// Holds a key until the answer arrives (the oldest keys stay, later ones are dropped past
    /// the limit).
    mutating func hold(_ key: Key) {
        if held.count < Self.holdLimit { held.append(key) }
    }

    /// Forgets the held keys (Esc, or a refusal that makes them meaningless).
    mutating func dropHeld() { held = [] }

    /// Replays the held keys of `screen`'s load through `handle`, in the order they were pressed,
    /// while its rows answer the newest question. A key that waits again (a page past the end, a
    /// new search) stops the replay and the rest stays held; one that leaves the screen (it opened
    /// or closed something, or asked to confirm) drops the rest, which were meant for this screen.
    static func replay<Screen>(
        _ screen: inout Screen, _ load: WritableKeyPath<Screen, ListLoad>, _ handle: (inout Screen, Key) -> [ScreenCommand]
    ) -> [ScreenCommand] {
        var commands: [ScreenCommand] = []
        while !screen[keyPath: load].isWaiting, !screen[keyPath: load].held.isEmpty {
            let key = screen[keyPath: load].held.removeFirst()
            let step = handle(&screen, key)
            commands += step
            if step.contains(where: \.leavesTheScreen) {
                screen[keyPath: load].held = []
                break
            }
        }
        return commands
    }
}

/// A question that has no parameters: "all the rows" (the profiles, the programs).
struct AllRows: Equatable, Sendable {}

extension ScreenCommand {
    /// Whether the command opens or closes a screen (held keys then belong to no screen).
    var leavesTheScreen: Bool {
        switch self {
        case .push, .pop, .quit: return true
        case .confirm: return true
        case .run, .toast: return false
        }
    }
}
