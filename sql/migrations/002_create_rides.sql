-- Rides. tier: 1 (headliner) .. 3 (minor), NULL when unclassified.
CREATE TABLE IF NOT EXISTS rides (
    ride_id INT NOT NULL AUTO_INCREMENT,
    park_id INT NOT NULL,
    name VARCHAR(255) NOT NULL,
    tier TINYINT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (ride_id),
    KEY idx_rides_park (park_id),
    CONSTRAINT fk_rides_park FOREIGN KEY (park_id) REFERENCES parks (park_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
