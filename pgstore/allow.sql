-- RateLimiter.Allow, a token bucket updated in one statement on the
-- database's clock: $1 key, $2 burst, $3 refill rate (tokens a second).
-- A new bucket starts full and gives one token. An existing one is refilled
-- from its stored time (capped at the burst); it gives a token if it has
-- one. RETURNING says whether it did and what is left, from which the
-- caller computes the retry-after: (1 - tokens) / rate.
INSERT INTO {{limits}} AS l (key, tokens, at, allowed, full_at)
VALUES ($1::bytea, $2::float8 - 1, now(), true, now() + make_interval(secs => 1 / $3::float8))
ON CONFLICT (key) DO UPDATE SET (tokens, at, allowed, full_at) = (
	SELECT n.left, now(), n.ok, now() + make_interval(secs => ($2::float8 - n.left) / $3::float8)
	FROM (SELECT CASE WHEN c.cur >= 1 THEN c.cur - 1 ELSE c.cur END AS left, c.cur >= 1 AS ok
		FROM (SELECT least($2::float8, l.tokens + greatest(0, extract(epoch FROM now() - l.at)::float8) * $3::float8) AS cur) c) n)
RETURNING l.allowed, l.tokens
