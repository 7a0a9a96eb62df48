-- What scripts/migrate.sh down checks before it undoes any step (plugins/themepark_hourly/rollback.py):
-- a refusal leaves the database exactly as it was.

-- name: legacy_duplicates
-- Rows that keep 015's unique key on (aggregation_date, aggregation_type) from coming back:
-- non-hourly rows sharing a date and type (hourly rows are archived, so they do not count).
SELECT aggregation_date, aggregation_type, COUNT(*)
  FROM aggregation_log
 WHERE aggregation_type <> 'hourly'
 GROUP BY aggregation_date, aggregation_type
HAVING COUNT(*) > 1
 ORDER BY aggregation_date, aggregation_type;

-- name: hourly_log_rows
SELECT COUNT(*) FROM aggregation_log WHERE aggregation_type = 'hourly';

-- name: archived_log_ids
-- Hourly rows whose log_id the archive already holds (an AUTO_INCREMENT counter reset since an
-- earlier rollback): moving them would fail.
SELECT COUNT(*)
  FROM aggregation_log l
  JOIN aggregation_log_hourly_archive a ON a.log_id = l.log_id
 WHERE l.aggregation_type = 'hourly';
