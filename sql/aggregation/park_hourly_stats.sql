-- Park statistics for one UTC hour H = [%(hour_start)s, %(hour_end)s), from the park snapshots
-- of H and the ride rows that ride_hourly_stats.sql wrote for H (docs/DOMAIN.md). Run in the
-- order they appear here (aggregation.PARK_STATEMENTS, held to this file by
-- tests/unit/test_sql_files.py), after park_snapshots.sql, in one READ COMMITTED transaction, with its
-- checks between them.

-- name: drop_staging
DROP TEMPORARY TABLE IF EXISTS tmp_ride_weight, tmp_park_hour;

-- name: create_ride_weight
CREATE TEMPORARY TABLE tmp_ride_weight (
    ride_id INT NOT NULL PRIMARY KEY,
    park_id INT NOT NULL,
    downtime_hours DECIMAL(6,2) NOT NULL,
    ride_known TINYINT NOT NULL,
    tier INT NULL,
    tier_weight INT NULL,
    weight INT NOT NULL
) ENGINE=MEMORY;

-- name: fill_ride_weight
-- The hour's rides that operated today, each with its weight: ride_classifications.tier_weight,
-- else rides.tier 1 -> 3, 2 -> 2, 3 -> 1, else 2. Read once, then checked and summed.
INSERT INTO tmp_ride_weight (ride_id, park_id, downtime_hours, ride_known, tier, tier_weight, weight)
SELECT rhs.ride_id, rhs.park_id, rhs.downtime_hours,
       CASE WHEN r.ride_id IS NULL THEN 0 ELSE 1 END,
       r.tier, rc.tier_weight,
       COALESCE(rc.tier_weight, CASE r.tier WHEN 1 THEN 3 WHEN 2 THEN 2 WHEN 3 THEN 1 END, 2)
FROM ride_hourly_stats rhs
LEFT JOIN rides r ON r.ride_id = rhs.ride_id
LEFT JOIN ride_classifications rc ON rc.ride_id = rhs.ride_id
WHERE rhs.hour_start_utc = %(hour_start)s
  AND rhs.ride_operated = 1;

-- name: bad_weights
-- A weight outside 1..3 would silently skew the shame score: the task refuses the hour.
SELECT ride_id, ride_known, tier, tier_weight
FROM tmp_ride_weight
WHERE ride_known = 0
   OR tier_weight NOT IN (1, 2, 3)
   OR (tier_weight IS NULL AND tier NOT IN (1, 2, 3))
ORDER BY ride_id
LIMIT 20;

-- name: create_park_hour
CREATE TEMPORARY TABLE tmp_park_hour (
    park_id INT NOT NULL PRIMARY KEY,
    shame_score DECIMAL(20,1) NOT NULL,
    avg_wait_time_minutes DECIMAL(20,2) NULL,
    rides_operating BIGINT NULL,
    rides_down BIGINT NULL,
    total_downtime_hours DECIMAL(20,2) NOT NULL,
    weighted_downtime_hours DECIMAL(20,2) NOT NULL,
    effective_park_weight DECIMAL(20,2) NOT NULL,
    snapshot_count INT NOT NULL,
    park_was_open TINYINT NOT NULL
) ENGINE=MEMORY;

-- name: stage
-- Shame score, downtime and weight are summed over the same rides: those that operated today
-- (ride_operated = 1, tmp_ride_weight), using their stored, rounded downtime_hours.
-- The park's own figures come from its snapshots in H, staged by park_snapshots.sql (one per
-- park and second: the last written).
INSERT INTO tmp_park_hour (park_id, shame_score, avg_wait_time_minutes, rides_operating,
                           rides_down, total_downtime_hours, weighted_downtime_hours,
                           effective_park_weight, snapshot_count, park_was_open)
