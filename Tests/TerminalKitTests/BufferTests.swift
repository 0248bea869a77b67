import XCTest

@testable import TerminalKit

final class BufferTests: XCTestCase {
    func testWideCharactersTakeTwoCellsAndNeverOverflow() {
        var b = Buffer(width: 6, height: 1)
        let used = b.write("東京タワー", x: 0, y: 0, style: .plain)
        XCTAssertEqual(used, 6)
        XCTAssertEqual(b.lines(), ["東京タ"])
        XCTAssertTrue(b[1, 0].isContinuation)
        var c = Buffer(width: 5, height: 1)
        c.write("ab東京", x: 0, y: 0, style: .plain)
        XCTAssertEqual(c.lines(), ["ab東 "], "a wide character that doesn't fit whole becomes a space")
        XCTAssertEqual(c.widestLine(), 5)
    }

    func testOverwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var b = Buffer(width: 4, height: 1)
        b.write("東京", x: 0, y: 0, style: .plain)
        b.write("x", x: 1, y: 0, style: .plain)
        XCTAssertEqual(b.lines(), [" x京"])
    }

    func testFillingOverHalfAWideCharacterClearsAllOfIt() {
        // Found by the 1,000,000-event fuzz: a dialog's box filled from the second half of 京.
        var b = Buffer(width: 6, height: 1)
        b.write("東京ab", x: 0, y: 0, style: .plain)
        b.fill(Rect(x: 3, y: 0, width: 2, height: 1), style: .plain)
        XCTAssertEqual(b.widestLine(), 6)
        XCTAssertEqual(b.lines(), ["東   b"])
        var c = Buffer(width: 6, height: 1)
        c.write("東京ab", x: 0, y: 0, style: .plain)
        c.fill(Rect(x: 0, y: 0, width: 3, height: 1), style: .plain)
        XCTAssertEqual(c.lines(), ["     ab"].map { String($0.dropFirst()) })
        XCTAssertFalse(c.cells.contains { $0.isContinuation }, "no half of 京 is left behind")
    }

    func testEscapeSequencesInDataNeverReachTheBuffer() {
        var b = Buffer(width: 20, height: 1)
        b.write("a\u{1B}[2Jb\u{7}c\nd", x: 0, y: 0, style: .plain)
        XCTAssertEqual(b.lines(), ["abcd                "])
        XCTAssertFalse(b.cells.contains { $0.symbol.unicodeScalars.contains { $0.value < 0x20 } })
    }

    func testDiffReportsOnlyChangedCells() {
        var a = Buffer(width: 10, height: 3)
        a.write("hello", x: 0, y: 0, style: .plain)
        XCTAssertEqual(a.diff(from: nil).count, 30, "a first frame writes everything")
        var b = a
        b.write("J", x: 0, y: 0, style: .plain)
        b.write("!", x: 9, y: 2, style: Style(attributes: .bold))
        let changes = b.diff(from: a)
        XCTAssertEqual(changes.map { "\($0.x),\($0.y)" }, ["0,0", "9,2"])
        XCTAssertEqual(b.diff(from: Buffer(width: 9, height: 3)).count, 30, "a resize redraws all")
    }

    func testVirtualTerminalFlushesTheDiff() {
        let t = VirtualTerminal(width: 10, height: 2)
        var frame = Buffer(width: 10, height: 2)
        frame.write("abc", x: 0, y: 0, style: .plain)
        t.draw(frame)
        frame.write("X", x: 5, y: 1, style: .plain)
        t.draw(frame)
        XCTAssertEqual(t.lastFlushCount, 1)
        XCTAssertEqual(t.text, "abc       \n     X    ")
        t.resize(width: 12, height: 3)
        XCTAssertEqual(t.nextEvent(timeoutMilliseconds: 0), .resize(width: 12, height: 3))
        XCTAssertEqual(t.nextEvent(timeoutMilliseconds: 0), .tick)
    }

    func testLayoutSplitsExactly() {
        let r = Rect(x: 0, y: 0, width: 80, height: 24)
        let rows = Layout.vertical(r, [.length(1), .fill, .length(1)])
        XCTAssertEqual(rows.map(\.height), [1, 22, 1])
        XCTAssertEqual(rows.map(\.y), [0, 1, 23])
        let cols = Layout.horizontal(r, [.percent(25), .fill, .fill])
        XCTAssertEqual(cols.map(\.width), [20, 30, 30])
        XCTAssertEqual(Layout.vertical(Rect(x: 0, y: 0, width: 5, height: 2), [.length(3), .fill]).map(\.height), [2, 0])
    }
}
