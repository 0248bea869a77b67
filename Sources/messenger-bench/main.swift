import Dashboard
import Foundation
import MessengerCore
import TerminalKit

// `make bench`: frame timings of the real screens flushed through ncurses (to /dev/null), printed
// as a table and written as JSON under bench/results/ with the machine's core count and commit.
// Medians and worst cases; the machines are noisy, so compare runs, not single numbers.

func measure(_ iterations: Int, _ body: () -> Void) -> (median: Double, worst: Double) {
    var samples: [Double] = []
    samples.reserveCapacity(iterations)
    for _ in 0..<iterations {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
    }
    samples.sort()
    return (samples[samples.count / 2], samples[samples.count - 1])
}

let arguments = CommandLine.arguments
let contacts = arguments.firstIndex(of: "--contacts").flatMap { Int(arguments[$0 + 1]) } ?? 2_000
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("messenger-bench-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let database = try AppDatabase(path: folder.appendingPathComponent("bench.db").path, mode: .createIfMissing)
let calendar = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
let now = Int64(Date().timeIntervalSince1970 * 1000)
_ = try Demo.build(database: database, calendar: calendar, appID: "1", now: now, options: DemoOptions(contacts: contacts, seed: 1))
let workspace = Workspace(database: database, clock: FixedClock(millis: now), calendar: calendar)

setenv("COLUMNS", "200", 1)
setenv("LINES", "60", 1)
let terminal = CursesTerminal(environment: ["TERM": "xterm-256color"], outputPath: "/dev/null")
var state = AppState(theme: Theme.fallback.reduced(to: terminal.colorDepth), width: 200, height: 60)
_ = App.update(&state, .profilesLoaded(try workspace.profiles.list()))

var rows: [(String, Double, Double)] = []
let view = measure(500) { _ = App.view(state) }
rows.append(("view: Profiles screen into a 200x60 buffer", view.median, view.worst))
let frame = App.view(state)
let full = measure(500) { terminal.invalidate(); terminal.draw(frame) }
rows.append(("flush: full 200x60 frame through ncurses", full.median, full.worst))
var changed = frame
changed.write(String(repeating: "x", count: 200), x: 0, y: 30, style: .plain)
let diffOnly = measure(500) { _ = changed.diff(from: frame) }
rows.append(("diff: one row changed (no ncurses)", diffOnly.median, diffOnly.worst))
var flip = false
let oneRow = measure(500) { flip.toggle(); terminal.draw(flip ? changed : frame) }
rows.append(("flush: one row changed", oneRow.median, oneRow.worst))
var keyState = state
let keys = measure(1_000) {
    _ = App.update(&keyState, .key(.char("j")))
    terminal.draw(App.view(keyState))
}
rows.append(("key j → flushed frame, Profiles 200x60", keys.median, keys.worst))
terminal.restore()

let commit = (try? String(contentsOfFile: ".git/HEAD", encoding: .utf8)).map { head -> String in
    let ref = head.trimmingCharacters(in: .whitespacesAndNewlines)
    guard ref.hasPrefix("ref: ") else { return ref }
    return (try? String(contentsOfFile: ".git/" + ref.dropFirst(5), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
} ?? "unknown"
print("messenger-dash bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, commit \(commit.prefix(10)), demo of \(contacts) contacts")
print("measure".padding(toLength: 46, withPad: " ", startingAt: 0) + "  median ms   worst ms")
for (name, median, worst) in rows {
    print(name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(format: "  %9.3f  %9.3f", median, worst))
}
let json: [String: Any] = [
    "cores": ProcessInfo.processInfo.activeProcessorCount, "commit": commit, "contacts": contacts,
    "date": ISO8601DateFormatter().string(from: Date()),
    "results": rows.map { ["measure": $0.0, "median_ms": $0.1, "worst_ms": $0.2] },
]
let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
let out = "bench/results/frames-\(commit.prefix(10)).json"
try? FileManager.default.createDirectory(atPath: "bench/results", withIntermediateDirectories: true)
if FileManager.default.createFile(atPath: out, contents: data) { print("wrote \(out)") }
