-- The park snapshots around one UTC hour H = [%(hour_start)s, %(hour_end)s), staged once per
-- task: both aggregate_rides (which park snapshot is nearest a ride poll) and aggregate_parks
-- (the park's own figures) start with these statements (aggregation.STAGE_PARK_SNAPSHOTS), each
-- in its own session.
--
-- Duplicates, here as for the hour's ride snapshots (ride_hourly_stats.sql, fill_snap): of the
-- rows of one park and second, the last written (highest snapshot_id) counts. The staging
-- table's primary key keeps one row per park and second as the rows arrive; a later-written row
-- replaces an earlier one whatever order the server reads them in. docs/DECISIONS.md.

-- name: drop_park_snap
DROP TEMPORARY TABLE IF EXISTS tmp_park_snap;

-- name: create_park_snap
CREATE TEMPORARY TABLE tmp_park_snap (
    park_id INT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    park_appears_open TINYINT NULL,
    rides_open INT NULL,
    rides_closed INT NULL,
    avg_wait_time DECIMAL(5,2) NULL,
    snapshot_id BIGINT NOT NULL,
    PRIMARY KEY (park_id, recorded_at) USING BTREE
) ENGINE=MEMORY;

-- name: fill_park_snap
-- From 270 s before H to 270 s after: a ride poll of H takes the nearest park snapshot within
-- 90 s, and the neighbours (up to 180 s further) bound that snapshot's share of the seconds
-- (ride_hourly_stats.sql, fill_park_cell). ON DUPLICATE KEY: snapshot_id is assigned last, so
-- every comparison before it reads the kept row's id (MySQL and MariaDB assign left to right;
-- with MariaDB's SIMULTANEOUS_ASSIGNMENT mode all read it anyway).
INSERT INTO tmp_park_snap (park_id, recorded_at, park_appears_open, rides_open, rides_closed,
                           avg_wait_time, snapshot_id)
SELECT pas.park_id, pas.recorded_at, pas.park_appears_open, pas.rides_open, pas.rides_closed,
       pas.avg_wait_time, pas.snapshot_id
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
