-- The look-up "latest open row of an older collector before the hour" (status NULL,
-- computed_is_open = 1; sql/aggregation/ride_hourly_stats.sql, fill_last_legacy_open) needs
-- computed_is_open before recorded_at in the index: then one loose index scan lands on that row
-- for every ride, two dives a ride. With 018's (ride_id, status, recorded_at, computed_is_open) it
-- reads every legacy row of a ride, its whole history for a ride that never opened.
-- computed_is_open comes second, before status: led by (ride_id, status) this index would tempt
-- the optimizer away from 018's for the OPERATING and DOWN dives, and sort every OPERATING row of
-- a ride instead of landing on one (measured: tests/test_query_plans.py holds them to 018's).
-- The guard looks for any index led by ride_id, computed_is_open, status, recorded_at, whatever
-- its name. Cost on a large existing table: ALGORITHM=INPLACE, LOCK=NONE builds it online while
-- the collector keeps inserting; about the size and insert cost of 018's index
-- (docs/PERFORMANCE.md).
SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics a
       JOIN information_schema.statistics b
         ON b.table_schema = a.table_schema AND b.table_name = a.table_name
        AND b.index_name = a.index_name AND b.seq_in_index = 2 AND b.column_name = 'computed_is_open'
       JOIN information_schema.statistics c
         ON c.table_schema = a.table_schema AND c.table_name = a.table_name
        AND c.index_name = a.index_name AND c.seq_in_index = 3 AND c.column_name = 'status'
       JOIN information_schema.statistics d
         ON d.table_schema = a.table_schema AND d.table_name = a.table_name
        AND d.index_name = a.index_name AND d.seq_in_index = 4 AND d.column_name = 'recorded_at'
      WHERE a.table_schema = DATABASE() AND a.table_name = 'ride_status_snapshots'
        AND a.seq_in_index = 1 AND a.column_name = 'ride_id') = 0,
    'ALTER TABLE ride_status_snapshots ADD INDEX idx_rss_ride_open_status_recorded (ride_id, computed_is_open, status, recorded_at), ALGORITHM=INPLACE, LOCK=NONE',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
