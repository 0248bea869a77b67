import ArgumentParser
import Foundation
import MessengerCore
import WebhookServer

struct OptinsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optins", abstract: "Opt-ins from messaging_optins webhook payloads.", subcommands: [Ingest.self])

    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest JSON lines, one webhook POST body a line; a malformed line refuses the file.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The JSON-lines file.") var file: String

        func run() throws {
            try InputFile.check(file)  // refused before the database is opened
            let r = try Context(global).workspace(creating: false).optIns.ingest(file: file)
            var line = "Opted in \(r.optedIn) contact\(r.optedIn == 1 ? "" : "s") (\(r.unchanged) already were)."
            if r.linked > 0 {
                line += " \(r.linked) checkbox opt-in\(r.linked == 1 ? "" : "s") now ha\(r.linked == 1 ? "s" : "ve") a PSID."
            }
            if let first = r.unknownContacts.first {
                line +=
                    " Skipped \(r.unknownContactCount) opt-in\(r.unknownContactCount == 1 ? "" : "s") for unknown contacts (first: \(Display.quoted(first)))."
            }
            if r.otherEvents > 0 { line += " Ignored \(r.otherEvents) event\(r.otherEvents == 1 ? "" : "s") that are not opt-ins." }
            say(line)
        }
    }
}

struct ReceiptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipts", abstract: "Delivery and read receipts from webhook payloads.", subcommands: [Ingest.self])

    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest message_deliveries / message_reads JSON lines; ingesting twice changes nothing.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The JSON-lines file.") var file: String

        func run() throws {
            try InputFile.check(file)  // refused before the database is opened
            let r = try Context(global).workspace(creating: false).receipts.ingest(file: file)
            var line = "Marked \(r.delivered) message\(r.delivered == 1 ? "" : "s") delivered and \(r.read) read."
            if r.otherEvents > 0 { line += " Ignored \(r.otherEvents) event\(r.otherEvents == 1 ? "" : "s") that are not receipts." }
            say(line)
        }
    }
}
