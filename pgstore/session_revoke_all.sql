-- SessionStore.RevokeAll: $1 subject; the ids of the sessions it ended.
UPDATE {{sessions}} SET active = false WHERE subject = $1::bytea AND active AND expires_at > now()
RETURNING id
