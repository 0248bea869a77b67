import ArgumentParser
import Foundation
import MessengerCore

struct ProgramsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "programs", abstract: "Programs and their Messenger node.",
        subcommands: [List.self, Create.self, Activate.self, Pause.self, Node.self, Run.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List programs with their node's profile and tag.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let programs = try Context(global).workspace(creating: false).programs.list()
            if json { return try printJSON(programs.map(ProgramJSON.init)) }
            if programs.isEmpty { return print("No programs yet: create one with `messenger-dash programs create NAME`.") }
            var table = TextTable("NAME", "STATUS", "PROFILE", "TAG", "ENROLLED")
            for p in programs { table.add(p.name, p.status.rawValue, p.profile ?? "-", p.tag ?? "-", "\(p.enrolled)") }
            print(table.render())
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a draft program.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var name: String

        func run() throws {
            let p = try Context(global).workspace(creating: true).programs.create(name: name)
            print("Created draft program \(Display.quoted(p.name)). Set its Messenger node with `programs node`.")
        }
    }

    struct Activate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Activate a program (its node needs an Enabled profile, a tag and a message).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var name: String

        func run() throws {
            try Context(global).workspace(creating: false).programs.activate(name: name)
            print("Activated \(Display.quoted(name)).")
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause an active program.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var name: String

        func run() throws {
            try Context(global).workspace(creating: false).programs.pause(name: name)
            print("Paused \(Display.quoted(name)).")
        }
    }

    struct Node: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the program's Messenger node: profile, tag and personalised message.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var program: String
        @Option(help: "An Enabled profile.") var profile: String
        @Option(help: "Confirmed_event_update, Post_purchase_update or Account_update.") var tag: String
        @Option(help: "The message; @FIELDNAME@ personalises it.") var message: String?
        @Option(help: "A file holding the message.") var messageFile: String?
        @Flag(help: "Save even if the policy check flags the message.") var confirmFlags = false

        func validate() throws {
            if (message == nil) == (messageFile == nil) { throw ValidationError("give exactly one of --message and --message-file") }
        }

        func run() throws {
            var text = message ?? ""
            if let messageFile {
                guard let s = String(data: try readInputFile(messageFile, limit: 1 << 20), encoding: .utf8) else {
                    throw DomainError("\(messageFile) is not UTF-8 text")
                }
                text = s.hasSuffix("\n") ? String(s.dropLast()) : s
            }
            let check = try Context(global).workspace(creating: false).programs.setNode(
                program: program, profile: profile, tag: tag, message: text, acceptFlags: confirmFlags)
            print("Saved the Messenger node of \(Display.quoted(program)): \(check.templateLength) characters (\(check.previewLength) with default values).")
            if !check.flags.isEmpty { print("Saved despite policy flags: \(ProgramService.describe(check.flags)).") }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enrol contacts and move them through the Messenger node now; resumes a killed run.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var program: String
        @Flag(help: "Enrol every contact again, as a new enrolment.") var reenrol = false

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            let verbose = isatty(STDERR_FILENO) == 1
            var progress: (@Sendable (RunProgress) -> Void)?
            if verbose { progress = { p in FileHandle.standardError.write(Data("\r\u{1B}[K\(p.done)/\(p.total) contacts".utf8)) } }
            let s = try ProgramRunner(workspace: workspace).run(program: program, reenrol: reenrol, progress: progress)
            if verbose { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            print("Enrolled \(s.enrolled); processed \(s.processed): \(s.sent) sent, \(s.warned) not sent.")
            for r in s.warnings { print("  \(String(r.count).leftPad(7))  \(r.reason)") }
            if s.recovered > 0 { print("Recovered \(s.recovered) send\(s.recovered == 1 ? "" : "s") left by an interrupted run (marked unknown, not resent).") }
            if let stop = s.stoppedBecause { throw DomainError("run stopped: \(stop)") }
        }
    }
}
