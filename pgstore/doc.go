// Package pgstore keeps authx's shared state in PostgreSQL, so that every
// replica of a service sees the same revocations, spent refresh tokens,
// sessions and rate limits:
//
//	pool, err := pgxpool.New(ctx, "postgres://authx@db:5432/app")
//	s, err := pgstore.New(pool, pgstore.WithSchema("authx"), pgstore.WithSweepEvery(time.Minute))
//	defer s.Close()
//	if err := s.Migrate(ctx); err != nil { // explicit, idempotent; never implicit
//		return err
//	}
//	a, err := authx.New[User](authx.WithSecret(key), authx.WithSubjectGetter(loadUser), s.Option())
//
// A [Store] is the [authx.Blocklist] (an [authx.SubjectBlocklist]), the
// [authx.RefreshStore] and the [authx.RateLimiter]; [Store.Sessions] is
// the [authx.SessionStore] (Go cannot give one type both Blocklist.Revoke
// and SessionStore.Revoke). [Store.Option] wires all four into an
// [authx.Auth] with one option. PostgreSQL 12 or later.
//
// # Schema
//
// The tables live in one schema ([WithSchema], default "public") under one
// name prefix ([WithTablePrefix], default "authx_"): <prefix>meta,
// blocklist, subjects, refresh, sessions and limits. [Store.Migrate]
// creates them; the SQL is in the package's .sql files (migrate.sql, and
// one file per statement), where {{name}} stands for a quoted,
// schema-qualified name. Ids, subjects and keys are stored as bytea: they
// are arbitrary bytes, compared byte for byte.
//
// # Failing closed
//
// Every database error — a refused or lost connection, a timeout, a
// missing table ([ErrSchema]) — is returned, and authx then denies the
// request with 503 ([authx.ErrUnavailable]). Nothing is ever taken for
// "not revoked" or "allowed". No call waits longer than the Store's
// timeout ([WithTimeout], default 500 ms), even when the request's context
// has no deadline; a context with an earlier deadline keeps it.
//
// # One round trip
//
// A guarded request asks [Store.IsTokenRevoked]: the token's id, its
// family's and session's ids, its subject's cut-off and the store's epoch
// in one prepared statement (pgx's default QueryExecModeCacheStatement
// prepares each statement once per connection; keep it). Spending a
// refresh token is one INSERT … ON CONFLICT statement with exactly one
// winner; a rate-limit decision is one INSERT … ON CONFLICT DO UPDATE that
// refills the token bucket from its stored time and returns whether the
// event is allowed.
//
// # Expiry
//
// Every read filters by expiry, on the database's clock: a row past its
// time is never read as valid, whether or not it has been deleted yet.
// [Store.Sweep] deletes expired rows in bounded batches that skip locked
// rows; [WithSweepEvery] runs it in the background until [Store.Close].
//
// # Losing data
//
// [Store.Migrate] writes the store's epoch, the second from which it
// vouches for tokens. A token issued before it is answered as revoked: a
// schema dropped and migrated anew (its revocations and spent refresh
// tokens gone) refuses every token issued before, and users log in again.
//
// # Time
//
// Expiry and rate limits run on the database's clock; the until times
// authx passes come from its own clock. An Auth using the store should run
// on real time (a test clock near time.Now does no harm).
package pgstore
