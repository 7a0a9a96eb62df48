-- The server's own account of every statement: the slow query log written to the table
-- mysql.slow_log with long_query_time 0 (devtools/themepark_devtools/statement_log.py). Used by
-- the rows-examined test and `make bench`, never by the DAG.

-- name: lock
SELECT GET_LOCK('themepark_statement_log', %(seconds)s);

-- name: settings
SELECT variable_name, variable_value FROM information_schema.global_variables
WHERE variable_name IN ('slow_query_log', 'long_query_time', 'log_output', 'log_slow_admin_statements');

-- name: now
SELECT NOW(6);

-- name: log_everything
-- log_output 'TABLE' alone, so that the server's slow log file does not fill with every statement.
SET GLOBAL log_output = 'TABLE', GLOBAL long_query_time = 0, GLOBAL log_slow_admin_statements = 'ON',
    GLOBAL slow_query_log = 'ON';

-- name: read
-- What sessions ran in the database since the mark, in the order they ran. start_time is in
-- the session time zone of the logging server, as NOW(6) above: both are read in one zone.
SELECT sql_text, rows_examined, TIME_TO_SEC(query_time)
FROM mysql.slow_log
WHERE db = %(database)s AND start_time >= %(since)s
  AND (%(user_prefix)s IS NULL OR LEFT(user_host, CHAR_LENGTH(%(user_prefix)s)) = %(user_prefix)s)
ORDER BY start_time;

-- name: restore
SET GLOBAL slow_query_log = %(slow_query_log)s, GLOBAL long_query_time = CAST(%(long_query_time)s AS DOUBLE),
    GLOBAL log_slow_admin_statements = %(log_slow_admin_statements)s, GLOBAL log_output = %(log_output)s;
