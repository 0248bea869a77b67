import XCTest

@testable import TerminalKit

final class TextMeasureTests: XCTestCase {
    func testWidthCountsWideCharactersTwiceAndMarksZero() {
        XCTAssertEqual(DisplayWidth.of("abc"), 3)
        XCTAssertEqual(DisplayWidth.of("東京"), 4)
        XCTAssertEqual(DisplayWidth.of("👍"), 2)
        XCTAssertEqual(DisplayWidth.of("👨‍👩‍👧"), 6, "a ZWJ family is as wide as its parts, as wcwidth and ncurses count it")
        XCTAssertEqual(DisplayWidth.of("☺️"), 2, "VS16 makes an emoji wide")
        XCTAssertEqual(DisplayWidth.of("e\u{301}"), 1, "a combining accent takes no column")
        XCTAssertEqual(DisplayWidth.of("Café 東京"), 9)
    }

    func testTruncateAndPadNeverExceedTheWidth() {
        XCTAssertEqual(DisplayWidth.truncate("東京タワー", to: 5), "東京…")
        XCTAssertEqual(DisplayWidth.pad("東京", to: 6), "東京  ")
        XCTAssertEqual(DisplayWidth.of(DisplayWidth.pad("東京タワー", to: 4)), 4)
        XCTAssertEqual(DisplayWidth.truncate("abc", to: 0), "")
    }

    func testSanitizerDropsControlsAndEscapeSequences() {
        XCTAssertEqual(Sanitizer.clean("a\u{1B}[31mred\u{1B}[0m"), "ared")
        XCTAssertEqual(Sanitizer.clean("x\u{1B}]52;c;ZXZpbA==\u{7}y"), "xy", "an OSC 52 clipboard write goes whole")
        XCTAssertEqual(Sanitizer.clean("x\u{1B}]8;;http://e\u{1B}\\y"), "xy")
        XCTAssertEqual(Sanitizer.clean("x\u{1B}cy"), "xy")
        XCTAssertEqual(Sanitizer.clean("tab\there\nnl\u{0}"), "tab herenl")
        XCTAssertEqual(Sanitizer.clean("a\u{202E}b"), "ab")
        XCTAssertEqual(Sanitizer.clean("東京 👍"), "東京 👍")
    }
}
