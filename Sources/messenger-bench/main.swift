import Dashboard
import Foundation
import MessengerCore
import TerminalKit

// `make bench`: the dashboard's figures on a demo database, printed as a table and written as
// JSON under bench/results/ with the machine's core count and the commit. Medians and worst
// cases; the machines are noisy, so compare runs, not single numbers.
//
//   messenger-bench [--contacts N] [--db PATH]
//
// With --db, an existing database is reused (and built there first when missing), so a
// 1,000,000-contact demo is built once and the memory figure is the browsing process's own.

func measure(_ iterations: Int, _ body: () throws -> Void) rethrows -> (median: Double, worst: Double) {
    var samples: [Double] = []
    samples.reserveCapacity(iterations)
    for _ in 0..<iterations {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
    }
    samples.sort()
    return (samples[samples.count / 2], samples[samples.count - 1])
}

func peakResidentMB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024 // kilobytes on Linux
}

let arguments = CommandLine.arguments
func option(_ name: String) -> String? { arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } }
let contacts = option("--contacts").flatMap(Int.init) ?? 10_000
let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("messenger-bench-\(getpid())")
let path = option("--db") ?? temporary.appendingPathComponent("bench.db").path
try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: temporary) }

let calendar = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
let now = Int64(Date().timeIntervalSince1970 * 1000)
var rows: [(String, Double, Double, String)] = []
let reused = FileManager.default.fileExists(atPath: path)
let database = try AppDatabase(path: path, mode: .createIfMissing)
if !reused {
    let start = Date()
    let summary = try Demo.build(database: database, calendar: calendar, appID: "1", now: now, options: DemoOptions(contacts: contacts, seed: 1))
    let seconds = Date().timeIntervalSince(start)
    let reached = summary.sent + summary.warned
    rows.append(("demo: \(contacts) contacts, 7 days through the pipeline", seconds * 1000, seconds * 1000, "\(reached) node visits, \(Int(Double(reached) / seconds)) a second"))
}
let workspace = Workspace(database: database, clock: SystemClock(), calendar: calendar)
let profile = Demo.mainProfile
let today = workspace.today

// Database time of what each screen loads.
let page = try measure(200) { _ = try workspace.profiles.details(named: profile); _ = try workspace.stats.details(profile: profile) }
rows.append(("db: profile page (details + 7 days)", page.median, page.worst, "target ≤ 5 ms"))
for filter in StatsFilter.allCases {
    let t = try measure(200) { _ = try workspace.stats.details(profile: profile, filter: filter) }
    rows.append(("db: details, filter \(filter.rawValue)", t.median, t.worst, "target ≤ 5 ms"))
}
let list = try measure(200) { _ = try workspace.profiles.list() }
rows.append(("db: profiles list", list.median, list.worst, ""))
// Pages of 50 of the day's sent contacts: the first, one in the middle, the last.
var cursor: ContactCursor?
var pages = 0
var middle: ContactCursor?
let totalSent = try workspace.stats.details(profile: profile, range: today...today).days[0].sent
repeat {
    let p = try workspace.stats.contacts(profile: profile, kind: .sent, day: today, page: cursor.map { .after($0) } ?? .first, limit: 1_000)
    pages += 1
    cursor = p.next
    if pages * 1_000 >= totalSent / 2, middle == nil { middle = cursor }
} while cursor != nil
for (name, request) in [("first", ContactPageRequest.first), ("middle", middle.map { .after($0) } ?? .first), ("last", .last)] {
    let t = try measure(300) { _ = try workspace.stats.contacts(profile: profile, kind: .sent, day: today, page: request, limit: 50) }
    rows.append(("db: contacts page of 50, \(name) (of \(totalSent))", t.median, t.worst, "target ≤ 2 ms"))
}

