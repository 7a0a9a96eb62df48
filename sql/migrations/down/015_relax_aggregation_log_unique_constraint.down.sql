-- Undoes 015_relax_aggregation_log_unique_constraint.sql: brings back the unique key on
-- (aggregation_date, aggregation_type) and drops the plain index that replaced it. Hourly rows
-- (24 a day) would break the key: they go to the archive first. Legacy rows that share a date
-- and type (written while the key was gone) break it too and cannot be moved for it: then
-- nothing is moved, the ALTER fails with "Duplicate entry ... for key 'unique_aggregation'" and
-- the table is as it was (scripts/migrate.sh refuses before any step, naming those rows).
-- The package's own log rows (aggregation_type 'hourly': a run's row and its late-data rows) are
-- moved, not deleted, into aggregation_log_hourly_archive with every column they still have here
-- (columns a later step already dropped stay NULL). The same CREATE is in each step that moves
-- rows (019, 016, 015, 014), so that each file also runs alone in the plain client; a test keeps
-- the four identical. aggregation_type and status are text there: the enum loses 'hourly'.
-- The move is one transaction, and the DELETE removes only rows the archive now holds (same id,
-- date and times): a row whose log_id is already archived (an AUTO_INCREMENT counter reset)
-- fails the INSERT, and the transaction, instead of overwriting the archived row.
CREATE TABLE IF NOT EXISTS aggregation_log_hourly_archive (
    log_id INT NOT NULL,
    aggregation_date DATE NOT NULL,
    aggregation_type VARCHAR(16) NOT NULL,
    started_at TIMESTAMP NULL DEFAULT NULL,
    completed_at TIMESTAMP NULL DEFAULT NULL,
    status VARCHAR(16) NOT NULL,
    aggregated_until_ts TIMESTAMP NULL DEFAULT NULL,
    error_message TEXT NULL,
    parks_processed INT NOT NULL,
    rides_processed INT NOT NULL,
    aggregated_from_ts TIMESTAMP NULL DEFAULT NULL,
    dag_id VARCHAR(250) NULL,
    run_id VARCHAR(250) NULL,
    attempts INT NULL,
    failed_attempts INT NULL,
    last_failed_task VARCHAR(250) NULL,
    last_failed_at TIMESTAMP NULL DEFAULT NULL,
    last_error TEXT NULL,
    reason VARCHAR(16) NULL,
    triggered_by_run_id VARCHAR(250) NULL,
    late_snapshots INT NULL,
    archived_by_step INT NOT NULL,
    archived_at TIMESTAMP NULL DEFAULT NULL,
    PRIMARY KEY (log_id),
    KEY idx_aglha_from_ts (aggregated_from_ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

START TRANSACTION;
SET @themepark_dml = IF(
    (SELECT COUNT(*) FROM (SELECT 1 FROM aggregation_log
                           WHERE aggregation_type <> 'hourly'
                           GROUP BY aggregation_date, aggregation_type
                          HAVING COUNT(*) > 1) AS themepark_duplicates) = 0,
    'INSERT INTO aggregation_log_hourly_archive (log_id, aggregation_date, aggregation_type, started_at, completed_at, status, aggregated_until_ts, error_message, parks_processed, rides_processed, archived_by_step, archived_at) SELECT log_id, aggregation_date, aggregation_type, started_at, completed_at, status, aggregated_until_ts, error_message, parks_processed, rides_processed, 15, CURRENT_TIMESTAMP FROM aggregation_log WHERE aggregation_type = ''hourly''',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_dml;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
DELETE l FROM aggregation_log l
  JOIN aggregation_log_hourly_archive a
    ON a.log_id = l.log_id AND a.aggregation_date = l.aggregation_date
   AND a.started_at <=> l.started_at AND a.completed_at <=> l.completed_at
 WHERE l.aggregation_type = 'hourly';
COMMIT;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND index_name = 'unique_aggregation') = 0,
    'ALTER TABLE aggregation_log ADD UNIQUE KEY unique_aggregation (aggregation_date, aggregation_type)',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND index_name = 'idx_aggregation_log_date_type') > 0,
    'ALTER TABLE aggregation_log DROP INDEX idx_aggregation_log_date_type',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
