import Foundation
import XCTest

@testable import MessengerCore

/// #29: the answer journal in its binary form, written a group at a time. What a kill can lose is
/// only ever made unknown (never resent), never "never asked".
final class AnswerJournalTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func message(_ e: Int64) -> OutgoingMessage {
        OutgoingMessage(
            pageID: "p", pageToken: nil, recipientPSID: "psid-\(e)", tag: "T", text: "Hi \(e) — café ☕", enrolmentID: e, nodeID: 1)
    }

    private let claim = Claim(node: 1, after: 0, through: 1_000)

    func testAGroupIsAskedBeforeItGoesAndHeldAnswersAreLostOnlyToUnknown() throws {
        let path = folder.appendingPathComponent("j").path
        let journal = AnswerJournal(path: path)
        journal.begin(claim)
        journal.asking((1...10).map(message))
        for e in 1...3 { journal.answered(message(Int64(e)), .sent(messageID: "m\(e)")) }
        // Killed here: the three answers were held, not written.
        var log = AnswerJournal.read(path, claim: claim)
        XCTAssertTrue(log.knowsWhatWasAsked)
        XCTAssertEqual(log.asked, Set(1...10), "the whole group was announced before any of it went")
        XCTAssertTrue(log.answers.isEmpty, "held answers are lost to a kill: those messages read as asked, unknown")
        journal.flush()
        log = AnswerJournal.read(path, claim: claim)
        XCTAssertEqual(log.answers[2]?.mid, "m2")
        XCTAssertEqual(log.answers[2]?.text, "Hi 2 — café ☕")
        XCTAssertEqual(log.answers[2]?.psid, "psid-2")
    }

    func testAnswersAreWrittenAFullRecordAtATimeAndFailuresKeepTheirCodes() throws {
        let path = folder.appendingPathComponent("j").path
        let journal = AnswerJournal(path: path)
        journal.begin(claim)
        let count = AnswerJournal.answersPerRecord + 10
        journal.asking((1...Int64(count)).map(message))
        for e in 1...Int64(count) {
            journal.answered(message(e), e % 2 == 0 ? .sent(messageID: "m\(e)") : .failed(GraphError(code: 10, subcode: 2_018_278)))
        }
        let log = AnswerJournal.read(path, claim: claim)
        XCTAssertEqual(log.answers.count, AnswerJournal.answersPerRecord, "a full record went without a flush; the rest are held")
        XCTAssertEqual(log.answers[1]?.code, 10)
        XCTAssertEqual(log.answers[1]?.sub, 2_018_278)
        XCTAssertEqual(log.answers[1]?.reason, GraphError(code: 10, subcode: 2_018_278).reason)
        XCTAssertNil(log.answers[2]?.code)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        XCTAssertLessThan(size, 120 * count, "compact: no JSON")
    }

    func testATornOrCorruptRecordEndsTheReadingAndAnOldJournalKnowsNothing() throws {
        let path = folder.appendingPathComponent("j").path
        let journal = AnswerJournal(path: path)
        journal.begin(claim)
        journal.asking([message(1)])
        journal.answered(message(1), .sent(messageID: "m1"))
        journal.asking([message(2)])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let whole = AnswerJournal.read(path, claim: claim)
        XCTAssertEqual(whole.asked, [1, 2])
        // A byte of the last record flipped (a torn write): it, and only it, is dropped.
        bytes[bytes.count - 6] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let torn = AnswerJournal.read(path, claim: claim)
        XCTAssertEqual(torn.asked, [1])
        XCTAssertEqual(torn.answers[1]?.mid, "m1")
        // Another claim's journal says nothing of this one.
        XCTAssertTrue(AnswerJournal.read(path, claim: Claim(node: 1, after: 0, through: 999)).asked.isEmpty)
        // A journal in the JSON form an older version wrote: nothing is known, so every claimed
        // message without a row will be unknown, never resent.
        try Data(#"{"claim":{"node":1,"after":0,"through":1000}}"#.utf8).write(to: URL(fileURLWithPath: path))
        let old = AnswerJournal.read(path, claim: claim)
        XCTAssertFalse(old.knowsWhatWasAsked)
        XCTAssertTrue(old.answers.isEmpty)
    }
}
