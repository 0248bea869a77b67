import ArgumentParser
import Foundation
import MessengerCore

/// `messenger-dash login`: Facebook Login for Devices, then the pages the person can link, with
/// tokens that last (`GraphConnect`). Pasting a token stays the other way in (`pages connect`).
struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to Facebook from the terminal (a code to enter on your phone) and store the pages you can link.",
        discussion: """
            Shows an address and a code; enter the code there, logged in to Facebook as a person with a role on the pages.
            It polls until you have, the code expires, or Ctrl-C. Needs the app's client token (client_token_file in
            config.toml; Meta's App Dashboard: App settings › Advanced › Security) and, for tokens that never expire,
            its secret (app_secret_file). In the sandbox it logs in at once with the stored pages.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "A file holding the app's client token (default: client_token_file in config.toml, MESSENGER_DASH_CLIENT_TOKEN_FILE).")
    var clientTokenFile: String?
    @Option(help: "A file holding the app's secret (default: app_secret_file in config.toml, MESSENGER_DASH_APP_SECRET_FILE).")
    var appSecretFile: String?
    @Flag(help: "Store the pages even when the token is short-lived (their tokens then stop within the hour).")
    var shortLivedOk = false

    func run() throws {
        let context = try Context(global)
        let workspace = try context.workspace(creating: true)
        let (cancel, interrupts) = Cancellation.onInterrupt()
        defer { interrupts.cancel() }
        let show: (DeviceCode) -> Void = { code in
            // Written at once (not buffered), so a script reading a pipe sees the code while this waits.
            let text =
                "To log in, open \(code.verificationURI) and enter the code \(code.userCode)\n"
                + "(or open \(code.directLink)). Waiting… Ctrl-C cancels.\n"
            FileHandle.standardOutput.write(Data(terminalSafe(text).utf8))
        }
        let wait: (Double) -> Bool = { seconds in cancel.wait(seconds) }
        switch context.settings.facebook {
        case .sandbox:
            guard try DeviceLoginFlow.run(SandboxDeviceLogin(), show: show, wait: { _ in !cancel.isSet }) != nil else {
                throw DomainError("cancelled: nothing was connected")
            }
            let pages = try workspace.pages.list()
            say("Logged in (sandbox). \(pages.count) page\(pages.count == 1 ? "" : "s") stored; `pages list` shows them.")
        case .graph:
            let app = try context.credentials(appSecretFile: appSecretFile, clientTokenFile: clientTokenFile)
            var config = try context.graphConfig
            config.appSecret = app.appSecret
            guard let login = try DeviceLoginFlow.run(try GraphDeviceLogin(config: config, app: app), show: show, wait: wait) else {
                throw DomainError("cancelled: nothing was connected")
            }
            let outcome = try GraphConnect.connect(
                userToken: login.token, via: "device login", config: config, app: app, shortLivedOK: shortLivedOk,
                calendar: workspace.calendar)
            var connection = outcome.connection
            connection.dataAccessExpiresAt = connection.dataAccessExpiresAt ?? login.dataAccessExpiresAt
            try workspace.pages.store(outcome.pages, connection: connection)
            for note in outcome.notes { printError(note) }
            say("Logged in. Stored \(outcome.pages.count) page\(outcome.pages.count == 1 ? "" : "s") (\(connection.lifetime) tokens):")
            for page in outcome.pages {
                say("  \(page.id)  \(page.name)" + (page.eligibility.reason.map { " (can't link: \($0))" } ?? ""))
            }
        }
    }
}

/// Ctrl-C while waiting: the wait ends and the command says it was cancelled, changing nothing.
enum Cancellation {
    /// A flag that SIGINT sets, and the signal source that sets it (kept for as long as the wait).
    static func onInterrupt() -> (flag: CancelFlag, source: any DispatchSourceSignal) {
        let flag = CancelFlag()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { flag.set() }
        source.resume()
        return (flag, source)
    }
}
