import GoldenSupport
import TerminalKit
import XCTest

@testable import Dashboard
@testable import MessengerCore

/// Runs belong to the app: one per program, and quitting during one asks first and stops it cleanly.
final class RunLifecycleTests: XCTestCase {
    func programsApp() -> AppState {
        appOnPrograms([
            ProgramSummary(
                id: 1, name: "Orders", status: .active, profile: "Shop", profileEnabled: true,
                tag: nil, message: "Hi", enrolled: 0, lastRunAt: nil, kind: .utility)
        ])
    }

    func testASecondRunOfTheSameProgramIsRefusedEvenFromAFreshProgramsScreen() {
        var s = programsApp()
        XCTAssertEqual(s.runConfirmed(), [.runProgram(name: "Orders", reenrol: false)])
        // `:programs` again while it runs: the run shows over the fresh list.
        s.press(.char(":"))
        s.type("programs")
        s.press(.enter)
        guard case .programs(let fresh) = s.current else { return XCTFail("on Programs") }
        XCTAssertEqual(fresh.run?.program, "Orders")
        _ = App.update(
            &s,
            .programsLoaded(
                fresh.programs.isEmpty
                    ? [
                        ProgramSummary(
                            id: 1, name: "Orders", status: .active, profile: "Shop",
                            profileEnabled: true, tag: nil, message: "Hi", enrolled: 0,
                            lastRunAt: nil, kind: .utility)
                    ] : fresh.programs))
        _ = App.update(&s, .runProgress(name: "Orders", RunProgress(done: 10, total: 100, sent: 10, warned: 0), elapsed: 1))
        XCTAssertTrue(s.screenText.contains("10 / 100 contacts"), s.screenText)
        // Even if the overlay were gone, `r` starts no second run.
        guard case .programs(var p) = s.current else { return XCTFail("on Programs") }
        p.run = nil
        s.replaceCurrent(.programs(p))
        XCTAssertEqual(s.press(.char("r")), [], "no second run, and no question about one")
        XCTAssertEqual(s.toast?.kind, .error)
        XCTAssertTrue(s.toast?.message.contains("already running") == true)
        _ = App.update(&s, .runFinished(name: "Orders", RunSummary()))
        XCTAssertTrue(s.runs.isEmpty)
        guard case .programs(var again) = s.current else { return XCTFail("on Programs") }
        again.run = nil
        s.replaceCurrent(.programs(again))
        XCTAssertEqual(s.runConfirmed(), [.runProgram(name: "Orders", reenrol: false)], "after it finished, it runs again")
    }

    func testQuittingDuringARunAsksThenStopsTheRunAndQuitsWhenItHasRecorded() {
        var s = programsApp()
        s.runConfirmed()
        s.press(.char(":"))
        s.type("q")
        s.press(.enter)
        XCTAssertFalse(s.quitting, "not while a run goes on")
        guard case .confirm(let dialog, .stopRunsAndQuit)? = s.overlay else { return XCTFail("quitting asks first") }
        XCTAssertEqual(dialog.focus, .cancel)
        XCTAssertEqual(s.press(.enter), [], "Cancel keeps everything going")
        XCTAssertFalse(s.quitting)
        s.press(.char(":"))
        s.type("q")
        s.press(.enter)
        XCTAssertEqual(s.press(.tab, .enter), [.stopRunsAndQuit])
        XCTAssertFalse(s.quitting, "the run records its batch first")
        _ = App.update(
            &s,
            .runFinished(
                name: "Orders",
                {
                    var r = RunSummary()
                    r.cancelled = true
                    return r
                }()))
        XCTAssertTrue(s.quitting)
    }
}
