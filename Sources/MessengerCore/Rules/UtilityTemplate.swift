import Foundation
import GRDB

/// Meta's retirement of the three message tags (R12): "Effective April 27th, 2026, all API
/// requests containing the Message Tags CONFIRMED_EVENT_UPDATE, ACCOUNT_UPDATE, and
/// POST_PURCHASE_UPDATE will receive error code 100." The database carries the same date and note
/// on each tag (schema v6, frozen text); this is what the sandbox answers with, as Facebook does.
public enum TagRetirement {
    public static let date = "2026-04-27"
    public static let apiNames: Set<String> = ["CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"]
    /// Developers report code 100 "Invalid parameter" with this subcode for a retired tag.
    public static let subcode = 1_893_061
    public static var day: DayNumber { AccountCalendar(timeZone: .gmt).parseDay(date)! }
}

/// The review states of a page message template, as Graph spells them.
public enum TemplateStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case approved = "APPROVED"
    case pending = "PENDING"
    case rejected = "REJECTED"
    case paused = "PAUSED"
    case disabled = "DISABLED"
    case archived = "ARCHIVED"
    case deleted = "DELETED"

    /// Reads a status as Graph or its webhook names it. `REINSTATED` is an approval given back;
    /// `PENDING_DELETION` is on its way out. Anything else is not a status we act on.
    public init?(graph text: String) {
        switch text.uppercased() {
        case "REINSTATED": self = .approved
        case "PENDING_DELETION": self = .deleted
        case "IN_APPEAL": self = .pending
        default:
            guard let status = TemplateStatus(rawValue: text.uppercased()) else { return nil }
            self = status
        }
    }
}

/// A node's message as Meta takes a utility template (R13): `@FIELD@` becomes a NAMED parameter
/// `{{field}}` with an example value, and the template is named after its program and version.
public struct UtilityTemplateDraft: Equatable, Sendable {
    public struct Parameter: Equatable, Sendable {
        /// As Meta takes it: lowercase letters, digits and `_` (the field name, lowercased).
        public let name: String
        /// The data field it is filled from, upper case as stored.
        public let field: String
        /// An example value (from a real contact, else the field's default); empty when none.
        public let example: String
    }

    public let name: String
    public let language: String
    /// The body with `{{name}}` parameters.
    public let body: String
    public let parameters: [Parameter]

    public init(message: MessageTemplate, name: String, language: String, examples: [String: String]) {
        self.name = name
        self.language = language
        var body = ""
        for piece in message.pieces {
            switch piece {
            case .text(let text): body += text
            case .field(let field): body += "{{" + Self.parameterName(field) + "}}"
            }
        }
        self.body = body
        parameters = message.fieldNames.map { Parameter(name: Self.parameterName($0), field: $0, example: examples[$0] ?? "") }
    }

    public static func parameterName(_ field: String) -> String { field.lowercased() }

    /// `order_updates` from "Order updates": Meta's template names are lowercase letters, digits
    /// and underscores.
    public static func slug(_ programName: String) -> String {
        var out = ""
        for scalar in programName.lowercased().unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty, !out.hasSuffix("_") {
                out += "_"
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        if out.isEmpty { out = "program" }
        return String(out.prefix(200))
    }

    /// `en_US`, `fr_FR`, `pt_BR`, or a bare language such as `id`.
    public static func validateLanguage(_ code: String) throws {
        guard code.range(of: #"^[a-z]{2,3}(_[A-Z]{2})?$"#, options: .regularExpression) != nil else {
            throw DomainError("language must be a code such as en_US or fr_FR, not \(Display.quoted(code))")
        }
    }
}

/// Meta's rejection rules for utility templates, checked locally before anything is submitted,
/// and used by the sandbox to decide as Meta would. Each finding carries Meta's reason code and
/// the fix.
public enum UtilityRules {
    /// Meta doesn't publish its parameter-to-word ratio. A template is flagged when it has fewer
    /// than this many words of its own per parameter ("Hi @FIRSTNAME@, order @ORDERNUMBER@ has
    /// shipped." has 4 for 2 and passes; "@A@ @B@ ok" does not).
    public static let wordsPerParameter = 2

    public static let incorrectParams = "INCORRECT_PARAMS"
    public static let ratio = "PARAMS_TO_WORD_RATIO_EXCEED_LIMIT"
    public static let marketing = "TAG_SHOULD_BE_MARKETING"

