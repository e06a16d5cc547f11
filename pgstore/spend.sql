-- RefreshStore.Spend, atomically: $1 id, $2 until, $3 this call's nonce.
-- Of concurrent calls one inserts the row; the others conflict, wait for
-- it to commit and update it to itself (or, if it has lapsed, take it
-- over), so that RETURNING always yields the row as it now is: this call
-- was first if the row carries its nonce, else spent_at is the first use.
-- (ON CONFLICT DO NOTHING would return no row to the losers, and a second
-- read in the same statement would not see a row committed after the
-- statement began.)
INSERT INTO {{refresh}} AS r (id, spent_at, nonce, until)
VALUES ($1::bytea, now(), $3::bytea, $2::timestamptz)
ON CONFLICT (id) DO UPDATE SET
	spent_at = CASE WHEN r.until <= now() THEN excluded.spent_at ELSE r.spent_at END,
	nonce    = CASE WHEN r.until <= now() THEN excluded.nonce ELSE r.nonce END,
	until    = CASE WHEN r.until <= now() THEN excluded.until ELSE r.until END
RETURNING r.nonce = $3::bytea, r.spent_at
