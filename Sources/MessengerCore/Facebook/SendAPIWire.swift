import NIOCore

/// The Send API's bytes on the wire, without Foundation's JSON: a run sends 300 messages a second
/// a page, and JSONSerialization (a dictionary of `Any` each way) cost more CPU a message than
/// the TLS and HTTP/2 under it (#29). The shapes are fixed and small: the request body is written
/// straight into a ByteBuffer, and the success answer, a flat object of strings, is read by a
/// scanner that gives up (nil) on anything else, so the caller falls back to JSONSerialization.
enum SendAPIWire {
    /// The request body, keys in the order `JSONSerialization`'s `.sortedKeys` wrote them.
    static func body(_ message: OutgoingMessage) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(256 + message.text.utf8.count + message.parameters.reduce(0) { $0 + $1.utf8.count })
        if let template = message.utility {
            out.writeStaticString(#"{"message":{"template":{"components":["#)
            if !template.parameterNames.isEmpty {
                out.writeStaticString(#"{"parameters":["#)
                for (i, (name, value)) in zip(template.parameterNames, message.parameters).enumerated() {
                    if i > 0 { out.writeStaticString(",") }
                    out.writeStaticString(#"{"parameter_name":"#)
                    writeString(name, to: &out)
                    out.writeStaticString(#","text":"#)
                    writeString(value, to: &out)
                    out.writeStaticString(#","type":"text"}"#)
                }
                out.writeStaticString(#"],"type":"body"}"#)
            }
            out.writeStaticString(#"],"language":{"code":"#)
            writeString(template.language, to: &out)
            out.writeStaticString(#"},"name":"#)
            writeString(template.name, to: &out)
            out.writeStaticString(#"}},"messaging_type":"UTILITY","recipient":"#)
            writeRecipient(message.recipientPSID, to: &out)
            out.writeStaticString("}")
        } else {
            out.writeStaticString(#"{"message":{"text":"#)
            writeString(message.text, to: &out)
            out.writeStaticString(#"},"messaging_type":"MESSAGE_TAG","recipient":"#)
            writeRecipient(message.recipientPSID, to: &out)
            out.writeStaticString(#","tag":"#)
            writeString(message.tag ?? "", to: &out)
            out.writeStaticString("}")
        }
        return out
    }

    /// A checkbox opt-in without a PSID yet is addressed by its user_ref.
    private static func writeRecipient(_ stored: String, to out: inout ByteBuffer) {
        if let ref = OptInValue.userRef(of: stored) {
            out.writeStaticString(#"{"user_ref":"#)
            writeString(ref, to: &out)
        } else {
            out.writeStaticString(#"{"id":"#)
            writeString(stored, to: &out)
        }
        out.writeStaticString("}")
    }

    /// A JSON string (RFC 8259 §7): `"` and `\` escaped, control characters as `\u00XX`, the rest
    /// as its UTF-8 (a Swift String is valid Unicode, so the output is too).
    static func writeString(_ text: String, to out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var clean = 0  // the start of the run of bytes that need no escape
            for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[clean..<i])))
                switch byte {
                case 0x22: out.writeStaticString(#"\""#)
                case 0x5C: out.writeStaticString(#"\\"#)
                case 0x0A: out.writeStaticString(#"\n"#)
                case 0x0D: out.writeStaticString(#"\r"#)
                case 0x09: out.writeStaticString(#"\t"#)
                default:
                    out.writeStaticString(#"\u00"#)
                    out.writeInteger(hexDigits[Int(byte >> 4)])
                    out.writeInteger(hexDigits[Int(byte & 0xF)])
                }
                clean = i + 1
            }
            out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[clean...])))
        }
        out.writeInteger(UInt8(ascii: "\""))
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// The `message_id` of a success answer such as `{"recipient_id":"1008","message_id":"m_…"}`:
    /// a flat object whose values are all strings without escapes. Nil when the body is anything
    /// else (an escape, a nested value, a number, bad JSON): the caller then reads it with
    /// JSONSerialization, which decides.
    static func messageID(in body: ByteBuffer) -> String? {
        body.withUnsafeReadableBytes { bytes -> String? in
            var i = 0
            let n = bytes.count
            func skipSpace() { while i < n, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 } }
            func expect(_ byte: UInt8) -> Bool {
                skipSpace()
                guard i < n, bytes[i] == byte else { return false }
                i += 1
                return true
            }
            /// A string without escapes or control characters: its bytes' range.
            func plainString() -> Range<Int>? {
                guard expect(0x22) else { return nil }
                let start = i
                while i < n, bytes[i] != 0x22 {
                    if bytes[i] == 0x5C || bytes[i] < 0x20 { return nil }
                    i += 1
                }
                guard i < n else { return nil }
                i += 1
                return start..<(i - 1)
            }
            guard expect(0x7B) else { return nil }
            var found: Range<Int>?
            var first = true
            while true {
                skipSpace()
                if first, i < n, bytes[i] == 0x7D { return nil }  // {}: no message_id
                guard let key = plainString(), expect(0x3A), let value = plainString() else { return nil }
                if bytes[key].elementsEqual("message_id".utf8) {
                    if found != nil { return nil }  // a duplicate key: let the full parser decide
                    found = value
                }
                first = false
                if expect(0x2C) { continue }
                guard expect(0x7D) else { return nil }
                break
            }
            skipSpace()
            guard i == n, let found else { return nil }
            // Validated as UTF-8: a bad byte sequence is no answer of Facebook's.
            return String(validating: bytes[found], as: UTF8.self)
        }
    }
}
