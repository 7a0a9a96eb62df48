-- The migration runner's bookkeeping beside its ledger (themepark_schema_migrations, created by
-- migrations.py): which indexes each migration added, and the ledger rows a rollback removes.
-- %(name)s are the runner's bound parameters: these statements are not for the plain client.

-- name: created_indexes_table
-- Indexes a migration added to a table that existed before it, so that its down step drops
-- those and never an index someone else made (017, 018 and 021 add one only where none with the
-- same leading columns exists). The down files of 017, 018 and 021 repeat this CREATE (a test keeps them
-- identical) so that they run alone in the plain client.
CREATE TABLE IF NOT EXISTS themepark_schema_created_indexes (
    table_name VARCHAR(64) NOT NULL,
    index_name VARCHAR(64) NOT NULL,
    version INT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (table_name, index_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- name: indexes
SELECT DISTINCT table_name, index_name
  FROM information_schema.statistics
 WHERE table_schema = DATABASE();

-- name: tables
SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE();

-- name: record_index
INSERT INTO themepark_schema_created_indexes (table_name, index_name, version)
VALUES (%(table)s, %(index)s, %(version)s)
ON DUPLICATE KEY UPDATE version = %(version)s;

-- name: forget_indexes
DELETE FROM themepark_schema_created_indexes WHERE version = %(version)s;

-- name: forget_migration
DELETE FROM themepark_schema_migrations WHERE version = %(version)s;

-- name: applied
SELECT version, name, applied_at FROM themepark_schema_migrations ORDER BY version;
