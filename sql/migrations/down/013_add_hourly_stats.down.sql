-- Undoes 013_add_hourly_stats.sql. The hourly tables are renamed, not dropped: RENAME TABLE is
-- atomic and metadata-only whatever their size (no copy, no second disk footprint), and
-- ride_hourly_stats_archive / park_hourly_stats_archive keep every row and index, queryable as
-- before. An upgrade creates empty hourly tables again beside them. When an archive of that
-- name already exists (an earlier rollback), RENAME fails with "Table ... already exists" and
-- changes nothing: rename or back up and drop that archive first (scripts/migrate.sh refuses
-- before any step, saying so).
SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.tables
      WHERE table_schema = DATABASE() AND table_name = 'ride_hourly_stats') = 1,
    'RENAME TABLE ride_hourly_stats TO ride_hourly_stats_archive',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.tables
      WHERE table_schema = DATABASE() AND table_name = 'park_hourly_stats') = 1,
    'RENAME TABLE park_hourly_stats TO park_hourly_stats_archive',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
