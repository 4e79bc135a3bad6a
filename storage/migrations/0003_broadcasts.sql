-- Group subscriptions, broadcasts and their outbox of deliveries, announced milestones,
-- the count history (for charts) and the audit log of admin actions.

-- A group or room that asked for milestone announcements and/or the daily digest.
CREATE TABLE subscriptions (
    transport TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (transport, chat_id, kind)
);

-- One announcement, digest or admin message; `dedup_key` makes creating it idempotent
-- ("milestone:20000", "digest:2026-11-29", the confirming dialogue's nonce).
CREATE TABLE broadcasts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    audience TEXT NOT NULL,
    body TEXT NOT NULL,
    image BLOB,
    dedup_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    send_at TEXT NOT NULL,
    finished_at TEXT,
    admin_transport TEXT,
    admin_chat_id TEXT,
    progress_message_id TEXT
);

CREATE INDEX broadcasts_status ON broadcasts (status);

-- The outbox: one row per broadcast and destination; the unique key means a crash
-- between enqueueing and sending can neither lose nor double a destination.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id),
    transport TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    chat_kind TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (broadcast_id, transport, chat_id)
);

CREATE INDEX deliveries_due ON deliveries (transport, status, next_attempt_at);
CREATE INDEX deliveries_broadcast ON deliveries (broadcast_id, status);
CREATE INDEX deliveries_chat ON deliveries (transport, chat_id);

-- Each milestone is announced once, ever: its row is written in the transaction that
-- enqueues the announcement. Lower milestones crossed at the same time are "passed".
CREATE TABLE milestones (
    milestone INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    total INTEGER NOT NULL,
    broadcast_id INTEGER REFERENCES broadcasts (id),
    recorded_at TEXT NOT NULL
);

CREATE TABLE count_history (
    id INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    official INTEGER NOT NULL,
    bot INTEGER NOT NULL,
    source TEXT NOT NULL
);

CREATE INDEX count_history_time ON count_history (recorded_at);

-- Who (a pseudonym tag, never a platform id) did what, when.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
