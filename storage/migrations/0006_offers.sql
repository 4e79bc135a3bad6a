-- The last choices shown in a chat where choices are a numbered list (the console, Matrix), out of
-- the key-value table, where their keys held the chat's id and their values the asker's platform id.
-- Here the chat and the asker are pseudonyms, so no platform id is stored, and erasing a person
-- deletes the offers they were shown, in their private chat and in groups alike.
CREATE TABLE offers (
    chat TEXT PRIMARY KEY,
    asker TEXT,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX offers_by_asker ON offers (asker);

DELETE FROM kv WHERE key LIKE '%:choices:%';
