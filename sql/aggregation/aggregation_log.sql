-- One aggregation_log row per Airflow DAG run (docs/DOMAIN.md). The unique key on
-- (dag_id, run_id) makes clearing and re-running a run update its row; separate runs of the same
-- hour keep separate rows, which is the history of that hour. A re-run counts its attempt and
-- keeps the last failure (task, time, error) even when it now succeeds.

-- name: upsert_run
INSERT INTO aggregation_log (aggregation_date, aggregation_type, aggregated_from_ts,
                             aggregated_until_ts, started_at, completed_at, status,
                             error_message, parks_processed, rides_processed, dag_id, run_id,
                             attempts, failed_attempts, last_failed_task, last_failed_at, last_error,
                             reason, triggered_by_run_id, late_snapshots)
VALUES (%(aggregation_date)s, 'hourly', %(hour_start)s, %(hour_end)s, %(started_at)s,
        %(completed_at)s, %(status)s, %(error_message)s, %(parks_processed)s,
        %(rides_processed)s, %(dag_id)s, %(run_id)s,
        1, %(failed)s, %(failed_task)s, %(failed_at)s, %(error_message)s,
        %(reason)s, %(triggered_by_run_id)s, %(late_snapshots)s)
ON DUPLICATE KEY UPDATE
    aggregation_date = VALUES(aggregation_date),
    aggregated_from_ts = VALUES(aggregated_from_ts),
    aggregated_until_ts = VALUES(aggregated_until_ts),
    started_at = VALUES(started_at),
    completed_at = VALUES(completed_at),
    status = VALUES(status),
    error_message = VALUES(error_message),
    parks_processed = VALUES(parks_processed),
    rides_processed = VALUES(rides_processed),
    late_snapshots = VALUES(late_snapshots),
    attempts = attempts + 1,
    failed_attempts = failed_attempts + VALUES(failed_attempts),
    -- Each test reads VALUES(status), never a column this statement assigns, so the order of
    -- the assignments does not matter.
    last_failed_task = IF(VALUES(status) = 'failed', VALUES(last_failed_task), last_failed_task),
    last_failed_at = IF(VALUES(status) = 'failed', VALUES(last_failed_at), last_failed_at),
    last_error = IF(VALUES(status) = 'failed', VALUES(last_error), last_error);
