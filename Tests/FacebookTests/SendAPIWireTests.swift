import Foundation
import NIOCore
import XCTest

@testable import MessengerCore

/// The Send API's bytes, written and read without JSONSerialization (#29): what goes out is the
/// JSON the old encoder wrote, for any text a contact's values can hold, and the answer scanner
/// takes only the usual flat answer, leaving everything else to JSONSerialization.
final class SendAPIWireTests: XCTestCase {
    /// Quotes, backslashes, every control character, a slash, non-BMP and combining characters,
    /// a lone "\u{2028}": the texts that break hand-written JSON.
    static let hostile = [
        "", "plain", #"quote " and \ backslash"#, "line\nfeed\r\t tab", "/slash/ </script>", "émoji 👩🏽‍🚀 ﷽ e\u{301}",
        "\u{2028}\u{2029}", String((0..<0x20).map { Character(UnicodeScalar(UInt8($0))) }), "\u{7F}\u{0}end",
    ]

    func parsed(_ message: OutgoingMessage) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: GraphTransport.body(message)) as? NSDictionary)
    }

    func testATaggedBodyIsTheSendAPIsObjectForAnyText() throws {
        for text in Self.hostile {
            let message = OutgoingMessage(
                pageID: "4001", pageToken: "T", recipientPSID: "PSID-" + text, tag: "POST_PURCHASE_UPDATE", text: text,
                enrolmentID: 1, nodeID: 1)
            let expected: NSDictionary = [
                "recipient": ["id": "PSID-" + text], "messaging_type": "MESSAGE_TAG", "tag": "POST_PURCHASE_UPDATE",
                "message": ["text": text],
            ]
            XCTAssertEqual(try parsed(message), expected, text.debugDescription)
        }
    }

    func testAUtilityBodyCarriesEachNamedParameterForAnyValue() throws {
        for value in Self.hostile {
            let message = OutgoingMessage(
                pageID: "4001", pageToken: "T", recipientPSID: OptInValue.userRef("ref-" + value),
                utility: UtilityTemplateRef(name: "orders_v2", language: "en_US", parameterNames: ["firstname", "note"]),
                parameters: ["Ann", value], text: "t", enrolmentID: 1, nodeID: 1)
            let expected: NSDictionary = [
                "recipient": ["user_ref": "ref-" + value], "messaging_type": "UTILITY",
                "message": [
                    "template": [
                        "name": "orders_v2", "language": ["code": "en_US"],
                        "components": [
                            [
                                "type": "body",
                                "parameters": [
                                    ["type": "text", "parameter_name": "firstname", "text": "Ann"],
                                    ["type": "text", "parameter_name": "note", "text": value],
                                ],
                            ]
                        ],
                    ]
                ],
            ]
            XCTAssertEqual(try parsed(message), expected, value.debugDescription)
        }
    }

    func testATemplateWithoutParametersHasNoComponents() throws {
        let message = OutgoingMessage(
            pageID: "4001", pageToken: "T", recipientPSID: "P",
            utility: UtilityTemplateRef(name: "hello", language: "en_US", parameterNames: []), parameters: [], text: "t",
            enrolmentID: 1, nodeID: 1)
        let template = try XCTUnwrap((try parsed(message)["message"] as? NSDictionary)?["template"] as? NSDictionary)
        XCTAssertEqual((template["components"] as? [Any])?.count, 0)
    }

    func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    func testTheUsualAnswerIsReadByTheScanner() {
        XCTAssertEqual(SendAPIWire.messageID(in: buffer(#"{"recipient_id":"1008","message_id":"m_AG5Hz2"}"#)), "m_AG5Hz2")
        XCTAssertEqual(SendAPIWire.messageID(in: buffer(" {\n \"message_id\" : \"m_1\" ,\"recipient_id\":\"1\"}\n")), "m_1")
        XCTAssertEqual(SendAPIWire.messageID(in: buffer(#"{"message_id":"m_é"}"#)), "m_é")
    }

    func testAnythingElseIsLeftToJSONSerialization() {
        let others = [
            #"{"recipient_id":"1"}"#, "{}", "", "[]", #"{"message_id":"m_\u0041"}"#, #"{"message_id":1}"#,
            #"{"message_id":"m_1","message_id":"m_2"}"#, #"{"message_id":"m_1"} trailing"#, #"{"message_id":"m_1""#,
            #"{"message_id":"m_1",}"#, #"{"error":{"code":1},"message_id":"m_1"}"#, "{\"message_id\":\"m\t1\"}",
        ]
        for body in others { XCTAssertNil(SendAPIWire.messageID(in: buffer(body)), body) }
        var bad = ByteBuffer(string: #"{"message_id":"m_"#)
        bad.writeBytes([0xC3, 0x28])
        bad.writeString(#""}"#)
        XCTAssertNil(SendAPIWire.messageID(in: bad), "not UTF-8")
    }

    func testTheTransportFallsBackToTheFullParser() {
        XCTAssertEqual(GraphTransport.messageID(in: buffer(#"{"message_id":"m_\u0041"}"#)), "m_A")
        XCTAssertEqual(GraphTransport.messageID(in: buffer(#"{"message_id":"m_1","extra":{"a":[1]}}"#)), "m_1")
        XCTAssertNil(GraphTransport.messageID(in: buffer(#"{"message_id":7}"#)))
        XCTAssertNil(GraphTransport.messageID(in: buffer("not json")))
    }

    func testTheProofIsLowerCaseHexOfTheHMAC() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        XCTAssertEqual(
            AppCredentials.proof(token: "what do ya want for nothing?", secret: "Jefe"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
