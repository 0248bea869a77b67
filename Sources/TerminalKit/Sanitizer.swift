/// Makes user text safe to write to a terminal: control characters and escape sequences (CSI,
/// OSC and the other string sequences) are dropped whole, a tab becomes a space, and bidi
/// overrides go too, so data can never move the cursor, set the clipboard or reorder the screen.
public enum Sanitizer {
    private enum State { case text, escape, csi, string, stringEscape }

    public static func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var state = State.text
        for scalar in text.unicodeScalars {
            let v = scalar.value
            switch state {
            case .text:
                switch v {
                case 0x1B: state = .escape
                case 0x9B: state = .csi
                case 0x9D, 0x90, 0x9E, 0x9F: state = .string
                case 0x09: out.append(" ")
                case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: continue
                default: out.append(scalar)
                }
            case .escape:
                switch scalar {
                case "[": state = .csi
                case "]", "P", "_", "^", "X": state = .string
                default: state = .text  // a two-character escape: drop its second character too
                }
            case .csi:
                if (0x40...0x7E).contains(v) { state = .text }
            case .string:
                if v == 0x07 || v == 0x9C { state = .text } else if v == 0x1B { state = .stringEscape }
            case .stringEscape:
                state = scalar == "\\" ? .text : .string
            }
        }
        return String(out)
    }
}
