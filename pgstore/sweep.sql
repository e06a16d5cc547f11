-- Sweep, one bounded batch of one table: $1 the batch size. {{table}} and
-- {{expiry}} name the table and its expiry column. Rows locked by another
-- transaction are skipped, so a sweep never waits on (or holds up) a
-- request; it deletes at most $1 rows per statement.
DELETE FROM {{table}} WHERE ctid IN (
	SELECT ctid FROM {{table}} WHERE {{expiry}} <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)
