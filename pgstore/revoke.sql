-- Blocklist.Revoke: $1 id, $2 until. A time already past records nothing;
-- an existing entry keeps the later until (an expired one, not yet swept,
-- is simply replaced).
INSERT INTO {{blocklist}} AS b (id, until)
SELECT $1::bytea, $2::timestamptz WHERE $2::timestamptz > now()
ON CONFLICT (id) DO UPDATE SET until = CASE
	WHEN b.until <= now() THEN excluded.until
	ELSE greatest(b.until, excluded.until) END
