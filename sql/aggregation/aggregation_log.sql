-- One aggregation_log row per Airflow DAG run (docs/DOMAIN.md). The unique key on
-- (dag_id, run_id) makes clearing and re-running a run update its row; separate runs of the same
-- hour keep separate rows, which is the history of that hour.

-- name: upsert_run
INSERT INTO aggregation_log (aggregation_date, aggregation_type, aggregated_from_ts,
                             aggregated_until_ts, started_at, completed_at, status,
                             error_message, parks_processed, rides_processed, dag_id, run_id)
VALUES (%(aggregation_date)s, 'hourly', %(hour_start)s, %(hour_end)s, %(started_at)s,
        %(completed_at)s, %(status)s, %(error_message)s, %(parks_processed)s,
        %(rides_processed)s, %(dag_id)s, %(run_id)s)
ON DUPLICATE KEY UPDATE
    aggregation_date = VALUES(aggregation_date),
    aggregated_from_ts = VALUES(aggregated_from_ts),
    aggregated_until_ts = VALUES(aggregated_until_ts),
    started_at = VALUES(started_at),
    completed_at = VALUES(completed_at),
    status = VALUES(status),
    error_message = VALUES(error_message),
    parks_processed = VALUES(parks_processed),
    rides_processed = VALUES(rides_processed);
