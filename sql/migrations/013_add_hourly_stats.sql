-- Hourly statistics written by the DAG, one row per (ride, UTC hour) and per (park, UTC hour).
-- The primary keys lead with the hour so that replacing one hour touches one contiguous range:
-- backfills of different hours never wait on each other's rows.
CREATE TABLE IF NOT EXISTS ride_hourly_stats (
    hour_start_utc DATETIME NOT NULL,
    ride_id INT NOT NULL,
    park_id INT NOT NULL,
    avg_wait_time_minutes DECIMAL(6,2) NULL,
    operating_snapshots INT NOT NULL DEFAULT 0,
    down_snapshots INT NOT NULL DEFAULT 0,
    downtime_hours DECIMAL(6,2) NOT NULL DEFAULT 0,
    uptime_percentage DECIMAL(5,2) NOT NULL DEFAULT 0,
    snapshot_count INT NOT NULL DEFAULT 0,
    ride_operated BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (hour_start_utc, ride_id),
    KEY idx_rhs_ride_hour (ride_id, hour_start_utc),
    KEY idx_rhs_park_hour (park_id, hour_start_utc)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS park_hourly_stats (
    hour_start_utc DATETIME NOT NULL,
    park_id INT NOT NULL,
    shame_score DECIMAL(3,1) NOT NULL DEFAULT 0,
    avg_wait_time_minutes DECIMAL(6,2) NULL,
    rides_operating INT NULL,
    rides_down INT NULL,
    total_downtime_hours DECIMAL(8,2) NOT NULL DEFAULT 0,
    weighted_downtime_hours DECIMAL(8,2) NOT NULL DEFAULT 0,
    effective_park_weight DECIMAL(10,2) NOT NULL DEFAULT 0,
    snapshot_count INT NOT NULL DEFAULT 0,
    park_was_open BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (hour_start_utc, park_id),
    KEY idx_phs_park_hour (park_id, hour_start_utc)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