SELECT
    ps.park_id,
    CASE WHEN COALESCE(rw.effective_park_weight, 0) = 0 THEN 0.0
         ELSE ROUND(CAST(10 * rw.weighted_downtime_hours AS DECIMAL(30,10))
                    / rw.effective_park_weight, 1)
    END,
    ps.avg_wait_time_minutes,
    ps.rides_operating,
    ps.rides_down,
    COALESCE(rw.total_downtime_hours, 0),
    COALESCE(rw.weighted_downtime_hours, 0),
    COALESCE(rw.effective_park_weight, 0),
    ps.snapshot_count,
    ps.park_was_open
FROM (
    SELECT
        tps.park_id,
        COUNT(*) AS snapshot_count,
        MAX(CASE WHEN tps.park_appears_open = 1 THEN 1 ELSE 0 END) AS park_was_open,
        ROUND(AVG(CASE WHEN tps.park_appears_open = 1
                       THEN CAST(tps.avg_wait_time AS DECIMAL(20,6)) END), 2) AS avg_wait_time_minutes,
        ROUND(AVG(CASE WHEN tps.park_appears_open = 1
                       THEN CAST(tps.rides_open AS DECIMAL(20,6)) END)) AS rides_operating,
        ROUND(AVG(CASE WHEN tps.park_appears_open = 1
                       THEN CAST(tps.rides_closed AS DECIMAL(20,6)) END)) AS rides_down
    FROM tmp_park_snap tps
    WHERE tps.sec >= 0
      AND tps.sec < TIMESTAMPDIFF(SECOND, %(hour_start)s, %(hour_end)s)
    GROUP BY tps.park_id
) AS ps
LEFT JOIN (
    SELECT
        rw.park_id,
        SUM(rw.downtime_hours) AS total_downtime_hours,
        SUM(rw.downtime_hours * rw.weight) AS weighted_downtime_hours,
        SUM(rw.weight) AS effective_park_weight
    FROM tmp_ride_weight rw
    GROUP BY rw.park_id
) AS rw ON rw.park_id = ps.park_id;

-- name: upsert
INSERT INTO park_hourly_stats (hour_start_utc, park_id, shame_score, avg_wait_time_minutes,
                               rides_operating, rides_down, total_downtime_hours,
                               weighted_downtime_hours, effective_park_weight, snapshot_count,
                               park_was_open)
SELECT %(hour_start)s, t.park_id, t.shame_score, t.avg_wait_time_minutes, t.rides_operating,
       t.rides_down, t.total_downtime_hours, t.weighted_downtime_hours, t.effective_park_weight,
       t.snapshot_count, t.park_was_open
FROM tmp_park_hour t
ON DUPLICATE KEY UPDATE
    shame_score = VALUES(shame_score),
    avg_wait_time_minutes = VALUES(avg_wait_time_minutes),
    rides_operating = VALUES(rides_operating),
    rides_down = VALUES(rides_down),
    total_downtime_hours = VALUES(total_downtime_hours),
    weighted_downtime_hours = VALUES(weighted_downtime_hours),
    effective_park_weight = VALUES(effective_park_weight),
    snapshot_count = VALUES(snapshot_count),
    park_was_open = VALUES(park_was_open),
    updated_at = CURRENT_TIMESTAMP;

-- name: delete_stale
-- A park whose snapshots for H are gone loses its row.
DELETE phs
FROM park_hourly_stats phs
LEFT JOIN tmp_park_hour t ON t.park_id = phs.park_id
WHERE phs.hour_start_utc = %(hour_start)s
  AND t.park_id IS NULL;

-- name: parks_without_snapshots
-- Parks with ride rows in H but no park snapshot in H get no park row (docs/DOMAIN.md); the
-- task log names them, since it usually means the collector lost its park polls.
SELECT DISTINCT rhs.park_id
FROM ride_hourly_stats rhs
LEFT JOIN tmp_park_hour t ON t.park_id = rhs.park_id
WHERE rhs.hour_start_utc = %(hour_start)s
  AND t.park_id IS NULL
ORDER BY rhs.park_id
LIMIT 20;

-- name: totals
SELECT COUNT(*), COALESCE(SUM(snapshot_count), 0) FROM tmp_park_hour;
