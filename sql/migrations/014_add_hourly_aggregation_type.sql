-- Allow 'hourly' log rows (the original job wrote 'hourly_14', which the enum rejected).
-- Appending an enum value is a metadata-only change in MariaDB and MySQL; the guard skips it
-- entirely once done, so the statement never runs twice.
SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'aggregation_log'
        AND column_name = 'aggregation_type' AND column_type LIKE '%''hourly''%') = 0,
    'ALTER TABLE aggregation_log MODIFY COLUMN aggregation_type ENUM(''daily'',''weekly'',''monthly'',''yearly'',''hourly'') NOT NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
