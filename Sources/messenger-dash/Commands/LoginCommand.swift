import ArgumentParser
import Foundation
import MessengerCore
import TerminalKit

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
        // The database is opened (and made, on a new path) only once the person has logged in:
        // a cancelled or refused login leaves no empty database behind.
        let (cancel, interrupts) = Cancellation.onInterrupt()
        defer { interrupts.cancel() }
        // On a terminal, Esc cancels too (its keys are read unbuffered while this waits).
        let escape = isatty(STDIN_FILENO) == 1 ? EscapeKey(cancelling: cancel) : nil
        defer { escape?.stop() }
        let onTerminal = isatty(STDOUT_FILENO) == 1
        let colour = (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let show: (DeviceCode) -> Void = { code in
            // A phone can scan the code's link; only on a terminal with colour (drawn black on white:
            // in the terminal's own colours a dark theme shows it inverted).
            var text = ""
            if onTerminal, colour, let qr = QRCode(code.directLink) {
                text += qr.ansiLines.joined(separator: "\n") + "\n"
            }
            text +=
                terminalSafe("To log in, open \(code.verificationURI) and enter the code \(code.userCode)\n")
                + terminalSafe("(or open \(code.directLink)\(onTerminal ? ", or scan the code above" : "")).\n")
                + "Waiting… \(escape == nil ? "Ctrl-C" : "Esc or Ctrl-C") cancels.\n"
            // Written at once (not buffered), so a script reading a pipe sees the code while this waits.
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let wait: (Double) -> Bool = { seconds in cancel.wait(seconds) }
        switch context.settings.facebook {
        case .sandbox:
            guard try DeviceLoginFlow.run(SandboxDeviceLogin(), show: show, wait: { _ in !cancel.isSet }) != nil else {
                throw DomainError("cancelled: nothing was connected")
            }
            let pages = try context.workspace(creating: true).pages.list()
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
                calendar: AccountCalendar(timeZone: context.settings.timeZone))
            let workspace = try context.workspace(creating: true)
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

/// Esc while `login` waits on a terminal: stdin goes out of canonical mode (no echo, keys one by
/// one; Ctrl-C still signals) and a thread watches it. A lone Esc cancels; the Esc that starts an
/// arrow key's sequence (more bytes at once) doesn't. The terminal's settings come back on `stop`.
final class EscapeKey: @unchecked Sendable {
    private let saved: termios
    private let done = CancelFlag()
    private let finished = DispatchSemaphore(value: 0)

    init?(cancelling flag: CancelFlag) {
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return nil }
        saved = settings
        settings.c_lflag &= ~tcflag_t(ICANON | ECHO)
        guard tcsetattr(STDIN_FILENO, TCSANOW, &settings) == 0 else { return nil }
        let done = self.done
        let finished = self.finished
        Thread.detachNewThread {
            defer { finished.signal() }
            var afterEscape = false
            while !done.isSet, !flag.isSet {
                var fd = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
                // 50 ms: the bytes after an Esc that starts a sequence come within it.
                let ready = poll(&fd, 1, 50)
                if ready < 0 && errno == EINTR { continue }
                if ready <= 0 {
                    if afterEscape { flag.set() }
                    continue
                }
                var byte: UInt8 = 0
                guard read(STDIN_FILENO, &byte, 1) == 1 else { return }
                if afterEscape {
                    afterEscape = false  // a sequence: an arrow or function key, not Esc
                    while poll(&fd, 1, 0) > 0, read(STDIN_FILENO, &byte, 1) == 1 {}
                } else if byte == 0x1B {
                    afterEscape = true
                }
            }
        }
    }

    func stop() {
        done.set()
        finished.wait()
        var settings = saved
        tcsetattr(STDIN_FILENO, TCSANOW, &settings)
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
