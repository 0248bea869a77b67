import MessengerCore
import TerminalKit

/// Work the app asks for; the runtime performs it off the input loop and answers with a `Msg`.
/// Keeping I/O here is what lets `update` stay pure and the screen stay responsive.
public enum Effect: Equatable, Sendable {
    case loadProfiles
    case loadProfile(name: String)
    case loadPages
    /// Graph: list the user's pages with this user access token and store them (with page tokens).
    case connectFacebook(token: String)
    /// Facebook Login for Devices: shows a code (`.deviceCodeShown`), polls on its own thread,
    /// then stores the pages (`.deviceLoggedIn`); the sandbox logs in at once (#24). `attempt`
    /// comes back with each answer: a login cancelled with Esc may still answer after the next
    /// one began, and its answers must not land on the new one.
    case startDeviceLogin(attempt: Int)
    case cancelDeviceLogin
    case createProfile(name: String, pageID: String, enabled: Bool)
    case setEnabled(names: [String], enabled: Bool)
    /// Checks that the profiles can be disabled (no active program uses them), for the dialog.
    case planDisable(names: [String])
    /// Subscribes the profile's page to the app's webhooks again (`profiles subscribe`), after Meta
    /// dropped it or a subscription was refused (#24).
    case subscribeWebhooks(name: String)
    case planDeletion(names: [String])
    case delete(names: [String])
    case loadStats(profile: String, filter: StatsFilter, from: DayNumber? = nil, to: DayNumber? = nil)
    case loadContacts(ContactsQuery, page: ContactPageRequest)
    case loadContactDetail(sendID: Int64)
    /// Writes what the screen shows, all pages of it, as CSV beside the database.
    case exportStats(profile: String, filter: StatsFilter, from: DayNumber?, to: DayNumber?)
    case exportContacts(ContactsQuery)
    case loadPrograms
    case setProgramActive(name: String, active: Bool)
    case copyToClipboard(String)
    case writeFile(name: String, contents: String)
    case loadTheme(String)
    case loadNodeEditor(program: String)
    case loadSample(after: Int64?, forward: Bool, optInField: String?)
    case saveNode(program: String, profile: String, tag: String, message: String, acceptFlags: Bool)
    /// Saves the node as a utility template: a changed text is submitted to Meta as a new version.
    case saveUtilityNode(program: String, profile: String, language: String, message: String, acceptFlags: Bool)
    /// Counts what `r` / `R` would send, for the confirmation that names it (#27); the run starts
    /// only from that dialog.
    case planRun(name: String, reenrol: Bool)
    /// Runs a program in the background; progress and the summary come back as messages.
    case runProgram(name: String, reenrol: Bool = false)
    case cancelRun(name: String)
    /// Counts what `R` on a stats day would retry, for its confirmation (R16).
    case planRetry(profile: String, day: DayNumber)
    /// Retries a day's retryable warnings of the programs the confirmation named, in the background.
    case retryDay(profile: String, day: DayNumber, programs: [String])
    /// Lifts a contact's suppression for a page (R15), then reloads the contact's page.
    case liftSuppression(email: String, pageID: String, sendID: Int64)
    /// Quitting during a run: every run stops after its current batch, then the app quits.
    case stopRunsAndQuit
    /// Not I/O: closes the current screen (what a "discard changes?" dialog confirms).
    case popScreen
    /// Not I/O: quits, unsaved edits discarded (what "Discard and quit" confirms); a run still
    /// asks (`App.guardRuns`).
    case discardAndQuit
    /// Polls `PRAGMA data_version` so another process's writes show within a second.
    case checkForChanges
}

/// Everything that can happen to the app: input, and the answers to effects.
public enum Msg: Sendable {
    case key(Key)
    case paste(String)
    case resize(width: Int, height: Int)
    case mouse(MouseEvent)
    case tick
    case profilesLoaded([ProfileSummary])
    case profileLoaded(ProfileDetails, days: [DayStats])
    case pagesLoaded([PageInfo])
    case deviceCodeShown(DeviceCode, attempt: Int)
    /// The device login ended without pages: cancelled (nil) or refused (its line).
    case deviceLoginEnded(String?, attempt: Int)
    /// The device login stored the pages the person can link.
    case deviceLoggedIn([PageInfo], attempt: Int)
    case profileCreated(ProfileDetails)
    case enabledChanged(names: [String], enabled: Bool)
    /// The profiles can be disabled: ask.
    case disablePlanned(names: [String])
    /// The page of `name` is subscribed to these webhook fields.
    case webhooksSubscribed(name: String, fields: [String])
    case deletionPlanned(DeletionPlan)
    case deleted(DeletionPlan)
    case statsLoaded(StatsDetails, today: DayNumber)
    /// `request` is the page asked for: with the query, the question the rows answer.
    case contactsLoaded(ContactsQuery, page: ContactPage, times: [String], request: ContactPageRequest = .first)
    case contactDetailLoaded(StatsService.ContactDetail, time: String, delivered: String? = nil, read: String? = nil)
    case programsLoaded([ProgramSummary])
    case programChanged(name: String, active: Bool)
    case fileWritten(path: String)
    case exported(path: String, rows: Int)
    case copied
    case themeLoaded(Theme, name: String, warning: String?)
    case nodeEditorLoaded(NodeEditorData)
    case sampleLoaded(SampleContact?)
    case nodeSaved(program: String)
    case utilityNodeSaved(program: String, UtilityNodeResult, ProgramSummary)
    case runPlanned(RunPreview)
    case runProgress(name: String, RunProgress, elapsed: Double)
    case runFinished(name: String, RunSummary)
    case retryPlanned(profile: String, day: DayNumber, programs: [String], count: Int, dayText: String)
    /// A stats-screen retry ended: `label` is its name among the runs, `text` what it did.
    case retryFinished(programs: [String], text: String, failed: Bool)
    case suppressionLifted(email: String, sendID: Int64)
    case databaseChanged
    case failed(String)
}
