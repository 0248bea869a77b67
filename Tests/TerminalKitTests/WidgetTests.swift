import GoldenSupport
import XCTest

@testable import TerminalKit

final class WidgetTests: XCTestCase {
    let theme = Theme.fallback

    // MARK: Table

    /// A source that counts how many rows it was asked for, standing for a million-row query.
    final class CountingSource: RowSource {
        let count: Int
        var asked = 0
        init(count: Int) { self.count = count }
        func rows(_ range: Range<Int>) -> [[String]] {
            asked += range.count
            return range.map { ["row \($0)", "\($0 * 2)"] }
        }
    }

    func testTableAsksOnlyForTheRowsItShows() {
        let source = CountingSource(count: 1_000_000)
        var state = TableState()
        state.move(by: 999_999, count: source.count)
        var buffer = Buffer(width: 40, height: 11)
        Table(columns: [TableColumn("NAME"), TableColumn("N", width: .length(8), alignment: .right)], source: source, theme: theme)
            .render(into: &buffer, area: buffer.area, state: &state)
        XCTAssertEqual(source.asked, 10)
        XCTAssertTrue(buffer.lines()[10].contains("row 999999"))
        XCTAssertEqual(state.offset, 999_990, "the offset drawn is written back")
        XCTAssertEqual(state.page, 10)
    }

    /// #27, as ratatui's StatefulWidget: key handling moves only the cursor; the table decides the
    /// offset where it is drawn, from the rows it really has, and writes it back with its height,
    /// which is then the page step (no reducer guesses the screen's height).
    func testTheTableDecidesItsOffsetWhereItIsDrawn() {
        let source = CountingSource(count: 100)
        var state = TableState()
        XCTAssertEqual(state.pageStep(or: 40), 40, "before the first draw the hint is the step")
        state.move(by: 30, count: source.count)
        XCTAssertEqual(state.offset, 0, "moving the cursor does not scroll")
        var buffer = Buffer(width: 40, height: 11)
        let table = Table(
            columns: [TableColumn("NAME"), TableColumn("N", width: .length(8), alignment: .right)], source: source, theme: theme)
        table.render(into: &buffer, area: buffer.area, state: &state)
        XCTAssertTrue(buffer.lines()[10].contains("row 30"), buffer.lines().joined(separator: "\n"))
        XCTAssertEqual(state.offset, 21, "scrolled the least that shows the cursor")
        XCTAssertEqual(state.pageStep(or: 40), 10, "the drawn height is the step now")
        state.move(by: -3, count: source.count)
        table.render(into: &buffer, area: buffer.area, state: &state)
        XCTAssertEqual(state.offset, 21, "an offset that shows the cursor is kept: scrolling is smooth")
        state.cursor = 99
        state.offset = 95
        XCTAssertEqual(state.offset(showing: 10, of: 100), 90, "the last page is full")
        XCTAssertEqual(TableState().offset(showing: 10, of: 0), 0)
        // A smaller terminal: the same state drawn in 4 rows still shows its cursor.
        state.cursor = 50
        var small = Buffer(width: 40, height: 5)
        table.render(into: &small, area: small.area, state: &state)
        XCTAssertTrue(small.lines()[1].contains("row 50"), small.lines().joined(separator: "\n"))
        XCTAssertEqual(state.offset, 50)
        XCTAssertEqual(state.page, 4)
    }

    func testTableStateMovesClampsAndMarks() {
        var s = TableState()
        s.move(by: -5, count: 10)
        XCTAssertEqual(s.cursor, 0)
        s.move(by: 6, count: 10)
        XCTAssertEqual(s.cursor, 6)
        s.toggleMark()
        s.move(by: 1, count: 10)
        s.toggleMark()
        XCTAssertEqual(s.marked, [6, 7])
        s.clamp(count: 7)
        XCTAssertEqual(s.cursor, 6)
        XCTAssertEqual(s.marked, [6])
        s.clamp(count: 0)
        XCTAssertEqual(s.cursor, 0)
    }

