import ArgumentParser
import Foundation
import MessengerCore

/// After a run, a few seconds of compaction (history older than `retention_days`); what is left
/// is done by the next run or `messenger-dash compact`. A failure here never fails the run.
func compactAfterRun(_ workspace: Workspace) {
    guard let r = workspace.compactor.afterRun(), r.sends + r.enrolments > 0 else { return }
    say(
        "Compacted history before \(workspace.calendar.string(for: workspace.compactor.firstKeptDay)): \(r.sends) send rows, \(r.enrolments) enrolments"
            + (r.finished ? "." : " (more next time, or `messenger-dash compact`)."))
}

struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Delete send rows older than retention_days (default 90), keeping the daily statistics; runs do a few seconds of it each."
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let workspace = try Context(global).workspace(creating: false)
        let verbose = isatty(STDERR_FILENO) == 1
        let r = try workspace.compactor.compact { p in
            if verbose { FileHandle.standardError.write(Data("\r\u{1B}[K\(p.sends) send rows, \(p.enrolments) enrolments".utf8)) }
        }
        if verbose { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        say(
            "Kept \(workspace.retentionDays) days (from \(workspace.calendar.string(for: workspace.compactor.firstKeptDay))): deleted \(r.sends) send rows and \(r.enrolments) enrolments; daily statistics are kept."
        )
    }
}
