-- The benchmark's own statements (bench/bench.py, `make bench`): loading its data sets, the
-- floor every correct implementation must pay, and a per-ride baseline in the style of the
-- original hourly job. None of this runs in the DAG.

-- name: create_marker
CREATE TABLE IF NOT EXISTS bench_dataset (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    fingerprint VARCHAR(200) NOT NULL,
    ride_snapshots BIGINT NOT NULL,
    park_snapshots BIGINT NOT NULL,
    load_seconds DECIMAL(10,1) NOT NULL
);

-- name: read_marker
SELECT fingerprint, ride_snapshots, park_snapshots, load_seconds FROM bench_dataset WHERE name = %(name)s;

-- name: write_marker
INSERT INTO bench_dataset (name, fingerprint, ride_snapshots, park_snapshots, load_seconds)
VALUES (%(name)s, %(fingerprint)s, %(ride_snapshots)s, %(park_snapshots)s, %(load_seconds)s);

-- name: create_template_rides
-- One generated day of the first copy's parks; the data set is this day repeated, shifted by
-- whole days and, for larger scales, by park and ride id.
CREATE TABLE bench_template_rides (
    seq INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ride_id INT NOT NULL,
    recorded_at DATETIME NOT NULL,
    wait_time INT NULL,
    computed_is_open TINYINT NOT NULL,
    status VARCHAR(20) NULL
);

-- name: create_template_parks
CREATE TABLE bench_template_parks (
    seq INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    park_id INT NOT NULL,
    recorded_at DATETIME NOT NULL,
    total_rides_tracked INT NOT NULL,
    rides_open INT NOT NULL,
    rides_closed INT NOT NULL,
    avg_wait_time DECIMAL(5,2) NULL,
    max_wait_time INT NULL,
    park_appears_open TINYINT NOT NULL
);

-- name: insert_template_ride
INSERT INTO bench_template_rides (ride_id, recorded_at, wait_time, computed_is_open, status)
VALUES (%s, %s, %s, %s, %s);

-- name: insert_template_park
INSERT INTO bench_template_parks (park_id, recorded_at, total_rides_tracked, rides_open, rides_closed,
                                  avg_wait_time, max_wait_time, park_appears_open)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s);

-- name: create_copies
CREATE TABLE bench_copies (copy_no INT NOT NULL PRIMARY KEY);

-- name: insert_copy
INSERT INTO bench_copies (copy_no) VALUES (%s);

-- name: copy_ride_day
-- The template day, shifted by %(days)s days, once per copy: park ids move by copy_no x
-- %(park_step)s and ride ids by copy_no x %(ride_step)s. STRAIGHT_JOIN keeps the template's
-- time order, so snapshot ids grow with time as the collector's do.
INSERT INTO ride_status_snapshots (ride_id, recorded_at, wait_time, computed_is_open, status)
SELECT STRAIGHT_JOIN t.ride_id + c.copy_no * %(ride_step)s, t.recorded_at + INTERVAL %(days)s DAY,
       t.wait_time, t.computed_is_open, t.status
FROM bench_template_rides t
JOIN bench_copies c;

-- name: copy_park_day
INSERT INTO park_activity_snapshots (park_id, recorded_at, total_rides_tracked, rides_open, rides_closed,
                                     avg_wait_time, max_wait_time, park_appears_open)
SELECT STRAIGHT_JOIN t.park_id + c.copy_no * %(park_step)s, t.recorded_at + INTERVAL %(days)s DAY,
       t.total_rides_tracked, t.rides_open, t.rides_closed, t.avg_wait_time, t.max_wait_time,
       t.park_appears_open
FROM bench_template_parks t
JOIN bench_copies c;

-- name: drop_template
DROP TABLE IF EXISTS bench_template_rides, bench_template_parks, bench_copies;

-- name: analyze
ANALYZE TABLE ride_status_snapshots, park_activity_snapshots, rides, parks, ride_classifications;

-- name: handler_reads
-- Rows the server's storage engine handed out to this session so far (index and table reads).
SELECT SUM(VARIABLE_VALUE) FROM information_schema.SESSION_STATUS
WHERE VARIABLE_NAME IN ('HANDLER_READ_FIRST', 'HANDLER_READ_KEY', 'HANDLER_READ_LAST', 'HANDLER_READ_NEXT',
                        'HANDLER_READ_PREV', 'HANDLER_READ_RND', 'HANDLER_READ_RND_NEXT');

