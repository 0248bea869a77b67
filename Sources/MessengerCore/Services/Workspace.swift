import Foundation

/// Everything a service needs: the store, the clock, the account's calendar and the two Facebook
/// interfaces. The dashboard and the command line each build one and share every rule through it.
public struct Workspace: Sendable {
    public let database: AppDatabase
    public let clock: any Clock
    public let calendar: AccountCalendar
    public let appID: String
    public let transport: any Transport
    public let directory: any PageDirectory
    /// Subscribes pages to the app's webhooks (#24).
    public let subscriber: any PageSubscriber
    /// Where utility templates are submitted and reviewed (R13).
    public let templates: any TemplateRegistry
    /// Days of send history kept (`retention_days`).
    public let retentionDays: Int
    /// Set when Facebook is the real Graph API: "Log in to Facebook" then asks for a user token.
    public let graph: GraphConfig?
    /// The Meta app: its id and the secrets its settings name (device login, the exchange).
    public let app: AppCredentials

    public init(
        database: AppDatabase,
        clock: any Clock = SystemClock(),
        calendar: AccountCalendar = AccountCalendar(timeZone: .current),
        appID: String = Settings().appID,
        transport: (any Transport)? = nil,
        directory: (any PageDirectory)? = nil,
        subscriber: any PageSubscriber = SandboxPageSubscriber(),
        templates: any TemplateRegistry = SandboxTemplateRegistry(),
        graph: GraphConfig? = nil,
        app: AppCredentials? = nil,
        retentionDays: Int = Compactor.defaultRetentionDays
    ) {
        self.app = app ?? AppCredentials(appID: appID, appSecret: graph?.appSecret)
        self.database = database
        self.clock = clock
        self.calendar = calendar
        self.appID = appID
        // The sandbox follows Facebook as it is on the workspace's own day (R12).
        self.transport = transport ?? SandboxTransport(clock: clock, calendar: calendar)
        self.directory = directory ?? SandboxPageDirectory(database: database)
        self.subscriber = subscriber
        self.templates = templates
        self.graph = graph
        self.retentionDays = max(Compactor.minimumRetentionDays, retentionDays)
    }

    /// Today in the account's time zone.
    public var today: DayNumber { calendar.day(ofMillis: clock.nowMillis()) }

    public var pages: PageService { PageService(workspace: self) }
    public var profiles: ProfileService { ProfileService(workspace: self) }
    public var contacts: ContactService { ContactService(workspace: self) }
    public var optIns: OptInService { OptInService(workspace: self) }
    public var programs: ProgramService { ProgramService(workspace: self) }
    public var messageTemplates: TemplateService { TemplateService(workspace: self) }
    public var compactor: Compactor { Compactor(workspace: self) }
    public var receipts: ReceiptService { ReceiptService(workspace: self) }
    public var stats: StatsService { StatsService(workspace: self) }
    public var suppressions: SuppressionService { SuppressionService(workspace: self) }
    public var retries: RetryService { RetryService(workspace: self) }
    public var subscriptions: SubscriptionService { SubscriptionService(workspace: self) }
    public var schedules: ScheduleService { ScheduleService(workspace: self) }
}
