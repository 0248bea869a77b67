import Foundation

/// Shapes user data for one-line messages: quoted, and with control characters made visible, so
/// a name can never inject a newline or an escape sequence into an error or a log.
public enum Display {
    public static func quoted(_ text: String) -> String {
        "\"" + safe(text) + "\""
    }

    /// "1 contact", "1,295 contacts": a count with its noun, thousands grouped, as people read them.
    public static func count(_ n: Int, _ noun: String) -> String {
        grouped(n) + " " + noun + (n == 1 ? "" : "s")
    }

    /// 1295 → "1,295" (whatever the process's locale: the screens are in English).
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return (n < 0 ? "-" : "") + out
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

/// `--json` that a terminal or a log viewer can show as it is (#26): JSONEncoder escapes C0
/// controls but writes C1 controls (U+0080–U+009F, which terminals read as CSI and OSC) and the
/// bidi controls (U+202A–U+202E, U+2066–U+2069, which reorder what a person reads) raw. They can
/// only be inside strings, where `\uXXXX` means the same character to every JSON reader.
public enum JSONSafety {
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
            || v == 0x2028 || v == 0x2029
    }

    public static func escaped(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { needsEscape($0) && $0.value >= 0x7F }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if needsEscape(scalar) && scalar.value >= 0x7F {
                out.append(contentsOf: String(format: "\\u%04X", scalar.value).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
