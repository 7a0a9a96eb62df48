-- The aggregation reads one hour of snapshots by time, and a ride's or park's snapshots by
-- (id, time). Tracker databases built by older migrations may lack these indexes; fresh ones
-- already have them (004, 005). The guards look for any index with the same leading columns,
-- whatever its name, so an existing equivalent index is never duplicated.
-- Cost on a large existing table: ALGORITHM=INPLACE, LOCK=NONE builds the index online (the
-- collector keeps inserting); it reads the table once and needs about 30 bytes per row of disk
-- (recorded_at + primary key, or the id + recorded_at + primary key).
SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'ride_status_snapshots'
        AND seq_in_index = 1 AND column_name = 'recorded_at') = 0,
    'ALTER TABLE ride_status_snapshots ADD INDEX idx_rss_recorded_at (recorded_at), ALGORITHM=INPLACE, LOCK=NONE',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics a
       JOIN information_schema.statistics b
         ON b.table_schema = a.table_schema AND b.table_name = a.table_name
        AND b.index_name = a.index_name AND b.seq_in_index = 2 AND b.column_name = 'recorded_at'
      WHERE a.table_schema = DATABASE() AND a.table_name = 'ride_status_snapshots'
        AND a.seq_in_index = 1 AND a.column_name = 'ride_id') = 0,
    'ALTER TABLE ride_status_snapshots ADD INDEX idx_rss_ride_recorded (ride_id, recorded_at), ALGORITHM=INPLACE, LOCK=NONE',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'park_activity_snapshots'
        AND seq_in_index = 1 AND column_name = 'recorded_at') = 0,
    'ALTER TABLE park_activity_snapshots ADD INDEX idx_pas_recorded_at (recorded_at), ALGORITHM=INPLACE, LOCK=NONE',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;

SET @themepark_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.statistics a
       JOIN information_schema.statistics b
         ON b.table_schema = a.table_schema AND b.table_name = a.table_name
        AND b.index_name = a.index_name AND b.seq_in_index = 2 AND b.column_name = 'recorded_at'
      WHERE a.table_schema = DATABASE() AND a.table_name = 'park_activity_snapshots'
        AND a.seq_in_index = 1 AND a.column_name = 'park_id') = 0,
    'ALTER TABLE park_activity_snapshots ADD INDEX idx_pas_park_recorded (park_id, recorded_at), ALGORITHM=INPLACE, LOCK=NONE',
    'DO 0');
PREPARE themepark_stmt FROM @themepark_ddl;
EXECUTE themepark_stmt;
DEALLOCATE PREPARE themepark_stmt;
