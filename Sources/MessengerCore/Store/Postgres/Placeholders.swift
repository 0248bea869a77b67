/// SQLite's `?` and `?NNN` placeholders as PostgreSQL's `$1`, `$2`… (#30), so a statement written once runs
/// on both engines. A `?` inside a string ('it''s?'), a quoted name ("a?"), a comment (-- ?, /* ? */)
/// or a dollar-quoted body ($$ ? $$, $fn$ ? $fn$) is text, not a placeholder, and is left alone.
enum Placeholders {
    /// `sql` with each placeholder numbered, and how many there were.
    static func numbered(_ sql: String) -> (sql: String, count: Int) {
        let text = Array(sql.unicodeScalars)
        var out = String.UnicodeScalarView()
        var count = 0
        var i = 0
        func copy(until end: Int) {
            out.append(contentsOf: text[i..<min(end, text.count)])
            i = min(end, text.count)
        }
        while i < text.count {
            let c = text[i]
            switch c {
            case "'", "\"":
                // To the closing quote; a doubled quote is one quote inside.
                var j = i + 1
                while j < text.count {
                    if text[j] == c {
                        if j + 1 < text.count, text[j + 1] == c {
                            j += 2
                            continue
                        }
                        break
                    }
                    j += 1
                }
                copy(until: j + 1)
            case "-" where i + 1 < text.count && text[i + 1] == "-":
                var j = i
                while j < text.count, text[j] != "\n" { j += 1 }
                copy(until: j)
            case "/" where i + 1 < text.count && text[i + 1] == "*":
                var j = i + 2
                while j + 1 < text.count, !(text[j] == "*" && text[j + 1] == "/") { j += 1 }
                copy(until: j + 2)
            case "$":
                // $tag$ … $tag$ (the tag may be empty); a $ that opens no tag is copied.
                var j = i + 1
                while j < text.count, text[j] == "_" || text[j].properties.isAlphabetic || ("0"..."9").contains(text[j]) { j += 1 }
                guard j < text.count, text[j] == "$", !(j > i + 1 && ("0"..."9").contains(text[i + 1])) else {
                    copy(until: i + 1)
                    continue
                }
                let tag = Array(text[i...j])
                var k = j + 1
                while k + tag.count <= text.count, Array(text[k..<(k + tag.count)]) != tag { k += 1 }
                copy(until: k + tag.count)
            case "?":
                // `?NNN` is parameter NNN, as SQLite numbers it (`$NNN`); a bare `?` is one past
                // the largest number so far. `count` is the largest: how many values to bind.
                var j = i + 1
                while j < text.count, ("0"..."9").contains(text[j]) { j += 1 }
                let number = j > i + 1 ? Int(String(String.UnicodeScalarView(text[(i + 1)..<j]))) ?? 0 : count + 1
                count = max(count, number)
                out.append(contentsOf: "$\(number)".unicodeScalars)
                i = j
            default:
                out.append(c)
                i += 1
            }
        }
        return (String(out), count)
    }
}
