import ArgumentParser
import Foundation
import MessengerCore

extension StatsFilter: ExpressibleByArgument {}
/// `--contacts warnings`, as the statistics name the count (`--filter warnings`, the CSV's
/// `warnings` column); `warning`, the JSON's word for a row's kind, is taken too (#27).
extension ContactKind: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument == "warnings" ? "warning" : argument)
    }
    public static var allValueStrings: [String] { ["sent", "delivered", "warnings"] }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "7-day usage statistics of a profile, per date, or the contacts behind a number.",
        discussion: "Days are YYYY-MM-DD in the account's time zone, inside today and the 6 days before.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The profile's name.") var profile: String
    @Option(help: ArgumentHelp("First day of the range.", valueName: "DAY")) var from: String?
    @Option(help: ArgumentHelp("Last day of the range.", valueName: "DAY")) var to: String?
    @Option(help: "all, warnings, sent or delivered.") var filter: StatsFilter = .all
    @Option(help: "List the contacts behind a number: sent, delivered or warnings.") var contacts: ContactKind?
    @Option(help: ArgumentHelp("The day whose contacts to list (with --contacts).", valueName: "DAY")) var date: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV.") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("give at most one of --json and --csv") }
        for (name, value) in [("--from", from), ("--to", to), ("--date", date)] {
            if let value, let problem = AccountCalendar.dayProblem(value) { throw ValidationError("\(name) \(problem)") }
        }
        if contacts != nil {
            if date == nil { throw ValidationError("--contacts needs --date DAY") }
            if from != nil || to != nil { throw ValidationError("--contacts takes --date, not --from/--to") }
        } else if date != nil {
            throw ValidationError("--date goes with --contacts; use --from and --to for a range")
        }
    }

    func run() throws {
        let workspace = try Context(global).workspace(creating: false)
        let calendar = workspace.calendar
        let stats = workspace.stats
        if let kind = contacts, let date, let day = calendar.parseDay(date) {
            _ = try stats.range(from: day, to: day)
            let rows = try stats.allContacts(profile: profile, kind: kind, day: day)
            if json { return try printJSON(rows.map { ContactJSON($0, kind: kind, calendar: calendar) }) }
            if csv {
                writeCSV(StatsExport.contactsCSV(rows, kind: kind, calendar: calendar))
                return
            }
            var table = TextTable("EMAIL", "TIME", "STATUS", "REASON")
            for row in rows {
                table.add(row.email, StatsExport.time(of: row, kind: kind, calendar: calendar), row.status.rawValue, row.reason ?? "")
            }
            say(rows.isEmpty ? "No \(kind.rawValue) contacts on \(date)." : table.render())
            return
        }
        let range = try stats.range(from: from.flatMap(calendar.parseDay), to: to.flatMap(calendar.parseDay))
        let details = try stats.details(profile: profile, range: range, filter: filter)
        if json { return try printJSON(StatsJSON(details, calendar: calendar)) }
        if csv {
            writeCSV(StatsExport.csv(details, calendar: calendar))
            return
        }
        say(
            "\(Display.safe(details.profile)): \(calendar.string(for: range.lowerBound)) to \(calendar.string(for: range.upperBound)), filter \(filter.rawValue)"
        )
        let columns = StatsExport.columns(for: filter)
        var table = TextTable(headers: columns.map { $0.uppercased().replacingOccurrences(of: "WARNINGS", with: "NOT SENT") })
        for row in StatsExport.rows(details, calendar: calendar) { table.rows.append(row) }
        say(table.render())
    }
}

extension TextTable {
    init(headers: [String]) { self.headers = headers }
}

/// CSV is data: written as it is to a file or a pipe, sanitised when standard output is a terminal.
func writeCSV(_ text: String) {
    FileHandle.standardOutput.write(Data((isatty(STDOUT_FILENO) == 1 ? terminalSafe(text) : text).utf8))
}
