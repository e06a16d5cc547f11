-- SubjectBlocklist.RevokeSubject: $1 subject, $2 before (unix seconds),
-- $3 until. A live cut-off keeps the later before and the later until.
INSERT INTO {{subjects}} AS s (subject, before, until)
SELECT $1::bytea, $2::bigint, $3::timestamptz WHERE $3::timestamptz > now()
ON CONFLICT (subject) DO UPDATE SET
	before = CASE WHEN s.until <= now() THEN excluded.before ELSE greatest(s.before, excluded.before) END,
	until  = CASE WHEN s.until <= now() THEN excluded.until ELSE greatest(s.until, excluded.until) END
