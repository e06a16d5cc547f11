-- The schema of a Store, created by (*Store).Migrate and safe to run again.
-- {{name}} stands for a table's schema-qualified, quoted name; {{name_idx}}
-- for an index's (unqualified: it lives in its table's schema). Ids,
-- subjects and keys are bytea: they are arbitrary bytes (NUL included),
-- compared byte for byte. Every table with an expiry has an index on it,
-- for Sweep; every read filters by expiry, so a row not yet swept is never
-- taken for a live one.
CREATE SCHEMA IF NOT EXISTS {{schema}};

-- One row: when this store's data began (unix seconds). Tokens issued in an
-- earlier second are answered as revoked (see IsTokenRevoked).
CREATE TABLE IF NOT EXISTS {{meta}} (
	id    int PRIMARY KEY CHECK (id = 1),
	epoch bigint NOT NULL
);
INSERT INTO {{meta}} (id, epoch) VALUES (1, floor(extract(epoch FROM now()))::bigint)
ON CONFLICT (id) DO NOTHING;

-- Revoked ids (jti, "fam:" + family, "sid:" + session) until they lapse.
CREATE TABLE IF NOT EXISTS {{blocklist}} (
	id    bytea PRIMARY KEY,
	until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {{blocklist_until_idx}} ON {{blocklist}} (until);

-- RevokeSubject's cut-offs: the subject's tokens issued before "before"
-- (unix seconds) are revoked, until "until".
CREATE TABLE IF NOT EXISTS {{subjects}} (
	subject bytea PRIMARY KEY,
	before  bigint NOT NULL,
	until   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {{subjects_until_idx}} ON {{subjects}} (until);

-- Spent refresh tokens and WebSocket tickets: when first spent, by which
-- call (nonce), until when they are remembered.
CREATE TABLE IF NOT EXISTS {{refresh}} (
	id       bytea PRIMARY KEY,
	spent_at timestamptz NOT NULL,
	nonce    bytea NOT NULL,
	until    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {{refresh_until_idx}} ON {{refresh}} (until);

-- Sessions. device_keys and device_vals are the Device map (NULL: nil).
CREATE TABLE IF NOT EXISTS {{sessions}} (
	id          bytea PRIMARY KEY,
	subject     bytea NOT NULL,
	created_at  timestamptz NOT NULL,
	last_active timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	ip          bytea NOT NULL,
	user_agent  bytea NOT NULL,
	device_keys bytea[],
	device_vals bytea[],
	active      boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS {{sessions_subject_idx}} ON {{sessions}} (subject, created_at DESC);
CREATE INDEX IF NOT EXISTS {{sessions_expires_idx}} ON {{sessions}} (expires_at);

-- Token buckets: tokens left at "at"; full_at is when the bucket is full
-- again (a full bucket is the same as none: Sweep deletes it).
CREATE TABLE IF NOT EXISTS {{limits}} (
	key     bytea PRIMARY KEY,
	tokens  double precision NOT NULL,
	at      timestamptz NOT NULL,
	allowed boolean NOT NULL,
	full_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {{limits_full_idx}} ON {{limits}} (full_at);
