-- The coverage view (docs/COVERAGE.md): which hours of a range have snapshots, stats and
-- aggregation_log rows. Every statement reads by the hour indexes (one dive per hour, or an
-- index range of the hours shown): its cost follows the range shown, never the years of history.
-- The session runs at time_zone '+00:00'; hours are UTC DATETIMEs.

-- name: parks
SELECT park_id, name, timezone FROM parks ORDER BY name, park_id;

-- name: park
SELECT park_id, name, timezone FROM parks WHERE park_id = %(park_id)s;

-- name: newest_snapshot
-- Where the default range ends when the tracker stopped collecting: one dive.
SELECT MAX(recorded_at) FROM ride_status_snapshots;

-- name: park_stats_hours_all
-- The hours of the range that have park rows: a loose scan of the primary key
-- (hour_start_utc, park_id), one dive per hour.
SELECT DISTINCT hour_start_utc FROM park_hourly_stats
WHERE hour_start_utc >= %(first_hour)s AND hour_start_utc < %(end_hour)s;

-- name: ride_stats_hours_all
SELECT DISTINCT hour_start_utc FROM ride_hourly_stats
WHERE hour_start_utc >= %(first_hour)s AND hour_start_utc < %(end_hour)s;

-- name: park_stats_hours_park
SELECT hour_start_utc FROM park_hourly_stats
WHERE park_id = %(park_id)s AND hour_start_utc >= %(first_hour)s AND hour_start_utc < %(end_hour)s;

-- name: ride_stats_hours_park
SELECT DISTINCT hour_start_utc FROM ride_hourly_stats
WHERE park_id = %(park_id)s AND hour_start_utc >= %(first_hour)s AND hour_start_utc < %(end_hour)s;

-- name: snapshot_span
-- The first and last snapshot of the range (two dives): hours outside it need no probe.
SELECT MIN(recorded_at), MAX(recorded_at) FROM ride_status_snapshots
WHERE recorded_at >= %(first_hour)s AND recorded_at < %(end_hour)s;

-- name: snapshot_probe_all
-- Whether an hour has a snapshot, for one hour: coverage.py repeats it with UNION ALL for every
-- hour without stats, so that the whole range is one statement. Each hour's bounds are
-- constants, one dive into idx_rss_recorded_at: MariaDB and MySQL use no index range for a
-- bound taken from an outer row, and read the whole index instead.
SELECT CAST(%s AS DATETIME),
       EXISTS (SELECT 1 FROM ride_status_snapshots s WHERE s.recorded_at >= %s AND s.recorded_at < %s);

-- name: park_rides
SELECT ride_id FROM rides WHERE park_id = %(park_id)s;

-- name: snapshot_probe_park
-- The same for one park: its rides' ids are a constant list, one range of (ride_id, recorded_at)
-- per ride (a join from rides would read each ride's whole history: its bounds are not constants).
SELECT CAST(%s AS DATETIME),
       EXISTS (SELECT 1 FROM ride_status_snapshots s FORCE INDEX (idx_rss_ride_recorded)
               WHERE s.ride_id IN %s AND s.recorded_at >= %s AND s.recorded_at < %s);

-- name: log_rows
-- The DAG's log rows of the range: an index range of idx_aggregation_log_from_ts.
SELECT log_id, aggregated_from_ts, status, reason, run_id, triggered_by_run_id, started_at,
       completed_at, attempts, failed_attempts, last_failed_task, last_failed_at,
       LEFT(COALESCE(error_message, last_error), 500), late_snapshots, parks_processed,
       rides_processed
FROM aggregation_log
WHERE aggregation_type = 'hourly' AND dag_id = %(dag_id)s
  AND aggregated_from_ts >= %(first_hour)s AND aggregated_from_ts < %(end_hour)s
ORDER BY aggregated_from_ts, log_id;

-- name: cell_log_rows
SELECT log_id, aggregated_from_ts, status, reason, run_id, triggered_by_run_id, started_at,
       completed_at, attempts, failed_attempts, last_failed_task, last_failed_at,
       COALESCE(error_message, last_error), late_snapshots, parks_processed, rides_processed
FROM aggregation_log
WHERE aggregation_type = 'hourly' AND dag_id = %(dag_id)s AND aggregated_from_ts = %(hour)s
ORDER BY log_id;

-- name: cell_counts_all
SELECT (SELECT COUNT(*) FROM ride_status_snapshots
         WHERE recorded_at >= %(hour)s AND recorded_at < %(hour)s + INTERVAL 1 HOUR),
       (SELECT COUNT(*) FROM ride_hourly_stats WHERE hour_start_utc = %(hour)s),
       (SELECT COUNT(*) FROM park_hourly_stats WHERE hour_start_utc = %(hour)s);

-- name: cell_counts_park
-- ride_ids: the park's rides (park_rides), never empty.
SELECT (SELECT COUNT(*) FROM ride_status_snapshots s FORCE INDEX (idx_rss_ride_recorded)
         WHERE s.ride_id IN %(ride_ids)s
           AND s.recorded_at >= %(hour)s AND s.recorded_at < %(hour)s + INTERVAL 1 HOUR),
       (SELECT COUNT(*) FROM ride_hourly_stats WHERE park_id = %(park_id)s AND hour_start_utc = %(hour)s),
       (SELECT COUNT(*) FROM park_hourly_stats WHERE park_id = %(park_id)s AND hour_start_utc = %(hour)s);
