import Foundation

/// A profile's (or program's) name under R1: 1–100 characters after trimming, no control characters.
/// Format characters that can disguise a name (bidi overrides, zero-width marks) are refused too;
/// the zero-width joiner is kept inside emoji, where it is part of the character.
public struct ProfileName: Equatable, Sendable {
    public static let maxLength = 100

    /// The trimmed name as shown.
    public let value: String
    /// The key that makes names unique ignoring case.
    public var key: String { Self.key(value) }

    public init(_ raw: String, what: String = "profile name") throws {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            throw DomainError("\(what) is empty: give 1–\(Self.maxLength) characters")
        }
        for character in trimmed {
            for scalar in character.unicodeScalars {
                if let problem = Self.problem(with: scalar, in: character) {
                    let code = String(format: "U+%04X", scalar.value)
                    throw DomainError("\(what) contains \(problem) (\(code)); use visible characters only")
                }
            }
        }
        if trimmed.count > Self.maxLength {
            throw DomainError("\(what) is \(trimmed.count) characters long; the limit is \(Self.maxLength)")
        }
        value = trimmed
    }

    public static func key(_ name: String) -> String {
        name.folding(options: [.caseInsensitive, .widthInsensitive], locale: nil)
    }

    private static func problem(with scalar: Unicode.Scalar, in character: Character) -> String? {
        switch scalar.properties.generalCategory {
        case .control:
            return "a control character"
        case .format:
            if scalar.value == 0x200D, character.unicodeScalars.count > 1,
                character.unicodeScalars.contains(where: { $0.properties.isEmojiPresentation || $0.properties.isEmoji && $0.value > 0xFF })
            {
                return nil
            }
            if (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
                || scalar.value == 0x200E || scalar.value == 0x200F || scalar.value == 0x061C
            {
                return "a bidirectional override"
            }
            return "an invisible formatting character"
        case .lineSeparator, .paragraphSeparator:
            return "a line break"
        case .unassigned, .surrogate, .privateUse:
            return "an unassigned or private character"
        default:
            return nil
        }
    }
}
