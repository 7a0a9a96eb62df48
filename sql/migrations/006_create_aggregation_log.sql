-- The tracker's original aggregation log, as its old migrations created it. Later migrations
-- (014, 015, 016) widen it for hourly runs; a fresh database goes through the same steps.
CREATE TABLE IF NOT EXISTS aggregation_log (
    log_id INT NOT NULL AUTO_INCREMENT,
    aggregation_date DATE NOT NULL,
    aggregation_type ENUM('daily','weekly','monthly','yearly') NOT NULL,
    started_at TIMESTAMP NULL DEFAULT NULL,
    completed_at TIMESTAMP NULL DEFAULT NULL,
    status ENUM('running','success','failed') NOT NULL DEFAULT 'running',
    aggregated_until_ts TIMESTAMP NULL DEFAULT NULL,
    error_message TEXT NULL,
    parks_processed INT NOT NULL DEFAULT 0,
    rides_processed INT NOT NULL DEFAULT 0,
    PRIMARY KEY (log_id),
    UNIQUE KEY unique_aggregation (aggregation_date, aggregation_type)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
