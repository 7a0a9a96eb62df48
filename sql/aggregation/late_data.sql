-- Late snapshots: rows written since the last search whose recorded_at lies in an hour already
-- aggregated (plugins/themepark_hourly/late_data.py). Each read is a primary-key range of the rows
-- written since the mark, so its cost follows what was written, not the window searched.
-- Hours are counted as FLOOR(UNIX_TIMESTAMP(t) / 3600): the session runs at time_zone '+00:00'.

-- name: marks
SELECT table_name, last_snapshot_id FROM themepark_late_data_marks;

-- name: latest_aggregated_hour
-- One dive into the primary key (hour_start_utc, ride_id).
SELECT MAX(hour_start_utc) FROM ride_hourly_stats;

-- name: newest_ids
SELECT (SELECT COALESCE(MAX(snapshot_id), 0) FROM ride_status_snapshots),
       (SELECT COALESCE(MAX(snapshot_id), 0) FROM park_activity_snapshots);

-- name: late_ride_hours
-- Per park and hour: how many of the new ride snapshots were recorded before the end of the
-- latest aggregated hour. The ride's park
-- decides which later hours of the same park-local day depend on them; NULL when the ride or
-- its park is unknown (that hour is then re-aggregated, and refuses itself by name).
SELECT r.park_id, p.timezone, FLOOR(UNIX_TIMESTAMP(s.recorded_at) / 3600) AS hour_number, COUNT(*)
FROM ride_status_snapshots s
LEFT JOIN rides r ON r.ride_id = s.ride_id
LEFT JOIN parks p ON p.park_id = r.park_id
WHERE s.snapshot_id > %(ride_mark)s AND s.snapshot_id <= %(ride_newest)s
  AND s.recorded_at < %(until)s
GROUP BY r.park_id, p.timezone, hour_number;

-- name: late_park_hours
-- Per hour: new park snapshots that can decide "park open" for a ride poll of an earlier hour
-- (the nearest park snapshot within 90 s may lie in the neighbouring hour).
SELECT FLOOR(UNIX_TIMESTAMP(s.recorded_at - INTERVAL 90 SECOND) / 3600) AS first_hour,
       FLOOR(UNIX_TIMESTAMP(s.recorded_at + INTERVAL 90 SECOND) / 3600) AS last_hour,
       COUNT(*)
FROM park_activity_snapshots s
WHERE s.snapshot_id > %(park_mark)s AND s.snapshot_id <= %(park_newest)s
  AND s.recorded_at < %(until)s + INTERVAL 90 SECOND
GROUP BY first_hour, last_hour;

-- name: advance_mark
-- GREATEST: two runs may finish in either order; the mark never goes back.
INSERT INTO themepark_late_data_marks (table_name, last_snapshot_id)
VALUES (%(table_name)s, %(last_snapshot_id)s)
ON DUPLICATE KEY UPDATE last_snapshot_id = GREATEST(last_snapshot_id, VALUES(last_snapshot_id));
