-- SessionStore.Revoke: $1 id.
UPDATE {{sessions}} SET active = false WHERE id = $1::bytea AND active AND expires_at > now()