-- name: floor
-- The least any correct implementation must do: read the hour's snapshots once, per ride.
SELECT ride_id, COUNT(*), AVG(wait_time)
FROM ride_status_snapshots
WHERE recorded_at >= %(hour_start)s AND recorded_at < %(hour_end)s
GROUP BY ride_id;

-- name: baseline_setup
CREATE TABLE IF NOT EXISTS bench_baseline_rides LIKE ride_hourly_stats;

-- name: baseline_setup_parks
CREATE TABLE IF NOT EXISTS bench_baseline_parks LIKE park_hourly_stats;

-- name: baseline_clear_rides
DELETE FROM bench_baseline_rides WHERE hour_start_utc = %(hour_start)s;

-- name: baseline_clear_parks
DELETE FROM bench_baseline_parks WHERE hour_start_utc = %(hour_start)s;

-- name: baseline_rides_of_hour
-- The original job first listed the rides, then ran one statement per ride.
SELECT DISTINCT s.ride_id, r.park_id, p.is_disney = 1 OR p.is_universal = 1, p.timezone
FROM ride_status_snapshots s
JOIN rides r ON r.ride_id = s.ride_id
JOIN parks p ON p.park_id = r.park_id
WHERE s.recorded_at >= %(hour_start)s AND s.recorded_at < %(hour_end)s;

-- name: baseline_ride
-- One ride's hour, the same rules as the DAG (docs/DOMAIN.md) written per ride: first operation
-- from a scan of the ride's day, the nearest park snapshot per snapshot. (No duplicate snapshots
-- in the benchmark's data, so no de-duplication here.)
INSERT INTO bench_baseline_rides (hour_start_utc, ride_id, park_id, avg_wait_time_minutes,
                                  operating_snapshots, down_snapshots, downtime_hours,
                                  uptime_percentage, snapshot_count, ride_operated)
SELECT %(hour_start)s, %(ride_id)s, %(park_id)s,
       ROUND(AVG(CASE WHEN x.is_open = 1 AND x.wait_time >= 0 THEN CAST(x.wait_time AS DECIMAL(20,6)) END), 2),
       SUM(x.is_open),
       SUM(CASE WHEN x.is_down = 1 AND x.park_open = 1 AND x.recorded_at >= x.first_op THEN 1 ELSE 0 END),
       ROUND(CAST(LEAST(SUM(CASE WHEN x.is_down = 1 AND x.park_open = 1 AND x.recorded_at >= x.first_op
                                 THEN 1 ELSE 0 END) * %(interval_minutes)s, 60) AS DECIMAL(20,6)) / 60, 2),
       ROUND(CAST(100 * SUM(x.is_open) AS DECIMAL(20,6)) / COUNT(*), 2),
       COUNT(*),
       MAX(x.first_op IS NOT NULL)
FROM (
    SELECT s.recorded_at, s.wait_time,
           CASE WHEN s.status = 'OPERATING' OR (s.status IS NULL AND s.computed_is_open = 1) THEN 1 ELSE 0 END AS is_open,
           CASE WHEN %(down_reporting)s = 1 THEN s.status = 'DOWN'
                ELSE s.status IN ('DOWN', 'CLOSED') OR (s.status IS NULL AND s.computed_is_open = 0) END AS is_down,
           COALESCE((SELECT pa.park_appears_open FROM park_activity_snapshots pa
                     WHERE pa.park_id = %(park_id)s
                       AND pa.recorded_at BETWEEN s.recorded_at - INTERVAL 90 SECOND AND s.recorded_at + INTERVAL 90 SECOND
                     ORDER BY ABS(TIMESTAMPDIFF(SECOND, s.recorded_at, pa.recorded_at)), pa.recorded_at, pa.snapshot_id DESC
                     LIMIT 1), 0) AS park_open,
           (SELECT MIN(e.recorded_at) FROM ride_status_snapshots e
            WHERE e.ride_id = %(ride_id)s
              AND e.recorded_at >= %(day_start)s AND e.recorded_at < %(hour_end)s
              AND (e.status = 'OPERATING' OR (e.status IS NULL AND e.computed_is_open = 1)
                   OR (%(down_reporting)s = 1 AND e.status = 'DOWN' AND EXISTS (
                        SELECT 1 FROM ride_status_snapshots o
                        WHERE o.ride_id = %(ride_id)s AND o.recorded_at < %(hour_end)s
                          AND (o.status = 'OPERATING' OR (o.status IS NULL AND o.computed_is_open = 1)))))
           ) AS first_op
    FROM ride_status_snapshots s
    WHERE s.ride_id = %(ride_id)s
      AND s.recorded_at >= %(hour_start)s AND s.recorded_at < %(hour_end)s
) AS x;

