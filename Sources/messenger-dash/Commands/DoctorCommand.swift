import ArgumentParser
import Foundation
import MessengerCore

/// `messenger-dash doctor [--json]`: what is wrong with the connection to Meta, one line per
/// problem with the command that fixes it; exit 0 when all is well, 1 otherwise.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the Meta app's settings, the Graph version and each profile's page: token, permissions, webhooks, receipts.",
        discussion: "Exit status 0 when all is well, 1 when something needs fixing (each line says how).")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    struct FindingJSON: Encodable {
        let subject: String
        let check: String
        let ok: Bool
        let text: String
        @KeepNull var fix: String?
    }

    struct ReportJSON: Encodable {
        let healthy: Bool
        let findings: [FindingJSON]
    }

    func run() throws {
        let context = try Context(global)
        let workspace = try context.workspace(creating: false)
        let app: Result<AppCredentials, DomainError> = Result { try context.credentials() }.mapError {
            ($0 as? DomainError) ?? DomainError("\($0)")
        }
        var inspector: (any PageTokenInspector)?
        if context.settings.facebook == .graph, let credentials = try? app.get() {
            var config = try context.graphConfig
            config.appSecret = credentials.appSecret
            inspector = GraphAccount(config: config, app: credentials)
        }
        let findings = try workspace.doctor.run(settings: context.settings, app: app, inspector: inspector)
        let healthy = findings.allSatisfy(\.ok)
        if json {
            try printJSON(
                ReportJSON(
                    healthy: healthy,
                    findings: findings.map {
                        FindingJSON(subject: $0.subject, check: $0.check, ok: $0.ok, text: $0.text, fix: $0.fix)
                    }))
        } else {
            for f in findings {
                say("\(f.ok ? "✓" : "✗") \(f.subject) · \(f.check): \(f.text)" + (f.fix.map { " — fix: \($0)" } ?? ""))
            }
            let problems = findings.filter { !$0.ok }.count
            say(problems == 0 ? "All is well." : "\(problems) problem\(problems == 1 ? "" : "s").")
        }
        if !healthy { throw ExitCode(1) }
    }
}
