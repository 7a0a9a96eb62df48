-- One row per ride per collector poll. recorded_at is UTC (sessions run with time_zone '+00:00').
-- No foreign keys: the collector inserts at high rate and the aggregation reports orphans itself.
CREATE TABLE IF NOT EXISTS ride_status_snapshots (
    snapshot_id BIGINT NOT NULL AUTO_INCREMENT,
    ride_id INT NOT NULL,
    recorded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    is_open BOOLEAN NULL,
    wait_time INT NULL,
    computed_is_open BOOLEAN NOT NULL DEFAULT FALSE,
    status ENUM('OPERATING','DOWN','CLOSED','REFURBISHMENT') NULL,
    last_updated_api TIMESTAMP NULL DEFAULT NULL,
    PRIMARY KEY (snapshot_id),
    KEY idx_rss_recorded_at (recorded_at),
    KEY idx_rss_ride_recorded (ride_id, recorded_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
