import ArgumentParser
import Foundation
import MessengerCore
import WebhookServer

struct ContactsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts", abstract: "Contacts and their data fields.",
        subcommands: [Import.self, Fields.self, Suppressed.self, Lift.self])

    /// #26: the account's data fields, and a way to remove one a file made by mistake.
    struct Fields: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Data fields: list them, delete one no message uses.", subcommands: [List.self, Delete.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List data fields with their default, how many contacts have a value, and what uses them.")
            @OptionGroup var global: GlobalOptions
            @Flag(help: "Print JSON.") var json = false

            func run() throws {
                let uses = try Context(global).workspace(creating: false).contacts.fieldUses()
                if json { return try printJSON(uses.map(DataFieldJSON.init)) }
                if uses.isEmpty { return say("No data fields yet: a CSV import's header makes them.") }
                var table = TextTable("NAME", "KIND", "DEFAULT", "CONTACTS", "USED BY")
                for u in uses {
                    let usedBy = u.profile.map { "profile \(Display.quoted($0))" } ?? u.programs.map(Display.quoted).joined(separator: ", ")
                    table.add(u.field.name, u.field.isOptIn ? "opt-in" : "text", u.field.defaultValue, "\(u.contacts)", usedBy)
                }
                say(table.render())
                let text = uses.filter { !$0.field.isOptIn }.count
                say("\(text) of at most \(ContactService.maxFields) text fields.")
            }
        }

        struct Delete: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a text data field and every contact's value of it; refused while a program's message uses it.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The field's name.") var name: String
            @Flag(help: "Don't ask; delete.") var yes = false

            func run() throws {
                let contacts = try Context(global).workspace(creating: false).contacts
                guard let use = try contacts.fieldUse(named: name) else { throw DomainError("no data field named \(Display.quoted(name))") }
                // The refusals come before the question: nobody is asked to confirm what can't be done.
                if use.profile == nil && use.programs.isEmpty {
                    let what = "data field \(use.field.name) and its value for \(use.contacts) contact\(use.contacts == 1 ? "" : "s")"
                    try confirmDeletion(of: what, yes: yes)
                }
                let values = try contacts.deleteField(use.field.name)
                say("Deleted data field \(use.field.name) and \(values) value\(values == 1 ? "" : "s").")
            }
        }
    }

    /// R15: who is suppressed for which page, since when, and why.
    struct Suppressed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List contacts suppressed for a page (551, 200/1545041): runs skip them without asking Facebook.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this contact.") var email: String?
        @Option(help: ArgumentHelp("Only this page.", valueName: "PAGE-ID")) var page: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            let list = try workspace.suppressions.list(email: email, pageID: page)
            if json {
                return try printJSON(
                    list.map {
                        SuppressedJSON(
                            email: $0.email, page_id: $0.pageID, page: $0.pageName,
                            since: workspace.calendar.string(for: $0.since), code: $0.code)
                    })
            }
            if list.isEmpty { return say("No suppressed contacts.") }
            var table = TextTable("EMAIL", "PAGE", "SINCE", "CODE")
            for s in list { table.add(s.email, s.pageName, workspace.calendar.string(for: s.since), s.code) }
            say(table.render())
        }
    }

    struct Lift: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift a contact's suppression (for one page, or every page): the next run asks Facebook again.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The contact's email.") var email: String
        @Option(help: ArgumentHelp("Only this page.", valueName: "PAGE-ID")) var page: String?

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            let lifted = try workspace.suppressions.lift(email: email, pageID: page)
            say("Lifted \(lifted) suppression\(lifted == 1 ? "" : "s") of \(Display.quoted(email)): the next run asks Facebook again.")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import RFC 4180 CSV: a header with EMAIL and data field names; FBOPTIN_<CODE> columns set opt-ins.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The CSV file.") var file: String

        func run() throws {
            try InputFile.check(file)  // refused before the database is created or opened
            let workspace = try Context(global).workspace(creating: true)
            // On a terminal: rows, rows a second and the time left, from the bytes read so far.
            var progress: ((ImportProgress) -> Void)?
            if isatty(STDERR_FILENO) == 1 {
                let started = Date()
                progress = { p in
                    let seconds = max(0.001, Date().timeIntervalSince(started))
                    let left = p.bytes > 0 ? seconds * Double(p.totalBytes - p.bytes) / Double(p.bytes) : 0
                    FileHandle.standardError.write(
                        Data("\r\u{1B}[K\(p.rows) rows · \(Int(Double(p.rows) / seconds)) a second · \(Int(left.rounded())) s left".utf8))
                }
            }
            let r = try workspace.contacts.importCSV(file: file, progress: progress)
            if progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            var line =
                "Imported \(Display.count(r.created + r.updated, "contact")): \(r.created) new, \(r.updated) updated, \(Display.count(r.optInsSet, "opt-in value")) set."
            if !r.fieldsCreated.isEmpty { line += " New data fields: \(r.fieldsCreated.joined(separator: ", "))." }
            say(line)
        }
    }
}
