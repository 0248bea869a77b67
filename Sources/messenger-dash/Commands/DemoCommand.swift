import ArgumentParser
import Foundation
import MessengerCore
import WebhookServer

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Build a demo workspace (pages, 3 profiles, contacts, 3 programs, 7 days of runs and receipts).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "How many contacts.") var contacts = 2_000
    @Option(help: "The seed; the same seed gives the same database.") var seed: UInt64 = 1

    func validate() throws {
        guard (1...5_000_000).contains(contacts) else { throw ValidationError("--contacts must be 1 to 5000000") }
    }

    func run() throws {
        let context = try Context(global)
        let workspace = try context.workspace(creating: true)
        let verbose = isatty(STDERR_FILENO) == 1
        var progress: (@Sendable (String) -> Void)?
        if verbose { progress = { step in FileHandle.standardError.write(Data("\r\u{1B}[Kdemo: \(step)".utf8)) } }
        let summary = try Demo.build(
            database: workspace.database, calendar: workspace.calendar, appID: workspace.appID,
            now: workspace.clock.nowMillis(), options: DemoOptions(contacts: contacts, seed: seed), progress: progress)
        if verbose { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        say(
            "Demo ready in \(context.databasePath): \(summary.contacts) contacts, \(summary.sent) sent, \(summary.delivered) delivered, \(summary.warned) warnings over 7 days."
        )
        say(
            "Main profile: \(Demo.mainProfile). Try: messenger-dash stats \"\(Demo.mainProfile)\"\(global.db.map { " --db \(shellQuoted($0))" } ?? "")"
        )
    }
}

/// A word as a shell reads it back: as is when it is plain, else in single quotes (an address's
/// `?` and `&` would glob or fork; a path may have spaces).
func shellQuoted(_ word: String) -> String {
    let plain = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-:@=+,".contains($0)) }
    return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
