import Foundation

/// A message tag of R5, read from the `message_tag` table so tags can be retired with a note.
public struct MessageTag: Equatable, Sendable, Codable {
    public var name: String
    public var apiName: String
    public var allows: String
    public var example: String
    public var contextWords: [String]
    public var retiredNote: String?
    /// The day (account's calendar) from which the tag is retired; nil with a note: retired already.
    public var retiredOn: DayNumber?

    public init(
        name: String, apiName: String, allows: String, example: String, contextWords: [String],
        retiredNote: String?, retiredOn: DayNumber? = nil
    ) {
        self.name = name
        self.apiName = apiName
        self.allows = allows
        self.example = example
        self.contextWords = contextWords
        self.retiredNote = retiredNote
        self.retiredOn = retiredOn
    }

    /// R12: retired on `day` when it has a note and its date (if any) has come.
    public func isRetired(on day: DayNumber) -> Bool {
        Self.isRetired(note: retiredNote, on: retiredOn, day: day)
    }

    /// "retired 2026-04-27", "retires 2026-04-27" (before the day), or nil for a current tag.
    public func state(on day: DayNumber) -> String? {
        Self.state(note: retiredNote, on: retiredOn, day: day)
    }

    /// The same from a tag's stored note and date, for a row that has no whole tag.
    static func isRetired(note: String?, on retiredOn: DayNumber?, day: DayNumber) -> Bool {
        note != nil && (retiredOn.map { day >= $0 } ?? true)
    }

    static func state(note: String?, on retiredOn: DayNumber?, day: DayNumber) -> String? {
        guard note != nil else { return nil }
        guard let retiredOn else { return "retired" }
        let date = AccountCalendar(timeZone: .gmt).string(for: retiredOn)
        return day >= retiredOn ? "retired \(date)" : "retires \(date)"
    }
}

/// One reason a Messenger-node message may break Facebook's messaging policy (R7), with the words
/// that raised it so the composer can show and highlight them.
public struct PolicyFlag: Equatable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        case promotional
        case offTag = "off_tag"
        /// Utility templates (R13): a parameter starts or ends the body.
        case parameterPosition = "parameter_position"
        /// A parameter with no example value, or braces Meta would read as one.
        case parameterExample = "parameter_example"
        case parameterRatio = "parameter_ratio"
    }

    public let kind: Kind
    public let words: [String]
    public let explanation: String
    /// Meta's rejection code this flag predicts (utility templates), e.g. INCORRECT_PARAMS.
    public var metaReason: String?
    /// What to change so the flag goes.
    public var fix: String?

    public init(kind: Kind, words: [String], explanation: String, metaReason: String? = nil, fix: String? = nil) {
        self.kind = kind
        self.words = words
        self.explanation = explanation
        self.metaReason = metaReason
        self.fix = fix
    }
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
            flags.append(
                PolicyFlag(
                    kind: .promotional, words: promotional,
                    explanation: "promotional wording is not allowed in tagged messages"))
        }
        let text = message.replacingOccurrences(of: "@[A-Za-z0-9_]+@", with: " ", options: .regularExpression)
        if matches(of: tag.contextWords, in: text).isEmpty {
            let own = Set(tag.contextWords)
            for other in allTags where other.name != tag.name {
                let words = matches(of: other.contextWords.filter { !own.contains($0) }, in: text)
                if !words.isEmpty {
                    flags.append(
                        PolicyFlag(
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
                let beforeOK =
                    found.lowerBound == lower.startIndex
                    || !isWordCharacter(lower[lower.index(before: found.lowerBound)])
                    || !isWordCharacter(phrase.first!)
                let afterOK =
                    found.upperBound == lower.endIndex
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
