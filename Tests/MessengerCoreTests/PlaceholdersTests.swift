import XCTest

@testable import MessengerCore

/// `?` as `$n` for PostgreSQL (#30), and only where it is a placeholder.
final class PlaceholdersTests: XCTestCase {
    func testEachPlaceholderIsNumberedInOrder() {
        let (sql, count) = Placeholders.numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)")
        XCTAssertEqual(sql, "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)")
        XCTAssertEqual(count, 3)
        XCTAssertEqual(Placeholders.numbered("SELECT 1").count, 0)
    }

    /// As SQLite numbers them: `?2` is the second value, a bare `?` one past the largest so far.
    func testANumberedPlaceholderKeepsItsNumber() {
        let (sql, count) = Placeholders.numbered("SELECT ?1, ?2 WHERE a BETWEEN ?1 AND ?2 AND b = ?")
        XCTAssertEqual(sql, "SELECT $1, $2 WHERE a BETWEEN $1 AND $2 AND b = $3")
        XCTAssertEqual(count, 3)
        XCTAssertEqual(Placeholders.numbered("SELECT ?12").sql, "SELECT $12", "more than one digit")
        XCTAssertEqual(Placeholders.numbered("SELECT ?12").count, 12)
    }

    func testAQuestionMarkInTextIsText() {
        let cases = [
            "SELECT 'why?', ? FROM t": "SELECT 'why?', $1 FROM t",
            "SELECT 'it''s ?', ?": "SELECT 'it''s ?', $1",
            #"SELECT "odd?name", ?"#: #"SELECT "odd?name", $1"#,
            "SELECT ? -- and ?\n, ?": "SELECT $1 -- and ?\n, $2",
            "SELECT /* ? */ ?": "SELECT /* ? */ $1",
            "DO $$ BEGIN PERFORM '?'; END $$; SELECT ?": "DO $$ BEGIN PERFORM '?'; END $$; SELECT $1",
            "SELECT $fn$ ? $fn$, ?": "SELECT $fn$ ? $fn$, $1",
        ]
        for (input, wanted) in cases { XCTAssertEqual(Placeholders.numbered(input).sql, wanted, input) }
    }

    func testAnUnclosedQuoteOrCommentEndsTheTextWithoutACrash() {
        XCTAssertEqual(Placeholders.numbered("SELECT ?, 'open ?").sql, "SELECT $1, 'open ?")
        XCTAssertEqual(Placeholders.numbered("SELECT ? /* open ?").sql, "SELECT $1 /* open ?")
        XCTAssertEqual(Placeholders.numbered("SELECT ?, $tag$ open ?").sql, "SELECT $1, $tag$ open ?")
        XCTAssertEqual(Placeholders.numbered("SELECT 'é?', ?").sql, "SELECT 'é?', $1")
    }
}
