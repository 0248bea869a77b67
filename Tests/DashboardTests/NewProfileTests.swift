import GoldenSupport
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

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
        XCTAssertEqual(s.press(.enter), [.startDeviceLogin(attempt: 1)])
        // The sandbox's device login: its code shows, then its pages come (#24).
        _ = App.update(&s, .deviceCodeShown(try! SandboxDeviceLogin().start(scope: ""), attempt: 1))
        XCTAssertTrue(s.screenText.contains("SANDBOX1"), s.screenText)
        _ = App.update(&s, .deviceLoggedIn(pages, attempt: 1))
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

    func testWithGraphLoggingInTakesAPastedTokenThatIsNeverShown() {
        var s = appWithProfiles(width: 100, height: 30)
        s.usesGraph = true
        s.press(.char("n"))
        s.type("Café")
        s.press(.enter, .char("p"))
        XCTAssertEqual(s.newProfile?.step, .token, "p pastes a token instead of the device login")
        XCTAssertEqual(s.press(.enter), [], "no token, no request")
        XCTAssertNotNil(s.newProfile?.loginError)
        _ = App.update(&s, .paste("EAABsecretTOKEN123"))
        let text = s.screenText
        XCTAssertFalse(text.contains("secretTOKEN"), "the token is never on screen")
        XCTAssertTrue(text.contains("••••"), text)
        XCTAssertTrue(text.contains("18 characters"))
        XCTAssertEqual(s.press(.enter), [.connectFacebook(token: "EAABsecretTOKEN123")])
        XCTAssertEqual(s.newProfile?.token.text, "", "the token leaves the screen's state once handed over")
        _ = App.update(&s, .pagesLoaded(pages))
        XCTAssertEqual(s.newProfile?.step, .page)
        s.press(.escape)
        XCTAssertEqual(s.newProfile?.step, .login, "Esc from the pages goes back to logging in")
    }

    /// #24: "Log in to Facebook" is Facebook Login for Devices: the address and the code show,
    /// Esc cancels it (the runtime stops polling), a refusal is one line on the login step.
    func testLoggingInShowsTheDeviceCodeAndEscCancelsIt() {
        var s = appWithProfiles(width: 100, height: 30)
        s.usesGraph = true
        s.press(.char("n"))
        s.type("Café")
        s.press(.enter)
        XCTAssertEqual(s.press(.enter), [.startDeviceLogin(attempt: 1)])
        XCTAssertTrue(s.screenText.contains("Asking Facebook for a login code…"))
        let code = DeviceCode(
            code: "c", userCode: "ABCD1234", verificationURI: "https://www.facebook.com/device", expiresIn: 420, interval: 5)
        _ = App.update(&s, .deviceCodeShown(code, attempt: 1))
        let text = s.screenText
        for needle in [
            "https://www.facebook.com/device", "ABCD1234", "user_code=ABCD1234", "Esc cancels; p pastes a token", "scan the code",
        ] {
            XCTAssertTrue(text.contains(needle), needle + "\n" + text)
        }
        XCTAssertEqual(s.press(.escape), [.cancelDeviceLogin])
        XCTAssertEqual(s.newProfile?.step, .login)
        _ = App.update(&s, .deviceCodeShown(code, attempt: 1))
        XCTAssertFalse(s.screenText.contains("ABCD1234"), "a late code after Esc shows nothing")
        XCTAssertEqual(s.press(.enter), [.startDeviceLogin(attempt: 2)])
        // The cancelled login's answers, arriving after the new one began, change nothing.
        _ = App.update(&s, .deviceLoginEnded(nil, attempt: 1))
        _ = App.update(&s, .deviceLoggedIn(pages, attempt: 1))
        XCTAssertEqual(s.newProfile?.step, .device, "the first login's end doesn't end the second")
        _ = App.update(&s, .deviceCodeShown(code, attempt: 1))
        XCTAssertNil(s.newProfile?.deviceCode, "nor does its code show as the second's")
        _ = App.update(&s, .deviceLoginEnded("the login was declined on Facebook; nothing was connected", attempt: 2))
        XCTAssertEqual(s.newProfile?.step, .login)
        XCTAssertTrue(s.screenText.contains("✗ the login was declined on Facebook"), s.screenText)
    }

    /// The QR code of the direct link sits beside the text when it fits there whole, is never drawn
    /// cut, and not at all without colour (it would come out
    /// inverted in the terminal's own colours). Tests/e2e/login.sh decodes it with zbarimg.
    func testTheLoginCodeHasAQRCodeWhereItFitsWhole() throws {
        let code = DeviceCode(
            code: "c", userCode: "ABCD1234", verificationURI: "https://www.facebook.com/device", expiresIn: 420, interval: 5)
        let qr = try XCTUnwrap(QRCode(code.directLink))
        func shown(width: Int, height: Int, plain: Bool = false) -> (rows: [String], text: String) {
            var s = appWithProfiles(width: width, height: height)
            if plain { s.theme = s.theme.plainMode() }
            s.press(.char("n"))
            s.type("Café")
            s.press(.enter, .enter)
            _ = App.update(&s, .deviceCodeShown(code, attempt: 1))
            let text = s.screenText
            return (text.components(separatedBy: "\n").filter { $0.contains("▀") || $0.contains("▄") }, text)
        }
        func drawnWhole(_ rows: [String]) -> Bool {
            // Each of the code's rows as drawn, in order, somewhere on the screen's rows.
            // (Its first and last rows are the quiet zone, blank: not looked for.)
            let drawn = qr.lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            var at = 0
            for row in rows where at < drawn.count && row.contains(drawn[at]) { at += 1 }
            return at == drawn.count
        }
        let wide = shown(width: 100, height: 30)
        XCTAssertTrue(drawnWhole(wide.rows), wide.text)
        XCTAssertTrue(wide.text.contains("scan the code"), wide.text)
        let big = shown(width: 200, height: 60)
        XCTAssertTrue(drawnWhole(big.rows), big.text)
        let small = shown(width: 80, height: 24)
        XCTAssertTrue(drawnWhole(small.rows), "it fits the smallest screen\n" + small.text)
        XCTAssertTrue(small.text.contains("ABCD1234"))
        let long = DeviceCode(
            code: "c", userCode: String(repeating: "A", count: 40), verificationURI: code.verificationURI, expiresIn: 1, interval: 1)
        var s = appWithProfiles(width: 80, height: 24)
        s.press(.char("n"))
        s.type("Café")
        s.press(.enter, .enter)
        _ = App.update(&s, .deviceCodeShown(long, attempt: 1))
        XCTAssertFalse(s.screenText.contains("▀"), "a code too big to fit whole isn't drawn\n" + s.screenText)
        XCTAssertTrue(s.screenText.contains(long.userCode), "the code is always there")
        let plain = shown(width: 100, height: 30, plain: true)
        XCTAssertTrue(plain.rows.isEmpty, "no code without colour\n" + plain.text)
        XCTAssertFalse(plain.text.contains("scan the code"))
    }

    func testSavedProfileShowsFieldAndCodeWhichCanBeCopiedOrWritten() throws {
        var s = appWithProfiles(width: 160, height: 48)
        s.press(.char("n"))
        s.type("Café")
        s.press(.enter, .enter)
        _ = App.update(&s, .pagesLoaded(pages))
        assertGolden("new-profile-pages-160x48", App.view(s))
        s.press(.enter, .enter)
        let details = ProfileDetails(
            summary: summary(7, "Café"), optInCode: OptInCode.html(appID: "42", pageID: "3"),
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
        s.press(.char("n"))
        s.type("X")
        s.press(.enter, .enter)
        _ = App.update(&s, .pagesLoaded(pages))
        s.press(.enter, .enter)
        _ = App.update(&s, .failed("page Café 東京 is already linked to profile \"Y\""))
        XCTAssertEqual(s.newProfile?.step, .status)
        XCTAssertEqual(s.toast?.kind, .error)
    }

    func testEscStepsBack() {
        var s = appWithProfiles()
        s.press(.char("n"))
        s.type("X")
        s.press(.enter, .enter)
        _ = App.update(&s, .pagesLoaded(pages))
        s.press(.escape)
        XCTAssertEqual(s.newProfile?.step, .login)
        s.press(.escape)
        XCTAssertEqual(s.newProfile?.step, .name)
        s.press(.escape)
        XCTAssertNotNil(s.profiles)
    }
}

