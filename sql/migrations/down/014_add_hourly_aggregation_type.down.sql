-- Undoes 014_add_hourly_aggregation_type.sql: the enum loses 'hourly' again. Rows of that type
-- (left when 015 was never applied) go to the archive first; were one left, strict mode would
-- fail the ALTER ("Data truncated") and change nothing.
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
INSERT INTO aggregation_log_hourly_archive (log_id, aggregation_date, aggregation_type, started_at, completed_at, status, aggregated_until_ts, error_message, parks_processed, rides_processed, archived_by_step, archived_at) SELECT log_id, aggregation_date, aggregation_type, started_at, completed_at, status, aggregated_until_ts, error_message, parks_processed, rides_processed, 14, CURRENT_TIMESTAMP FROM aggregation_log WHERE aggregation_type = 'hourly';
DELETE l FROM aggregation_log l
  JOIN aggregation_log_hourly_archive a
    ON a.log_id = l.log_id AND a.aggregation_date = l.aggregation_date
   AND a.started_at <=> l.started_at AND a.completed_at <=> l.completed_at
 WHERE l.aggregation_type = 'hourly';
COMMIT;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'aggregation_type' AND column_type LIKE '%''hourly''%') > 0,
    'ALTER TABLE aggregation_log MODIFY COLUMN aggregation_type ENUM(''daily'',''weekly'',''monthly'',''yearly'') NOT NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
