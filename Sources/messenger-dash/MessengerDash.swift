import ArgumentParser
import Dashboard
import Foundation
import MessengerCore
import TerminalKit

struct MessengerDash: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messenger-dash",
        abstract: "A terminal dashboard for a marketing account's Messenger channel.",
        discussion: """
            With no command, opens the dashboard (or, when not on a terminal, prints the profiles).
            Every command takes --db PATH (or MESSENGER_DASH_DB).
            Exit status: 0 done, 1 refused by a rule or bad input data, 2 bad usage.
            """,
        version: BuildInfo.version,
        subcommands: [
            DemoCommand.self, PagesCommand.self, ProfilesCommand.self, ContactsCommand.self, OptinsCommand.self,
            ProgramsCommand.self, ReceiptsCommand.self, WebhookCommand.self, StatsCommand.self, CompactCommand.self, LoginCommand.self,
            DoctorCommand.self, ServeCommand.self,
        ])

    @OptionGroup var global: GlobalOptions
    @Option(help: "The colour theme (themes/NAME.toml; env MESSENGER_DASH_THEME).") var theme: String?
    @Flag(
        help:
            "Plain mode for screen readers and dumb terminals: ASCII, no colour, the chart as numbers (env MESSENGER_DASH_PLAIN=1, plain = true)."
    )
    var plain = false

    func run() throws {
        let context = try Context(global)
        let workspace = try context.workspace(creating: false)
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            say(try ProfilesReport(workspace: workspace).render())
            return
        }
        let terminal = CursesTerminal(environment: context.environment, mouse: context.settings.mouse)
        defer { terminal.restore() }
        Runtime(
            workspace: workspace, terminal: terminal, themeName: theme ?? context.settings.theme,
            themeFolders: Self.themeFolders(context.environment), plain: plain || context.settings.plain
        ).run()
    }

    /// The user's own themes first, then the shipped ones: found by walking up from the binary
    /// (a build folder inside the repository, `swift run`), beside an installed binary
    /// (`../share/messenger-dash/themes`), or in the working directory.
    static func themeFolders(_ env: [String: String]) -> [String] {
        var folders = [Paths.configHome(env) + "/messenger-dash/themes"]
        var dir = BuildInfo.executable.deletingLastPathComponent()
        folders.append(dir.appendingPathComponent("../share/messenger-dash/themes").standardized.path)
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("themes")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("default.toml").path) {
                folders.append(candidate.path)
                break
            }
            dir = dir.deletingLastPathComponent()
        }
        folders.append(FileManager.default.currentDirectoryPath + "/themes")
        var seen = Set<String>()
        return folders.filter { seen.insert($0).inserted && FileManager.default.fileExists(atPath: $0) || $0 == folders[0] }
    }
}
