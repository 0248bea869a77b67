import Foundation

/// The schema on PostgreSQL (#30), frozen per dialect as SQLite's is (`Schema.migrator`).
///
/// SQLite's migrations are its history since the first release; a PostgreSQL database has none,
/// so it starts from their sum (SQLite's v1 to v12) as one migration, `pg1`. Each later change of
/// the schema is a migration in both lists, never an edit of a shipped one.
/// `PostgresSchemaTests` holds the two to the same tables, columns, keys, named indexes and
/// seeded rows, so a migration on one engine alone fails the tests.
///
/// What differs, and why:
/// - `INTEGER` is `bigint` (SQLite's integers are 64-bit); an `INTEGER PRIMARY KEY` is an
///   identity column, which gives increasing ids as SQLite's rowid does (`ProgramRunner.enrol`
///   counts on new enrolments being above the old maximum).
/// - `COLLATE NOCASE` (`contact.email`, `data_field.name`) is a unique index on `lower(…)`, and
///   statements that compare those columns say `lower(x) = lower($1)` on PostgreSQL. SQLite's
///   NOCASE folds ASCII only; `lower` folds what the database's collation folds (ASCII only
///   under C, every letter under en_US.UTF-8), so there two emails that differ only in the case
///   of a non-ASCII letter are one contact, where SQLite keeps two.
/// - `WITHOUT ROWID` has no counterpart: a PostgreSQL table is a heap beside its primary key.
/// - `webhook_spool.offset` is quoted: OFFSET is a reserved word.
/// - `send_start` and `send_start_take` are PostgreSQL's only: the per-page rate limit shared by
///   every host (`PostgresRateLimiter`), which SQLite keeps in a small file per page beside the
///   database (`RateLimiter`), as only one host can reach that file.
/// - `notify_change` (pg3) is PostgreSQL's only: the dashboard's refresh across hosts
///   (`ChangeWatcher`), where SQLite's reads `PRAGMA data_version`.
enum PostgresSchema {
    static let migrations: [(identifier: String, sql: String)] = [
        ("pg1-as-sqlite-v12", pg1),
        // As SQLite's v13: the host beside the pid of a lease's process (`Lease`).
        ("pg2-run-hosts", "ALTER TABLE program_run ADD COLUMN host text NOT NULL DEFAULT '';"),
        ("pg3-change-notices", changeNotices),
        // As SQLite's v14: a position per webhook spool, the one there was under "".
        ("pg4-a-position-per-spool", positionPerSpool),
    ]

    static let positionPerSpool = """
        CREATE TABLE webhook_spool_v14 (
            spool    text PRIMARY KEY,
            segment  bigint NOT NULL,
            "offset" bigint NOT NULL
        );
        INSERT INTO webhook_spool_v14 (spool, segment, "offset") SELECT '', segment, "offset" FROM webhook_spool;
        DROP TABLE webhook_spool;
        ALTER TABLE webhook_spool_v14 RENAME TO webhook_spool;
        ALTER TABLE webhook_spool RENAME CONSTRAINT webhook_spool_v14_pkey TO webhook_spool_pkey;
        CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_spool
            FOR EACH STATEMENT EXECUTE FUNCTION notify_change();
        """

    /// PostgreSQL's only (SQLite's dashboards read `PRAGMA data_version`): each statement that
    /// changes a table of the store notifies `changeChannel`, delivered at its commit, one
    /// notification a transaction (PostgreSQL folds identical ones), so a dashboard on any host
    /// refreshes (`ChangeWatcher`). Not `send_start`: the rate limit's starts, hundreds a second,
    /// change nothing a screen shows. A table made later gets its trigger in its own migration.
    static let changeChannel = "messenger_dash_change"
    static let changeNotices = """
        CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('\(changeChannel)', '');
            RETURN NULL;
        END $$;
        DO $$
        DECLARE t text;
        BEGIN
            FOR t IN SELECT table_name FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                       AND table_name NOT IN ('send_start', 'schema_migration')
            LOOP
                EXECUTE format('CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                                FOR EACH STATEMENT EXECUTE FUNCTION notify_change()', t);
            END LOOP;
        END $$;
        """

