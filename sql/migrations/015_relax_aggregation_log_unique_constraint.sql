-- 24 hourly rows share one (aggregation_date, aggregation_type): the unique key made the second
-- hourly run of every day fail. Replace it by a plain index for the same look-ups.
-- information_schema guards: DROP INDEX IF EXISTS / CREATE INDEX IF NOT EXISTS are MariaDB-only.
SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND index_name = 'idx_aggregation_log_date_type') = 0,
    'ALTER TABLE aggregation_log ADD INDEX idx_aggregation_log_date_type (aggregation_date, aggregation_type)',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND index_name = 'unique_aggregation') > 0,
    'ALTER TABLE aggregation_log DROP INDEX unique_aggregation',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
