-- Checks of one aggregated hour, run inside the aggregate_parks task through the common-sql provider's
-- SQLColumnCheckOperator / SQLTableCheckOperator (plugins/themepark_hourly/checks.py). Each
-- section is a boolean SQL expression over the rows of the named table that lie in the hour
-- (the operator's partition clause); it must be true. Aggregates make each check one row even
-- when the hour has no rows. {{ hour_start }} and {{ hour_end }} are replaced by checks.py with the
-- hour's bounds (naive UTC strings made by the package, read by a session at time_zone '+00:00').

-- The operators' partition clauses: the rows of the hour, by the column that places a row in it.

-- name: in_hour_by_hour_start_utc
hour_start_utc >= '{{ hour_start }}' AND hour_start_utc < '{{ hour_end }}'

-- name: in_hour_by_recorded_at
recorded_at >= '{{ hour_start }}' AND recorded_at < '{{ hour_end }}'

-- name: ride_snapshots_add_up
-- On ride_hourly_stats: the ride rows' snapshot counts add up to the hour's distinct ride
-- snapshots (a duplicate, same ride and second, counts once). The second is counted as
-- UNIX_TIMESTAMP(recorded_at), not the column itself: over the bare columns MariaDB may run the
-- count as a loose scan of the (ride_id, recorded_at) index, which reads every snapshot of the
-- table; an expression keeps it to the hour's range of the recorded_at index.
COALESCE(SUM(snapshot_count), 0) = (
    SELECT COUNT(DISTINCT s.ride_id, UNIX_TIMESTAMP(s.recorded_at)) FROM ride_status_snapshots s
    WHERE s.recorded_at >= '{{ hour_start }}' AND s.recorded_at < '{{ hour_end }}')

-- name: ride_rows_have_rides_and_parks
-- On ride_hourly_stats: every row's ride and park exist.
COALESCE(SUM(ride_id NOT IN (SELECT r.ride_id FROM rides r)
             OR park_id NOT IN (SELECT p.park_id FROM parks p)), 0) = 0

-- name: park_downtime_is_its_rides_downtime
-- On park_hourly_stats: each park row's downtime is the sum of the stored downtime of its rides
-- that operated today, and its park exists.
COALESCE(SUM(park_id NOT IN (SELECT p.park_id FROM parks p)
             OR total_downtime_hours <> (
                 SELECT COALESCE(SUM(r.downtime_hours), 0) FROM ride_hourly_stats r
                 WHERE r.hour_start_utc = '{{ hour_start }}' AND r.park_id = park_hourly_stats.park_id
                   AND r.ride_operated = 1)), 0) = 0

-- name: collector_not_silent
-- On ride_status_snapshots in the hour: some snapshot, unless the same hour of the day before
-- had none either (a tracker that is off at that hour every day).
COUNT(*) > 0 OR NOT EXISTS (
    SELECT 1 FROM ride_status_snapshots y
    WHERE y.recorded_at >= '{{ hour_start }}' - INTERVAL 1 DAY
      AND y.recorded_at < '{{ hour_end }}' - INTERVAL 1 DAY)

-- The values behind a failed table check, for the task log and aggregation_log: one row, one
-- text column each.

-- name: values_of_ride_snapshots_add_up
SELECT CONCAT('ride rows count ', COALESCE((SELECT SUM(snapshot_count) FROM ride_hourly_stats
                                            WHERE hour_start_utc = '{{ hour_start }}'), 0),
              ' snapshots, the hour has ', COUNT(DISTINCT s.ride_id, UNIX_TIMESTAMP(s.recorded_at)))
FROM ride_status_snapshots s
WHERE s.recorded_at >= '{{ hour_start }}' AND s.recorded_at < '{{ hour_end }}'

-- name: values_of_ride_rows_have_rides_and_parks
SELECT CONCAT('ride_ids ', COALESCE(GROUP_CONCAT(DISTINCT h.ride_id ORDER BY h.ride_id), ''),
              ' have no ride or no park row')
FROM ride_hourly_stats h
WHERE h.hour_start_utc = '{{ hour_start }}'
  AND (h.ride_id NOT IN (SELECT r.ride_id FROM rides r) OR h.park_id NOT IN (SELECT p.park_id FROM parks p))

-- name: values_of_park_downtime_is_its_rides_downtime
SELECT COALESCE(GROUP_CONCAT(CONCAT('park_id ', p.park_id, ' total_downtime_hours ', p.total_downtime_hours,
                                    ', its operated rides ', COALESCE(r.downtime, 0))
                             ORDER BY p.park_id SEPARATOR '; '), '')
FROM park_hourly_stats p
LEFT JOIN (SELECT park_id, SUM(downtime_hours) AS downtime FROM ride_hourly_stats
           WHERE hour_start_utc = '{{ hour_start }}' AND ride_operated = 1 GROUP BY park_id) r
       ON r.park_id = p.park_id
WHERE p.hour_start_utc = '{{ hour_start }}'
  AND (p.total_downtime_hours <> COALESCE(r.downtime, 0) OR p.park_id NOT IN (SELECT park_id FROM parks))

-- name: values_of_collector_not_silent
SELECT CONCAT('silent collector: no ride snapshot in the hour, ',
              (SELECT COUNT(*) FROM ride_status_snapshots y
               WHERE y.recorded_at >= '{{ hour_start }}' - INTERVAL 1 DAY
                 AND y.recorded_at < '{{ hour_end }}' - INTERVAL 1 DAY),
              ' in the same hour the day before')
