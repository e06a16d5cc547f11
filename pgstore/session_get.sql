-- SessionStore.Get: $1 id; an expired session is not found.
SELECT id, subject, created_at, last_active, expires_at, ip, user_agent, device_keys, device_vals, active
FROM {{sessions}} WHERE id = $1::bytea AND expires_at > now()
