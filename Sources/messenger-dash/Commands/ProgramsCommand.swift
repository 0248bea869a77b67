import ArgumentParser
import Foundation
import MessengerCore

struct ProgramsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "programs", abstract: "Programs and their Messenger node.",
        subcommands: [
            List.self, Show.self, Create.self, Activate.self, Pause.self, Node.self, Convert.self, Templates.self, Run.self, Retry.self,
            Schedule.self,
        ])

    struct Schedule: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a program by itself under `messenger-dash serve`: daily at a time, or every so often.",
            discussion: """
                --daily HH:MM is in the account's time zone (timezone in config.toml); --every takes 15m, 1h, 1h30m or 1d (at
                least 1m), the first run one interval after it is set. Only `serve` runs schedules, and only active programs.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program.") var program: String
        @Option(help: ArgumentHelp("Every day at this time, HH:MM in the account's time zone.", valueName: "HH:MM")) var daily: String?
        @Option(help: ArgumentHelp("Every DURATION: 15m, 1h, 1h30m, 1d; at least 1m.", valueName: "DURATION")) var every: String?
        @Flag(help: "No schedule: only a person or `programs run` runs it.") var off = false

        func validate() throws {
            guard [daily != nil, every != nil, off].filter({ $0 }).count == 1 else {
                throw ValidationError("give one of --daily HH:MM, --every DURATION or --off")
            }
        }

        func run() throws {
            let context = try Context(global)
            let schedule = try daily.map(ProgramSchedule.daily) ?? every.map(ProgramSchedule.every)
            let workspace = try context.workspace(creating: false)
            guard let set = try workspace.schedules.set(program: program, schedule) else {
                return say("\(Display.quoted(program)) no longer runs on a schedule.")
            }
            say(
                "\(Display.quoted(set.program)) runs \(set.schedule) (\(workspace.calendar.timeZone.identifier)); next at \(workspace.calendar.timestamp(ofMillis: set.nextAt)). `messenger-dash serve` runs it."
            )
            if try workspace.programs.summary(named: set.program).status != .active {
                printError(
                    "note: \(Display.quoted(set.program)) is not active: scheduled runs skip it until `messenger-dash programs activate`.")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List programs with their node's profile and tag.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            let programs = try workspace.programs.list()
            if json { return try printJSON(programs.map { ProgramJSON($0, calendar: workspace.calendar) }) }
            if programs.isEmpty { return say("No programs yet: create one with `messenger-dash programs create NAME`.") }
            var table = TextTable("NAME", "STATUS", "PROFILE", "SENDS AS", "ENROLLED", "SCHEDULE")
            for p in programs {
                table.add(p.name, p.status.rawValue, p.profile ?? "-", p.sendsAs, "\(p.enrolled)", p.schedule.map { "\($0)" } ?? "-")
            }
            say(table.render())
            let retired = programs.filter { $0.tagRetired != nil }
            if !retired.isEmpty {
                say(
                    "⚑ Meta retired the message tags on \(TagRetirement.date); convert with `messenger-dash programs convert NAME`: "
                        + retired.map { Display.quoted($0.name) }.joined(separator: ", "))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a program's Messenger node: how it sends (tag or utility template) and the template's review.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let p = try Context(global).workspace(creating: false).programs.summary(named: name)
            if json { return try printJSON(ProgramDetailJSON(p)) }
            var lines = [
                "Program:  \(Display.safe(p.name))", "Status:   \(p.status.rawValue)",
                "Profile:  \(p.profile.map { Display.safe($0) } ?? "-")",
                "Sends as: \(Display.safe(p.sendsAs))",
            ]
            if let retired = p.tagRetired {
                lines.append(
                    "⚑ Tag \(p.tag ?? "") \(retired) by Meta: convert with `messenger-dash programs convert \(Display.safe(p.name))`.")
            }
            if let t = p.latestTemplate {
                lines.append("Template: \(Display.safe(t.described)) · \(t.language) · version \(t.version)")
                if let s = p.sendingTemplate, s.version != t.version {
                    lines.append("Sending meanwhile: \(s.name) (version \(s.version), approved)")
                }
            }
            lines.append("Message:")
            lines += p.message.split(separator: "\n", omittingEmptySubsequences: false).map {
                "  " + Display.safe(String($0), limit: 2_000)
            }
            say(lines.joined(separator: "\n"))
        }
    }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Turn a tagged Messenger node into a utility template, keeping its profile and text (Meta retired the tags on 2026-04-27).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var program: String
        @Option(help: "The template's language code.") var language = "en_US"
        @Flag(help: "Submit even if the local check predicts Meta's rejection.") var confirmFlags = false

        func run() throws {
            let result = try Context(global).workspace(creating: false).programs.convert(
                program: program, language: language, acceptFlags: confirmFlags)
            printTemplateResult(result, program: program)
        }
    }

    struct Templates: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Utility message templates.", subcommands: [Refresh.self])

        struct Refresh: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Ask Facebook for the review of pending templates (of one program, or all).")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "A program's name (default: every program).") var program: String?

            func run() throws {
                let result = try Context(global).workspace(creating: false).messageTemplates.refresh(program: program)
                say("Asked about \(result.asked) pending template\(result.asked == 1 ? "" : "s"); \(result.changes.count) changed.")
                for c in result.changes {
                    say(
                        "  \(Display.safe(c.program)): \(c.template) \(c.from.rawValue) → \(c.to.rawValue)"
                            + (c.reason.map { " (\(Display.safe(UtilityRules.explain($0))))" } ?? ""))
                }
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a draft program.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var name: String

        func run() throws {
            let p = try Context(global).workspace(creating: true).programs.create(name: name)
            say("Created draft program \(Display.quoted(p.name)). Set its Messenger node with `programs node`.")
        }
    }

    struct Activate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Activate a program (its node needs an Enabled profile, a tag and a message).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var name: String

        func run() throws {
            try Context(global).workspace(creating: false).programs.activate(name: name)
            say("Activated \(Display.quoted(name)).")
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause an active program.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var name: String

        func run() throws {
            try Context(global).workspace(creating: false).programs.pause(name: name)
            say("Paused \(Display.quoted(name)).")
        }
    }

    struct Node: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the program's Messenger node: profile, utility template (or, before 2026-04-27, a tag) and personalised message."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var program: String
        @Option(help: "An Enabled profile.") var profile: String
        @Flag(help: "Send as a utility message template (submitted to Meta for review).") var utility = false
        @Option(help: "The utility template's language code.") var language: String?
        @Option(help: "Confirmed_event_update, Post_purchase_update or Account_update (retired by Meta on 2026-04-27).") var tag: String?
        @Option(help: "The message; @FIELDNAME@ personalises it.") var message: String?
        @Option(help: "A file holding the message.") var messageFile: String?
        @Flag(help: "Save even if the policy check flags the message.") var confirmFlags = false

        func validate() throws {
            if (message == nil) == (messageFile == nil) { throw ValidationError("give exactly one of --message and --message-file") }
            if utility == (tag != nil) { throw ValidationError("give exactly one of --utility and --tag") }
            if language != nil && !utility { throw ValidationError("--language goes with --utility") }
        }

        func run() throws {
            var text = message ?? ""
            if let messageFile {
                guard let s = String(data: try readInputFile(messageFile, limit: 1 << 20), encoding: .utf8) else {
                    throw DomainError("\(messageFile) is not UTF-8 text")
                }
                text = s.hasSuffix("\n") ? String(s.dropLast()) : s
            }
            let programs = try Context(global).workspace(creating: false).programs
            guard let tag else {
                let result = try programs.setUtilityNode(
                    program: program, profile: profile, language: language ?? "en_US",
                    message: text, acceptFlags: confirmFlags)
                return printTemplateResult(result, program: program)
            }
            let check = try programs.setNode(program: program, profile: profile, tag: tag, message: text, acceptFlags: confirmFlags)
            say(
                "Saved the Messenger node of \(Display.quoted(program)): \(check.templateLength) characters (\(check.previewLength) with default values)."
            )
            if !check.flags.isEmpty { say("Saved despite policy flags: \(ProgramService.describe(check.flags)).") }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Enrol contacts and move them through the Messenger node now; resumes a killed run. --all runs every active program at once, each page at its own limit."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var program: String?
        @Flag(help: "Run every active program, pages in parallel.") var all = false
        @Flag(help: "Enrol every contact again, as a new enrolment.") var reenrol = false

        func validate() throws {
            if (program == nil) == !all { throw ValidationError("give a program's name or --all") }
        }

        func run() throws {
            let workspace = try Context(global).workspace(creating: false)
            guard all else { return try runOne(program!, workspace: workspace) }
            let programs = try workspace.programs.list().filter { $0.status == .active }.map(\.name)
            if programs.isEmpty { return say("No active programs to run.") }
            // One thread a program: each page goes at its own limit (the transport keeps a limiter
            // and an in-flight gate per page, shared by programs on the same page).
            let outcomes = Outcomes()
            let group = DispatchGroup()
            for name in programs {
                group.enter()
                let reenrol = self.reenrol
                Thread.detachNewThread {
                    defer { group.leave() }
                    outcomes.add(name, Result { try ProgramRunner(workspace: workspace).run(program: name, reenrol: reenrol) })
                }
            }
            group.wait()
            var failed = 0
            for (name, outcome) in outcomes.all.sorted(by: { $0.0 < $1.0 }) {
                switch outcome {
                case .success(let s):
                    say("\(name): \(s.headline)" + (s.stoppedBecause.map { " Stopped: \($0)" } ?? ""))
                    if s.stoppedBecause != nil { failed += 1 }
                case .failure(let error):
                    say("\(name): not run: \((error as? DomainError)?.message ?? "\(error)")")
                    failed += 1
                }
            }
            compactAfterRun(workspace)
            if failed > 0 { throw DomainError("\(failed) of \(programs.count) programs did not run to the end") }
        }

        final class Outcomes: @unchecked Sendable {
            private let lock = NSLock()
            private var outcomes: [(String, Result<RunSummary, any Error>)] = []
            func add(_ name: String, _ outcome: Result<RunSummary, any Error>) {
                lock.lock()
                outcomes.append((name, outcome))
                lock.unlock()
            }
            var all: [(String, Result<RunSummary, any Error>)] {
                lock.lock()
                defer { lock.unlock() }
                return outcomes
            }
        }

        func runOne(_ program: String, workspace: Workspace) throws {
            let verbose = isatty(STDERR_FILENO) == 1
            var progress: (@Sendable (RunProgress) -> Void)?
            if verbose { progress = { p in FileHandle.standardError.write(Data("\r\u{1B}[K\(p.done)/\(p.total) contacts".utf8)) } }
            let s = try ProgramRunner(workspace: workspace).run(program: program, reenrol: reenrol, progress: progress)
            if verbose { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            say(s.headline)
            for r in s.warnings { say("  \(String(r.count).leftPad(7))  \(r.reason)") }
            if let recovery = s.recoveryLine { say(recovery) }
            compactAfterRun(workspace)
            if let stop = s.stoppedBecause { throw DomainError("run stopped: \(stop)") }
        }
    }
}

extension ProgramsCommand {
    /// R16: a day's retryable warnings sent again, counted once in that day's statistics.
    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Send a day's retryable warnings again: rate limits (613, 4), temporary failures (2, 1200), no answer, unknown outcomes.",
            discussion: """
                The day's statistics count each contact once: a retried warning becomes what Facebook answers now, \
                and the first attempt stays in the contact's history. Contacts suppressed for the page (551) are not retried. \
                An unknown outcome may have reached the person already: retrying it can send twice.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The program's name.") var program: String
        @Option(help: ArgumentHelp("The day of the warnings, YYYY-MM-DD in the account's time zone.", valueName: "DAY")) var date: String
        @Option(help: ArgumentHelp("Only this reason: 613, 4, 2, 1200, no-answer (-1) or unknown.", valueName: "CODE")) var reason: String?

        func validate() throws {
            if let problem = AccountCalendar.dayProblem(date) { throw ValidationError("--date \(problem)") }
        }

        func run() throws {
            let reason = try self.reason.map(RetryReason.init(parsing:))
            let workspace = try Context(global).workspace(creating: false)
            let day = workspace.calendar.parseDay(date)!
            guard day <= workspace.today else { throw DomainError("--date \(date) is in the future") }
            let retries = workspace.retries
            let waiting = try retries.retryable(program: program, day: day, reason: reason)
            guard waiting > 0 else {
                return say("Nothing to retry for \(Display.quoted(program)) on \(date)" + (reason.map { " with reason \($0)" } ?? "") + ".")
            }
            let verbose = isatty(STDERR_FILENO) == 1
            var progress: (@Sendable (RunProgress) -> Void)?
            if verbose { progress = { p in FileHandle.standardError.write(Data("\r\u{1B}[K\(p.done)/\(p.total) retried".utf8)) } }
            let s = try retries.retry(program: program, day: day, reason: reason, progress: progress)
            if verbose { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            say(
                "Retried \(s.retried) on \(date): \(s.sent) sent, \(Display.count(s.warned, "warning"))."
                    + (s.wereUnknown > 0 ? " \(s.wereUnknown) had an unknown outcome and may have reached the person twice." : ""))
            for r in s.warnings { say("  \(String(r.count).leftPad(7))  \(r.reason)") }
            if let stop = s.stoppedBecause { throw DomainError("retry stopped: \(stop)") }
        }
    }
}

/// What saving a utility node did, in a few lines: the version submitted, its review, and which
/// version sends while a new one waits.
func printTemplateResult(_ result: UtilityNodeResult, program: String) {
    let check = result.check
    say(
        "Saved the Messenger node of \(Display.quoted(program)) as a utility template: \(check.templateLength) characters (\(check.previewLength) with default values)."
    )
    if let latest = result.latest {
        say(
            (result.submitted ? "Submitted " : "Unchanged: ") + Display.safe(latest.described)
                + " (\(latest.language), version \(latest.version)).")
        if latest.status != .approved {
            if let sending = result.sending, sending.version != latest.version {
                say("Version \(sending.version) (\(sending.name)) sends until version \(latest.version) is approved.")
            } else if latest.status == .pending {
                say("Nothing sends until Meta approves it: `messenger-dash programs templates refresh \(Display.safe(program))`.")
            } else {
                say("Nothing sends with it: change the message and save again.")
            }
        }
    }
    if !check.flags.isEmpty { say("Saved despite flags: \(ProgramService.describe(check.flags)).") }
}
