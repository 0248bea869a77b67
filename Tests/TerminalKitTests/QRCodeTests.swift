import XCTest

@testable import TerminalKit

/// The device login's QR code (#24): libqrencode's matrix drawn in half blocks. That a phone reads
/// it is checked by Tests/e2e/login.sh, which decodes the screen with zbarimg.
final class QRCodeTests: XCTestCase {
    func testTheMatrixIsAQRCodeWithItsFinderPatterns() throws {
        let qr = try XCTUnwrap(QRCode("https://www.facebook.com/device?user_code=ABCD1234"))
        XCTAssertEqual((qr.size - 17) % 4, 0, "a QR code's side is 17 + 4 × its version")
        XCTAssertEqual(qr.modules.count, qr.size * qr.size)
        // The three finder patterns: a dark 7×7 ring with a dark 3×3 centre, in three corners.
        for (cx, cy) in [(0, 0), (qr.size - 7, 0), (0, qr.size - 7)] {
            for y in 0..<7 {
                for x in 0..<7 {
                    let ring = x == 0 || y == 0 || x == 6 || y == 6
                    let centre = (2...4).contains(x) && (2...4).contains(y)
                    XCTAssertEqual(
                        qr.isDark(x: qr.quietZone + cx + x, y: qr.quietZone + cy + y), ring || centre, "finder at \(cx),\(cy): \(x),\(y)")
                }
            }
        }
        XCTAssertFalse(qr.isDark(x: 0, y: 0), "the quiet zone is light")
    }

    func testHalfBlocksHoldTwoModulesACell() throws {
        let qr = try XCTUnwrap(QRCode("ABC", quietZone: 2))
        let side = qr.size + 4
        XCTAssertEqual(qr.cells.width, side)
        XCTAssertEqual(qr.cells.height, (side + 1) / 2)
        XCTAssertEqual(qr.lines.count, qr.cells.height)
        for (row, line) in qr.lines.enumerated() {
            XCTAssertEqual(line.count, side)
            for (x, ch) in line.enumerated() {
                let top = qr.isDark(x: x, y: 2 * row)
                let bottom = qr.isDark(x: x, y: 2 * row + 1)
                let want: Character = top ? (bottom ? "█" : "▀") : (bottom ? "▄" : " ")
                XCTAssertEqual(ch, want, "row \(row), column \(x)")
            }
        }
        XCTAssertTrue(qr.ansiLines.allSatisfy { $0.hasPrefix("\u{1B}[30;47m") && $0.hasSuffix("\u{1B}[0m") })
    }

    func testItIsDrawnWholeOrNotAtAll() throws {
        let qr = try XCTUnwrap(QRCode("https://www.facebook.com/device?user_code=ABCD1234"))
        var small = Buffer(width: qr.cells.width - 1, height: 40)
        XCTAssertFalse(qr.render(into: &small, x: 0, y: 0, within: Rect(x: 0, y: 0, width: small.width, height: small.height)))
        XCTAssertEqual(small, Buffer(width: qr.cells.width - 1, height: 40), "nothing drawn when it doesn't fit")
        var fits = Buffer(width: qr.cells.width, height: qr.cells.height)
        XCTAssertTrue(qr.render(into: &fits, x: 0, y: 0, within: Rect(x: 0, y: 0, width: fits.width, height: fits.height)))
        XCTAssertNil(QRCode(""), "nothing to encode")
        XCTAssertNil(QRCode(String(repeating: "x", count: 300)), "too long for a terminal")
        XCTAssertFalse(QRCode.drawable(on: Theme.fallback.plainMode()))
    }
}
