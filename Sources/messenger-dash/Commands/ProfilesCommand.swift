import ArgumentParser
import Foundation
import MessengerCore

struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles", abstract: "Messenger profiles, each linked to one Facebook page.",
        subcommands: [List.self, Show.self, Create.self, Enable.self, Disable.self, Delete.self, Subscribe.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List profiles with their 7-day delivered and warning counts.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let profiles = try Context(global).workspace(creating: false).profiles.list()
            if json { return try printJSON(profiles.map(ProfileJSON.init)) }
            if profiles.isEmpty { return say("No profiles yet: create one with `messenger-dash profiles create NAME --page PAGE_ID`.") }
            var table = TextTable("NAME", "FACEBOOK PAGE", "STATUS", "OPT-IN FIELD", "DELIVERED 7D", "WARNINGS 7D")
            for p in profiles {
                table.add(p.name, p.pageName, p.enabled ? "Enabled" : "Disabled", p.optInField, "\(p.delivered7d)", "\(p.warnings7d)")
            }
            say(table.render())
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a profile's page: opt-in field and code, 7-day totals, errors.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The profile's name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            let d = try workspace.profiles.details(named: name)
            let hooks = try workspace.subscriptions.subscription(profile: name)
            if json {
                var shape = ProfileJSON(d)
                shape.webhooks = ProfileJSON.WebhooksJSON(hooks, calendar: workspace.calendar)
                return try printJSON(shape)
            }
            let s = d.summary
            var out = """
                Profile          \(Display.safe(s.name))
                Facebook page    \(Display.safe(s.pageName)) (\(s.pageID))
                Status           \(s.enabled ? "Enabled" : "Disabled")
                Page connection  \(d.connectionError.map { "BROKEN: \($0)" } ?? "connected")
                Webhooks         \(Self.describe(hooks, name: s.name))
                Opt-in field     \(s.optInField)
                Last 7 days      \(d.sent7d) sent, \(s.delivered7d) delivered, \(d.read7d) read, \(s.warnings7d) not sent

                """
            if d.notSent.isEmpty {
                out += "Not sent         none\n"
            } else {
                out += "Not sent\n"
                for r in d.notSent { out += "  \(String(r.count).leftPad(7))  \(r.reason)\n" }
            }
            if let warning = d.optInCodeWarning { printError("warning: " + warning) }
            out += "\nOpt-in code (paste into a landing page):\n\(d.optInCode)\n"
            out += "\nOpt-in link (m.me; @EMAIL@ is the contact's email, URL-encoded):\n\(d.optInLink)\n\n\(ProfileDetails.repliesNote)"
            say(out)
        }

        static func describe(_ hooks: WebhookSubscription, name: String) -> String {
            if let error = hooks.error {
                return "NOT SUBSCRIBED: \(error) (messenger-dash profiles subscribe \(Display.shellQuoted(name)))"
            }
            guard hooks.subscribed else { return "not subscribed (messenger-dash profiles subscribe \(Display.shellQuoted(name)))" }
            let missing = hooks.missingFields
            return "\(hooks.fields.count) fields" + (missing.isEmpty ? "" : "; missing \(missing.joined(separator: ", "))")
        }
    }

    struct Subscribe: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Subscribe a profile's page to the app's webhooks again (Meta drops a page after an hour of failed deliveries).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The profile's name.") var name: String

        func run() throws {
            let hooks = try Context(global).workspace(creating: false).subscriptions.subscribe(profile: name)
            say("Subscribed the page of \(Display.quoted(name)) to the app's webhooks: \(hooks.fields.joined(separator: ", ")).")
            if !hooks.missingFields.isEmpty { printError("Facebook doesn't list: \(hooks.missingFields.joined(separator: ", "))") }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a profile linked to a page; prints its opt-in field and code.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "1–100 characters, unique ignoring case.") var name: String
        @Option(help: "The Facebook page id (see `pages list`).") var page: String
        @Flag(help: "Create it Disabled.") var disabled = false

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            let d = try workspace.profiles.create(name: name, pageID: page, enabled: !disabled)
            if let error = try workspace.subscriptions.subscription(profile: d.summary.name).error {
                printError("The page is not subscribed to the app's webhooks, so no receipt or opt-in will arrive: \(error)")
            }
            say(
                "Created profile \(Display.quoted(d.summary.name)) on page \(Display.safe(d.summary.pageName)) (\(d.summary.enabled ? "Enabled" : "Disabled"))."
            )
            say("Opt-in field: \(d.summary.optInField)")
            if let warning = d.optInCodeWarning { printError("warning: " + warning) }
            say("Opt-in code:\n\(d.optInCode)")
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a profile so nodes can pick it again.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The profile's name.") var name: String

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            try workspace.profiles.setEnabled(true, names: [name])
            say("Enabled \(Display.quoted(name)).")
            if let error = try workspace.subscriptions.subscription(profile: name).error {
                printError("The page is not subscribed to the app's webhooks, so no receipt or opt-in will arrive: \(error)")
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a profile (refused while an active program uses it).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The profile's name.") var name: String

        func run() throws {
            try Context(global).workspace(creating: false).profiles.setEnabled(false, names: [name])
            say("Disabled \(Display.quoted(name)).")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete profiles and all their usage statistics, all or nothing.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "One or more profile names.") var names: [String]
        @Flag(help: "Don't ask; delete.") var yes = false

        func validate() throws {
            if names.isEmpty { throw ValidationError("name at least one profile to delete") }
        }

        func run() throws {
            let profiles = try Context(global).workspace(creating: false).profiles
            let plan = try profiles.deletionPlan(names: names)
            let what =
                "\(plan.profiles.count) profile\(plan.profiles.count == 1 ? "" : "s") (\(plan.profiles.map(Display.quoted).joined(separator: ", "))) and \(plan.usageRecords) usage record\(plan.usageRecords == 1 ? "" : "s"), and unsubscribe \(plan.profiles.count == 1 ? "its page" : "their pages") from the app's webhooks"
            try confirmDeletion(of: what, yes: yes)
            let done = try profiles.delete(names: names)
            say(
                "Deleted \(done.profiles.count) profile\(done.profiles.count == 1 ? "" : "s") and \(done.usageRecords) usage record\(done.usageRecords == 1 ? "" : "s")."
            )
        }
    }
}

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