final class ProfilePageTests: XCTestCase {
    func testProfilePageShowsEverythingR8AndR11AskFor() {
        for (w, h) in [(80, 24), (160, 48), (100, 40)] {
            var s = appWithProfiles(width: w, height: h)
            s.press(.char("j"), .enter)
            var details = ProfileDetails(
                summary: summary(2, "Northwind Shop", delivered: 6564, warnings: 4290),
                optInCode: OptInCode.html(appID: "42", pageID: "102"),
                sent7d: 6990, read7d: 4242,
                notSent: [
                    ReasonCount(.noOptIn, count: 3865),
                    ReasonCount(GraphError(code: 551).warning, count: 145),
                ],
                connectionError: GraphError(code: 190).reason)
            // #24: the connection in one line, as stored: the broken token, webhooks, the last event.
            details.facebook.tokenOK = false
            details.facebook.permissionsOK = true
            details.facebook.webhookFields = 7
            details.facebook.webhooksOK = true
            details.facebook.lastEventAgo = 150
            let days = (0..<7).reversed().map {
                DayStats(
                    day: DayNumber(20_000) + $0, sent: 900 + $0 * 10, delivered: 850 + $0 * 10, read: 500, warnings: 600 - $0, reasons: [])
            }
            _ = App.update(&s, .profileLoaded(details, days: days))
            let text = s.screenText
            for needle in [
                "6564", "FBOPTIN_0002", "BROKEN", "3865", "551 person unavailable", "read on Facebook only", "Enabled",
                "Facebook          ✗ token ✓ permissions ✓ webhooks (7) · event 2 min ago",
            ] {
                XCTAssertTrue(text.contains(needle), "\(needle) at \(w)x\(h)")
            }
            assertGolden("profile-page-\(w)x\(h)", App.view(s))
            XCTAssertEqual(s.press(.char("y")), [.copyToClipboard(details.optInCode)])
            XCTAssertEqual(s.press(.char("d")), [.planDeletion(names: ["Northwind Shop"])])
            XCTAssertEqual(s.press(.char("e")), [.planDisable(names: ["Northwind Shop"])], "checked before it asks")
            _ = App.update(&s, .disablePlanned(names: ["Northwind Shop"]))
            guard case .confirm(_, let then) = s.overlay else { return XCTFail("disable asks first") }
            XCTAssertEqual(then, .setEnabled(names: ["Northwind Shop"], enabled: false))
        }
    }