    func testTableGolden() {
        var state = TableState()
        state.move(by: 1, count: 3)
        state.marked = [2]
        var buffer = Buffer(width: 50, height: 5)
        Table(
            columns: [TableColumn("NAME"), TableColumn("PAGE"), TableColumn("DELIVERED", width: .length(10), alignment: .right)],
            source: ArrayRowSource([["Shop", "Northwind Shop", "5955"], ["店舗 東京", "Café 東京", "12"], ["Events 🎫", "Events", "0"]]),
            theme: theme
        )
        .render(into: &buffer, area: buffer.area, state: &state)
        assertGolden("table", buffer)
    }

    // MARK: Text field and area

    func testTextFieldEditsByCharacterIncludingCJKAndEmoji() {
        var f = TextFieldState("東京")
        f.handle(.left)
        f.handle(.char("👍"))
        XCTAssertEqual(f.text, "東👍京")
        f.handle(.backspace)
        f.handle(.backspace)
        XCTAssertEqual(f.text, "京")
        f.handle(.end)
        f.handle(.char("a"))
        f.insert("x\u{1B}[31my\nz")
        XCTAssertEqual(f.text, "京axy z")
        f.handle(.home)
        f.handle(.delete)
        XCTAssertEqual(f.text, "axy z")
        var limited = TextFieldState(limit: 3)
        limited.insert("abcdef")
        XCTAssertEqual(limited.text, "abc")
    }

    func testTextFieldScrollsToKeepTheCursorVisible() {
        var buffer = Buffer(width: 10, height: 1)
        TextField(theme: theme).render(into: &buffer, area: buffer.area, state: TextFieldState("abcdefghijklmnop"))
        XCTAssertEqual(buffer.lines(), ["hijklmnop "])
        XCTAssertTrue(buffer[9, 0].style.attributes.contains(.reverse), "the cursor shows after the text")
    }

    func testTextAreaTypingWrapCursorAndUndo() {
        var t = TextAreaState()
        for c in "Hi @FIRSTNAME@" { t.handle(.char(c)) }
        t.handle(.enter)
        t.insert("東京東京東京")
        XCTAssertEqual(t.text, "Hi @FIRSTNAME@\n東京東京東京")
        let rows = t.wrapped(width: 8)
        XCTAssertEqual(rows.map(\.text), ["Hi ", "@FIRSTNA", "ME@", "東京東京", "東京"])
        XCTAssertEqual(t.cursorPosition(width: 8).row, 4)
        XCTAssertEqual(t.cursorPosition(width: 8).column, 4, "at the end of a wrapped line the cursor sits after its last character")
        t.handle(.up)
        XCTAssertEqual(t.cursorPosition(width: 8).row, 1, "up keeps the column: character 6 of line 0 is on its second row")
        t.handle(.end)
        XCTAssertEqual(t.cursorPosition(width: 8).row, 2, "the end of a long line is on its last wrapped row")
        t.handle(.down)
        t.handle(.home)
        t.handle(.backspace)
        XCTAssertEqual(t.text, "Hi @FIRSTNAME@東京東京東京", "backspace at a line start joins the lines")
        t.handle(.ctrl("z"))
        XCTAssertEqual(t.text, "Hi @FIRSTNAME@\n東京東京東京")
        XCTAssertEqual(t.characterCount, 21)
    }

    func testTextAreaGolden() {
        let state = TextAreaState("Hi @FIRSTNAME@, your order @ORDERNUMBER@ has shipped.\nTrack it from your account. 東京 👍")
        var buffer = Buffer(width: 24, height: 6)
        // "shipped" is characters 45..<52 of the first line: drawn in the error style.
        TextArea(theme: theme, highlights: [(line: 0, range: 45..<52)]).render(into: &buffer, area: buffer.area, state: state)
        assertGolden("textarea", buffer)
        let flagged = buffer.cells.filter { $0.style == theme.error }.map(\.symbol).joined()
        XCTAssertEqual(flagged, "shipped")
    }

    // MARK: Dialog, picker, chart, chrome

