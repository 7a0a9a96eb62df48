-- A run's history survives its re-runs. Reprocessing (a backfill with "failed" or "completed",
-- a clear) re-runs the same Airflow run, which updates its one row: these columns keep how many
-- attempts it took and the last failure (task, time, error) after a later success, while
-- status, error_message, started_at and completed_at describe the latest attempt.
-- Existing rows get attempts 1 and no failure recorded (their history was not kept).
-- A run that re-aggregates earlier hours for late snapshots writes one more row per such hour:
-- reason 'late_data', the run that did it in triggered_by_run_id, and how many late snapshots
-- of that hour (or of the park days it belongs to) it found.

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'attempts') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN attempts INT NOT NULL DEFAULT 1',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'failed_attempts') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN failed_attempts INT NOT NULL DEFAULT 0',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'last_failed_task') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN last_failed_task VARCHAR(250) NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'last_failed_at') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN last_failed_at TIMESTAMP NULL DEFAULT NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'last_error') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN last_error TEXT NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'reason') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN reason VARCHAR(16) NOT NULL DEFAULT ''run''',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'triggered_by_run_id') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN triggered_by_run_id VARCHAR(250) NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'late_snapshots') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN late_snapshots INT NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
