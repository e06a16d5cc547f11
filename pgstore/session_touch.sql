-- SessionStore.Touch: $1 id, $2 time; an earlier time than the recorded one
-- is ignored, an unknown or expired session left alone.
UPDATE {{sessions}} SET last_active = $2::timestamptz
WHERE id = $1::bytea AND expires_at > now() AND last_active < $2::timestamptz
