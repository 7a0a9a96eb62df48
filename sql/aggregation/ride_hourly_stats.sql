-- Ride statistics for one UTC hour H = [%(hour_start)s, %(hour_end)s): the rules are in
-- docs/DOMAIN.md. The task runs these named statements in the order they appear here
-- (aggregation.RIDE_STATEMENTS, held to this file by tests/unit/test_sql_files.py), after those of
-- park_snapshots.sql, in one READ COMMITTED transaction, with its checks between them.
-- Parameters are bound by the client library, never formatted into the text. Costs:
-- docs/PERFORMANCE.md.

-- name: park_timezones
-- Every park's time zone: its local day containing H is worked out in Python (park_days.py)
-- and comes back as %(park_days)s.
SELECT park_id, timezone FROM parks ORDER BY park_id;

-- name: drop_staging
DROP TEMPORARY TABLE IF EXISTS tmp_park_day, tmp_park_cell, tmp_snap, tmp_ride_hour, tmp_last_open, tmp_last_legacy_open,
    tmp_ride_down;

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

-- name: create_park_cell
-- Which park snapshot is "nearest, at most 90 s away" for any instant of H, precomputed per park:
-- each park snapshot owns the seconds closer to it than to its neighbours (a tie goes to the
-- earlier one; one snapshot per park and second, the last written: park_snapshots.sql), clipped
-- to +-90 s. Seconds are counted from the hour's start. A ride snapshot then finds its park's
-- state with one join instead of a nearest-neighbour search per snapshot.
CREATE TEMPORARY TABLE tmp_park_cell (
    park_id INT NOT NULL,
    lo INT NOT NULL,
    hi INT NOT NULL,
    park_appears_open TINYINT NOT NULL,
    KEY (park_id, lo) USING BTREE
) ENGINE=MEMORY;

-- name: fill_park_cell
-- From the park snapshots staged around H (park_snapshots.sql: one per park and second, the last
-- written).
INSERT INTO tmp_park_cell (park_id, lo, hi, park_appears_open)
SELECT n.park_id,
       GREATEST(n.sec - 90, COALESCE(FLOOR((n.prev_sec + n.sec) / 2) + 1, n.sec - 90)),
       LEAST(n.sec + 90, COALESCE(FLOOR((n.sec + n.next_sec) / 2), n.sec + 90)),
       n.park_appears_open
FROM (
    SELECT d.park_id, d.sec, d.park_appears_open,
           LAG(d.sec) OVER (PARTITION BY d.park_id ORDER BY d.sec) AS prev_sec,
           LEAD(d.sec) OVER (PARTITION BY d.park_id ORDER BY d.sec) AS next_sec
    FROM (
        SELECT ps.park_id, ps.sec, COALESCE(ps.park_appears_open, 0) AS park_appears_open
        FROM tmp_park_snap ps
    ) AS d
) AS n;

-- name: create_snap
-- H's ride snapshots, read once, one row per ride and second: duplicates are resolved as the
-- rows arrive, the way park_snapshots.sql does (the last written, highest snapshot_id, counts).
-- kind is one of the values aggregation.SNAPSHOT_KINDS binds (a small integer, the cheapest
-- thing to compare once per snapshot): %(kind_open)s OPERATING, or status NULL and
-- computed_is_open = 1; %(kind_down)s DOWN; %(kind_closed)s CLOSED, or status NULL and
-- computed_is_open = 0; %(kind_neither)s REFURBISHMENT.
CREATE TEMPORARY TABLE tmp_snap (
    ride_id INT NOT NULL,
    sec INT NOT NULL,
    wait_time INT NULL,
    kind TINYINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    PRIMARY KEY (ride_id, sec) USING BTREE
) ENGINE=MEMORY;

-- name: fill_snap
-- ON DUPLICATE KEY: snapshot_id is assigned last, as in park_snapshots.sql.
INSERT INTO tmp_snap (ride_id, sec, wait_time, kind, snapshot_id)
SELECT rss.ride_id,
       TIMESTAMPDIFF(SECOND, %(hour_start)s, rss.recorded_at),
       rss.wait_time,
       CASE WHEN rss.status = 'OPERATING' THEN %(kind_open)s
            WHEN rss.status = 'DOWN' THEN %(kind_down)s
            WHEN rss.status = 'CLOSED' THEN %(kind_closed)s
            WHEN rss.status IS NULL AND rss.computed_is_open = 1 THEN %(kind_open)s
            WHEN rss.status IS NULL AND rss.computed_is_open = 0 THEN %(kind_closed)s
            ELSE %(kind_neither)s END,
       rss.snapshot_id
