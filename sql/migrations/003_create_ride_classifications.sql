-- Manual or computed ride classification; tier_weight overrides the weight derived from rides.tier.
CREATE TABLE IF NOT EXISTS ride_classifications (
    classification_id INT NOT NULL AUTO_INCREMENT,
    ride_id INT NOT NULL,
    tier TINYINT NULL,
    tier_weight TINYINT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (classification_id),
    UNIQUE KEY uq_ride_classifications_ride (ride_id),
    CONSTRAINT fk_ride_classifications_ride FOREIGN KEY (ride_id) REFERENCES rides (ride_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