    /// #24: `w` subscribes the page to the app's webhooks again (after Meta dropped it), as
    /// `profiles subscribe` does; it asks first, naming the page and the fields, and Cancel asks nothing.
    func testWSubscribesThePageAgainAfterAConfirmation() {
        var s = appWithProfiles(width: 100, height: 30)
        s.press(.char("j"), .enter)
        let details = ProfileDetails(
            summary: summary(2, "Northwind Shop"), optInCode: "code", sent7d: 0, read7d: 0, notSent: [], connectionError: nil)
        _ = App.update(&s, .profileLoaded(details, days: []))
        XCTAssertEqual(s.press(.char("w")), [], "nothing goes to Facebook on the key itself")
        guard case .confirm(let dialog, let then) = s.overlay else { return XCTFail("w asks first") }
        XCTAssertEqual(then, .subscribeWebhooks(name: "Northwind Shop"))
        for field in WebhookFields.all { XCTAssertTrue(dialog.message.contains(field), field) }
        XCTAssertTrue(dialog.message.contains(details.summary.pageName))
        XCTAssertEqual(s.press(.enter), [], "Cancel has the focus")
        XCTAssertNil(s.overlay)
        s.press(.char("w"))
        XCTAssertEqual(s.press(.tab, .enter), [.subscribeWebhooks(name: "Northwind Shop")])
        let reload = App.update(&s, .webhooksSubscribed(name: "Northwind Shop", fields: WebhookFields.all))
        XCTAssertEqual(reload, [.loadProfile(name: "Northwind Shop")], "the line on the page is read again")
        XCTAssertEqual(s.toast?.kind, .success)
    }

    func testNewProfileNameStepAt80x24() {
        var s = appWithProfiles()
        s.press(.char("n"))
        s.type("Café ☕")
        assertGolden("new-profile-name-80x24", App.view(s))
    }
}
