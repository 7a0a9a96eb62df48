-- What `make demo` and `make dags-test` print after aggregating (scripts/demo.py, themepark_devtools.run_result).

-- name: park_ranking
SELECT phs.hour_start_utc, p.name, p.timezone, phs.shame_score, phs.total_downtime_hours,
       phs.avg_wait_time_minutes, phs.rides_operating, phs.rides_down, phs.park_was_open
FROM park_hourly_stats phs
JOIN parks p ON p.park_id = phs.park_id
WHERE phs.hour_start_utc >= %(first_hour)s AND phs.hour_start_utc < %(end_hour)s
ORDER BY phs.hour_start_utc, phs.park_was_open DESC, phs.shame_score DESC, p.name;

-- name: log_rows
SELECT log_id, run_id, aggregated_from_ts, aggregated_until_ts, status, rides_processed,
       parks_processed, error_message
FROM aggregation_log
WHERE aggregation_type = 'hourly' AND run_id IN %(run_ids)s
ORDER BY aggregated_from_ts, log_id;
