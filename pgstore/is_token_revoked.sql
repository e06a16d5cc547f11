-- SubjectBlocklist.IsTokenRevoked, in one round trip: $1 the token's ids
-- (jti, family, session), $2 its subject. It returns whether an id is
-- revoked, the store's epoch (NULL: not migrated) and the subject's live
-- cut-off (NULL: none), all unix seconds.
SELECT
	EXISTS (SELECT 1 FROM {{blocklist}} WHERE id = ANY ($1::bytea[]) AND until > now()),
	(SELECT epoch FROM {{meta}} WHERE id = 1),
	(SELECT before FROM {{subjects}} WHERE subject = $2::bytea AND until > now())
