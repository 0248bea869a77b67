import MessengerCore
import TerminalKit

/// The Profiles screen's content as plain text: what `make run` prints until the interactive
/// screens exist, each profile with its 7-day numbers per date.
public struct ProfilesReport {
    let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func render() throws -> String {
        let profiles = try workspace.profiles.list()
        guard !profiles.isEmpty else {
            return "No Messenger profiles yet. Create one: messenger-dash profiles create NAME --page PAGE_ID"
        }
        var lines = ["Messenger profiles", ""]
        let header = [("NAME", 24), ("FACEBOOK PAGE", 22), ("STATUS", 9), ("OPT-IN FIELD", 13), ("DELIVERED 7D", 12), ("WARNINGS 7D", 11)]
        lines.append(header.map { DisplayWidth.pad($0.0, to: $0.1) }.joined(separator: " "))
        for p in profiles {
            let cells = [
                Sanitizer.clean(p.name), Sanitizer.clean(p.pageName), p.enabled ? "Enabled" : "Disabled", p.optInField,
                String(p.delivered7d), String(p.warnings7d),
            ]
            lines.append(zip(cells, header).map { DisplayWidth.pad($0.0, to: $0.1.1) }.joined(separator: " "))
        }
        let calendar = workspace.calendar
        for p in profiles where p.enabled {
            let details = try workspace.stats.details(profile: p.name)
            lines += ["", "\(Sanitizer.clean(p.name)): last 7 days", "DATE        SENT  DELIVERED  WARNINGS"]
            for day in details.days {
                lines.append(
                    DisplayWidth.pad(calendar.string(for: day.day), to: 10) + String(day.sent).leftAligned(6)
                        + String(day.delivered).leftAligned(11) + String(day.warnings).leftAligned(10))
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftAligned(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
