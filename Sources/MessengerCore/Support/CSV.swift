import Foundation

/// Strict RFC 4180 reading and writing. Written here rather than taken from a package because the
/// import must refuse bad files with the line that is wrong (an unclosed quote, a stray quote, a
/// ragged row, an oversized field), which the lenient readers in the mirror don't report.
public enum CSV {
    public static let maxFieldLength = 65_536

    /// Parses UTF-8 text (a leading BOM is dropped; LF or CRLF line ends) into rows of fields.
    public static func parse(_ data: Data) throws -> [[String]] {
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let text = String(data: Data(bytes), encoding: .utf8) else {
            throw DomainError("file is not UTF-8 text")
        }
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var fieldLength = 0
        var line = 1
        var inQuotes = false
        var quotedField = false
        var afterClosingQuote = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endField() {
            row.append(field)
            field = ""; fieldLength = 0; quotedField = false; afterClosingQuote = false
        }
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\""); fieldLength += 1; continue }
                    inQuotes = false; afterClosingQuote = true
                    pending = next
                    continue
                }
                if scalar == "\n" { line += 1 }
                field.unicodeScalars.append(scalar); fieldLength += 1
            } else {
                switch scalar {
                case ",":
                    endField()
                case "\r":
                    let next = iterator.next()
                    guard next == "\n" else { throw DomainError("line \(line): a carriage return outside quotes must end a line (CRLF)") }
                    fallthrough
                case "\n":
                    endField()
                    rows.append(row); row = []
                    line += 1
                case "\"":
                    guard fieldLength == 0, !quotedField else {
                        throw DomainError("line \(line): a quote inside an unquoted field; quote the field and double the quote (\"\")")
                    }
                    inQuotes = true; quotedField = true
                default:
                    if afterClosingQuote { throw DomainError("line \(line): text after a closing quote") }
                    field.unicodeScalars.append(scalar); fieldLength += 1
                }
            }
            if fieldLength > maxFieldLength {
                throw DomainError("line \(line): a field longer than \(maxFieldLength) characters")
            }
        }
        if inQuotes { throw DomainError("line \(line): a quoted field is never closed") }
        if !field.isEmpty || quotedField || !row.isEmpty {
            endField()
            rows.append(row)
        }
        return rows
    }

    /// One CSV line (CRLF-terminated, as RFC 4180 says), quoting only where needed.
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            if field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return field
        }.joined(separator: ",") + "\r\n"
    }
}
