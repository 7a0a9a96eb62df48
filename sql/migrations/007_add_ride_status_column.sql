-- Older tracker databases predate the status column: their rows keep status NULL and are
-- classified from computed_is_open. Added at the end of the table so that both MariaDB
-- (10.3+) and MySQL (8.0.12+) add it instantly, without rebuilding a large snapshot table.
-- information_schema guard: ADD COLUMN IF NOT EXISTS is MariaDB-only.
SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'ride_status_snapshots'
        AND column_name = 'status') = 0,
    'ALTER TABLE ride_status_snapshots ADD COLUMN status ENUM(''OPERATING'',''DOWN'',''CLOSED'',''REFURBISHMENT'') NULL',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
