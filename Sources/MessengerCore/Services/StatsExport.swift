/// The stats as rows and CSV, shared by `stats --csv`, the command line's table and the
/// dashboard's `x` export, so all of them say the same, byte for byte.
public enum StatsExport {
    public static func columns(for filter: StatsFilter) -> [String] {
        switch filter {
        case .all: return ["date", "sent", "delivered", "warnings", "reasons"]
        case .sent: return ["date", "sent"]
        case .delivered: return ["date", "delivered"]
        case .warnings: return ["date", "warnings", "reasons"]
        }
    }

    public static func rows(_ details: StatsDetails, calendar: AccountCalendar) -> [[String]] {
        let columns = columns(for: details.filter)
        return details.days.map { day in
            columns.map { column in
                switch column {
                case "date": return calendar.string(for: day.day)
                case "sent": return String(day.sent)
                case "delivered": return String(day.delivered)
                case "warnings": return String(day.warnings)
                default: return day.reasons.map { "\($0.reason): \($0.count)" }.joined(separator: "; ")
                }
            }
        }
    }

    public static func csv(_ details: StatsDetails, calendar: AccountCalendar) -> String {
        CSV.line(columns(for: details.filter)) + rows(details, calendar: calendar).map { CSV.line($0) }.joined()
    }

    /// The time shown for a contact: when it was delivered for the delivered list, else when it
    /// reached the node.
    public static func time(of contact: ContactOutcome, kind: ContactKind, calendar: AccountCalendar) -> String {
        calendar.timestamp(ofMillis: kind == .delivered ? (contact.deliveredAt ?? contact.at) : contact.at)
    }

    public static func contactsCSV(_ rows: [ContactOutcome], kind: ContactKind, calendar: AccountCalendar) -> String {
        CSV.line(["email", "time", "status", "reason"])
            + rows.map { CSV.line([$0.email, time(of: $0, kind: kind, calendar: calendar), $0.status.rawValue, $0.reason ?? ""]) }.joined()
    }
}
