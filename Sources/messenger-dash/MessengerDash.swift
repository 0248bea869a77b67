import ArgumentParser
import Dashboard
import Foundation
import MessengerCore

struct MessengerDash: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messenger-dash",
        abstract: "A terminal dashboard for a marketing account's Messenger channel.",
        discussion: """
            With no command, opens the dashboard. Every command takes --db PATH (or MESSENGER_DASH_DB).
            Exit status: 0 done, 1 refused by a rule or bad input data, 2 bad usage.
            """,
        subcommands: [
            DemoCommand.self, PagesCommand.self, ProfilesCommand.self, ContactsCommand.self, OptinsCommand.self,
            ProgramsCommand.self, ReceiptsCommand.self, WebhookCommand.self, StatsCommand.self,
        ])

    @OptionGroup var global: GlobalOptions
    @Option(help: "The colour theme (themes/NAME.toml).") var theme: String?

    func run() throws {
        let context = try Context(global)
        let workspace = try context.workspace(creating: false)
        print(try ProfilesReport(workspace: workspace).render())
    }
}