    /// Applies what is missing, each migration in its transaction with its record. Two hosts
    /// that start at once take turns on an advisory lock: the second finds the work done.
    /// `upTo` (tests of a migration) stops after that one.
    static func migrate(_ db: PostgresConnection, upTo last: String? = nil) throws {
        try db.transaction { db in
            try db.execute("SELECT pg_advisory_xact_lock(\(advisoryLock))")
            try refuseOthersTables(db)
            try db.execute("CREATE TABLE IF NOT EXISTS schema_migration (identifier text PRIMARY KEY, applied_at bigint NOT NULL)")
            let done = Set(try db.execute("SELECT identifier FROM schema_migration").rows.compactMap { $0.first ?? nil })
            for migration in migrations where !done.contains(migration.identifier) {
                try db.executeScript(migration.sql)
                if migration.identifier == "pg1-as-sqlite-v12" { try seed(db) }
                try db.execute(
                    "INSERT INTO schema_migration (identifier, applied_at) VALUES ($1, $2)",
                    [.text(migration.identifier), .int(Int64(Date().timeIntervalSince1970 * 1000))])
                if migration.identifier == last { break }
            }
        }
    }

    /// A schema that holds tables but not our record of migrations is someone else's: our
    /// `page`, `contact` or `send` would land beside (or on) theirs. Refused, changing nothing.
    static func refuseOthersTables(_ db: PostgresConnection) throws {
        let tables = try db.execute(
            """
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = current_schema() ORDER BY table_name = 'schema_migration' DESC, table_name LIMIT 4
            """
        ).rows.compactMap { $0.first ?? nil }
        guard let first = tables.first, first != "schema_migration" else { return }
        let schema = try db.execute("SELECT current_schema()").rows.first?.first ?? nil
        let named = tables.prefix(3).joined(separator: ", ") + (tables.count > 3 ? ", …" : "")
        throw DomainError(
            "the schema \(schema ?? "?") already holds tables that are not messenger-dash's (\(named)): "
                + "give messenger-dash a database of its own (CREATE DATABASE), or a schema of its own (options=-csearch_path%3Dname)",
            isStorageFailure: true)
    }

    /// The lock's key: "mdash-m" (messenger-dash's migrations) as a number.
    static let advisoryLock: Int64 = 0x6D_6461_7368_2D6D

    private static func seed(_ db: PostgresConnection) throws {
        for tag in Schema.tags {
            try db.execute(
                "INSERT INTO message_tag (name, api_name, allows, example, context_words) VALUES ($1, $2, $3, $4, $5)",
                [.text(tag.0), .text(tag.1), .text(tag.2), .text(tag.3), .text(tag.4)])
        }
        // As SQLite's v6 (utility templates): Meta retired the three tags on 2026-04-27.
        try db.execute(
            """
            UPDATE message_tag SET retired_on = '2026-04-27',
                retired_note = 'Meta retired this tag on 2026-04-27 (requests with it get error 100); send a utility message template instead'
            WHERE api_name IN ('CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE')
            """)
    }

