-- Blocklist.IsRevoked: $1 the ids. Lapsed entries are not revoked.
SELECT EXISTS (SELECT 1 FROM {{blocklist}} WHERE id = ANY ($1::bytea[]) AND until > now())
