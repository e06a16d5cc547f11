-- SessionStore.Create: $1 id, $2 subject, $3 created_at, $4 last_active,
-- $5 expires_at, $6 ip, $7 user_agent, $8 device_keys, $9 device_vals.
-- A session already past its expiry is not stored. An id of a live session
-- returns no row (ErrSessionExists); an expired one, not yet swept, is
-- replaced.
INSERT INTO {{sessions}} AS s (id, subject, created_at, last_active, expires_at, ip, user_agent, device_keys, device_vals, active)
SELECT $1::bytea, $2::bytea, $3::timestamptz, $4::timestamptz, $5::timestamptz, $6::bytea, $7::bytea, $8::bytea[], $9::bytea[], true
WHERE $5::timestamptz > now()
ON CONFLICT (id) DO UPDATE SET
	subject = excluded.subject, created_at = excluded.created_at, last_active = excluded.last_active,
	expires_at = excluded.expires_at, ip = excluded.ip, user_agent = excluded.user_agent,
	device_keys = excluded.device_keys, device_vals = excluded.device_vals, active = true
WHERE s.expires_at <= now()
RETURNING true
