/// The profile's opt-in data field and its "Send to Messenger" plugin code (R3).
public enum OptInCode {
    public static let fieldPrefix = "FBOPTIN_"

    /// `FBOPTIN_<CODE>` for a profile id. Profile ids are AUTOINCREMENT, so never reused, and the
    /// map from id to code is a bijection on 36^4 values, so codes are unique too.
    public static func fieldName(profileID: Int64) -> String {
        let space: Int64 = 36 * 36 * 36 * 36
        let mixed = (profileID * 7919 + 1013) % space
        var code = String(mixed, radix: 36).uppercased()
        while code.count < 4 { code = "0" + code }
        return fieldPrefix + code
    }

    /// The HTML to paste into a landing page. `data-ref` carries the contact's email (filled in by
    /// the landing page's personalisation), which comes back as `optin.ref` (R4).
    public static func html(appID: String, pageID: String) -> String {
        """
        <script async defer crossorigin="anonymous" src="https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v25.0&appId=\(escape(appID))"></script>
        <div class="fb-send-to-messenger"
             messenger_app_id="\(escape(appID))"
             page_id="\(escape(pageID))"
             data-ref="@EMAIL@"
             color="blue"
             size="standard"></div>
        """
    }

    /// The m.me link that opts a contact in by opening a conversation: `ref` carries the contact's
    /// email (URL-encoded by the page that fills `@EMAIL@` in), which comes back as `referral.ref`
    /// or, on a first conversation, `postback.referral.ref` (R4).
    public static func link(pageID: String) -> String {
        "https://m.me/" + pageID.filter { $0.isASCII && ($0.isLetter || $0.isNumber) } + "?ref=@EMAIL@"
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
