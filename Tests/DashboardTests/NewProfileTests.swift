import XCTest
@testable import Dashboard
@testable import MessengerCore
import TerminalKit

final class NewProfileTests: XCTestCase {
    let pages = [
        page("1", "Ads", tasks: ["ADVERTISE"]),
        page("2", "Shop", tasks: ["MANAGE", "MESSAGING"], linked: "Northwind Shop"),
        page("3", "Café 東京", tasks: ["CREATE_CONTENT", "MESSAGING"]),
    ]

    func testNameIsValidatedAsYouType() {
        var s = appWithProfiles()
        s.press(.char("n"))
        s.press(.enter)
        XCTAssertEqual(s.newProfile?.step, .name)
        XCTAssertNotNil(s.newProfile?.nameError, "an empty name can't go on")
        s.type("northwind shop")
        XCTAssertTrue(s.newProfile?.nameError?.contains("already exists") == true)
        XCTAssertTrue(s.screenText.contains("already exists"))
        for _ in 0..<4 { s.press(.backspace) }
        s.type("Café 東京")
        XCTAssertNil(s.newProfile?.nameError)
        s.type(String(repeating: "x", count: 100))
        XCTAssertTrue(s.newProfile?.nameError?.contains("limit is 100") == true)
        s.press(.enter)
        XCTAssertEqual(s.newProfile?.step, .name)
        XCTAssertFalse(s.quitting, "typing q into the name doesn't quit")
    }

    func testThePagePickerGreysPagesThatCantLinkAndWontChooseThem() {
        var s = appWithProfiles()
        s.press(.char("n"))
        s.type("Café")
        s.press(.enter)
        XCTAssertEqual(s.newProfile?.step, .login)
        XCTAssertEqual(s.press(.enter), [.loadPages])
        _ = App.update(&s, .pagesLoaded(pages))
        XCTAssertEqual(s.newProfile?.step, .page)
        XCTAssertEqual(s.newProfile?.picker.cursor, 2, "the cursor starts on the first page that can be chosen")
        let text = s.screenText
        XCTAssertTrue(text.contains("your role is Advertiser"))
        XCTAssertTrue(text.contains("linked to profile \"Northwind Shop\""))
        s.press(.char("g"), .enter)
        XCTAssertEqual(s.newProfile?.step, .page, "an ineligible page can't be chosen")
        XCTAssertEqual(s.toast?.kind, .error)
        s.press(.char("j"), .enter)
        XCTAssertEqual(s.newProfile?.step, .page, "nor one linked to another profile")
        s.press(.char("j"), .enter)
        XCTAssertEqual(s.newProfile?.step, .status)
        s.press(.char("j"))
        XCTAssertEqual(s.newProfile?.enabled, false)
        XCTAssertEqual(s.press(.ctrl("s")), [.createProfile(name: "Café", pageID: "3", enabled: false)])
        XCTAssertEqual(s.newProfile?.step, .saving)
    }

    func testSavedProfileShowsFieldAndCodeWhichCanBeCopiedOrWritten() throws {
        var s = appWithProfiles(width: 160, height: 48)
        s.press(.char("n")); s.type("Café"); s.press(.enter, .enter)
        _ = App.update(&s, .pagesLoaded(pages))
        assertGolden("new-profile-pages-160x48", App.view(s))
        s.press(.enter, .enter)
        let details = ProfileDetails(summary: summary(7, "Café"), optInCode: OptInCode.html(appID: "42", pageID: "3"),
                                     sent7d: 0, read7d: 0, notSent: [], connectionError: nil)
        XCTAssertEqual(App.update(&s, .profileCreated(details)), [.loadProfiles])
        XCTAssertEqual(s.newProfile?.step, .done)
        XCTAssertTrue(s.screenText.contains("FBOPTIN_0007"))
        XCTAssertTrue(s.screenText.contains("fb-send-to-messenger"))
        XCTAssertEqual(s.press(.char("y")), [.copyToClipboard(details.optInCode)])
        XCTAssertEqual(s.press(.char("w")), [.writeFile(name: "optin-FBOPTIN_0007.html", contents: details.optInCode + "\n")])
        _ = App.update(&s, .fileWritten(path: "/data/optin-FBOPTIN_0007.html"))
        XCTAssertTrue(s.screenText.contains("Written to /data/optin-FBOPTIN_0007.html"))
        XCTAssertEqual(s.press(.enter), [.loadProfiles])
        XCTAssertNotNil(s.profiles)
    }

    func testAFailedSaveGoesBackToTheStatusStep() {
        var s = appWithProfiles()
        s.press(.char("n")); s.type("X"); s.press(.enter, .enter)
        _ = App.update(&s, .pagesLoaded(pages))
        s.press(.enter, .enter)
        _ = App.update(&s, .failed("page Café 東京 is already linked to profile \"Y\""))
        XCTAssertEqual(s.newProfile?.step, .status)
        XCTAssertEqual(s.toast?.kind, .error)
    }

    func testEscStepsBack() {
        var s = appWithProfiles()
        s.press(.char("n")); s.type("X"); s.press(.enter, .enter)
        _ = App.update(&s, .pagesLoaded(pages))
        s.press(.escape)
        XCTAssertEqual(s.newProfile?.step, .login)
        s.press(.escape)
        XCTAssertEqual(s.newProfile?.step, .name)
        s.press(.escape)
        XCTAssertNotNil(s.profiles)
    }
}
