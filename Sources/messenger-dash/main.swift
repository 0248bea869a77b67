import ArgumentParser
import Foundation
import MessengerCore

// Files this tool creates (database, exports) are private to the user.
umask(0o077)
// Every command may read the page tokens the database holds: no core dumps of them (#26).
ProcessSafety.becomeNonDumpable()

// `help WORD…` for a command that isn't there is bad usage, not the top help with exit 0 (#27).
if let problem = HelpPath.problem(Array(CommandLine.arguments.dropFirst())) {
    printError("messenger-dash: \(problem)")
    exit(2)
}

do {
    var command = try MessengerDash.parseAsRoot()
    try command.run()
} catch let error as DomainError {
    printError("messenger-dash: \(error.message)")
    exit(1)
} catch {
    let code = MessengerDash.exitCode(for: error)
    if code == .success {
        say(MessengerDash.fullMessage(for: error))
        exit(0)
    }
    printError(MessengerDash.fullMessage(for: error))
    // Bad usage is 2 (README, "Command line"); ArgumentParser's own default is 64.
    exit(code == .validationFailure ? 2 : code.rawValue)
}
