-- Core tables: a small key-value store, dialogue state and per-user preferences.
-- Users are identified only by a keyed pseudonym (HMAC-SHA256 of transport:user_id).

CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One open dialogue per (pseudonymous) user and chat; `nonce` changes at every step,
-- so a choice pressed on an older question is recognised as stale.
CREATE TABLE dialogues (
    owner TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    step TEXT NOT NULL,
    data TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE INDEX dialogues_expires_at ON dialogues (expires_at);

CREATE TABLE preferences (
    pseudonym TEXT PRIMARY KEY,
    language TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
