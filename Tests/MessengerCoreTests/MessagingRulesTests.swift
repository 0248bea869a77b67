import Foundation
import GRDB
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// R4, R5, R6, R7: opt-ins, the Messenger node, sending and receipts, the policy check.
final class MessagingRulesTests: StoreTestCase {
    // MARK: R4

    func testContactIsOptedInExactlyWhenItHasANonEmptyValue() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let summary = try f.run()
            XCTAssertEqual(summary.sent, 2, "ann and bob have PSIDs")
            XCTAssertEqual(summary.warnings, [ReasonCount(.noOptIn, count: 1)], "cat's value is empty")
            XCTAssertEqual(Set(f.transport.sent.map(\.recipientPSID)), ["psid-ann", "psid-bob"])
        }
    }

    func testOptInWebhookSetsTheProfilesFieldAndIsIdempotent() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            let line = f.optinLine(psid: "psid-cat", email: "CAT@example.com")
            let first = try f.workspace.optIns.ingest(jsonLines: Data(line.utf8))
            XCTAssertEqual(first.optedIn, 1)
            let second = try f.workspace.optIns.ingest(jsonLines: Data(line.utf8))
            XCTAssertEqual(second.optedIn, 0)
            XCTAssertEqual(second.unchanged, 1)
            XCTAssertEqual(
                try f.count(
                    """
                    SELECT COUNT(*) FROM contact_value JOIN data_field ON data_field.id = field_id
                    WHERE data_field.name = ? AND value = 'psid-cat'
                    """, [shop.summary.optInField]), 1)
            XCTAssertEqual(try f.run().sent, 3)
        }
    }

    func testOptInForUnknownPageOrMalformedLineRefusesTheWholeFile() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let good = f.optinLine(psid: "psid-cat", email: "cat@example.com")
            let unknownPage = f.optinLine(page: "999", psid: "x", email: "ann@example.com")
            XCTAssertThrowsError(try f.workspace.optIns.ingest(jsonLines: Data((good + "\n" + unknownPage).utf8))) { error in
                XCTAssertTrue("\(error)".hasPrefix("line 2:"), "\(error)")
            }
            XCTAssertThrowsError(try f.workspace.optIns.ingest(jsonLines: Data((good + "\n{not json").utf8)))
            XCTAssertThrowsError(
                try f.workspace.optIns.ingest(
                    jsonLines: Data(
                        (good + "\n"
                            + #"{"object":"page","entry":[{"id":"1001","messaging":[{"sender":{"id":true},"recipient":{"id":"1001"},"timestamp":1,"optin":{"ref":"a"}}]}]}"#)
                            .utf8)))
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM contact_value WHERE value = 'psid-cat'"), 0)
        }
    }

    func testCSVImportSetsOptInsAndUpdatesExistingEmails() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            let result = try f.workspace.contacts.importCSV(
                Data("email,\(shop.summary.optInField),CITY\r\nCat@Example.com,psid-cat,Oslo\r\n".utf8))
            XCTAssertEqual(result.updated, 1)
            XCTAssertEqual(result.created, 0)
            XCTAssertEqual(result.optInsSet, 1)
            XCTAssertEqual(result.fieldsCreated, ["CITY"])
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM contact"), 3)
        }
    }

    func testBadCSVChangesNothing() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let before = try f.count("SELECT COUNT(*) FROM contact_value")
            let bad = [
                "NAME\nann\n",  // no EMAIL
                "EMAIL\nnot-an-email\n",
                "EMAIL,CITY\nx@example.com,Oslo\nx@EXAMPLE.com,Rome\n",  // duplicate email
                "EMAIL,CITY\nx@example.com,\"Oslo\n",  // unclosed quote
                "EMAIL,CITY\nx@example.com,Os\"lo\n",  // stray quote
                "EMAIL,CITY\nx@example.com\n",  // ragged row
                "EMAIL,FBOPTIN_ZZZZ\nx@example.com,1\n",  // not a profile's field
                "EMAIL,BAD NAME\nx@example.com,1\n",
            ]
            for text in bad {
                XCTAssertThrowsError(try f.workspace.contacts.importCSV(Data(text.utf8)), text)
            }
            XCTAssertThrowsError(try f.workspace.contacts.importCSV(Data([0x45, 0x4D, 0xFF, 0xFE, 0x0A])))
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM contact"), 3)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM contact_value"), before)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM data_field WHERE name = 'CITY'"), 0)
        }
    }

    // MARK: R5

    func testPersonalisationUsesValuesThenDefaults() throws {
        let template = try MessageTemplate("Hi @FIRSTNAME@, order @ordernumber@ (@@home)")
        XCTAssertEqual(template.fieldNames, ["FIRSTNAME", "ORDERNUMBER"])
        let out = template.personalise(values: { $0 == "ORDERNUMBER" ? "A-1" : "" }, defaults: { $0 == "FIRSTNAME" ? "friend" : "" })
        XCTAssertEqual(out, "Hi friend, order A-1 (@home)")
        XCTAssertThrowsError(try MessageTemplate("Hi @FIRSTNAME"))
        XCTAssertThrowsError(try MessageTemplate("mail me at a@b.c"))
    }

    func testSentMessageIsPersonalisedPerContact() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            _ = try f.run()
            let texts = Dictionary(uniqueKeysWithValues: f.transport.sent.map { ($0.recipientPSID, $0.text) })
            XCTAssertEqual(texts["psid-ann"], "Hi Ann, order A-1 has shipped.")
            XCTAssertEqual(texts["psid-bob"], "Hi friend, order B-2 has shipped.")
            // 2026: a utility template with each contact's parameters, no tag (R13).
            let bob = try XCTUnwrap(f.transport.sent.first { $0.recipientPSID == "psid-bob" })
            XCTAssertNil(bob.tag)
            XCTAssertEqual(
                bob.utility, UtilityTemplateRef(name: "orders_v1", language: "en_US", parameterNames: ["firstname", "ordernumber"]))
            XCTAssertEqual(bob.parameters, ["friend", "B-2"], "a contact without a value gets the field's default")
        }
    }

    func testTaggedMessagesStillWorkBeforeTheRetirementDay() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, now: Fixture.beforeRetirement)
            try f.standardSetup(tag: "Post_purchase_update")
            let summary = try f.run()
            XCTAssertEqual(summary.sent, 2)
            XCTAssertEqual(f.transport.sent.first?.tag, "POST_PURCHASE_UPDATE")
            XCTAssertNil(f.transport.sent.first?.utility)
        }
    }

    func testMessageLimitIs2000CharactersAfterPersonalisation() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, now: Fixture.beforeRetirement)
            try f.standardSetup(tag: "Post_purchase_update")
            let filler = String(repeating: "x", count: 1_990)
            // 1990 + "order " + value: fine with the default, too long for a contact with a long value.
            _ = try f.workspace.programs.setNode(
                program: "Orders", profile: "Shop", tag: "Post_purchase_update",
                message: "order @ORDERNUMBER@ " + filler, acceptFlags: false)
            try f.workspace.contacts.importCSV(Data("EMAIL,ORDERNUMBER\nann@example.com,\(String(repeating: "9", count: 10))\n".utf8))
            let summary = try f.run()
            XCTAssertEqual(summary.warnings.first { $0.reason == WarningReason.tooLong.text }?.count, 1)
            XCTAssertTrue(f.transport.sent.allSatisfy { $0.text.count <= 2000 })
            XCTAssertThrowsError(
                try f.workspace.programs.setNode(
                    program: "Orders", profile: "Shop", tag: "Post_purchase_update",
                    message: "order " + String(repeating: "y", count: 1_995), acceptFlags: false))
        }
    }

    func testNodeRefusesUnknownFieldsTagsAndEmptyMessages() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, now: Fixture.beforeRetirement)
            try f.standardSetup(tag: "Post_purchase_update")
            XCTAssertThrowsError(
                try f.workspace.programs.setNode(
                    program: "Orders", profile: "Shop", tag: "Post_purchase_update", message: "Order @NOPE@ shipped", acceptFlags: false))
            XCTAssertThrowsError(
                try f.workspace.programs.setNode(
                    program: "Orders", profile: "Shop", tag: "Shipping_update", message: "Order shipped", acceptFlags: false))
            XCTAssertThrowsError(
                try f.workspace.programs.setNode(
                    program: "Orders", profile: "Shop", tag: "Post_purchase_update", message: "  ", acceptFlags: false))
            XCTAssertNoThrow(
                try f.workspace.programs.setNode(
                    program: "Orders", profile: "Shop", tag: "account_update", message: "Your account password changed", acceptFlags: false)
            )
            XCTAssertEqual(try f.workspace.programs.summary(named: "Orders").tag, "Account_update")
        }
    }

    // MARK: R6

    func testContactWithoutOptInGetsAWarningAndMovesOn() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            _ = try f.run()
            XCTAssertEqual(
                try f.count("SELECT COUNT(*) FROM send WHERE status = 'no_optin' AND reason_code = ?", [WarningReason.noOptIn.code]), 1)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM enrolment WHERE finished_at IS NULL"), 0, "every contact moved on")
        }
    }

    func testSentAndFailedOutcomesAreRecorded() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            let shop = try f.standardSetup()
            try f.workspace.contacts.importCSV(Data("EMAIL,\(shop.summary.optInField)\ncat@example.com,12399551\n".utf8))
            let summary = try f.run()
            XCTAssertEqual(summary.sent, 2)
            XCTAssertEqual(summary.warnings.map(\.reason), [GraphError(code: 551).reason])
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE status = 'sent' AND message_id LIKE 'm_%'"), 2)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE status = 'failed' AND error_code = 551"), 1)
        }
    }

    func testRunningAgainSendsNothingTwiceAndReenrolSendsAgain() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            _ = try f.run()
            let again = try f.run()
            XCTAssertEqual(again.enrolled, 0)
            XCTAssertEqual(again.sent, 0)
            XCTAssertEqual(f.transport.sent.count, 2)
            let reenrolled = try f.run(reenrol: true)
            XCTAssertEqual(reenrolled.enrolled, 3)
            XCTAssertEqual(f.transport.sent.count, 4)
        }
    }

    func testAKilledRunsClaimedSendsBecomeUnknownAndAreNeverResent() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            // A run killed after claiming its batch but before Facebook answered: a dead process owns
            // the run, its claim covers ann's and bob's enrolments, and no send row was written.
            try f.killedRunClaimingAnnAndBob()
            let summary = try f.run()
            XCTAssertEqual(summary.recovered, 2)
            XCTAssertFalse(
                f.transport.sent.contains { $0.enrolmentID == 10 || $0.enrolmentID == 11 },
                "the claimed messages may have gone: never resent")
            XCTAssertEqual(
                try f.count("SELECT COUNT(*) FROM send WHERE enrolment_id IN (10, 11) AND status = 'unknown' AND outcome = 'warning'"), 2)
            XCTAssertEqual(
                try f.count("SELECT count FROM daily_stat WHERE outcome = 'warning' AND reason = ?", [WarningReason.unknown.code]), 2)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM enrolment WHERE finished_at IS NULL"), 0)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM program_run WHERE claim_node_id IS NOT NULL"), 0)
            // Every contact still has exactly one row: the new run's enrolments were sent as usual.
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send"), try f.count("SELECT COUNT(*) FROM enrolment"))
        }
    }

    /// A run killed between its claim of ann, bob, cat and dan and the commit that records them:
    /// ann answered (sent), bob answered (551), cat asked and never answered, dan never asked.
    func killedRun(bootOfTheJournal: String? = AnswerJournal.bootID) throws -> (Fixture, journal: String) {
        let f = try Fixture()
        try f.standardSetup()
        var programID: Int64 = 0
        var nodeID: Int64 = 0
        try f.database.transaction { db in
            programID = try db.value(Int64.self, "SELECT id FROM program")!
            nodeID = try db.value(Int64.self, "SELECT id FROM node")!
            let field = try db.value(Int64.self, "SELECT optin_field_id FROM profile")!
            try db.exec("INSERT INTO contact (id, email, created_at) VALUES (4, 'dan@example.com', 0)")
            try db.exec(
                "INSERT OR REPLACE INTO contact_value (contact_id, field_id, value) VALUES (3, ?, 'psid-cat'), (4, ?, 'psid-dan')",
                [field, field])
            for (enrolment, contact) in [(10, 1), (11, 2), (12, 3), (13, 4)] {
                try db.exec(
                    "INSERT INTO enrolment (id, program_id, contact_id, enrolled_at) VALUES (?, ?, ?, 0)", [enrolment, programID, contact])
                try db.exec(
                    "INSERT INTO program_contact (program_id, contact_id, last_enrolment_id) VALUES (?, ?, ?)",
                    [programID, contact, enrolment])
            }
            try db.exec(
                """
                INSERT INTO program_run (program_id, pid, started_at, heartbeat_at, claim_node_id, claim_after, claim_through)
                VALUES (?, 2147483000, 0, 0, ?, 9, 13)
                """, [programID, nodeID])
        }
        let path = AnswerJournal.path(database: f.database.sideFilesBase, programID: programID)
        // The boot the journal's header names: this machine's, or (a power cut since) another.
        let journal = AnswerJournal(path: path, boot: bootOfTheJournal)
        journal.begin(Claim(node: nodeID, after: 9, through: 13))
        func message(_ enrolment: Int64, _ psid: String) -> OutgoingMessage {
            OutgoingMessage(
                pageID: Fixture.shopPage, pageToken: nil, recipientPSID: psid,
                utility: UtilityTemplateRef(name: "orders_v1", language: "en_US", parameterNames: []),
                parameters: [], text: "Hi, order shipped.", enrolmentID: enrolment, nodeID: nodeID)
        }
        // Ann and bob announced as one group and answered; cat announced on her own, then the kill.
        journal.asking([message(10, "psid-ann"), message(11, "psid-bob")])
        journal.answered(message(10, "psid-ann"), .sent(messageID: "m_ann"))
        journal.answered(message(11, "psid-bob"), .failed(GraphError(code: 551)))
        journal.asking([message(12, "psid-cat")])  // writes the answers it held first
        // A record a kill cut short ends the reading: what came before stands.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data([0x52, 0xff, 0x00, 0x00, 0x00, 0x01, 0x02]))
        try handle.close()
        return (f, path)
    }

    func testAKilledRunsAnswersAreRecordedAsAnsweredTheUnaskedSentAndOnlyTheOneInFlightUnknown() throws {
        let (f, path) = try killedRun()
        let summary = try f.run()
        XCTAssertEqual(summary.recoveredAnswered, 2)
        XCTAssertEqual(summary.recoveredNotAsked, 1)
        XCTAssertEqual(summary.recovered, 3)
        XCTAssertFalse(f.transport.sent.contains { [10, 11, 12].contains($0.enrolmentID) }, "nothing that may have gone is asked again")
        XCTAssertEqual(f.transport.sent.filter { $0.enrolmentID == 13 }.count, 1, "dan's was never asked: this run sends it")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE enrolment_id = 10 AND outcome = 'sent' AND message_id = 'm_ann'"), 1)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE enrolment_id = 11 AND status = 'failed' AND error_code = 551"), 1)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE enrolment_id = 12 AND status = 'unknown'"), 1, "only the one in flight")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE enrolment_id = 13 AND outcome = 'sent'"), 1)
        XCTAssertEqual(
            try f.count("SELECT count FROM daily_stat WHERE outcome = 'warning' AND reason = ?", [WarningReason.unknown.code]), 1)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send"), try f.count("SELECT COUNT(*) FROM enrolment"), "one outcome each")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "a finished run leaves no journal")
        for outcome in ["sent", "warning"] {
            XCTAssertEqual(
                try f.count("SELECT COUNT(*) FROM send WHERE outcome = ?", [outcome]),
                try f.count("SELECT COALESCE(SUM(count), 0) FROM daily_stat WHERE outcome = ?", [outcome]), outcome)
        }
    }

    func testAfterARestartTheUnaskedAreUnknownToo() throws {
        // The journal is not synced: after a power cut it may have lost lines, so "never asked"
        // can't be trusted: dan's is unknown, never resent. The answers it kept are still facts.
        let (f, _) = try killedRun(bootOfTheJournal: "another-boot")
        let summary = try f.run()
        XCTAssertEqual(summary.recoveredAnswered, 2)
        XCTAssertEqual(summary.recoveredNotAsked, 0)
        XCTAssertFalse(f.transport.sent.contains { [10, 11, 12, 13].contains($0.enrolmentID) })
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE enrolment_id IN (12, 13) AND status = 'unknown'"), 2)
    }

    func testARunThatFailsAfterFacebookAnsweredKeepsItsClaimAndTheNextRunNeverResends() throws {
        let f = try Fixture()
        try f.standardSetup()
        // The database refuses the answers (as a full disk would) while Facebook is being asked.
        f.transport.onSend = { _ in
            try! f.database.writer.writeWithoutTransaction { db in
                try db.execute(
                    sql: """
                        CREATE TRIGGER IF NOT EXISTS disk_full BEFORE INSERT ON send WHEN NEW.outcome = 'sent'
                        BEGIN SELECT RAISE(ABORT, 'disk full'); END
                        """)
            }
        }
        XCTAssertThrowsError(try f.run())
        let asked = f.transport.sent.map(\.enrolmentID)
        XCTAssertEqual(asked.count, 2, "ann and bob were asked for")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE outcome = 'sent'"), 0)
        XCTAssertEqual(
            try f.count("SELECT COUNT(*) FROM program_run WHERE claim_node_id IS NOT NULL"), 1, "the claim outlives the failed run")
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM program_run WHERE finished_at IS NULL"), 0)

        try f.database.writer.write { db in try db.execute(sql: "DROP TRIGGER disk_full") }
        f.transport.onSend = nil
        let summary = try f.run()
        XCTAssertEqual(summary.recovered, 2)
        XCTAssertEqual(f.transport.sent.count, 2, "nothing asked twice")
        // Facebook had answered both: the answers noted as they came are recorded, not "unknown".
        XCTAssertEqual(summary.recoveredAnswered, 2)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE status = 'unknown'"), 0)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE outcome = 'sent' AND message_id IS NOT NULL"), 2)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM program_run WHERE claim_node_id IS NOT NULL"), 0)
        XCTAssertEqual(try f.count("SELECT COUNT(*) FROM enrolment WHERE finished_at IS NULL"), 0)
    }

    func testAClaimIsCommittedBeforeFacebookIsAskedAndClearedWithTheAnswers() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            var seenWhileSending: [(claim: Int, rows: Int)] = []
            f.transport.onSend = { _ in
                // What another process (or the next run, after a crash here) would find committed:
                // a read on another connection of the pool.
                seenWhileSending.append(
                    try! f.database.snapshot { db in
                        (
                            try db.value(Int.self, "SELECT COUNT(*) FROM program_run WHERE claim_node_id IS NOT NULL")!,
                            try db.value(Int.self, "SELECT COUNT(*) FROM send WHERE outcome = 'sent'")!
                        )
                    })
            }
            _ = try f.run()
            XCTAssertFalse(seenWhileSending.isEmpty)
            XCTAssertTrue(seenWhileSending.allSatisfy { $0.claim == 1 && $0.rows == 0 }, "\(seenWhileSending)")
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM program_run WHERE claim_node_id IS NOT NULL"), 0)
        }
    }

    func testSecondSendOfANodeToAnEnrolmentIsImpossible() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            _ = try f.run()
            XCTAssertThrowsError(
                try f.database.transaction { db in
                    try db.exec(
                        """
                        INSERT INTO send (enrolment_id, node_id, profile_id, contact_id, page_id, day, at, outcome, status)
                        SELECT enrolment_id, node_id, profile_id, contact_id, page_id, day, at, 'sending', 'sending' FROM send LIMIT 1
                        """)
                })
        }
    }

    func testRunningARunningProgramFromAnotherLiveProcessIsRefused() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let parent = Int64(getppid())
            try f.database.transaction { db in
                try db.exec("INSERT INTO program_run (program_id, pid, started_at, heartbeat_at) SELECT id, ?, 0, 0 FROM program", [parent])
            }
            XCTAssertThrowsError(try f.run()) { error in XCTAssertTrue("\(error)".contains("already running"), "\(error)") }
            XCTAssertTrue(f.transport.sent.isEmpty)
        }
    }

    func testASecondRunOfAProgramInTheSameProcessIsRefusedAndSendsNothing() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let inside = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            var first = true
            f.transport.onSend = { _ in
                if first {
                    first = false
                    inside.signal()
                    release.wait()
                }
            }
            let runner = ProgramRunner(workspace: f.workspace)
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                _ = try? runner.run(program: "Orders")
                done.signal()
            }
            inside.wait()  // the first run is sending
            XCTAssertThrowsError(try runner.run(program: "orders")) { error in
                XCTAssertTrue("\(error)".contains("already running"), "\(error)")
            }
            release.signal()
            done.wait()
            XCTAssertEqual(f.transport.sent.count, 2, "each opted-in contact once")
            XCTAssertEqual(try f.run().sent, 0, "and once it finished, a run may start again")
        }
    }

    func testDraftOrPausedProgramDoesNotRun() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            try f.workspace.programs.pause(name: "Orders")
            XCTAssertThrowsError(try f.run())
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM enrolment"), 0)
        }
    }

    func testDeliveryReceiptMarksMessagesSentAtOrBeforeTheWatermark() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let t0 = f.clock.nowMillis()
            _ = try f.run()
            f.clock.set(t0 + 60_000)
            _ = try f.run(reenrol: true)
            // A watermark between the two sends delivers only the first one to ann.
            let r = try f.workspace.receipts.ingest(jsonLines: Data(f.deliveryLine(psid: "psid-ann", watermark: t0 + 30_000).utf8))
            XCTAssertEqual(r.delivered, 1)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE psid = 'psid-ann' AND status = 'delivered' AND at = ?", [t0]), 1)
            XCTAssertEqual(try f.count("SELECT COUNT(*) FROM send WHERE psid = 'psid-ann' AND status = 'sent'"), 1)
            // Read receipts: read implies delivered.
            let read = try f.workspace.receipts.ingest(jsonLines: Data(f.readLine(psid: "psid-ann", watermark: t0 + 90_000).utf8))
            XCTAssertEqual(read.read, 2)
            XCTAssertEqual(read.delivered, 1)
            XCTAssertEqual(try f.count("SELECT SUM(count) FROM daily_stat WHERE outcome = 'delivered'"), 2)
            XCTAssertEqual(try f.count("SELECT SUM(count) FROM daily_stat WHERE outcome = 'read'"), 2)
        }
    }

    func testIngestingTheSameReceiptsTwiceChangesNothing() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            _ = try f.run()
            let line = f.deliveryLine(psid: "psid-bob", watermark: f.clock.nowMillis() + 1)
            XCTAssertEqual(try f.workspace.receipts.ingest(jsonLines: Data(line.utf8)).delivered, 1)
            XCTAssertEqual(try f.workspace.receipts.ingest(jsonLines: Data(line.utf8)).delivered, 0)
            XCTAssertEqual(try f.count("SELECT SUM(count) FROM daily_stat WHERE outcome = 'delivered'"), 1)
        }
    }

    func testDeliveryByMidMarksThatMessage() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            _ = try f.run()
            let mid = try f.database.snapshot { db in try db.value(String.self, "SELECT message_id FROM send WHERE psid = 'psid-bob'") }!
            let r = try f.workspace.receipts.ingest(jsonLines: Data(f.deliveryLine(psid: "psid-bob", watermark: 0, mids: [mid]).utf8))
            XCTAssertEqual(r.delivered, 1)
        }
    }

    // MARK: R7

    func testPromotionalWordingIsFlaggedWithItsWords() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database)
            try f.standardSetup()
            let check = try f.workspace.programs.check(
                message: "Your order shipped! Use coupon SAVE for 20% off, buy now", tag: "Post_purchase_update")
            let promo = try XCTUnwrap(check.flags.first { $0.kind == .promotional })
            XCTAssertEqual(promo.words, ["% off", "coupon", "buy now"])
            XCTAssertTrue(try f.workspace.programs.check(message: "Your order has shipped", tag: "Post_purchase_update").flags.isEmpty)
            XCTAssertTrue(
                try f.workspace.programs.check(message: "Wholesale resale of your order", tag: "Post_purchase_update").flags.isEmpty,
                "'sale' inside another word is not a flag")
        }
    }

    func testMessageThatDoesntFitItsTagIsFlagged() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, now: Fixture.beforeRetirement)
            try f.standardSetup(tag: "Post_purchase_update")
            let check = try f.workspace.programs.check(message: "Your parcel has shipped", tag: "Account_update")
            let flag = try XCTUnwrap(check.flags.first { $0.kind == .offTag })
            XCTAssertTrue(flag.words.contains("shipped"))
            XCTAssertTrue(try f.workspace.programs.check(message: "Hello @FIRSTNAME@", tag: "Account_update").flags.isEmpty)
        }
    }

    func testFlaggedMessageNeedsExplicitConfirmation() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, now: Fixture.beforeRetirement)
            try f.standardSetup(tag: "Post_purchase_update")
            let promo = "Your order shipped. Free shipping on your next one!"
            XCTAssertThrowsError(
                try f.workspace.programs.setNode(
                    program: "Orders", profile: "Shop", tag: "Post_purchase_update", message: promo, acceptFlags: false)
            ) { error in
                XCTAssertTrue("\(error)".contains("free shipping"), "\(error)")
            }
            XCTAssertNotEqual(try f.workspace.programs.summary(named: "Orders").message, promo)
            _ = try f.workspace.programs.setNode(
                program: "Orders", profile: "Shop", tag: "Post_purchase_update", message: promo, acceptFlags: true)
            XCTAssertEqual(try f.workspace.programs.summary(named: "Orders").message, promo)
        }
    }

    func testRetiredTagCantBePickedOrActivated() throws {
        try onEachEngine { database in
            let f = try Fixture(database: database, now: Fixture.beforeRetirement)
            try f.standardSetup(tag: "Post_purchase_update")
            try f.workspace.programs.pause(name: "Orders")
            try f.workspace.programs.retireTag("Account_update", note: "Retired by Meta in 2026")
            XCTAssertTrue(try f.workspace.programs.tags().first { $0.name == "Account_update" }!.isRetired(on: f.workspace.today))
            XCTAssertThrowsError(
                try f.workspace.programs.setNode(
                    program: "Orders", profile: "Shop", tag: "Account_update", message: "Your account changed", acceptFlags: false)
            ) { error in
                XCTAssertTrue("\(error)".contains("Retired by Meta"))
            }
            try f.workspace.programs.retireTag("Post_purchase_update", note: "gone")
            XCTAssertThrowsError(try f.workspace.programs.activate(name: "Orders"))
        }
    }
}