-- name: baseline_parks_of_hour
SELECT DISTINCT park_id FROM park_activity_snapshots
WHERE recorded_at >= %(hour_start)s AND recorded_at < %(hour_end)s;

-- name: baseline_park
INSERT INTO bench_baseline_parks (hour_start_utc, park_id, shame_score, avg_wait_time_minutes,
                                  rides_operating, rides_down, total_downtime_hours,
                                  weighted_downtime_hours, effective_park_weight, snapshot_count,
                                  park_was_open)
SELECT %(hour_start)s, %(park_id)s,
       CASE WHEN COALESCE(rw.w, 0) = 0 THEN 0.0 ELSE ROUND(CAST(10 * rw.wd AS DECIMAL(30,10)) / rw.w, 1) END,
       ps.avg_wait, ps.rides_operating, ps.rides_down,
       COALESCE(rw.d, 0), COALESCE(rw.wd, 0), COALESCE(rw.w, 0), ps.n, ps.was_open
FROM (
    SELECT COUNT(*) AS n, MAX(pa.park_appears_open = 1) AS was_open,
           ROUND(AVG(CASE WHEN pa.park_appears_open = 1 THEN CAST(pa.avg_wait_time AS DECIMAL(20,6)) END), 2) AS avg_wait,
           ROUND(AVG(CASE WHEN pa.park_appears_open = 1 THEN CAST(pa.rides_open AS DECIMAL(20,6)) END)) AS rides_operating,
           ROUND(AVG(CASE WHEN pa.park_appears_open = 1 THEN CAST(pa.rides_closed AS DECIMAL(20,6)) END)) AS rides_down
    FROM park_activity_snapshots pa
    WHERE pa.park_id = %(park_id)s AND pa.recorded_at >= %(hour_start)s AND pa.recorded_at < %(hour_end)s
) AS ps
CROSS JOIN (
    SELECT SUM(b.downtime_hours) AS d,
           SUM(b.downtime_hours * COALESCE(rc.tier_weight, CASE r.tier WHEN 1 THEN 3 WHEN 2 THEN 2 WHEN 3 THEN 1 END, 2)) AS wd,
           SUM(COALESCE(rc.tier_weight, CASE r.tier WHEN 1 THEN 3 WHEN 2 THEN 2 WHEN 3 THEN 1 END, 2)) AS w
    FROM bench_baseline_rides b
    JOIN rides r ON r.ride_id = b.ride_id
    LEFT JOIN ride_classifications rc ON rc.ride_id = b.ride_id
    WHERE b.hour_start_utc = %(hour_start)s AND b.park_id = %(park_id)s AND b.ride_operated = 1
) AS rw;

-- name: ride_rows_differing
-- Rows where the baseline and the DAG's tables disagree (must be none).
SELECT COUNT(*) FROM (SELECT 1 FROM (
    SELECT ride_id, park_id, avg_wait_time_minutes, operating_snapshots, down_snapshots, downtime_hours,
           uptime_percentage, snapshot_count, ride_operated
    FROM ride_hourly_stats WHERE hour_start_utc = %(hour_start)s
    UNION ALL
    SELECT ride_id, park_id, avg_wait_time_minutes, operating_snapshots, down_snapshots, downtime_hours,
           uptime_percentage, snapshot_count, ride_operated
    FROM bench_baseline_rides WHERE hour_start_utc = %(hour_start)s
) AS u
GROUP BY ride_id, park_id, avg_wait_time_minutes, operating_snapshots, down_snapshots, downtime_hours,
         uptime_percentage, snapshot_count, ride_operated
HAVING COUNT(*) <> 2) AS d;

-- name: park_rows_differing
SELECT COUNT(*) FROM (SELECT 1 FROM (
    SELECT park_id, shame_score, avg_wait_time_minutes, rides_operating, rides_down, total_downtime_hours,
           weighted_downtime_hours, effective_park_weight, snapshot_count, park_was_open
    FROM park_hourly_stats WHERE hour_start_utc = %(hour_start)s
    UNION ALL
    SELECT park_id, shame_score, avg_wait_time_minutes, rides_operating, rides_down, total_downtime_hours,
           weighted_downtime_hours, effective_park_weight, snapshot_count, park_was_open
    FROM bench_baseline_parks WHERE hour_start_utc = %(hour_start)s
) AS u
GROUP BY park_id, shame_score, avg_wait_time_minutes, rides_operating, rides_down, total_downtime_hours,
         weighted_downtime_hours, effective_park_weight, snapshot_count, park_was_open
HAVING COUNT(*) <> 2) AS d;