FROM ride_status_snapshots rss
WHERE rss.recorded_at >= %(hour_start)s
  AND rss.recorded_at < %(hour_end)s
ON DUPLICATE KEY UPDATE
    wait_time = IF(VALUES(snapshot_id) > tmp_snap.snapshot_id, VALUES(wait_time), tmp_snap.wait_time),
    kind = IF(VALUES(snapshot_id) > tmp_snap.snapshot_id, VALUES(kind), tmp_snap.kind),
    snapshot_id = GREATEST(tmp_snap.snapshot_id, VALUES(snapshot_id));

-- name: create_ride_hour
CREATE TEMPORARY TABLE tmp_ride_hour (
    ride_id INT NOT NULL PRIMARY KEY,
    park_id INT NULL,
    park_known TINYINT NOT NULL,
    down_reporting TINYINT NOT NULL,
    day_start DATETIME NULL,
    snapshot_count INT NOT NULL,
    operating_snapshots INT NOT NULL,
    avg_wait_time_minutes DECIMAL(20,2) NULL,
    first_open INT NULL,
    first_down INT NULL,
    needs_lookup TINYINT NOT NULL,
    -- The look-ups into the time before H (below), for the rides that need them.
    last_open TIMESTAMP NULL,
    last_legacy_open TIMESTAMP NULL,
    last_down TIMESTAMP NULL,
    open_before_hour TINYINT NOT NULL DEFAULT 0,
    known_to_operate TINYINT NOT NULL DEFAULT 0,
    first_operation INT NULL
) ENGINE=MEMORY;

-- name: stage
-- Per ride: counts, average wait, and the first open, first DOWN and first down-candidate second
-- of H (a down candidate is DOWN in a down-reporting park, DOWN or closed elsewhere). A ride open
-- in H whose first down candidate comes after its first open snapshot needs no history: the day
-- before H cannot change its row. Every other ride gets the look-ups below.
-- The per-snapshot work is kept to integer sums and minimums (the average is divided once per
-- ride): over 25,000 snapshots, per-row DECIMAL arithmetic cost more than the grouping itself.
INSERT INTO tmp_ride_hour (ride_id, park_id, park_known, down_reporting, day_start, snapshot_count,
                           operating_snapshots, avg_wait_time_minutes, first_open, first_down,
                           needs_lookup, first_operation)
SELECT x.ride_id, x.park_id, x.park_known, x.down_reporting, x.day_start, x.snapshot_count,
       x.operating_snapshots,
       CASE WHEN x.waits > 0 THEN ROUND(CAST(x.wait_sum AS DECIMAL(30,10)) / x.waits, 2) END,
       x.first_open, x.first_down,
       CASE WHEN x.first_open IS NOT NULL AND (x.first_candidate IS NULL OR x.first_candidate > x.first_open)
            THEN 0 ELSE 1 END,
       x.first_open
FROM (
    SELECT g.ride_id,
           r.park_id,
           CASE WHEN p.park_id IS NULL THEN 0 ELSE 1 END AS park_known,
           CASE WHEN p.is_disney = 1 OR p.is_universal = 1 THEN 1 ELSE 0 END AS down_reporting,
           pd.day_start,
           g.snapshot_count,
           g.operating_snapshots,
           g.wait_sum,
           g.waits,
           g.first_open,
           g.first_down,
           CASE WHEN p.is_disney = 1 OR p.is_universal = 1 THEN g.first_down
                ELSE LEAST(COALESCE(g.first_down, g.first_closed), COALESCE(g.first_closed, g.first_down)) END
               AS first_candidate
    FROM (
        SELECT ts.ride_id,
               COUNT(*) AS snapshot_count,
               SUM(ts.kind = %(kind_open)s) AS operating_snapshots,
               SUM(IF(ts.kind = %(kind_open)s AND ts.wait_time >= 0, ts.wait_time, NULL)) AS wait_sum,
               SUM(ts.kind = %(kind_open)s AND ts.wait_time >= 0) AS waits,
               MIN(IF(ts.kind = %(kind_open)s, ts.sec, NULL)) AS first_open,
               MIN(IF(ts.kind = %(kind_down)s, ts.sec, NULL)) AS first_down,
               MIN(IF(ts.kind = %(kind_closed)s, ts.sec, NULL)) AS first_closed
        FROM tmp_snap ts
        GROUP BY ts.ride_id
    ) AS g
    LEFT JOIN rides r ON r.ride_id = g.ride_id
    LEFT JOIN parks p ON p.park_id = r.park_id
    LEFT JOIN tmp_park_day pd ON pd.park_id = r.park_id
) AS x;