    func testConfirmDialogStartsOnCancel() {
        var d = ConfirmDialogState(title: "Delete", message: "Delete 2 profiles and 14 usage records?", confirmLabel: "Delete")
        XCTAssertEqual(d.focus, .cancel)
        XCTAssertEqual(d.handle(.enter), .cancelled, "Enter alone cancels")
        XCTAssertEqual(d.handle(.tab), .pending)
        XCTAssertEqual(d.focus, .confirm)
        XCTAssertEqual(d.handle(.enter), .confirmed)
        XCTAssertEqual(d.handle(.escape), .cancelled)
        var buffer = Buffer(width: 80, height: 12)
        ConfirmDialog(theme: theme).render(
            into: &buffer, area: buffer.area,
            state: ConfirmDialogState(title: "Delete", message: "Delete 2 profiles and 14 usage records?", confirmLabel: "Delete"))
        assertGolden("confirm", buffer)
    }

    func testPickerShowsDisabledItemsWithTheirReasonAndWontChooseThem() {
        var p = PickerState(items: [
            PickerItem("Shop", detail: "Admin"), PickerItem("Ads", detail: "Advertiser", disabledReason: "role can't send"),
        ])
        XCTAssertEqual(p.choice?.label, "Shop")
        p.move(by: 1)
        XCTAssertNil(p.choice)
        var buffer = Buffer(width: 50, height: 3)
        Picker(theme: theme).render(into: &buffer, area: buffer.area, state: &p)
        assertGolden("picker", buffer)
    }

    func testBarChartIsReadableWithoutColour() {
        let groups = (0..<7).map { BarChart.Group(label: "11-\(19 + $0)", values: [10 + $0 * 5, 8 + $0 * 4, 7 - $0]) }
        var buffer = Buffer(width: 70, height: 10)
        BarChart(groups: groups, seriesNames: ["sent", "delivered", "warnings"], theme: theme.reduced(to: .none))
            .render(into: &buffer, area: buffer.area)
        let text = buffer.lines().joined()
        for glyph in BarChart.glyphs { XCTAssertTrue(text.contains(glyph), "series \(glyph) is drawn with its own glyph") }
        assertGolden("barchart", buffer)
    }

    func testChromeGolden() {
        var buffer = Buffer(width: 80, height: 24)
        Breadcrumbs(["Profiles", "Northwind Café 東京", "Stats (warnings, 2026-11-20)"], theme: theme).render(
            into: &buffer, area: buffer.area.row(0))
        KeyBar([("?", "help"), (":", "command"), ("/", "filter"), ("Enter", "open"), ("q", "quit")], theme: theme)
            .render(into: &buffer, area: buffer.area.row(23))
        Toast("Profile \"Shop\" can't be deleted: it is used by the active program \"Orders\"", kind: .error)
            .render(into: &buffer, area: Rect(x: 0, y: 1, width: 80, height: 22), theme: theme)
        HelpOverlay(
            title: "Profiles: keys", bindings: [("j/k", "move"), ("Space", "mark"), ("n", "new profile"), ("d", "delete")], theme: theme
        )
        .render(into: &buffer, area: Rect(x: 0, y: 1, width: 80, height: 14))
        assertGolden("chrome-80x24", buffer)
        XCTAssertLessThanOrEqual(buffer.widestLine(), 80)
    }

    func testTooSmallSaysWhatItNeeds() {
        XCTAssertFalse(TooSmall.fits(width: 79, height: 24))
        XCTAssertTrue(TooSmall.fits(width: 80, height: 24))
        var buffer = Buffer(width: 40, height: 10)
        TooSmall.render(into: &buffer, theme: theme)
        XCTAssertTrue(buffer.lines().contains { $0.contains("terminal too small") })
        XCTAssertTrue(buffer.lines().joined().contains("needs 80x24"))
        XCTAssertTrue(buffer.lines().joined().contains("now 40x10"))
        var tiny = Buffer(width: 10, height: 3)
        TooSmall.render(into: &tiny, theme: theme)
        XCTAssertLessThanOrEqual(tiny.widestLine(), 10)
    }

