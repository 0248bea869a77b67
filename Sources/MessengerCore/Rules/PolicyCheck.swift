import Foundation

/// A message tag of R5, read from the `message_tag` table so tags can be retired with a note.
public struct MessageTag: Equatable, Sendable, Codable {
    public var name: String
    public var apiName: String
    public var allows: String
    public var example: String
    public var contextWords: [String]
    public var retiredNote: String?

    public var isRetired: Bool { retiredNote != nil }
}

/// One reason a Messenger-node message may break Facebook's messaging policy (R7), with the words
/// that raised it so the composer can show and highlight them.
public struct PolicyFlag: Equatable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        case promotional
        case offTag = "off_tag"
    }

    public let kind: Kind
    public let words: [String]
    public let explanation: String
}

/// The policy check of R7: promotional wording, and wording that doesn't fit the chosen tag.
public enum PolicyCheck {
    /// Phrases that mark a message as marketing. Matched on word boundaries, ignoring case.
    public static let promotionalPhrases: [String] = [
        "sale", "sales", "discount", "discounts", "% off", "percent off", "coupon", "coupons",
        "promo code", "promo", "promotion", "voucher", "buy now", "shop now", "order now",
        "limited time", "limited offer", "special offer", "exclusive offer", "deal", "deals",
        "free shipping", "free gift", "clearance", "bargain", "save big", "black friday",
        "cyber monday", "best price", "lowest price", "don't miss", "hurry", "act now",
    ]

    /// Flags promotional wording, and wording that belongs to another tag when the message has
    /// none of its own tag's context (a plain "Hello @FIRSTNAME@" is not flagged: it says nothing).
    public static func check(message: String, tag: MessageTag, allTags: [MessageTag]) -> [PolicyFlag] {
        var flags: [PolicyFlag] = []
        let promotional = matches(of: promotionalPhrases, in: message)
        if !promotional.isEmpty {
            flags.append(PolicyFlag(
                kind: .promotional, words: promotional,
                explanation: "promotional wording is not allowed in tagged messages"))
        }
        let text = message.replacingOccurrences(of: "@[A-Za-z0-9_]+@", with: " ", options: .regularExpression)
        if matches(of: tag.contextWords, in: text).isEmpty {
            let own = Set(tag.contextWords)
            for other in allTags where other.name != tag.name {
                let words = matches(of: other.contextWords.filter { !own.contains($0) }, in: text)
                if !words.isEmpty {
                    flags.append(PolicyFlag(
                        kind: .offTag, words: words,
                        explanation: "reads as \(other.name), not \(tag.name)"))
                }
            }
        }
        return flags
    }

    /// Each phrase found in `text`, in the order of the list, ignoring case, on word boundaries.
    static func matches(of phrases: [String], in text: String) -> [String] {
        let lower = text.lowercased()
        return phrases.filter { phrase in
            var searchRange = lower.startIndex..<lower.endIndex
            while let found = lower.range(of: phrase, range: searchRange) {
                let beforeOK = found.lowerBound == lower.startIndex
                    || !isWordCharacter(lower[lower.index(before: found.lowerBound)])
                    || !isWordCharacter(phrase.first!)
                let afterOK = found.upperBound == lower.endIndex
                    || !isWordCharacter(lower[found.upperBound])
                    || !isWordCharacter(phrase.last!)
                if beforeOK && afterOK { return true }
                searchRange = found.upperBound..<lower.endIndex
            }
            return false
        }
    }

    private static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber }
}
