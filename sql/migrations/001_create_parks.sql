-- Parks tracked by the collector. timezone is an IANA name (e.g. America/New_York): the
-- aggregation uses it to find the park's local day, so it must be valid for parks with data.
CREATE TABLE IF NOT EXISTS parks (
    park_id INT NOT NULL AUTO_INCREMENT,
    name VARCHAR(255) NOT NULL,
    timezone VARCHAR(50) NOT NULL DEFAULT 'UTC',
    is_disney BOOLEAN NOT NULL DEFAULT FALSE,
    is_universal BOOLEAN NOT NULL DEFAULT FALSE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (park_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
