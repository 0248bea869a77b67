import Foundation
import TerminalKit

@testable import Dashboard
@testable import MessengerCore

/// Profiles as the core would load them.
func summary(_ id: Int64, _ name: String, enabled: Bool = true, delivered: Int = 0, warnings: Int = 0) -> ProfileSummary {
    ProfileSummary(
        id: id, name: name, pageID: "10\(id)", pageName: "Page \(name)", enabled: enabled,
        optInField: "FBOPTIN_000\(id)", delivered7d: delivered, warnings7d: warnings)
}

func page(_ id: String, _ name: String, tasks: [String], linked: String? = nil) -> PageInfo {
    PageInfo(
        id: id, name: name, role: PageRole(tasks: tasks), eligibility: PageEligibility(tasks: tasks),
        linkedProfile: linked, connectionError: nil, hasToken: true)
}

/// An app on the Profiles screen with three profiles loaded.
func appWithProfiles(width: Int = 80, height: Int = 24) -> AppState {
    var state = AppState(theme: Theme.fallback, width: width, height: height)
    _ = App.update(
        &state,
        .profilesLoaded([
            summary(1, "Northwind Events", delivered: 381, warnings: 793),
            summary(2, "Northwind Shop", delivered: 6564, warnings: 4290),
            summary(3, "Northwind Support", enabled: false),
        ]))
    return state
}

extension AppState {
    var profiles: ProfilesState? {
        if case .profiles(let s) = current { return s }
        return nil
    }
    var newProfile: NewProfileState? {
        if case .newProfile(let s) = current { return s }
        return nil
    }
    var screenText: String { App.view(self).lines().joined(separator: "\n") }

    @discardableResult
    mutating func press(_ keys: Key...) -> [Effect] {
        keys.flatMap { App.update(&self, .key($0)) }
    }

    @discardableResult
    mutating func type(_ text: String) -> [Effect] {
        text.flatMap { App.update(&self, .key(.char($0))) }
    }
}

/// The app on the Programs screen with `programs` loaded, as `:programs` opens it.
func appOnPrograms(_ programs: [ProgramSummary], width: Int = 80, height: Int = 24) -> AppState {
    var s = appWithProfiles(width: width, height: height)
    s.press(.char(":"))
    s.type("programs")
    s.press(.enter)
    _ = App.update(&s, .programsLoaded(programs))
    return s
}

extension AppState {
    /// `r` (or `R`) on the Programs list as a person does it: the key asks for the run's preview,
    /// the preview's dialog shows, `y` confirms; the effects of that last key (the run).
    @discardableResult
    mutating func runConfirmed(_ key: Key = .char("r"), messaged: Int = 10, contacts: Int = 10) -> [Effect] {
        guard case .planRun(let name, let reenrol)? = press(key).first else { return [] }
        _ = App.update(
            &self,
            .runPlanned(
                RunPreview(
                    program: name, profile: "Shop", sendsAs: "template orders_v1", contacts: contacts, messaged: messaged,
                    reenrol: reenrol)))
        return press(.char("y"))
    }

    /// Puts a screen state of the test's own in place of the current one.
    mutating func replaceCurrent(_ screen: Screen) { stack[stack.count - 1] = screen }
}
