-- What an hourly run needs in the log: the hour's start (aggregated_until_ts is its end) and the
-- Airflow run it belongs to. (dag_id, run_id) is unique so that clearing and re-running one
-- Airflow run updates its row, while separate runs of the same hour each keep their own row.
-- Legacy rows keep NULL in the new columns; NULLs never collide in a unique key.
SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'aggregated_from_ts') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN aggregated_from_ts TIMESTAMP NULL DEFAULT NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'dag_id') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN dag_id VARCHAR(250) NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'run_id') = 0,
    'ALTER TABLE aggregation_log ADD COLUMN run_id VARCHAR(250) NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND index_name = 'uq_aggregation_log_run') = 0,
    'ALTER TABLE aggregation_log ADD UNIQUE INDEX uq_aggregation_log_run (dag_id, run_id)',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND index_name = 'idx_aggregation_log_from_ts') = 0,
    'ALTER TABLE aggregation_log ADD INDEX idx_aggregation_log_from_ts (aggregated_from_ts)',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