-- name: aside_rides
-- "As scheduled": the hourly run starts minutes after its hour, when no later snapshot exists.
-- The later rows are set aside in a table of their own (snapshot ids kept) and put back after.
CREATE TABLE bench_aside_rides AS SELECT * FROM ride_status_snapshots WHERE recorded_at >= %(cut)s;

-- name: aside_parks
CREATE TABLE bench_aside_parks AS SELECT * FROM park_activity_snapshots WHERE recorded_at >= %(cut)s;

-- name: delete_later_rides
DELETE FROM ride_status_snapshots WHERE recorded_at >= %(cut)s;

-- name: delete_later_parks
DELETE FROM park_activity_snapshots WHERE recorded_at >= %(cut)s;

-- name: aside_exists
SELECT COUNT(*) FROM information_schema.tables
WHERE table_schema = DATABASE() AND table_name IN ('bench_aside_rides', 'bench_aside_parks');

-- name: restore_rides
INSERT INTO ride_status_snapshots SELECT * FROM bench_aside_rides;

-- name: restore_parks
INSERT INTO park_activity_snapshots SELECT * FROM bench_aside_parks;

-- name: drop_aside
DROP TABLE IF EXISTS bench_aside_rides, bench_aside_parks;

-- name: secondary_indexes
-- The load drops these and builds them again once the rows are in.
SELECT index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index)
FROM information_schema.statistics
WHERE table_schema = DATABASE() AND table_name = %(table)s AND index_name <> 'PRIMARY'
GROUP BY index_name;

-- name: purge_backlog
SHOW GLOBAL STATUS LIKE 'Innodb_history_list_length';

-- name: server_facts
SELECT VERSION(), @@innodb_buffer_pool_size;

-- name: set_ride_late_mark
-- The late-data search's marks placed %(rows)s ride (%(park_rows)s park) rows below the newest
-- snapshot: the next search reads exactly those rows, as a scheduled run reads the rows written
-- since the last run. They are the newest rows, all recorded after the measured hours: none late.
INSERT INTO themepark_late_data_marks (table_name, last_snapshot_id)
SELECT 'ride_status_snapshots', GREATEST(COALESCE(MAX(snapshot_id), 0) - %(rows)s, 0) FROM ride_status_snapshots
ON DUPLICATE KEY UPDATE last_snapshot_id = VALUES(last_snapshot_id);

-- name: set_park_late_mark
INSERT INTO themepark_late_data_marks (table_name, last_snapshot_id)
SELECT 'park_activity_snapshots', GREATEST(COALESCE(MAX(snapshot_id), 0) - %(park_rows)s, 0) FROM park_activity_snapshots
ON DUPLICATE KEY UPDATE last_snapshot_id = VALUES(last_snapshot_id);

-- name: forget_later_hours
-- The late-data search treats rows as late only for hours already aggregated: the hours after
-- the measured one are forgotten first (the bench's database, its own output), as on a tracker
-- where the measured hour is the latest the scheduler ran.
DELETE FROM ride_hourly_stats WHERE hour_start_utc > %(hour_start)s;

-- name: hour_snapshots
-- The hour's ride and park snapshots: the whole run's late-data search reads as many of the
-- newest rows (set_ride_late_mark), as a scheduled run reads the rows written since the last.
SELECT (SELECT COUNT(*) FROM ride_status_snapshots
        WHERE recorded_at >= %(hour_start)s AND recorded_at < %(hour_end)s),
       (SELECT COUNT(*) FROM park_activity_snapshots
        WHERE recorded_at >= %(hour_start)s AND recorded_at < %(hour_end)s);

-- name: late_redos
-- The late-data search's re-aggregated hours, one log row each: none may appear during the
-- whole-run measurement (the newest rows are not late), or the run did more than an hour's work.
SELECT COUNT(*), MAX(completed_at) FROM aggregation_log WHERE reason = 'late_data';

-- name: other_sessions
-- Sessions of other clients in the database: their statements are not counted (bench_user), but
-- their load on the server is in the whole run's times, which then say so.
SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID();

-- name: create_user
-- The whole run's own user (bench.py, bench_user): the slow log tells its sessions from other
-- clients' in the same database by it.
CREATE USER %(user)s@'%%' IDENTIFIED BY %(password)s;

-- name: drop_user
DROP USER IF EXISTS %(user)s@'%%';
