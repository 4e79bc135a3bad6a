-- A dialogue remembers the step it completed last, even for a while after it ends, so a press or a
-- message that a platform delivers again after a crash gets the same answer instead of "expired".
-- It holds no text: the step, its nonce, the chosen value, the platform message id, a short outcome code.
ALTER TABLE dialogues ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE dialogues ADD COLUMN done_step TEXT;
ALTER TABLE dialogues ADD COLUMN done_nonce TEXT;
ALTER TABLE dialogues ADD COLUMN done_value TEXT;
ALTER TABLE dialogues ADD COLUMN done_message TEXT;
ALTER TABLE dialogues ADD COLUMN done_outcome TEXT;
