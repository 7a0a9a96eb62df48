-- How each aggregation task starts, in its own session, for one UTC hour H =
-- [%(hour_start)s, %(hour_end)s): the cap of its in-memory staging tables, then the park
-- snapshots around H, staged once. aggregate_rides (which park snapshot is nearest a ride poll)
-- and aggregate_parks (the park's own figures) both run these statements first
-- (aggregation.STAGE_PARK_SNAPSHOTS, held to this file by tests/unit/test_sql_files.py).
--
-- Duplicates in H, here as for the hour's ride snapshots (ride_hourly_stats.sql, fill_snap): of
-- the rows of one park and second, the last written (highest snapshot_id) counts. The staging
-- table's primary key keeps one row per park and second as the rows arrive; a later-written row
-- replaces an earlier one whatever order the server reads them in.
-- docs/decisions/0002-duplicate-snapshots-last-written-wins.md.

-- name: heap_limit
-- The staging tables live in memory (MEMORY engine: about 20 ms faster per tracker hour than
-- InnoDB, measured with `make bench`). The server's default cap for such a table, 16 MB, is
-- reached by an hour of a few hundred thousand snapshots; this session's cap is 64 times that.
-- Past it the hour fails with "The table 'tmp_snap' is full" and nothing is written.
SET SESSION max_heap_table_size = 1073741824;

-- name: drop_park_snap
DROP TEMPORARY TABLE IF EXISTS tmp_park_snap;

-- name: create_park_snap
-- sec: seconds from H's start (negative before it), as in tmp_snap. An integer, not a TIMESTAMP:
-- a TIMESTAMP NOT NULL column would get an ON UPDATE CURRENT_TIMESTAMP on servers running with
-- explicit_defaults_for_timestamp off (MariaDB before 10.10), and the upsert below would then
-- move a duplicated snapshot to the time of the run.
CREATE TEMPORARY TABLE tmp_park_snap (
    park_id INT NOT NULL,
    sec INT NOT NULL,
    park_appears_open TINYINT NULL,
    rides_open INT NULL,
    rides_closed INT NULL,
    avg_wait_time DECIMAL(5,2) NULL,
    snapshot_id BIGINT NOT NULL,
    PRIMARY KEY (park_id, sec) USING BTREE
) ENGINE=MEMORY;

-- name: fill_park_snap
-- From 270 s before H to 270 s after: a ride poll of H takes the nearest park snapshot within
-- 90 s, and the neighbours (up to 180 s further) bound that snapshot's share of the seconds
-- (ride_hourly_stats.sql, fill_park_cell). ON DUPLICATE KEY: snapshot_id is assigned last, so
-- the comparisons before it read the kept row's id, whether the server assigns left to right
-- (MySQL, MariaDB by default) or all at once (MariaDB's SIMULTANEOUS_ASSIGNMENT mode).
INSERT INTO tmp_park_snap (park_id, sec, park_appears_open, rides_open, rides_closed,
                           avg_wait_time, snapshot_id)
SELECT pas.park_id, TIMESTAMPDIFF(SECOND, %(hour_start)s, pas.recorded_at), pas.park_appears_open,
       pas.rides_open, pas.rides_closed, pas.avg_wait_time, pas.snapshot_id
FROM park_activity_snapshots pas
WHERE pas.recorded_at >= %(hour_start)s - INTERVAL 270 SECOND
  AND pas.recorded_at < %(hour_end)s + INTERVAL 270 SECOND
ON DUPLICATE KEY UPDATE
    park_appears_open = IF(VALUES(snapshot_id) > tmp_park_snap.snapshot_id,
                           VALUES(park_appears_open), tmp_park_snap.park_appears_open),
    rides_open = IF(VALUES(snapshot_id) > tmp_park_snap.snapshot_id,
                    VALUES(rides_open), tmp_park_snap.rides_open),
    rides_closed = IF(VALUES(snapshot_id) > tmp_park_snap.snapshot_id,
                      VALUES(rides_closed), tmp_park_snap.rides_closed),
    avg_wait_time = IF(VALUES(snapshot_id) > tmp_park_snap.snapshot_id,
                       VALUES(avg_wait_time), tmp_park_snap.avg_wait_time),
    snapshot_id = GREATEST(tmp_park_snap.snapshot_id, VALUES(snapshot_id));
