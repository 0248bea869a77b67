/// A message template with `@FIELDNAME@` placeholders (R5).
public struct MessageTemplate: Equatable, Sendable {
    public static let maxLength = 2000

    public enum Piece: Equatable, Sendable {
        case text(String)
        case field(String)
    }

    public let text: String
    public let pieces: [Piece]

    /// Parses the template. `@@` is a literal `@`; an `@` that opens a name must close it on the
    /// same line with a name of letters, digits and underscores, else the template is refused.
    public init(_ text: String) throws {
        self.text = text
        var pieces: [Piece] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            let char = text[index]
            guard char == "@" else {
                literal.append(char)
                index = text.index(after: index)
                continue
            }
            let afterAt = text.index(after: index)
            if afterAt < text.endIndex, text[afterAt] == "@" {
                literal.append("@")
                index = text.index(after: afterAt)
                continue
            }
            var end = afterAt
            while end < text.endIndex, Self.isNameCharacter(text[end]) { end = text.index(after: end) }
            guard end < text.endIndex, text[end] == "@", end > afterAt else {
                let column = text.distance(from: text.startIndex, to: index) + 1
                throw DomainError("message has an unclosed @ at character \(column): write @FIELDNAME@ (or @@ for a plain @)")
            }
            if !literal.isEmpty {
                pieces.append(.text(literal))
                literal = ""
            }
            pieces.append(.field(String(text[afterAt..<end]).uppercased()))
            index = text.index(after: end)
        }
        if !literal.isEmpty { pieces.append(.text(literal)) }
        self.pieces = pieces
        var names: [String] = []
        indexedPieces = pieces.map {
            switch $0 {
            case .text(let s): return .text(s)
            case .field(let name):
                if let i = names.firstIndex(of: name) { return .field(i) }
                names.append(name)
                return .field(names.count - 1)
            }
        }
    }

    static func isNameCharacter(_ c: Character) -> Bool {
        c == "_" || (c.isASCII && (c.isLetter || c.isNumber))
    }

    /// The field names the template uses, in order of first use.
    public var fieldNames: [String] {
        var seen = Set<String>()
        return pieces.compactMap {
            if case .field(let name) = $0, seen.insert(name).inserted { return name }
            return nil
        }
    }

    /// The message for one contact: each field is the contact's value, or the field's default
    /// when the contact has none (an empty value counts as none).
    public func personalise(values: (String) -> String?, defaults: (String) -> String) -> String {
        let names = fieldNames
        return personalise(values: names.map(values), defaults: names.map(defaults))
    }

    /// The same, with the values and defaults given in `fieldNames` order: what a run uses for
    /// each of its contacts, without a lookup by name.
    public func personalise(values: [String?], defaults: [String]) -> String {
        var out = ""
        for piece in indexedPieces {
            switch piece {
            case .text(let s): out += s
            case .field(let i):
                if let v = values[i], !v.isEmpty { out += v } else { out += defaults[i] }
            }
        }
        return out
    }

    enum IndexedPiece: Equatable, Sendable {
        case text(String)
        case field(Int)
    }

    /// `pieces` with each field replaced by its index in `fieldNames`.
    let indexedPieces: [IndexedPiece]

}
