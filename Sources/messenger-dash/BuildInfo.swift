import Foundation

/// Where this binary is and which commit it was built from.
enum BuildInfo {
    /// The running binary, wherever it was started from (a bare name found on PATH included).
    static var executable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    }

    /// `git describe` of the build, written by `make` beside the binary (a build folder) or into
    /// `share/messenger-dash/VERSION` (an install); "unknown" for a binary built otherwise.
    static var version: String {
        let dir = executable.deletingLastPathComponent()
        for candidate in [
            dir.appendingPathComponent("VERSION"), dir.appendingPathComponent("../share/messenger-dash/VERSION").standardized,
        ] {
            if let data = FileManager.default.contents(atPath: candidate.path), data.count < 200,
                let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty,
                text.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 0x21 })
            {
                return text
            }
        }
        return "unknown (built without make)"
    }
}
