/// R15: a contact who can't be messaged from a page any more is suppressed for that page, so
/// later runs settle them with a warning instead of asking Facebook again (each ask counts
/// against the page's rate limit and against its standing with Meta).
///
/// Suppressing answers are about the person, never about the page: 551 (they turned messages
/// from the page off, or can't be reached) and 200/1545041 (their permission for the page is
/// gone). A plain 200 is the page missing `pages_messaging`: fixing the page fixes every
/// contact, so it suppresses nobody. The rule is here, on values; `SendLedger` writes the row.
public enum Suppression {
    public static func suppresses(_ error: GraphError) -> Bool {
        error.code == 551 || (error.code == 200 && error.subcode == 1_545_041)
    }

    /// The code as the warning shows it: `551`, `200/1545041`.
    public static func codeText(code: Int, subcode: Int?) -> String {
        "\(code)" + (subcode.map { "/\($0)" } ?? "")
    }

    /// The warning of a run that skipped a suppressed contact.
    public static func reason(since day: String, code: String) -> String {
        "suppressed since \(day) (\(code))"
    }
}