    /// A person's words for Meta's rejection codes.
    public static func explain(_ reason: String) -> String {
        switch reason {
        case incorrectParams: return "INCORRECT_PARAMS: a parameter starts or ends the message, or lacks an example"
        case ratio: return "PARAMS_TO_WORD_RATIO_EXCEED_LIMIT: too many parameters for the words around them"
        case marketing: return "TAG_SHOULD_BE_MARKETING: Meta reads it as promotional"
        default: return reason
        }
    }

    /// The findings for a body as Meta receives it (`{{name}}` parameters) and the example of
    /// each parameter. Empty: Meta's rules as we know them pass.
    public static func check(body: String, examples: [(name: String, example: String)]) -> [PolicyFlag] {
        var flags: [PolicyFlag] = []
        let names = parameterNames(in: body)
        let outside = body.replacingOccurrences(of: #"\{\{[a-z0-9_]+\}\}"#, with: " ", options: .regularExpression)
        let edge = CharacterSet.whitespacesAndNewlines.union(.punctuationCharacters).subtracting(CharacterSet(charactersIn: "{}"))
        let trimmed = body.trimmingCharacters(in: edge)
        if let first = names.first, trimmed.hasPrefix("{{") {
            flags.append(
                PolicyFlag(
                    kind: .parameterPosition, words: [label(first)],
                    explanation: "a parameter starts the message (Meta rejects it: \(incorrectParams))",
                    metaReason: incorrectParams, fix: "put words before \(label(first)), e.g. \"Hi \(label(first))\""))
        }
        if let last = names.last, trimmed.hasSuffix("}}") {
            flags.append(
                PolicyFlag(
                    kind: .parameterPosition, words: [label(last)],
                    explanation: "a parameter ends the message (Meta rejects it: \(incorrectParams))",
                    metaReason: incorrectParams, fix: "end the message with words after \(label(last))"))
        }
        let stray = Set(names).subtracting(examples.map(\.name))
        if outside.contains("{{") || outside.contains("}}") || !stray.isEmpty {
            flags.append(
                PolicyFlag(
                    kind: .parameterExample, words: ["{{", "}}"],
                    explanation: "double braces outside a parameter (Meta rejects it: \(incorrectParams))",
                    metaReason: incorrectParams, fix: "write fields as @FIELD@ and drop the braces"))
        }
        let missing = examples.filter { $0.example.trimmingCharacters(in: .whitespaces).isEmpty }.map { label($0.name) }
        if !missing.isEmpty {
            flags.append(
                PolicyFlag(
                    kind: .parameterExample, words: missing,
                    explanation: "no example value (Meta rejects it: \(incorrectParams))",
                    metaReason: incorrectParams, fix: "give the field a default value or import a contact that has one"))
        }
        let words = outside.split(whereSeparator: { $0.isWhitespace }).filter { $0.contains { $0.isLetter || $0.isNumber } }.count
        let count = Set(names).count
        if count > 0, words < wordsPerParameter * count {
            flags.append(
                PolicyFlag(
                    kind: .parameterRatio, words: [],
                    explanation:
                        "\(count) parameter\(count == 1 ? "" : "s") for \(words) word\(words == 1 ? "" : "s") (Meta rejects it: \(ratio))",
                    metaReason: ratio, fix: "write at least \(wordsPerParameter * count) words besides the fields, or use fewer fields"))
        }
        let promotional = PolicyCheck.matches(of: PolicyCheck.promotionalPhrases, in: outside)
        if !promotional.isEmpty {
            flags.append(
                PolicyFlag(
                    kind: .promotional, words: promotional,
                    explanation: "promotional wording (Meta files it as marketing: \(marketing))",
                    metaReason: marketing,
                    fix: "remove the promotional words; utility messages only inform about something the person asked for"))
        }
        return flags
    }

    /// The same findings for a draft.
    public static func check(_ draft: UtilityTemplateDraft) -> [PolicyFlag] {
        check(body: draft.body, examples: draft.parameters.map { ($0.name, $0.example) })
    }

    /// Parameter names in order of appearance (repeats kept).
    static func parameterNames(in body: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: #"\{\{([a-z0-9_]+)\}\}"#) else { return [] }
        let range = NSRange(body.startIndex..., in: body)
        return regex.matches(in: body, range: range).compactMap { Range($0.range(at: 1), in: body).map { String(body[$0]) } }
    }

    /// How a parameter reads to the person who wrote it: `@FIRSTNAME@`.
    static func label(_ parameter: String) -> String { "@" + parameter.uppercased() + "@" }
}