-- name: bad_rows
-- Snapshots that cannot be classified: the ride or its park is missing, or the park's time
-- zone is not a valid IANA name. The task refuses the hour and names them.
SELECT ride_id, park_id, park_known, snapshot_count
FROM tmp_ride_hour
WHERE park_known = 0 OR day_start IS NULL
ORDER BY ride_id
LIMIT 20;

-- name: newest_snapshot
-- How much lies after H decides how the latest OPERATING snapshot before H is found (below).
-- One dive into (recorded_at).
SELECT MAX(rssn.recorded_at) FROM ride_status_snapshots rssn;

-- The latest OPERATING snapshot before H of each ride that needs the look-ups: it answers "open
-- earlier today" (is it at or after the park's day start?) and "ever open" (is there one?) for
-- all but the rides whose snapshot at that second has a duplicate (settle_last_open settles
-- those). Found one of two ways, same answer (tests/integration/test_lookup_paths.py runs both on the
-- same hours):

-- name: last_open_recent
-- Little data after H (the scheduler's run of the hour that just ended): per ride, one dive into
-- (ride_id, status, recorded_at) at the ride's newest OPERATING row, stepping back over the few
-- after H. Cheapest when only the rides that need it are looked at.
UPDATE tmp_ride_hour t
SET t.last_open = (SELECT rssl.recorded_at FROM ride_status_snapshots rssl
                   WHERE rssl.ride_id = t.ride_id AND rssl.status = 'OPERATING'
                     AND rssl.recorded_at < %(hour_start)s
                   ORDER BY rssl.recorded_at DESC LIMIT 1)
WHERE t.needs_lookup = 1;

-- name: create_last_open
CREATE TEMPORARY TABLE tmp_last_open (
    ride_id INT NOT NULL PRIMARY KEY,
    last_open TIMESTAMP NULL
) ENGINE=MEMORY;

-- name: fill_last_open
-- Later data after H (a backfill): the dive above would step back over every OPERATING row of
-- the ride after H, weeks of them for an hour weeks old. Instead, a loose index scan of
-- (ride_id, status, recorded_at) jumps from ride to ride and lands on (ride, OPERATING, H)
-- directly: its cost is two dives per ride in the table, whatever lies before or after H.
INSERT INTO tmp_last_open (ride_id, last_open)
SELECT rssl.ride_id, MAX(rssl.recorded_at)
FROM ride_status_snapshots rssl
WHERE rssl.status = 'OPERATING'
  AND rssl.recorded_at < %(hour_start)s
GROUP BY rssl.ride_id;

-- name: last_open_from_scan
UPDATE tmp_ride_hour t
JOIN tmp_last_open lo ON lo.ride_id = t.ride_id
SET t.last_open = lo.last_open
WHERE t.needs_lookup = 1;

-- What follows answers, for the rides whose row depends on the time before H (see stage), one
-- question per statement, each stored in its own column of tmp_ride_hour. These read only the
-- rows an index dive lands on, so a row counts unless a later-written row of the same ride and
-- second exists: the NOT EXISTS below, the same in each of the three.

-- name: settle_last_open
-- last_open is the latest OPERATING row before H, which a later row of the same second may have
-- superseded. Where that would matter (it is today, or it is all that tells whether a
-- down-reporting ride not open in H ever operated) and its second has another row, it becomes
-- the latest OPERATING row that counts, NULL if none.
UPDATE tmp_ride_hour t
SET t.last_open = (SELECT rss.recorded_at FROM ride_status_snapshots rss
                   WHERE rss.ride_id = t.ride_id AND rss.status = 'OPERATING'
                     AND rss.recorded_at < %(hour_start)s
                     AND NOT EXISTS (SELECT 1 FROM ride_status_snapshots rss2
                                     WHERE rss2.ride_id = rss.ride_id AND rss2.recorded_at = rss.recorded_at
                                       AND rss2.snapshot_id > rss.snapshot_id)
                   ORDER BY rss.recorded_at DESC LIMIT 1)
WHERE t.needs_lookup = 1
  AND t.last_open IS NOT NULL
  AND (t.last_open >= t.day_start OR (t.down_reporting = 1 AND t.first_open IS NULL))
  AND (SELECT COUNT(*) FROM ride_status_snapshots rssd
       WHERE rssd.ride_id = t.ride_id AND rssd.recorded_at = t.last_open) > 1;

-- The latest open row of an older collector (status NULL, computed_is_open = 1) before H: a
-- loose index scan of (ride_id, computed_is_open, status, recorded_at) (migration 021) lands on
-- it for every ride at once, two dives a ride, whatever lies before or after H. A per-ride dive
-- could not: the optimizer runs it as a look-up of (ride_id, status) read backwards from the
-- ride's newest row, and a ride that was never open that way reads all its history.
-- name: create_last_legacy_open
CREATE TEMPORARY TABLE tmp_last_legacy_open (
    ride_id INT NOT NULL PRIMARY KEY,
    last_open TIMESTAMP NULL
) ENGINE=MEMORY;

-- name: fill_last_legacy_open
INSERT INTO tmp_last_legacy_open (ride_id, last_open)
SELECT rssy.ride_id, MAX(rssy.recorded_at)
FROM ride_status_snapshots rssy
WHERE rssy.status IS NULL
  AND rssy.computed_is_open = 1
  AND rssy.recorded_at < %(hour_start)s
GROUP BY rssy.ride_id;

-- name: last_legacy_open
-- Looked at only when the OPERATING rows do not already say "open today".
UPDATE tmp_ride_hour t
JOIN tmp_last_legacy_open lo ON lo.ride_id = t.ride_id
SET t.last_legacy_open = lo.last_open
WHERE t.needs_lookup = 1
  AND (t.last_open IS NULL OR t.last_open < t.day_start);

-- name: settle_last_legacy_open
-- As settle_last_open: where the row found would matter (it is today, or it alone may make a
-- down-reporting ride known to operate: not open in H nor OPERATING before it) and its second has
-- another row, it becomes the latest legacy open row that counts, NULL if none. The index is named:
-- from sampled statistics MariaDB sometimes took (ride_id, status, recorded_at, ...) instead and read
-- every row of the ride with that status (tests/integration/test_query_plans.py failed 2 runs in 4).
UPDATE tmp_ride_hour t
SET t.last_legacy_open = (SELECT rss.recorded_at FROM ride_status_snapshots rss
                              FORCE INDEX (idx_rss_ride_open_status_recorded)
                          WHERE rss.ride_id = t.ride_id AND rss.status IS NULL AND rss.computed_is_open = 1
                            AND rss.recorded_at < %(hour_start)s
                            AND NOT EXISTS (SELECT 1 FROM ride_status_snapshots rss2
                                            WHERE rss2.ride_id = rss.ride_id AND rss2.recorded_at = rss.recorded_at
                                              AND rss2.snapshot_id > rss.snapshot_id)
                          ORDER BY rss.recorded_at DESC LIMIT 1)
WHERE t.needs_lookup = 1
  AND t.last_legacy_open IS NOT NULL
  AND (t.last_legacy_open >= t.day_start
       OR (t.down_reporting = 1 AND t.first_open IS NULL AND t.last_open IS NULL))
  AND (SELECT COUNT(*) FROM ride_status_snapshots rssd
       WHERE rssd.ride_id = t.ride_id AND rssd.recorded_at = t.last_legacy_open) > 1;

-- name: open_or_known
-- Open earlier today (park-local midnight to H); and, in down-reporting parks only, known to
-- operate: seen open before H's end (docs/decisions/0001-down-counts-only-for-rides-known-to-operate.md).
UPDATE tmp_ride_hour t
SET t.open_before_hour = COALESCE(t.last_open >= t.day_start OR t.last_legacy_open >= t.day_start, 0),
    t.known_to_operate = t.down_reporting = 1
                         AND (t.first_open IS NOT NULL OR t.last_open IS NOT NULL OR t.last_legacy_open IS NOT NULL)
WHERE t.needs_lookup = 1;

-- name: last_down
-- A ride known to operate that was DOWN earlier today has operated today (down-reporting parks):
-- its latest DOWN before H that counts, where not open today already decides.
UPDATE tmp_ride_hour t
SET t.last_down = (SELECT rss.recorded_at FROM ride_status_snapshots rss
                   WHERE rss.ride_id = t.ride_id AND rss.status = 'DOWN' AND rss.recorded_at < %(hour_start)s
                     AND NOT EXISTS (SELECT 1 FROM ride_status_snapshots rss2
                                     WHERE rss2.ride_id = rss.ride_id AND rss2.recorded_at = rss.recorded_at
                                       AND rss2.snapshot_id > rss.snapshot_id)
                   ORDER BY rss.recorded_at DESC LIMIT 1)
WHERE t.needs_lookup = 1
  AND t.known_to_operate = 1
  AND t.open_before_hour = 0;

-- name: first_operation
-- The second of H from which down snapshots count (seconds count from H's start, so having
-- operated earlier today means 0, the whole hour); NULL: not operated today.
UPDATE tmp_ride_hour t
SET t.first_operation = CASE
        WHEN t.open_before_hour = 1 OR t.last_down >= t.day_start THEN 0
        WHEN t.known_to_operate = 1
            THEN LEAST(COALESCE(t.first_open, t.first_down), COALESCE(t.first_down, t.first_open))
        ELSE t.first_open
    END
WHERE t.needs_lookup = 1;

-- name: create_ride_down
CREATE TEMPORARY TABLE tmp_ride_down (
    ride_id INT NOT NULL PRIMARY KEY,
    down_snapshots INT NOT NULL
) ENGINE=MEMORY;

-- name: count_down
-- Down snapshots that count: a down candidate at or after the ride's first operation, while its
-- park is open (the park snapshot owning that second says park_appears_open).
INSERT INTO tmp_ride_down (ride_id, down_snapshots)
SELECT t.ride_id, COUNT(*)
FROM tmp_ride_hour t
JOIN tmp_snap ts ON ts.ride_id = t.ride_id
JOIN tmp_park_cell c ON c.park_id = t.park_id AND c.lo <= ts.sec AND c.hi >= ts.sec
WHERE t.first_operation IS NOT NULL
  AND ts.sec >= t.first_operation
  AND (ts.kind = %(kind_down)s OR (ts.kind = %(kind_closed)s AND t.down_reporting = 0))
  AND c.park_appears_open = 1
GROUP BY t.ride_id;

-- name: bad_weights
-- The weight aggregate_parks will give each ride that operated today (same rule as its
-- fill_ride_weight): one outside 1..3 refuses the hour before either table is written.
SELECT t.ride_id, 1, r.tier, rc.tier_weight
FROM tmp_ride_hour t
JOIN rides r ON r.ride_id = t.ride_id
LEFT JOIN ride_classifications rc ON rc.ride_id = t.ride_id
WHERE t.first_operation IS NOT NULL
  AND (rc.tier_weight NOT IN (1, 2, 3) OR (rc.tier_weight IS NULL AND r.tier NOT IN (1, 2, 3)))
ORDER BY t.ride_id
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
    COALESCE(d.down_snapshots, 0),
    ROUND(CAST(LEAST(COALESCE(d.down_snapshots, 0) * %(interval_minutes)s, 60) AS DECIMAL(20,6)) / 60, 2),
    ROUND(CAST(100 * t.operating_snapshots AS DECIMAL(20,6)) / t.snapshot_count, 2),
    t.snapshot_count,
    CASE WHEN t.first_operation IS NULL THEN 0 ELSE 1 END
FROM tmp_ride_hour t
LEFT JOIN tmp_ride_down d ON d.ride_id = t.ride_id
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
SELECT COUNT(*), COALESCE(SUM(t.snapshot_count), 0), COALESCE(SUM(d.down_snapshots), 0),
       COALESCE(SUM(t.first_operation IS NOT NULL), 0)
FROM tmp_ride_hour t
LEFT JOIN tmp_ride_down d ON d.ride_id = t.ride_id;
