-- Undoes 020_add_late_data_marks.sql. The marks are a cursor (how far the late-data search has
-- read each snapshot table), not data: after a rollback, an upgrade must start the search afresh
-- as on a new deployment (no marks: the first run reads from the newest snapshot on), and the
-- hours in between are backfilled (docs/ROLLBACK.md). Kept marks would claim that the snapshots
-- written meanwhile were searched. DROP TABLE IF EXISTS is portable and idempotent.
DROP TABLE IF EXISTS themepark_late_data_marks;
