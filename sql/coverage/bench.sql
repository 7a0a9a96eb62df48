-- The coverage view's benchmark (bench/coverage_bench.py): a tracker after an outage, written
-- inside a transaction the benchmark rolls back. %(first_hour)s is the first hour with data,
-- %(hours)s how many hours from it have stats and log rows (the later ones stay gaps).

-- name: coverage_clear_park_stats
-- make bench-airflow commits stats and log rows into the same database: the outage starts from none.
DELETE FROM park_hourly_stats;

-- name: coverage_clear_ride_stats
DELETE FROM ride_hourly_stats;

-- name: coverage_clear_log
DELETE FROM aggregation_log;

-- name: coverage_hours
-- The hours with stats, numbered from 0: a temporary table (no implicit commit) that the three
-- statements below join.
CREATE TEMPORARY TABLE coverage_bench_hours (n INT NOT NULL PRIMARY KEY);

-- name: coverage_fill_hours
INSERT INTO coverage_bench_hours (n)
SELECT h.n
FROM (SELECT a.d + 10 * b.d + 100 * c.d AS n
            FROM (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
                  UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) a
            CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
                  UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) b
            CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
                  UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) c) h
WHERE h.n < %(hours)s;

-- name: coverage_park_stats
INSERT INTO park_hourly_stats (hour_start_utc, park_id, park_was_open, snapshot_count)
SELECT CAST(%(first_hour)s AS DATETIME) + INTERVAL h.n HOUR, p.park_id, 1, 6
FROM parks p CROSS JOIN coverage_bench_hours h;

-- name: coverage_ride_stats
INSERT INTO ride_hourly_stats (hour_start_utc, ride_id, park_id, snapshot_count)
SELECT CAST(%(first_hour)s AS DATETIME) + INTERVAL h.n HOUR, r.ride_id, r.park_id, 6
FROM rides r CROSS JOIN coverage_bench_hours h;

-- name: coverage_log
-- One successful run per hour with stats; every 50th hour also a later failed redo, every 70th a
-- redo for late snapshots, every 90th a redo whose checks failed.
INSERT INTO aggregation_log (aggregation_date, aggregation_type, aggregated_from_ts, aggregated_until_ts,
                             started_at, completed_at, status, error_message, parks_processed,
                             rides_processed, dag_id, run_id, failed_attempts, last_failed_task,
                             last_error, reason, late_snapshots)
SELECT DATE(t.hour_start), 'hourly', t.hour_start, t.hour_start + INTERVAL 1 HOUR,
       t.hour_start + INTERVAL 65 MINUTE + INTERVAL t.kind DAY, t.hour_start + INTERVAL 66 MINUTE + INTERVAL t.kind DAY,
       IF(t.kind IN (1, 3), 'failed', 'success'), IF(t.kind IN (1, 3), 'failed in the benchmark', NULL),
       80, 4240, 'themepark_hourly_aggregation', CONCAT('bench ', t.kind, ' ', t.hour_start),
       IF(t.kind IN (1, 3), 1, 0), CASE t.kind WHEN 1 THEN 'aggregate_rides' WHEN 3 THEN 'check' END,
       IF(t.kind IN (1, 3), 'failed in the benchmark', NULL), IF(t.kind = 2, 'late_data', 'run'),
       IF(t.kind = 2, 12, NULL)
FROM (SELECT CAST(%(first_hour)s AS DATETIME) + INTERVAL h.n HOUR AS hour_start, k.kind
      FROM coverage_bench_hours h
      JOIN (SELECT 0 AS kind, 1 AS every UNION ALL SELECT 1, 50 UNION ALL SELECT 2, 70 UNION ALL SELECT 3, 90) k
        ON MOD(h.n, k.every) = 0) t;

-- name: drop_coverage_hours
DROP TEMPORARY TABLE IF EXISTS coverage_bench_hours;

-- name: data_span
SELECT MIN(recorded_at), MAX(recorded_at) FROM ride_status_snapshots;

-- name: first_park
SELECT MIN(park_id) FROM parks;
