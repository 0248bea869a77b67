import DashboardFuzz
import Foundation

// messenger-fuzz [--events N] [--seed S]: the UI fuzz as a program, so `make test` can run
// 100,000 events from a release build (and `make soak` 1,000,000). The seed is printed first;
// pass it back with --seed to replay a failure.
let arguments = CommandLine.arguments
func option(_ name: String) -> String? { arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } }
let events = option("--events").flatMap(Int.init) ?? 100_000
let seed = option("--seed").flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
print("fuzz: \(events) events, --seed \(seed)")
let start = Date()
let outcome = Fuzz.run(workspace: try Fuzz.workspace(), events: events, seed: seed)
let seconds = Date().timeIntervalSince(start)
if let failure = outcome.failure {
    print("fuzz: FAILED at \(failure) (--seed \(seed))")
    print("0 passed, 1 failed")
    exit(1)
}
print(String(format: "fuzz: %d events survived (%d quits) in %.0f s, --seed %llu", outcome.events, outcome.quits, seconds, seed))
print("1 passed, 0 failed")
