import Foundation

/// Runs the programs whose schedule is due (#25), for `serve`. A run goes through `ProgramRunner`
/// as `programs run` does, so the lease in `program_run` keeps it to one run of a program across
/// processes (a person running it from the dashboard at that moment makes this one skip). A
/// paused program is skipped, said in its result. Each run's outcome and the schedule's next time
/// are recorded (`ScheduleService.finished`).
public struct ProgramScheduler: Sendable {
    public struct Outcome: Equatable, Sendable {
        public var program: String
        /// "sent", "skipped", "failed", "cancelled": the metrics' label.
        public var result: String
        public var line: String
    }

    let workspace: Workspace

    public init(workspace: Workspace) { self.workspace = workspace }

    /// Runs what is due now, one after another; stops between (and inside) runs when asked.
    public func runDue(shouldCancel: @escaping @Sendable () -> Bool = { false }) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for scheduled in try workspace.schedules.due(at: workspace.clock.nowMillis()) where !shouldCancel() {
            let outcome: Outcome
            do {
                let program = try workspace.programs.summary(named: scheduled.program)
                if program.status != .active {
                    outcome = Outcome(
                        program: scheduled.program, result: "skipped", line: "skipped: the program is \(program.status.rawValue)")
                } else {
                    let summary = try ProgramRunner(workspace: workspace).run(program: scheduled.program, shouldCancel: shouldCancel)
                    outcome = Outcome(
                        program: scheduled.program, result: summary.cancelled ? "cancelled" : "sent",
                        line: "\(summary.sent) sent, \(Display.count(summary.warned, "warning")) of \(summary.enrolled) enrolled"
                            + (summary.cancelled ? " (stopped: the rest goes next time)" : ""))
                }
            } catch {
                let text = (error as? DomainError)?.message ?? "\(error)"
                outcome = Outcome(program: scheduled.program, result: "failed", line: "failed: " + Display.safe(text, limit: 240))
            }
            try workspace.schedules.finished(scheduled, result: outcome.line, at: workspace.clock.nowMillis())
            outcomes.append(outcome)
        }
        return outcomes
    }
}