    func testWrapNeverExceedsTheWidth() {
        for width in 1...12 {
            for line in TextWrap.lines("Hello 東京タワー supercalifragilistic 👍👍 end", width: width) {
                XCTAssertLessThanOrEqual(DisplayWidth.of(line), width, "\(line) at \(width)")
            }
        }
    }
}

/// Every widget at the minimum size and a wide one, as golden buffers.
final class WidgetGoldenTests: XCTestCase {
    let theme = Theme.fallback

    func testEachWidgetAt80x24And200x60() {
        for (w, h) in [(80, 24), (200, 60)] {
            let area = Rect(x: 0, y: 0, width: w, height: h)
            func golden(_ name: String, _ draw: (inout Buffer) -> Void) {
                var buffer = Buffer(width: w, height: h)
                draw(&buffer)
                XCTAssertLessThanOrEqual(buffer.widestLine(), w, name)
                assertGolden("\(name)-\(w)x\(h)", buffer)
            }
            golden("w-table") { b in
                var state = TableState()
                state.move(by: 3, count: 40)
                Table(
                    columns: [
                        TableColumn("EMAIL"), TableColumn("STATUS", width: .length(10)),
                        TableColumn("N", width: .length(6), alignment: .right),
                    ],
                    source: ArrayRowSource((0..<40).map { ["user\($0)@例え.jp 👍", $0 % 3 == 0 ? "warning" : "sent", "\($0)"] }), theme: theme
                )
                .render(into: &b, area: area, state: &state)
            }
            golden("w-picker") { b in
                var state = PickerState(items: [
                    PickerItem("Northwind Café 東京", detail: "Admin"),
                    PickerItem("Ads", detail: "Advertiser", disabledReason: "role can't send"),
                ])
                Picker(theme: theme).render(into: &b, area: area, state: &state)
            }
            golden("w-textfield") { b in
                TextField(theme: theme).render(into: &b, area: area.row(1), state: TextFieldState("Café ☕ 東京 e\u{301}"))
            }
            golden("w-textarea") { b in
                TextArea(theme: theme).render(
                    into: &b, area: area, state: TextAreaState("Hi @FIRSTNAME@,\nyour order @ORDERNUMBER@ has shipped. 東京 👨‍👩‍👧"))
            }
            golden("w-confirm") { b in
                ConfirmDialog(theme: theme).render(
                    into: &b, area: area,
                    state: ConfirmDialogState(title: "Disable", message: "Disable \"Shop 🛍\"?", confirmLabel: "Disable"))
            }
            golden("w-barchart") { b in
                BarChart(
                    groups: (0..<7).map { .init(label: "11-\(19 + $0)", values: [$0 * 10, $0 * 8, 7 - $0]) },
                    seriesNames: ["sent", "delivered", "warnings"], theme: theme
                ).render(into: &b, area: area)
            }
            golden("w-keybar") { b in
                KeyBar([("?", "help"), ("q", "quit"), ("Enter", "open")], theme: theme).render(into: &b, area: area.row(h - 1))
            }
            golden("w-help") { b in
                HelpOverlay(title: "Keys", bindings: [("j/k", "move"), ("Space", "mark")], theme: theme).render(into: &b, area: area)
            }
            golden("w-breadcrumbs") { b in Breadcrumbs(["Profiles", "店舗 東京", "Stats"], theme: theme).render(into: &b, area: area.row(0)) }
            golden("w-toast") { b in Toast("Saved 🎉", kind: .success).render(into: &b, area: area, theme: theme) }
            golden("w-toosmall") { b in TooSmall.render(into: &b, theme: theme) }
        }
    }

    func testHostileNamesReachTheBufferHarmless() {
        var buffer = Buffer(width: 40, height: 1)
        buffer.write("evil\u{1B}[2Jname\u{1B}]52;c;cm0gLXJmIH4=\u{07}!", x: 0, y: 0, style: .plain)
        XCTAssertEqual(buffer.lines()[0].trimmingCharacters(in: .whitespaces), "evilname!")
        XCTAssertFalse(buffer.cells.contains { $0.symbol.contains("\u{1B}") || $0.symbol.contains("\u{07}") })
    }
}
