-- One row per park per collector poll, written a few seconds after that poll's ride rows.
CREATE TABLE IF NOT EXISTS park_activity_snapshots (
    snapshot_id BIGINT NOT NULL AUTO_INCREMENT,
    park_id INT NOT NULL,
    recorded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    total_rides_tracked INT NOT NULL DEFAULT 0,
    rides_open INT NOT NULL DEFAULT 0,
    rides_closed INT NOT NULL DEFAULT 0,
    avg_wait_time DECIMAL(5,2) NULL,
    max_wait_time INT NULL,
    park_appears_open BOOLEAN NOT NULL DEFAULT FALSE,
    shame_score DECIMAL(4,1) NULL,
    PRIMARY KEY (snapshot_id),
    KEY idx_pas_recorded_at (recorded_at),
    KEY idx_pas_park_recorded (park_id, recorded_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
