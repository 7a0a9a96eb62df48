-- How far the late-data search has read each snapshot table: the highest snapshot_id it has
-- looked at. Each scheduled run reads only the rows written since (ids above the mark), so
-- finding late snapshots costs in proportion to what was written, not to the search window.
CREATE TABLE IF NOT EXISTS themepark_late_data_marks (
    table_name VARCHAR(64) NOT NULL,
    last_snapshot_id BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    PRIMARY KEY (table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