    /// SQLite's schema after v12, in PostgreSQL's words (comments as in Schema.swift).
    static let pg1 = """
        CREATE TABLE page (
            id                     text PRIMARY KEY,
            name                   text NOT NULL,
            tasks                  text NOT NULL,
            access_token           text,
            connection_error       text,
            updated_at             bigint NOT NULL,
            connected_at           bigint,
            connected_via          text,
            token_lifetime         text,
            data_access_expires_at bigint,
            permissions            text,
            restricted             text,
            last_event_at          bigint
        );
        CREATE TABLE data_field (
            id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name          text NOT NULL,
            kind          text NOT NULL CHECK (kind IN ('text', 'optin')),
            default_value text NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX data_field_name_nocase ON data_field (lower(name));
        CREATE TABLE profile (
            id             bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name           text NOT NULL,
            name_key       text NOT NULL UNIQUE,
            page_id        text NOT NULL UNIQUE REFERENCES page(id),
            enabled        bigint NOT NULL CHECK (enabled IN (0, 1)),
            optin_field_id bigint NOT NULL UNIQUE REFERENCES data_field(id),
            created_at     bigint NOT NULL
        );
        CREATE TABLE contact (
            id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            email      text NOT NULL,
            created_at bigint NOT NULL
        );
        CREATE UNIQUE INDEX contact_email_nocase ON contact (lower(email));
        CREATE TABLE contact_value (
            contact_id bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
            field_id   bigint NOT NULL REFERENCES data_field(id) ON DELETE CASCADE,
            value      text NOT NULL,
            PRIMARY KEY (contact_id, field_id)
        );
        CREATE INDEX contact_value_by_field ON contact_value(field_id, value);
        CREATE TABLE message_tag (
            name          text PRIMARY KEY,
            api_name      text NOT NULL UNIQUE,
            allows        text NOT NULL,
            example       text NOT NULL,
            context_words text NOT NULL,
            retired_note  text,
            retired_on    text
        );
        CREATE TABLE program (
            id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name        text NOT NULL,
            name_key    text NOT NULL UNIQUE,
            status      text NOT NULL CHECK (status IN ('draft', 'active', 'paused')),
            created_at  bigint NOT NULL,
            last_run_at bigint,
            enrolled    bigint NOT NULL DEFAULT 0
        );
        CREATE TABLE node (
            id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            program_id bigint NOT NULL REFERENCES program(id) ON DELETE CASCADE,
            position   bigint NOT NULL,
            kind       text NOT NULL CHECK (kind IN ('messenger')),
            profile_id bigint REFERENCES profile(id) ON DELETE SET NULL,
            tag        text REFERENCES message_tag(name),
            message    text NOT NULL DEFAULT '',
            send_as    text NOT NULL DEFAULT 'tag' CHECK (send_as IN ('tag', 'utility')),
            language   text,
            UNIQUE (program_id, position)
        );
        CREATE INDEX node_by_profile ON node(profile_id);
        CREATE TABLE enrolment (
            id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            program_id    bigint NOT NULL REFERENCES program(id) ON DELETE CASCADE,
            contact_id    bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
            enrolled_at   bigint NOT NULL,
            next_position bigint NOT NULL DEFAULT 1,
            finished_at   bigint,
            previous_id   bigint
        );
        CREATE INDEX enrolment_unfinished ON enrolment(program_id, id) WHERE finished_at IS NULL;
        CREATE TABLE program_run (
            id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            program_id    bigint NOT NULL REFERENCES program(id) ON DELETE CASCADE,
            pid           bigint NOT NULL,
            started_at    bigint NOT NULL,
            heartbeat_at  bigint NOT NULL,
            finished_at   bigint,
            claim_node_id bigint,
            claim_after   bigint,
            claim_through bigint
        );
        CREATE TABLE send (
            id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            enrolment_id  bigint NOT NULL REFERENCES enrolment(id) ON DELETE CASCADE,
            node_id       bigint NOT NULL,
            profile_id    bigint NOT NULL REFERENCES profile(id) ON DELETE CASCADE,
            contact_id    bigint NOT NULL,
            page_id       text NOT NULL,
            psid          text,
            day           bigint NOT NULL,
            at            bigint NOT NULL,
            outcome       text NOT NULL CHECK (outcome IN ('sending', 'sent', 'warning')),
            status        text NOT NULL,
            reason        text,
            error_code    bigint,
            error_subcode bigint,
            message_id    text,
            message       text,
            delivered_at  bigint,
            read_at       bigint,
            attempts      bigint NOT NULL DEFAULT 1,
            reason_code   text,
            UNIQUE (enrolment_id, node_id)
        );
        CREATE INDEX send_by_outcome ON send(profile_id, day, outcome, at, id);
        CREATE INDEX send_delivered ON send(profile_id, day, at, id) WHERE delivered_at IS NOT NULL;
        CREATE INDEX send_warnings_by_node ON send(node_id, day, id) WHERE outcome = 'warning';
        CREATE TABLE program_contact (
            program_id        bigint NOT NULL REFERENCES program(id) ON DELETE CASCADE,
            contact_id        bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
            last_enrolment_id bigint NOT NULL,
            PRIMARY KEY (program_id, contact_id)
        );
        CREATE TABLE message_template (
            id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            node_id      bigint NOT NULL REFERENCES node(id) ON DELETE CASCADE,
            page_id      text NOT NULL,
            name         text NOT NULL,
            language     text NOT NULL,
            version      bigint NOT NULL,
            message      text NOT NULL,
            body         text NOT NULL,
            graph_id     text,
            status       text NOT NULL CHECK (status IN ('APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'ARCHIVED', 'DELETED')),
            reason       text,
            submitted_at bigint NOT NULL,
            status_at    bigint NOT NULL,
            UNIQUE (node_id, version),
            UNIQUE (page_id, name, language)
        );
        CREATE TABLE optin_time (
            contact_id bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
            field_id   bigint NOT NULL REFERENCES data_field(id) ON DELETE CASCADE,
            at         bigint NOT NULL,
            PRIMARY KEY (contact_id, field_id)
        );
        CREATE TABLE suppression (
            page_id       text NOT NULL,
            contact_id    bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
            day           bigint NOT NULL,
            at            bigint NOT NULL,
            error_code    bigint NOT NULL,
            error_subcode bigint,
            PRIMARY KEY (page_id, contact_id)
        );
        CREATE TABLE send_attempt (
            send_id       bigint NOT NULL REFERENCES send(id) ON DELETE CASCADE,
            attempt       bigint NOT NULL,
            at            bigint NOT NULL,
            outcome       text NOT NULL,
            status        text NOT NULL,
            reason        text,
            error_code    bigint,
            error_subcode bigint,
            message_id    text,
            reason_code   text,
            PRIMARY KEY (send_id, attempt)
        );
        CREATE TABLE page_subscription (
            page_id    text PRIMARY KEY REFERENCES page(id),
            fields     text NOT NULL,
            checked_at bigint NOT NULL,
            error      text
        );
        CREATE TABLE webhook_spool (
            id       bigint PRIMARY KEY CHECK (id = 1),
            segment  bigint NOT NULL,
            "offset" bigint NOT NULL
        );
        CREATE TABLE program_schedule (
            program_id  bigint PRIMARY KEY REFERENCES program(id) ON DELETE CASCADE,
            kind        text NOT NULL CHECK (kind IN ('daily', 'every')),
            minutes     bigint NOT NULL,
            next_at     bigint NOT NULL,
            last_run_at bigint,
            last_result text
        );
        CREATE TABLE daily_stat (
            profile_id bigint NOT NULL REFERENCES profile(id) ON DELETE CASCADE,
            day        bigint NOT NULL,
            outcome    text NOT NULL,
            reason     text NOT NULL DEFAULT '',
            count      bigint NOT NULL,
            PRIMARY KEY (profile_id, day, outcome, reason)
        );

        -- The starts of the last second per page, from every host (PostgresRateLimiter). Unlogged:
        -- a second's starts are worth nothing after a crash, and nothing waits for their WAL.
        CREATE UNLOGGED TABLE send_start (
            page_id text NOT NULL,
            at      bigint NOT NULL,   -- µs on the database server's clock: every host on one clock
            sender  text NOT NULL
        );
        CREATE INDEX send_start_by_page ON send_start (page_id, at);

        -- One start of `page` by `me`, if the window has room: at most `lim` starts in any
        -- `window_us`, less `reserve` for each sender with a start in it (their counted, unwritten
        -- requests). Returns (0, when) once counted, else (how long to wait, now). Pages take turns
        -- on an advisory lock of their own, so two hosts never count the same room twice.
        CREATE FUNCTION send_start_take(page text, me text, lim integer, reserve integer, window_us bigint,
                                        OUT wait_us bigint, OUT at_us bigint)
        LANGUAGE plpgsql AS $$
        DECLARE
            taken integer;
            others integer;
            allowed integer;
            oldest bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended('send_start:' || page, 0));
            at_us := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
            -- Out of the window, or ahead of a clock that was set back.
            DELETE FROM send_start WHERE page_id = page AND (at <= at_us - window_us OR at > at_us);
            SELECT count(*), count(DISTINCT sender) FILTER (WHERE sender <> me) INTO taken, others
                FROM send_start WHERE page_id = page;
            allowed := greatest(1, lim - reserve * (others + 1));
            IF taken < allowed THEN
                INSERT INTO send_start (page_id, at, sender) VALUES (page, at_us, me);
                wait_us := 0;
                RETURN;
            END IF;
            -- The oldest start that must leave the window before one more may go.
            SELECT at INTO oldest FROM send_start WHERE page_id = page ORDER BY at OFFSET (taken - allowed) LIMIT 1;
            wait_us := greatest(500, oldest + window_us - at_us);
        END $$;
        """
}
