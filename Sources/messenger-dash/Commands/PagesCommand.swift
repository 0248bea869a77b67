import ArgumentParser
import Foundation
import MessengerCore

struct PagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pages", abstract: "The Facebook pages you can link to profiles.",
        subcommands: [List.self, Import.self, Connect.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the pages with your role, and which profile each is linked to (never a token).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let pages = try Context(global).workspace(creating: false).pages.list()
            if json { return try printJSON(pages.map(PageJSON.init)) }
            if pages.isEmpty { return say("No pages yet: import a /me/accounts response with `messenger-dash pages import FILE`.") }
            var table = TextTable("ID", "PAGE", "ROLE", "LINKED TO", "CAN LINK")
            for p in pages {
                let can = p.linkedProfile != nil ? "no: linked" : (p.eligibility.reason.map { "no: \($0)" } ?? "yes")
                table.add(p.id, p.name, p.role.rawValue, p.linkedProfile ?? "-", can)
            }
            say(table.render())
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the pages of a GET /me/accounts?fields=id,name,tasks,access_token response.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The JSON response file.") var file: String

        func run() throws {
            let data = try readInputFile(file)
            let count = try Context(global).workspace(creating: true).pages.importAccounts(data)
            say("Imported \(count) page\(count == 1 ? "" : "s").")
        }
    }

    struct Connect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Graph: fetch the pages a user access token can link (GET /me/accounts, every page of it) and store them with their page tokens (R2)."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "A file holding the user access token (one line).") var tokenFile: String
        @Option(help: "A file holding the Meta app's secret (default: app_secret_file in config.toml, MESSENGER_DASH_APP_SECRET_FILE).")
        var appSecretFile: String?
        @Flag(help: "Store the pages even when the user token is short-lived (their tokens then stop within the hour).")
        var shortLivedOk = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let context = try Context(global)
            let data = try readInputFile(tokenFile, limit: 4096)
            warnIfShared(tokenFile)
            guard let token = String(data: data, encoding: .utf8) else { throw DomainError("\(tokenFile) is not UTF-8 text") }
            guard context.settings.facebook == .graph else {
                throw DomainError(
                    "pages connect talks to the Graph API: set facebook = \"graph\" (or --facebook graph); the sandbox's pages come from `pages import`"
                )
            }
            let app = try context.credentials(appSecretFile: appSecretFile)
            var config = try context.graphConfig
            config.appSecret = app.appSecret
            let workspace = try context.workspace(creating: true)
            // Exchanged for a long-lived token first (or refused when short-lived), its permissions read.
            let outcome = try GraphConnect.connect(
                userToken: token, via: "pasted token", config: config, app: app, shortLivedOK: shortLivedOk,
                calendar: workspace.calendar)
            let pages = outcome.pages
            try workspace.pages.store(pages, connection: outcome.connection)
            for note in outcome.notes { printError(note) }
            if json {
                let connected = Set(pages.map(\.id))
                return try printJSON(try workspace.pages.list().filter { connected.contains($0.id) }.map(PageJSON.init))
            }
            var table = TextTable("ID", "PAGE", "ROLE", "CAN LINK", "PAGE TOKEN")
            for p in pages {
                table.add(
                    p.id, p.name, p.role.rawValue, p.eligibility.reason.map { "no: \($0)" } ?? "yes",
                    p.accessToken.map(maskedSecret) ?? "none")
            }
            say("Stored \(pages.count) page\(pages.count == 1 ? "" : "s") from the Graph API.")
            if !pages.isEmpty { say(table.render()) }
        }
    }
}
