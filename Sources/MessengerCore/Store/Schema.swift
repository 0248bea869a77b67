import GRDB

/// The one place that owns the schema. Every table and index of the store is created here, in named
/// migrations that run in order; a migration once released is never edited, only followed.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core", migrate: createCore)
        migrator.registerMigration("v1-tags", migrate: seedTags)
        migrator.registerMigration("v2-run-claims", migrate: runClaims)
        migrator.registerMigration("v3-receipts-by-contact", migrate: receiptsByContact)
        migrator.registerMigration("v4-receipts-through-enrolments", migrate: receiptsThroughEnrolments)
        // Foreign keys stay on while it runs (each new row is checked as it is written) instead of
        // a `foreign_key_check` of the whole database afterwards: minutes at a million contacts.
        migrator.registerMigration("v5-program-contacts", foreignKeyChecks: .immediate, migrate: programContacts)
        migrator.registerMigration("v6-utility-templates", migrate: utilityTemplates)
        migrator.registerMigration("v7-optin-times", migrate: optInTimes)
        migrator.registerMigration("v8-suppression-and-retries", migrate: suppressionAndRetries)
        migrator.registerMigration("v9-page-connections", migrate: pageConnections)
        migrator.registerMigration("v10-webhook-spool", migrate: webhookSpool)
        migrator.registerMigration("v11-program-schedules", migrate: programSchedules)
        migrator.registerMigration("v12-reason-codes", migrate: reasonCodes)
        migrator.registerMigration("v13-run-hosts", migrate: runHosts)
        migrator.registerMigration("v14-a-position-per-spool", migrate: positionPerSpool)
        return migrator
    }

    private static func createCore(_ db: Database) throws {
        try db.execute(
            sql: """
                -- Facebook pages the connected user can see (the page directory), with their tasks.
                CREATE TABLE page (
                    id               TEXT PRIMARY KEY,
                    name             TEXT NOT NULL,
                    tasks            TEXT NOT NULL,          -- comma-separated Graph tasks
                    access_token     TEXT,                   -- secret: never shown, logged or exported
                    connection_error TEXT,                   -- set when Graph answers 190 (R11)
                    updated_at       INTEGER NOT NULL
                );

                -- Contact data fields; kind 'optin' is a profile's FBOPTIN_<CODE> field (R3).
                CREATE TABLE data_field (
                    id            INTEGER PRIMARY KEY AUTOINCREMENT,
                    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    kind          TEXT NOT NULL CHECK (kind IN ('text', 'optin')),
                    default_value TEXT NOT NULL DEFAULT ''
                );

                -- AUTOINCREMENT so a deleted profile's id, and so its opt-in code, is never reused.
                CREATE TABLE profile (
                    id             INTEGER PRIMARY KEY AUTOINCREMENT,
                    name           TEXT NOT NULL,
                    name_key       TEXT NOT NULL UNIQUE,     -- case-folded name: unique ignoring case (R1)
                    page_id        TEXT NOT NULL UNIQUE REFERENCES page(id),
                    enabled        INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                    optin_field_id INTEGER NOT NULL UNIQUE REFERENCES data_field(id),
                    created_at     INTEGER NOT NULL
                );

                CREATE TABLE contact (
                    id         INTEGER PRIMARY KEY,
                    email      TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    created_at INTEGER NOT NULL
                );

                CREATE TABLE contact_value (
                    contact_id INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
                    field_id   INTEGER NOT NULL REFERENCES data_field(id) ON DELETE CASCADE,
                    value      TEXT NOT NULL,
                    PRIMARY KEY (contact_id, field_id)
                ) WITHOUT ROWID;
                CREATE INDEX contact_value_by_field ON contact_value(field_id, value);

                CREATE TABLE message_tag (
                    name          TEXT PRIMARY KEY,          -- as shown: Confirmed_event_update
                    api_name      TEXT NOT NULL UNIQUE,      -- as sent: CONFIRMED_EVENT_UPDATE
                    allows        TEXT NOT NULL,
                    example       TEXT NOT NULL,
                    context_words TEXT NOT NULL,             -- comma-separated words that fit the tag (R7)
                    retired_note  TEXT                       -- non-NULL: retired by Meta, can't be picked
                );

                CREATE TABLE program (
                    id          INTEGER PRIMARY KEY AUTOINCREMENT,
                    name        TEXT NOT NULL,
                    name_key    TEXT NOT NULL UNIQUE,
                    status      TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused')),
                    created_at  INTEGER NOT NULL,
                    last_run_at INTEGER
                );

                CREATE TABLE node (
                    id         INTEGER PRIMARY KEY AUTOINCREMENT,
                    program_id INTEGER NOT NULL REFERENCES program(id) ON DELETE CASCADE,
                    position   INTEGER NOT NULL,
                    kind       TEXT NOT NULL CHECK (kind IN ('messenger')),
                    profile_id INTEGER REFERENCES profile(id) ON DELETE SET NULL,
                    tag        TEXT REFERENCES message_tag(name),
                    message    TEXT NOT NULL DEFAULT '',
                    UNIQUE (program_id, position)
                );
                CREATE INDEX node_by_profile ON node(profile_id);

                CREATE TABLE enrolment (
                    id            INTEGER PRIMARY KEY,
                    program_id    INTEGER NOT NULL REFERENCES program(id) ON DELETE CASCADE,
                    contact_id    INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
                    enrolled_at   INTEGER NOT NULL,
                    next_position INTEGER NOT NULL DEFAULT 1,
                    finished_at   INTEGER
                );
                CREATE INDEX enrolment_by_contact ON enrolment(program_id, contact_id);
                CREATE INDEX enrolment_unfinished ON enrolment(program_id, id) WHERE finished_at IS NULL;

                -- One process at a time runs a program; a dead owner's rows in 'sending' become 'unknown'.
                CREATE TABLE program_run (
                    id           INTEGER PRIMARY KEY,
                    program_id   INTEGER NOT NULL REFERENCES program(id) ON DELETE CASCADE,
                    pid          INTEGER NOT NULL,
                    started_at   INTEGER NOT NULL,
                    heartbeat_at INTEGER NOT NULL,
                    finished_at  INTEGER
                );

                -- One row per contact that reached a Messenger node. outcome is the stable class
                -- (sending | sent | warning); status the finer state (sending, sent, delivered, read,
                -- failed, no_optin, unknown, too_long). UNIQUE (enrolment, node): never sent twice.
                CREATE TABLE send (
                    id            INTEGER PRIMARY KEY,
                    enrolment_id  INTEGER NOT NULL REFERENCES enrolment(id) ON DELETE CASCADE,
                    node_id       INTEGER NOT NULL,
                    profile_id    INTEGER NOT NULL REFERENCES profile(id) ON DELETE CASCADE,
                    contact_id    INTEGER NOT NULL,
                    page_id       TEXT NOT NULL,
                    psid          TEXT,
                    day           INTEGER NOT NULL,
                    at            INTEGER NOT NULL,
                    outcome       TEXT NOT NULL CHECK (outcome IN ('sending', 'sent', 'warning')),
                    status        TEXT NOT NULL,
                    reason        TEXT,
                    error_code    INTEGER,
                    error_subcode INTEGER,
                    message_id    TEXT,
                    message       TEXT,
                    delivered_at  INTEGER,
                    read_at       INTEGER,
                    UNIQUE (enrolment_id, node_id)
                );
                CREATE INDEX send_by_outcome ON send(profile_id, day, outcome, at, id);
                CREATE INDEX send_delivered ON send(profile_id, day, at, id) WHERE delivered_at IS NOT NULL;
                CREATE INDEX send_receipts ON send(page_id, psid, at) WHERE outcome = 'sent';

                -- Daily rollups, written in the same transaction as the sends they count (R8, R9).
                -- outcome: sent | delivered | read | warning; reason is '' except for warnings.
                CREATE TABLE daily_stat (
                    profile_id INTEGER NOT NULL REFERENCES profile(id) ON DELETE CASCADE,
                    day        INTEGER NOT NULL,
                    outcome    TEXT NOT NULL,
                    reason     TEXT NOT NULL DEFAULT '',
                    count      INTEGER NOT NULL,
                    PRIMARY KEY (profile_id, day, outcome, reason)
                ) WITHOUT ROWID;
                """)
    }

    /// A run claims a batch of enrolments (an id range for one node) in its `program_run` row,
    /// committed before Facebook is asked, and writes each send row once, with its outcome. A run
    /// that dies leaves its claim: the next run records the range's unanswered contacts as
    /// unknown. Rows that v1 left in 'sending' are settled the same way here. The reason is written
    /// out (frozen text): a migration never reads application code, which may change.
    private static func runClaims(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE program_run ADD COLUMN claim_node_id INTEGER;
                ALTER TABLE program_run ADD COLUMN claim_after   INTEGER;   -- enrolment ids > claim_after
                ALTER TABLE program_run ADD COLUMN claim_through INTEGER;   -- and <= claim_through
                """)
        try db.execute(
            sql: """
                INSERT INTO daily_stat (profile_id, day, outcome, reason, count)
                    SELECT profile_id, day, 'warning', ?, COUNT(*) FROM send WHERE outcome = 'sending' GROUP BY profile_id, day
                    ON CONFLICT (profile_id, day, outcome, reason) DO UPDATE SET count = count + excluded.count
                """, arguments: ["unknown outcome: run stopped before Facebook answered"])
        try db.execute(
            sql: "UPDATE send SET outcome = 'warning', status = 'unknown', reason = ? WHERE outcome = 'sending'",
            arguments: ["unknown outcome: run stopped before Facebook answered"])
    }

    /// Receipts find their sends through the contact, not the PSID. A run inserts its contacts in
    /// id order, so an index keyed by contact takes each batch's rows on a few neighbouring pages;
    /// keyed by PSID (random) every row landed on a page of its own, and each batch's commit wrote
    /// about a thousand pages to the WAL. At a million contacts that was most of a run's time.
    private static func receiptsByContact(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP INDEX send_receipts;
                CREATE INDEX send_receipts ON send(contact_id, profile_id, at) WHERE outcome = 'sent';
                """)
    }

    /// Receipts find a contact's sends through its enrolments: `enrolment_by_contact` (program,
    /// contact), then `UNIQUE (enrolment_id, node_id)`, two indexes a run writes anyway. The
    /// contact-keyed `send_receipts` put each batch's new entries among every earlier day's
    /// entries for the same contacts: splitting pages all over the index, it was half of what
    /// SQLite did for a batch (a simulated 70,000-contact day: 2.5 s of 3.7 s with it, 0.65 of
    /// 1.7 without).
    private static func receiptsThroughEnrolments(_ db: Database) throws {
        try db.execute(sql: "DROP INDEX send_receipts")
    }

    /// A run's enrolment insert no longer grows with history. `enrolment_by_contact (program,
    /// contact)` placed each re-enrolment beside that contact's earlier ones, so every run rewrote
    /// every leaf page of an index that gained a million entries a day at a million contacts
    /// (8.1 s of a 31 s run on day 8). Now:
    /// - `program_contact` holds one row per (program, contact): the contact's latest enrolment.
    ///   A run updates it in place, so its size, and a run's cost, stay flat. It answers "already
    ///   enrolled?" for a run without `--reenrol`.
    /// - `enrolment.previous_id` links a contact's enrolments in a program, newest first: receipts
    ///   walk that chain from `program_contact` to find the contact's sends.
    /// - `program.enrolled` counts a program's enrolments, written in the transaction that enrols;
    ///   the Programs list read it as a COUNT over the dropped index.
    private static func programContacts(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE program_contact (
                    program_id        INTEGER NOT NULL REFERENCES program(id) ON DELETE CASCADE,
                    contact_id        INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
                    last_enrolment_id INTEGER NOT NULL,
                    PRIMARY KEY (program_id, contact_id)
                ) WITHOUT ROWID;
                ALTER TABLE enrolment ADD COLUMN previous_id INTEGER;
                ALTER TABLE program ADD COLUMN enrolled INTEGER NOT NULL DEFAULT 0;

                UPDATE enrolment SET previous_id = chain.previous_id
                FROM (SELECT id, LAG(id) OVER (PARTITION BY program_id, contact_id ORDER BY id) AS previous_id
                      FROM enrolment) AS chain
                WHERE chain.id = enrolment.id AND chain.previous_id IS NOT NULL;
                INSERT INTO program_contact (program_id, contact_id, last_enrolment_id)
                    SELECT program_id, contact_id, MAX(id) FROM enrolment GROUP BY program_id, contact_id;
                UPDATE program SET enrolled = (SELECT COUNT(*) FROM enrolment WHERE enrolment.program_id = program.id);
                DROP INDEX enrolment_by_contact;
                """)
    }

    /// Messenger as it is in 2026 (R12, R13). Frozen text: the date and the note are written here,
    /// not read from the application, so this migration means the same thing forever.
    /// - Meta retired the three tags effective 2026-04-27; `retired_on` says from which day
    ///   (account's calendar) the note applies, so a clock before it keeps the seed's flow.
    /// - A node sends as a tag or as a utility template (`send_as`), in `language`.
    /// - `message_template` keeps every version submitted for a node: an approved template is
    ///   never edited, a changed text is a new version. The newest APPROVED one sends.
    private static func utilityTemplates(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE message_tag ADD COLUMN retired_on TEXT;          -- YYYY-MM-DD, account's calendar
                UPDATE message_tag SET retired_on = '2026-04-27',
                    retired_note = 'Meta retired this tag on 2026-04-27 (requests with it get error 100); send a utility message template instead'
                WHERE api_name IN ('CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE');

                ALTER TABLE node ADD COLUMN send_as TEXT NOT NULL DEFAULT 'tag' CHECK (send_as IN ('tag', 'utility'));
                ALTER TABLE node ADD COLUMN language TEXT;

                CREATE TABLE message_template (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    node_id      INTEGER NOT NULL REFERENCES node(id) ON DELETE CASCADE,
                    page_id      TEXT NOT NULL,
                    name         TEXT NOT NULL,              -- as Meta knows it: order_updates_v2
                    language     TEXT NOT NULL,
                    version      INTEGER NOT NULL,
                    message      TEXT NOT NULL,              -- the @FIELD@ text it was made from
                    body         TEXT NOT NULL,              -- as submitted, with {{field}} parameters
                    graph_id     TEXT,
                    status       TEXT NOT NULL CHECK (status IN ('APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'ARCHIVED', 'DELETED')),
                    reason       TEXT,
                    submitted_at INTEGER NOT NULL,
                    status_at    INTEGER NOT NULL,           -- when the status was learnt: an older event never overwrites it
                    UNIQUE (node_id, version),
                    UNIQUE (page_id, name, language)
                );
                """)
    }

    /// When each opt-in value was set (Facebook's event time, or the import's time), so an older
    /// opt-in replayed never overwrites a newer PSID. Values from before this have no row: any
    /// event may set them, as before.
    private static func optInTimes(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE optin_time (
                    contact_id INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
                    field_id   INTEGER NOT NULL REFERENCES data_field(id) ON DELETE CASCADE,
                    at         INTEGER NOT NULL,
                    PRIMARY KEY (contact_id, field_id)
                ) WITHOUT ROWID;
                """)
    }

    /// R15 and R16: a contact who turned messages from a page off (551) or whose permission is gone
    /// (200/1545041) is suppressed for that page: runs skip them without asking Facebook. A retry
    /// sends a warned contact again: the send row takes the new outcome (the day is counted once)
    /// and the attempt it replaces is kept in `send_attempt`.
    /// #24: how and when each page was connected, when Meta's data access for it ends, the
    /// subscription of the page to the app's webhooks, and a page Meta restricted from sending.
    private static func programSchedules(_ db: Database) throws {
        try db.execute(
            sql: """
                -- When `serve` runs a program by itself (#25); written by ScheduleService only.
                CREATE TABLE program_schedule (
                    program_id  INTEGER PRIMARY KEY REFERENCES program(id) ON DELETE CASCADE,
                    kind        TEXT NOT NULL CHECK (kind IN ('daily', 'every')),
                    minutes     INTEGER NOT NULL,   -- daily: the minute of the day (account's zone); every: the interval
                    next_at     INTEGER NOT NULL,   -- ms: when it is next due
                    last_run_at INTEGER,            -- ms: the last scheduled run
                    last_result TEXT                -- its one-line outcome
                );
                """)
    }

    /// #30: the host a lease's process runs on, beside its pid (`Lease`): on PostgreSQL, hosts
    /// share the database and a pid says nothing about another host's processes. '' is a row
    /// written before this migration, by the one host a SQLite file has.
    private static func runHosts(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE program_run ADD COLUMN host TEXT NOT NULL DEFAULT ''")
    }

    /// #30: each webhook receiver's spool has its own position (two hosts' receivers share one
    /// PostgreSQL database), keyed by the spool's id (`WebhookSpool.id`). The one position there
    /// was belongs to the spool that had no id yet, "".
    private static func positionPerSpool(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE webhook_spool_v14 (
                    spool   TEXT PRIMARY KEY,
                    segment INTEGER NOT NULL,
                    offset  INTEGER NOT NULL
                );
                INSERT INTO webhook_spool_v14 (spool, segment, offset) SELECT '', segment, offset FROM webhook_spool;
                DROP TABLE webhook_spool;
                ALTER TABLE webhook_spool_v14 RENAME TO webhook_spool;
                """)
    }

    /// #28: a warning is counted under a stable code, not its English words (`WarningReason`):
    /// `daily_stat.reason` becomes the code, and each warning's send row (and earlier attempt)
    /// gets its code beside the words it was written with. The codes of old rows come from their
    /// status and error columns, else from their words as this version's code wrote them (frozen
    /// here); words it can't read are kept as `text:<words>`. Counts that now share a code (the
    /// days a suppression began, say) are added together.
    private static func reasonCodes(_ db: Database) throws {
        try db.execute(
            sql: """
                -- Every old warning's words, once, with their code (frozen: what the words of the
                -- versions before codes mean).
                CREATE TEMP TABLE old_reason (reason TEXT PRIMARY KEY, code TEXT) WITHOUT ROWID;
                INSERT OR IGNORE INTO old_reason (reason)
                    SELECT reason FROM daily_stat WHERE outcome = 'warning'
                    UNION SELECT reason FROM send WHERE outcome = 'warning' AND reason IS NOT NULL
                    UNION SELECT reason FROM send_attempt WHERE outcome = 'warning' AND reason IS NOT NULL;
                UPDATE old_reason SET code = CASE
                    WHEN reason = '' THEN 'text:'
                    WHEN reason LIKE 'no opt-in:%' THEN 'no_optin'
                    WHEN reason LIKE 'unknown outcome:%' THEN 'unknown'
                    WHEN reason LIKE 'message over 2000 characters%' THEN 'too_long'
                    WHEN reason LIKE 'suppressed since % (%)' THEN 'suppressed:' || rtrim(substr(reason, instr(reason, '(') + 1), ')')
                    WHEN reason LIKE 'no answer from the Graph API%' THEN 'graph:-1'
                    WHEN reason LIKE 'unexpected answer from the Graph API%' THEN 'graph:-2'
                    WHEN reason GLOB '[0-9]*' AND substr(reason, 1, instr(reason || ' ', ' ') - 1) NOT GLOB '*[^0-9/]*'
                        THEN 'graph:' || substr(reason, 1, instr(reason || ' ', ' ') - 1)
                    ELSE 'text:' || reason
                END;

                -- A row's code: from its status and error columns where they say it, else its words.
                ALTER TABLE send ADD COLUMN reason_code TEXT;
                UPDATE send SET reason_code = CASE
                    WHEN status IN ('no_optin', 'unknown', 'too_long') THEN status
                    WHEN status = 'failed' AND error_code IS NOT NULL
                        THEN 'graph:' || error_code || COALESCE('/' || error_subcode, '')
                    ELSE COALESCE((SELECT code FROM old_reason o WHERE o.reason = send.reason), 'text:')
                END WHERE outcome = 'warning';
                ALTER TABLE send_attempt ADD COLUMN reason_code TEXT;
                UPDATE send_attempt SET reason_code = CASE
                    WHEN status IN ('no_optin', 'unknown', 'too_long') THEN status
                    WHEN status = 'failed' AND error_code IS NOT NULL
                        THEN 'graph:' || error_code || COALESCE('/' || error_subcode, '')
                    ELSE COALESCE((SELECT code FROM old_reason o WHERE o.reason = send_attempt.reason), 'text:')
                END WHERE outcome = 'warning';

                -- The day's counts keyed by code; counts whose words now share one are added.
                CREATE TABLE daily_stat_by_code (
                    profile_id INTEGER NOT NULL REFERENCES profile(id) ON DELETE CASCADE,
                    day        INTEGER NOT NULL,
                    outcome    TEXT NOT NULL,
                    reason     TEXT NOT NULL DEFAULT '',   -- WarningReason.code for warnings, else ''
                    count      INTEGER NOT NULL,
                    PRIMARY KEY (profile_id, day, outcome, reason)
                ) WITHOUT ROWID;
                INSERT INTO daily_stat_by_code (profile_id, day, outcome, reason, count)
                    SELECT d.profile_id, d.day, d.outcome, COALESCE(o.code, '') AS code, SUM(d.count)
                    FROM daily_stat d LEFT JOIN old_reason o ON d.outcome = 'warning' AND o.reason = d.reason
                    GROUP BY d.profile_id, d.day, d.outcome, code HAVING SUM(d.count) <> 0;
                DROP TABLE daily_stat;
                ALTER TABLE daily_stat_by_code RENAME TO daily_stat;
                DROP TABLE old_reason;
                """)
    }

    private static func webhookSpool(_ db: Database) throws {
        try db.execute(
            sql: """
                -- How far the webhook's ingester has applied the spool (#25): the next record to
                -- apply, committed in the same transaction as the events before it.
                CREATE TABLE webhook_spool (
                    id      INTEGER PRIMARY KEY CHECK (id = 1),
                    segment INTEGER NOT NULL,
                    offset  INTEGER NOT NULL
                );
                """)
    }

    private static func pageConnections(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE page ADD COLUMN connected_at INTEGER;            -- when its token was stored
                ALTER TABLE page ADD COLUMN connected_via TEXT;              -- 'device login', 'pasted token', 'import'
                ALTER TABLE page ADD COLUMN token_lifetime TEXT;             -- 'long-lived' or 'short-lived' (page tokens die in an hour)
                ALTER TABLE page ADD COLUMN data_access_expires_at INTEGER;  -- ms; Meta: 90 days after the person was last active
                ALTER TABLE page ADD COLUMN permissions TEXT;                -- comma-separated granted permissions, as last read
                ALTER TABLE page ADD COLUMN restricted TEXT;                 -- set by 10/1893063: Meta restricted the page from sending
                ALTER TABLE page ADD COLUMN last_event_at INTEGER;           -- ms: the last webhook POST with an event for the page

                -- The page's subscription to the app's webhooks (POST /{page-id}/subscribed_apps).
                CREATE TABLE page_subscription (
                    page_id    TEXT PRIMARY KEY REFERENCES page(id),
                    fields     TEXT NOT NULL,       -- comma-separated subscribed_fields, as Facebook listed them
                    checked_at INTEGER NOT NULL,    -- ms: when Facebook last said so
                    error      TEXT                 -- the last refusal, when subscribing failed
                );
                """)
    }

    private static func suppressionAndRetries(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE suppression (
                    page_id       TEXT NOT NULL,
                    contact_id    INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
                    day           INTEGER NOT NULL,
                    at            INTEGER NOT NULL,
                    error_code    INTEGER NOT NULL,
                    error_subcode INTEGER,
                    PRIMARY KEY (page_id, contact_id)
                ) WITHOUT ROWID;

                ALTER TABLE send ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;

                CREATE TABLE send_attempt (
                    send_id       INTEGER NOT NULL REFERENCES send(id) ON DELETE CASCADE,
                    attempt       INTEGER NOT NULL,
                    at            INTEGER NOT NULL,
                    outcome       TEXT NOT NULL,
                    status        TEXT NOT NULL,
                    reason        TEXT,
                    error_code    INTEGER,
                    error_subcode INTEGER,
                    message_id    TEXT,
                    PRIMARY KEY (send_id, attempt)
                ) WITHOUT ROWID;

                -- The warnings a retry picks: a node's, of one day.
                CREATE INDEX send_warnings_by_node ON send(node_id, day, id) WHERE outcome = 'warning';
                """)
    }

    /// The tags of R5 live in data so one can be retired with a note (R7).
    private static func seedTags(_ db: Database) throws {
        for tag in tags {
            try db.execute(
                sql: "INSERT INTO message_tag (name, api_name, allows, example, context_words) VALUES (?, ?, ?, ?, ?)",
                arguments: [tag.0, tag.1, tag.2, tag.3, tag.4])
        }
    }

    /// The three tags as first seeded: name, api_name, allows, example, context_words (both
    /// engines seed these; PostgresSchema too).
    static let tags: [(String, String, String, String, String)] = [
        (
            "Confirmed_event_update", "CONFIRMED_EVENT_UPDATE",
            "Reminders and updates about an event the person has registered for.",
            "Reminder: the workshop you registered for starts tomorrow at 10:00, room 4.",
            "event,registered,registration,reminder,ticket,tickets,starts,start,schedule,rescheduled,venue,workshop,webinar,session,appointment,booking,doors,tomorrow,agenda,cancelled,postponed"
        ),
        (
            "Post_purchase_update", "POST_PURCHASE_UPDATE",
            "Updates about a purchase the person made: order, payment, shipping, delivery.",
            "Your order @ORDERNUMBER@ has shipped and should arrive on Friday.",
            "order,purchase,purchased,shipped,shipping,shipment,dispatched,delivery,delivered,tracking,receipt,invoice,payment,refund,return,parcel,package,arrive,arriving"
        ),
        (
            "Account_update", "ACCOUNT_UPDATE",
            "Changes to the person's account or application: status, settings, alerts.",
            "Your application has been approved; you can now sign in to your account.",
            "account,password,login,sign,profile,settings,application,approved,declined,status,security,verification,verify,membership,subscription,changed,updated,alert"
        ),
    ]
}
