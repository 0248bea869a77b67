import Foundation

/// Strict RFC 4180 reading and writing. Written here rather than taken from a package because the
/// import must refuse bad files with the line that is wrong (an unclosed quote, a stray quote, a
/// ragged row, an oversized field), which the lenient readers in the mirror don't report; and it
/// must read a file of any size a piece at a time, in bounded memory.
public enum CSV {
    /// The longest field, in characters: Unicode code points, as SQLite's `length()` and
    /// PostgreSQL's `char_length()` count them, so 65,536 of "é", "中" or "👍" are all accepted.
    public static let maxFieldLength = 65_536
    /// The most fields a row may have (#26): a header of a million columns would otherwise be held
    /// whole before anything could refuse it.
    public static let maxFieldsPerRow = 500

    /// Parses UTF-8 text (a leading BOM is dropped; LF or CRLF line ends) into rows of fields.
    public static func parse(_ data: Data) throws -> [[String]] {
        var reader = Reader()
        var rows: [[String]] = []
        try data.withUnsafeBytes { try reader.feed(UnsafeRawBufferPointer($0)) { rows.append($0.fields) } }
        try reader.finish { rows.append($0.fields) }
        return rows
    }

    /// One row and the line it starts on.
    public struct Row {
        public let fields: [String]
        public let line: Int
    }

    /// A streaming reader: bytes go in, in pieces of any size; rows come out as soon as they end.
    public struct Reader {
        private var field: [UInt8] = []
        /// The field's characters so far: its bytes that start a UTF-8 sequence (not 10xxxxxx),
        /// counted as they come, so the check is one comparison a byte (#26: it decoded the whole
        /// field again on every byte past 65,536, and counted bytes as characters at a split).
        private var fieldCharacters = 0
        private let maxFields: Int
        private var row: [String] = []
        private var line = 1
        private var rowLine = 1
        private var inQuotes = false
        /// The line a quoted field opened on: where an unclosed one is reported (#27: a quote
        /// opened on line 3 was reported on line 5, the end of the file).
        private var quoteLine = 1
        private var quotedField = false
        private var afterClosingQuote = false
        private var quoteInQuotes = false  // a quote seen inside quotes: a doubled one, or the close
        private var pendingCR = false  // a CR outside quotes: a LF must follow
        private var started = false
        private var bom: [UInt8] = []

        public init(maxFields: Int = CSV.maxFieldsPerRow) { self.maxFields = maxFields }

        public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (Row) throws -> Void) throws {
            for byte in bytes {
                if !started {
                    // A UTF-8 byte-order mark is dropped.
                    let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
                    if bom.count < 3 && byte == mark[bom.count] {
                        bom.append(byte)
                        if bom.count == 3 { started = true }
                        continue
                    }
                    started = true
                    let held = bom
                    bom = []
                    for b in held { try take(b, emit) }
                }
                try take(byte, emit)
            }
        }

        public mutating func finish(_ emit: (Row) throws -> Void) throws {
            if !started {
                started = true
                let held = bom
                bom = []
                for b in held { try take(b, emit) }
            }
            if quoteInQuotes {
                quoteInQuotes = false
                inQuotes = false
                afterClosingQuote = true
            }
            if pendingCR { throw DomainError("line \(line): a carriage return outside quotes must end a line (CRLF)") }
            if inQuotes { throw DomainError("line \(quoteLine): a quoted field opened here is never closed") }
            if !field.isEmpty || quotedField || !row.isEmpty {
                try endField()
                try emit(Row(fields: row, line: rowLine))
                row = []
            }
        }

        private mutating func take(_ byte: UInt8, _ emit: (Row) throws -> Void) throws {
            if quoteInQuotes {
                quoteInQuotes = false
                if byte == 0x22 {
                    try append(0x22)
                    return
                }  // "" inside quotes: a quote
                inQuotes = false
                afterClosingQuote = true  // the closing quote; this byte is outside
            }
            if inQuotes {
                if byte == 0x22 {
                    quoteInQuotes = true
                    return
                }
                if byte == 0x0A { line += 1 }
                try append(byte)
                return
            }
            if pendingCR {
                pendingCR = false
                guard byte == 0x0A else { throw DomainError("line \(line): a carriage return outside quotes must end a line (CRLF)") }
                try endRow(emit)
                return
            }
            switch byte {
            case 0x2C:  // ,
                try endField()
            case 0x0D:
                pendingCR = true
            case 0x0A:
                try endRow(emit)
            case 0x22:
                guard field.isEmpty, !quotedField else {
                    throw DomainError("line \(line): a quote inside an unquoted field; quote the field and double the quote (\"\")")
                }
                inQuotes = true
                quotedField = true
                quoteLine = line
            default:
                if afterClosingQuote { throw DomainError("line \(line): text after a closing quote") }
                try append(byte)
            }
        }

        private mutating func append(_ byte: UInt8) throws {
            field.append(byte)
            if byte & 0xC0 != 0x80 {
                fieldCharacters += 1
                if fieldCharacters > maxFieldLength { throw DomainError("line \(line): a field longer than \(maxFieldLength) characters") }
            }
        }

        private mutating func endField() throws {
            guard row.count < maxFields else {
                throw DomainError("line \(rowLine): more than \(maxFields) columns; a file may have at most \(maxFields)")
            }
            guard let text = String(bytes: field, encoding: .utf8) else { throw DomainError("line \(line): not UTF-8 text") }
            row.append(text)
            field.removeAll(keepingCapacity: true)
            fieldCharacters = 0
            quotedField = false
            afterClosingQuote = false
        }

        private mutating func endRow(_ emit: (Row) throws -> Void) throws {
            try endField()
            try emit(Row(fields: row, line: rowLine))
            row = []
            line += 1
            rowLine = line
        }
    }

    /// One CSV line (CRLF-terminated, as RFC 4180 says), quoting only where needed. Every CSV the
    /// tool writes for a person is opened in a spreadsheet, which runs a cell beginning with `=`,
    /// `+`, `-`, `@`, a tab or a CR as a formula (OWASP, "CSV Injection"): such a cell gets a
    /// leading `'`, whatever its column (#26). `forSpreadsheet: false` is for the CSV the demo
    /// feeds its own import.
    public static func line(_ fields: [String], forSpreadsheet: Bool = true) -> String {
        fields.map { raw in
            let field = forSpreadsheet ? neutralised(raw) : raw
            if field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return field
        }.joined(separator: ",") + "\r\n"
    }

    /// A cell a spreadsheet would take for a formula, with a `'` in front; any other as it is.
    public static func neutralised(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) else { return field }
        return "'" + field
    }
}
