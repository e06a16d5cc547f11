-- SessionStore.List: $1 subject; its live, active sessions, newest first.
SELECT id, subject, created_at, last_active, expires_at, ip, user_agent, device_keys, device_vals, active
FROM {{sessions}} WHERE subject = $1::bytea AND active AND expires_at > now()
ORDER BY created_at DESC, id
