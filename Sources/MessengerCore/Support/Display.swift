import Foundation

/// Shapes user data for one-line messages: quoted, and with control characters made visible, so
/// a name can never inject a newline or an escape sequence into an error or a log.
public enum Display {
    public static func quoted(_ text: String) -> String {
        "\"" + safe(text) + "\""
    }

    /// A name as a shell word, for a command line to copy: single-quoted, made safe.
    public static func shellQuoted(_ text: String) -> String {
        "'" + safe(text).replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func safe(_ text: String, limit: Int = 120) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator:
                if scalar.value == 0x200D { fallthrough }
                out += String(format: "\\u{%X}", scalar.value)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        if out.count > limit { out = String(out.prefix(limit)) + "…" }
        return out
    }
}
