-- Ride statistics for one UTC hour H = [%(hour_start)s, %(hour_end)s): the rules are in
-- docs/DOMAIN.md. The task runs these named statements in order, in one READ COMMITTED
-- transaction, with the checks of ride_hourly_stats.py between them. Parameters are bound by the
-- client library, never formatted into the text.

-- name: drop_staging
DROP TEMPORARY TABLE IF EXISTS tmp_park_day, tmp_ride_hour;

-- name: create_park_day
-- Local midnight of each park's day containing H, in UTC. Computed in Python from the park's
-- IANA time zone (MySQL's named time zones are often not loaded); NULL for an invalid zone.
CREATE TEMPORARY TABLE tmp_park_day (
    park_id INT NOT NULL PRIMARY KEY,
    day_start DATETIME NULL
) ENGINE=MEMORY;

-- name: fill_park_day
INSERT INTO tmp_park_day (park_id, day_start)
SELECT jt.park_id, jt.day_start
FROM JSON_TABLE(%(park_days)s, '$[*]' COLUMNS (
    park_id INT PATH '$[0]',
    day_start DATETIME PATH '$[1]'
)) AS jt;

-- name: create_ride_hour
CREATE TEMPORARY TABLE tmp_ride_hour (
    ride_id INT NOT NULL PRIMARY KEY,
    park_id INT NULL,
    park_known TINYINT NOT NULL,
    day_start DATETIME NULL,
    snapshot_count INT NOT NULL,
    operating_snapshots INT NOT NULL,
    down_snapshots INT NOT NULL,
    avg_wait_time_minutes DECIMAL(20,2) NULL,
    ride_operated TINYINT NOT NULL
) ENGINE=InnoDB;

-- name: stage
-- One pass over H's snapshots. Duplicate snapshots of a ride at the same recorded_at count once
-- (the highest snapshot_id wins). Per snapshot:
--   is_open     status OPERATING, or status NULL and computed_is_open = 1
--   is_down     down-reporting park (Disney/Universal): status DOWN; elsewhere DOWN or CLOSED, or
--               status NULL and computed_is_open = 0. REFURBISHMENT is never down.
--   down_signal DOWN in a down-reporting park: an operated signal (the ride tried to operate),
--               for a ride known to operate, i.e. seen open at least once before the hour's end.
--               A ride that has never been open (a playground reporting DOWN all season) is
--               not broken down, it does not operate (docs/DECISIONS.md).
--   park_open   the park snapshot nearest in time, at most 90 s away, says park_appears_open;
--               looked up only for down snapshots, the only ones it can change.
-- A down snapshot counts once the ride has operated today (first operation <= its time).
-- Operation within H comes from running flags over H's rows; operation earlier today (back to
-- the park's local midnight) and "seen open before" are looked up only for the rides whose
-- result depends on them, so a full day of history behind H costs nothing for a ride that is
-- open in H with no down snapshot before its first open one.
INSERT INTO tmp_ride_hour (ride_id, park_id, park_known, day_start, snapshot_count,
                           operating_snapshots, down_snapshots, avg_wait_time_minutes,
                           ride_operated)
SELECT
    k.ride_id,
    k.park_id,
    k.park_known,
    k.day_start,
    k.snapshot_count,
    k.operating_snapshots,
    CASE
        WHEN k.needs_lookup = 0 OR k.operated_before_hour = 1 THEN k.down_park_open
        WHEN k.known_to_operate = 1 THEN k.down_after_signal
        ELSE k.down_after_open
    END,
    k.avg_wait_time_minutes,
    CASE
        WHEN k.open_in_hour = 1 OR k.operated_before_hour = 1 THEN 1
        WHEN k.known_to_operate = 1 AND k.down_signal_in_hour = 1 THEN 1
        ELSE 0
    END
FROM (
    SELECT
        j.*,
        CASE
            WHEN j.open_before_hour = 1 THEN 1
            WHEN j.known_to_operate = 1 AND EXISTS (
                SELECT 1
                FROM ride_status_snapshots e
                WHERE e.ride_id = j.ride_id
                  AND e.recorded_at >= j.day_start
                  AND e.recorded_at < %(hour_start)s
                  AND e.status = 'DOWN'
                  AND NOT EXISTS (
                      SELECT 1 FROM ride_status_snapshots e2
                      WHERE e2.ride_id = e.ride_id
                        AND e2.recorded_at = e.recorded_at
                        AND e2.snapshot_id > e.snapshot_id)
            ) THEN 1
            ELSE 0
        END AS operated_before_hour
    FROM (
        SELECT
            i.*,
            CASE
                WHEN i.down_reporting = 0 THEN 0
                WHEN i.open_in_hour = 1 OR i.open_before_hour = 1 THEN 1
                WHEN i.needs_lookup = 0 THEN 0
                ELSE EXISTS (
                    SELECT 1
                    FROM ride_status_snapshots e
                    WHERE e.ride_id = i.ride_id
                      AND e.recorded_at < %(hour_start)s
                      AND (e.status = 'OPERATING' OR (e.status IS NULL AND e.computed_is_open = 1))
                      AND NOT EXISTS (
                          SELECT 1 FROM ride_status_snapshots e2
                          WHERE e2.ride_id = e.ride_id
                            AND e2.recorded_at = e.recorded_at
                            AND e2.snapshot_id > e.snapshot_id)
                )
            END AS known_to_operate
        FROM (
            SELECT
                h.*,
                CASE
                    WHEN h.needs_lookup = 0 THEN 0
                    ELSE EXISTS (
                        SELECT 1
                        FROM ride_status_snapshots e
                        WHERE e.ride_id = h.ride_id
                          AND e.recorded_at >= h.day_start
                          AND e.recorded_at < %(hour_start)s
                          AND (e.status = 'OPERATING' OR (e.status IS NULL AND e.computed_is_open = 1))
                          AND NOT EXISTS (
                              SELECT 1 FROM ride_status_snapshots e2
                              WHERE e2.ride_id = e.ride_id
                                AND e2.recorded_at = e.recorded_at
                                AND e2.snapshot_id > e.snapshot_id)
                    )
                END AS open_before_hour
            FROM (
                SELECT
                    w.ride_id,
                    MAX(w.park_id) AS park_id,
                    MAX(w.park_known) AS park_known,
                    MAX(w.down_reporting) AS down_reporting,
                    MAX(w.day_start) AS day_start,
                    COUNT(*) AS snapshot_count,
                    SUM(w.is_open) AS operating_snapshots,
                    MAX(w.is_open) AS open_in_hour,
                    MAX(w.down_signal) AS down_signal_in_hour,
                    SUM(w.is_down * w.park_open) AS down_park_open,
                    SUM(w.is_down * w.park_open * w.open_so_far) AS down_after_open,
                    SUM(w.is_down * w.park_open * GREATEST(w.open_so_far, w.down_signal_so_far))
                        AS down_after_signal,
                    -- No look-up needed: open in H, and every counted-candidate down snapshot
                    -- comes after an open one, so the day before H cannot change anything.
                    CASE WHEN MAX(w.is_open) = 1
                              AND SUM(w.is_down * w.park_open * w.open_so_far) = SUM(w.is_down * w.park_open)
                         THEN 0 ELSE 1 END AS needs_lookup,
                    ROUND(AVG(CASE WHEN w.is_open = 1 AND w.wait_time >= 0
                                   THEN CAST(w.wait_time AS DECIMAL(20,6)) END), 2) AS avg_wait_time_minutes
                FROM (
                    SELECT
                        c.ride_id,
                        c.park_id,
                        c.park_known,
                        c.down_reporting,
                        c.day_start,
                        c.wait_time,
                        c.is_open,
                        c.is_down,
                        c.down_signal,
                        MAX(c.is_open) OVER (PARTITION BY c.ride_id ORDER BY c.recorded_at
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                            AS open_so_far,
                        MAX(c.down_signal) OVER (PARTITION BY c.ride_id ORDER BY c.recorded_at
                                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                            AS down_signal_so_far,
                        CASE WHEN c.is_down = 0 THEN 0 ELSE COALESCE((
                            SELECT pa.park_appears_open
                            FROM park_activity_snapshots pa
                            WHERE pa.park_id = c.park_id
                              AND pa.recorded_at >= c.recorded_at - INTERVAL 90 SECOND
                              AND pa.recorded_at <= c.recorded_at + INTERVAL 90 SECOND
                            ORDER BY ABS(TIMESTAMPDIFF(SECOND, c.recorded_at, pa.recorded_at)),
                                     pa.recorded_at, pa.snapshot_id DESC
                            LIMIT 1), 0)
                        END AS park_open
                    FROM (
                        SELECT
                            s.ride_id,
                            s.recorded_at,
                            s.wait_time,
                            r.park_id,
                            CASE WHEN p.park_id IS NULL THEN 0 ELSE 1 END AS park_known,
                            CASE WHEN p.is_disney = 1 OR p.is_universal = 1 THEN 1 ELSE 0 END AS down_reporting,
                            pd.day_start,
                            CASE WHEN s.status = 'OPERATING' THEN 1
                                 WHEN s.status IS NULL AND s.computed_is_open = 1 THEN 1
                                 ELSE 0 END AS is_open,
                            CASE WHEN p.is_disney = 1 OR p.is_universal = 1
                                     THEN CASE WHEN s.status = 'DOWN' THEN 1 ELSE 0 END
                                 WHEN s.status IN ('DOWN', 'CLOSED') THEN 1
                                 WHEN s.status IS NULL AND s.computed_is_open = 0 THEN 1
                                 ELSE 0 END AS is_down,
                            CASE WHEN (p.is_disney = 1 OR p.is_universal = 1) AND s.status = 'DOWN'
                                 THEN 1 ELSE 0 END AS down_signal
                        FROM ride_status_snapshots s
                        LEFT JOIN rides r ON r.ride_id = s.ride_id
                        LEFT JOIN parks p ON p.park_id = r.park_id
                        LEFT JOIN tmp_park_day pd ON pd.park_id = r.park_id
                        WHERE s.recorded_at >= %(hour_start)s
                          AND s.recorded_at < %(hour_end)s
                          AND NOT EXISTS (
                              SELECT 1 FROM ride_status_snapshots d
                              WHERE d.ride_id = s.ride_id
                                AND d.recorded_at = s.recorded_at
                                AND d.snapshot_id > s.snapshot_id)
                    ) AS c
                ) AS w
                GROUP BY w.ride_id
            ) AS h
        ) AS i
    ) AS j
) AS k;

-- name: bad_rows
-- Snapshots that cannot be classified: the ride or its park is missing, or the park's time
-- zone is not a valid IANA name. The task refuses the hour and names them.
SELECT ride_id, park_id, park_known, snapshot_count
FROM tmp_ride_hour
WHERE park_known = 0 OR day_start IS NULL
ORDER BY ride_id
LIMIT 20;

-- name: upsert
INSERT INTO ride_hourly_stats (hour_start_utc, ride_id, park_id, avg_wait_time_minutes,
                               operating_snapshots, down_snapshots, downtime_hours,
                               uptime_percentage, snapshot_count, ride_operated)
SELECT
    %(hour_start)s,
    t.ride_id,
    t.park_id,
    t.avg_wait_time_minutes,
    t.operating_snapshots,
    t.down_snapshots,
    ROUND(CAST(LEAST(t.down_snapshots * %(interval_minutes)s, 60) AS DECIMAL(20,6)) / 60, 2),
    ROUND(CAST(100 * t.operating_snapshots AS DECIMAL(20,6)) / t.snapshot_count, 2),
    t.snapshot_count,
    t.ride_operated
FROM tmp_ride_hour t
ON DUPLICATE KEY UPDATE
    park_id = VALUES(park_id),
    avg_wait_time_minutes = VALUES(avg_wait_time_minutes),
    operating_snapshots = VALUES(operating_snapshots),
    down_snapshots = VALUES(down_snapshots),
    downtime_hours = VALUES(downtime_hours),
    uptime_percentage = VALUES(uptime_percentage),
    snapshot_count = VALUES(snapshot_count),
    ride_operated = VALUES(ride_operated),
    updated_at = CURRENT_TIMESTAMP;

-- name: delete_stale
-- A ride whose snapshots for H are gone loses its row.
DELETE rhs
FROM ride_hourly_stats rhs
LEFT JOIN tmp_ride_hour t ON t.ride_id = rhs.ride_id
WHERE rhs.hour_start_utc = %(hour_start)s
  AND t.ride_id IS NULL;

-- name: totals
SELECT COUNT(*), COALESCE(SUM(snapshot_count), 0), COALESCE(SUM(down_snapshots), 0),
       COALESCE(SUM(ride_operated), 0)
FROM tmp_ride_hour;

-- name: park_timezones
SELECT park_id, timezone FROM parks ORDER BY park_id;
