import ArgumentParser
import MessengerCore

/// `messenger-dash help WORD…`: ArgumentParser prints the top help, with exit 0, for a word that
/// names no command; this finds that word first.
enum HelpPath {
    static func problem(_ arguments: [String]) -> String? {
        guard arguments.first == "help" else { return nil }
        var subcommands: [ParsableCommand.Type] = MessengerDash.configuration.subcommands
        for word in arguments.dropFirst() where !word.hasPrefix("-") {
            var found: ParsableCommand.Type?
            for command in subcommands where name(of: command) == word { found = command }
            guard let next = found else {
                let names = subcommands.map { name(of: $0) }.joined(separator: ", ")
                return "no command \(Display.quoted(word)) here; the commands are: \(names)"
            }
            subcommands = next.configuration.subcommands
        }
        return nil
    }

    private static func name(of command: ParsableCommand.Type) -> String {
        command.configuration.commandName ?? String(describing: command).lowercased()
    }
}
