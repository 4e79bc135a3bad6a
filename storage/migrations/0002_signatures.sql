-- Signatures, the counters kept beside them, anonymous daily counts, and the contacts
-- of supporters who opted in to news. No table here holds a platform user id: a signer
-- is a keyed pseudonym (HMAC-SHA256 of transport:user_id).

-- One row per person, ever: the primary key is what makes a double press, a second
-- device or 100 concurrent confirmations give one signature.
CREATE TABLE signatures (
    pseudonym TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    consent_version TEXT NOT NULL,
    signed_at TEXT NOT NULL
);

CREATE INDEX signatures_signed_at ON signatures (signed_at);

-- Counters updated in the transaction of each signature and withdrawal, so reading
-- the count never scans a table.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT INTO counters (name, value) VALUES ('signatures', 0);

-- What survives the retention purge: how many signed and withdrew each day, nothing else.
CREATE TABLE daily_counts (
    day TEXT PRIMARY KEY,
    signed INTEGER NOT NULL DEFAULT 0,
    withdrawn INTEGER NOT NULL DEFAULT 0
);

-- Only supporters who said yes to milestone news have a row: where to reach them.
-- `active` = 0 when the platform reports the chat gone (blocked, deleted).
-- IF NOT EXISTS: older test helpers created this exact table before the migration existed.
CREATE TABLE IF NOT EXISTS contacts (
    pseudonym TEXT PRIMARY KEY,
    transport TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    language TEXT NOT NULL,
    created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);

CREATE INDEX IF NOT EXISTS contacts_chat ON contacts (transport, chat_id);
