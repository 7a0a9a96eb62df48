-- Undoes 021_add_ride_legacy_open_index.sql: drops the legacy look-up index it added.
-- Only indexes the package created are dropped: the migration runner records in
-- themepark_schema_created_indexes each index a migration added to a table that existed before
-- it (information_schema before and after). An index that was there already (the DBA's own,
-- whatever its name, or the one 004/005 created on a fresh database) made the guard skip the
-- ADD and was never recorded, so it stays. Indexes created before the runner recorded them (by
-- an earlier release, or by the up file run in the plain client) are not recorded either and
-- stay too: docs/ROLLBACK.md says how to check them. The table's CREATE is repeated here so
-- that this file also runs alone in the plain client (a test keeps it identical to sql/ledger.sql).
-- Dropping a secondary index is in place and takes no table lock (MariaDB and MySQL).
CREATE TABLE IF NOT EXISTS themepark_schema_created_indexes (
    table_name VARCHAR(64) NOT NULL,
    index_name VARCHAR(64) NOT NULL,
    version INT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (table_name, index_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM themepark_schema_created_indexes
      WHERE table_name = 'ride_status_snapshots' AND index_name = 'idx_rss_ride_open_status_recorded' AND version = 21) = 1
    AND (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'ride_status_snapshots'
        AND index_name = 'idx_rss_ride_open_status_recorded') > 0,
    'ALTER TABLE ride_status_snapshots DROP INDEX idx_rss_ride_open_status_recorded, ALGORITHM=INPLACE, LOCK=NONE',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
