-- Inserts of the seeded sample generator (devtools/themepark_devtools/sample_data.py), used by
-- `make demo`, the tests and the benchmark.

-- name: insert_parks
INSERT INTO parks (park_id, name, timezone, is_disney, is_universal) VALUES (%s, %s, %s, %s, %s);

-- name: insert_rides
INSERT INTO rides (ride_id, park_id, name, tier) VALUES (%s, %s, %s, %s);

-- name: insert_classifications
INSERT INTO ride_classifications (ride_id, tier, tier_weight) VALUES (%s, %s, %s);

-- name: insert_ride_snapshots
INSERT INTO ride_status_snapshots (ride_id, recorded_at, wait_time, computed_is_open, status)
VALUES (%s, %s, %s, %s, %s);

-- name: insert_park_snapshots
INSERT INTO park_activity_snapshots (park_id, recorded_at, total_rides_tracked, rides_open,
                                     rides_closed, avg_wait_time, max_wait_time, park_appears_open)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s);

-- name: count_foreign_parks
-- Parks that are not sample parks: the demo refuses to mix its data into a real tracker.
SELECT COUNT(*) FROM parks WHERE park_id < %s OR park_id > %s;

-- name: count_sample_snapshots
SELECT COUNT(*) FROM ride_status_snapshots WHERE ride_id >= %s;