// Keypress → flushed frame at 200x60 through ncurses (to /dev/null), database work included.
setenv("COLUMNS", "200", 1)
setenv("LINES", "60", 1)
let terminal = CursesTerminal(environment: ["TERM": "xterm-256color"], outputPath: "/dev/null")
let runtime = Runtime(workspace: workspace, terminal: terminal, themeName: "default", themeFolders: [], synchronousEffects: true)
// The frame itself: a full 200x60 frame written through ncurses, and one where a row changed.
do {
    var frameState = AppState(theme: Theme.fallback.reduced(to: terminal.colorDepth), width: 200, height: 60)
    _ = App.update(&frameState, .profilesLoaded(try workspace.profiles.list()))
    let frame = App.view(frameState)
    let view = measure(500) { _ = App.view(frameState) }
    rows.append(("frame: Profiles view into a 200x60 buffer", view.median, view.worst, ""))
    let full = measure(500) { terminal.invalidate(); terminal.draw(frame) }
    rows.append(("frame: full 200x60 flush through ncurses", full.median, full.worst, "target ≤ 2 ms"))
    var changed = frame
    changed.write(String(repeating: "x", count: 200), x: 0, y: 30, style: .plain)
    var flip = false
    let oneRow = measure(500) { flip.toggle(); terminal.draw(flip ? changed : frame) }
    rows.append(("frame: one row changed", oneRow.median, oneRow.worst, ""))
    terminal.invalidate()
}
let startup = measure(1) { runtime.start() }
rows.append(("startup: first frame (profiles loaded)", startup.median, startup.worst, "target ≤ 200 ms"))
@MainActor func keys(_ name: String, _ sequence: [Key], times: Int) {
    var samples: [Double] = []
    for i in 0..<times {
        let key = sequence[i % sequence.count]
        let start = DispatchTime.now().uptimeNanoseconds
        runtime.handle(.key(key))
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
    }
    samples.sort()
    rows.append(("keys: \(name)", samples[samples.count / 2], samples[samples.count - 1], "target ≤ 16 ms"))
}
let shopIndex = try workspace.profiles.list().firstIndex { $0.name == profile } ?? 0
for _ in 0..<shopIndex { runtime.handle(.key(.char("j"))) }
keys("Profiles j/k", [.char("j"), .char("k")], times: 1_000)
runtime.handle(.key(.enter))
keys("profile page → stats → back (s, Esc)", [.char("s"), .escape], times: 200)
runtime.handle(.key(.char("s")))
keys("stats details j/k/f", [.char("j"), .char("k"), .char("f"), .right, .left], times: 1_000)
runtime.handle(.key(.char("g")))
runtime.handle(.key(.enter))
keys("contacts PgDn/PgUp/j/k", [.pageDown, .pageDown, .char("j"), .pageUp, .char("k")], times: 1_000)
keys("contacts G/g (last/first page)", [.char("G"), .char("g")], times: 200)
terminal.restore()
rows.append(("memory: peak resident size", peakResidentMB(), peakResidentMB(), reused ? "MB, target ≤ 64" : "MB (includes building the demo)"))

let commit = (try? String(contentsOfFile: ".git/HEAD", encoding: .utf8)).map { head -> String in
    let ref = head.trimmingCharacters(in: .whitespacesAndNewlines)
    guard ref.hasPrefix("ref: ") else { return ref }
    return (try? String(contentsOfFile: ".git/" + ref.dropFirst(5), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
} ?? "unknown"
let cores = ProcessInfo.processInfo.activeProcessorCount
print("messenger-dash bench: \(cores) cores, commit \(commit.prefix(10)), \(reused ? "existing" : "new") demo database of \(contacts) contacts")
print("measure".padding(toLength: 52, withPad: " ", startingAt: 0) + "   median      worst  note")
for (name, median, worst, note) in rows {
    print(name.padding(toLength: 52, withPad: " ", startingAt: 0) + String(format: " %8.3f  %9.3f  ", median, worst) + note)
}
let json: [String: Any] = [
    "cores": cores, "commit": commit, "contacts": contacts, "date": ISO8601DateFormatter().string(from: Date()),
    "unit": "ms (memory: MB)",
    "results": rows.map { ["measure": $0.0, "median": $0.1, "worst": $0.2, "note": $0.3] },
]
let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
let out = "bench/results/bench-\(commit.prefix(10))-\(contacts).json"
try? FileManager.default.createDirectory(atPath: "bench/results", withIntermediateDirectories: true)
if FileManager.default.createFile(atPath: out, contents: data) { print("wrote \(out)") }
