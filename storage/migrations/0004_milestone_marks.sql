-- Milestones: one row per announced milestone, never one per milestone skipped.
-- What is announced next is computed from the campaign's list and the highest
-- milestone announced; an admin's correction of the count can withdraw an
-- announcement (status 'withdrawn'), and the milestone is then announced again
-- when really reached (`announcements` counts how many times).

DELETE FROM milestones WHERE status = 'passed';

ALTER TABLE milestones ADD COLUMN announcements INTEGER NOT NULL DEFAULT 1;
