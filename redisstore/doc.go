// Package redisstore keeps authx's shared state in Redis, so that every
// replica of a service sees the same revocations, spent refresh tokens,
// sessions and rate limits:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	s := redisstore.New(rdb)
//	if err := s.CheckConfig(ctx); err != nil { // a misbuilt Store, or a Redis that may lose keys
//		return err
//	}
//	if _, err := s.Init(ctx); err != nil { // the epoch: see "Losing data"
//		return err
//	}
//	a, err := authx.New[User](authx.WithSecret(key), authx.WithSubjectGetter(loadUser), s.Option())
//
// A [Store] is the [authx.Blocklist], [authx.RefreshStore] and
// [authx.RateLimiter]; [Store.Sessions] is the [authx.SessionStore] (Go
// cannot give one type both Blocklist.Revoke and SessionStore.Revoke).
// [Store.Option] wires all four into an [authx.Auth]. Any client works: a
// *redis.Client, a *redis.ClusterClient, or another [redis.UniversalClient].
// Redis 7.0 or later is required.
//
// # Failing closed
//
// Every Redis error — a refused connection, a timeout, a reply of the wrong
// type, a value this package did not write — is returned, and authx then
// denies the request with 503. Nothing is ever taken for "not revoked" or
// "allowed". No call waits longer than the Store's timeout ([WithTimeout],
// default 500 ms), even when the request's context has no deadline: a
// Redis that is stalled rather than gone (a fork, a failover, a partition,
// a paused VM) makes requests 503 after the timeout instead of holding
// them; a context with an earlier deadline keeps it. The client must stop
// at that deadline itself: New refuses a *redis.Client,
// *redis.ClusterClient or *redis.Ring built without ContextTimeoutEnabled
// ([ErrConfig]), rather than wait on every call's context in a goroutine
// of its own (about 30 µs a guarded request); a client of another type,
// whose options New cannot see, gets that goroutine, and a call then
// returns at its deadline and leaves the command to finish in the
// background. Operations whose command go-redis may retry
// after a lost reply carry a per-call nonce, so that a retry recognises its
// own first write: a retried Spend is still the first use, a retried
// session Create is not a duplicate, a retried RevokeAll still reports the
// sessions it ended. Within the timeout go-redis retries as it is
// configured to (MaxRetries, DialerRetries).
//
// # Durability
//
// Failing closed covers Redis saying no, not Redis forgetting: a key it
// evicts or loses in a restart is simply absent, which reads as "not
// revoked", "never spent", "no such session". [Store.CheckConfig] refuses
// a Redis configured to forget ([ErrUnsafeConfig]): it must run with
// maxmemory-policy noeviction, appendonly yes and appendfsync everysec or
// always. [InsecureAllowLossyConfig] turns the refusal into a warning on
// the Store's logger. A replica promoted by a failover can still lack the
// writes it had not received; waiting for replicas (WAIT) is not done yet.
//
// # Losing data
//
// Redis forgets keys in ordinary operation: a restart without persistence,
// a FLUSHALL, a failover to a replica that had not yet received a write,
// eviction under memory pressure. A missing key must not read as "not
// revoked", so the Store is an [authx.SubjectBlocklist] that can tell
// "never revoked" from "the data that would say so is gone": its epoch, a
// key without TTL holding the time from which it vouches for tokens, is
// read in the same round trip as the token's ids. When the epoch is
// missing, the data was lost (or the store is new): a new epoch is written,
// and every token issued in an earlier second is refused as revoked —
// revoked and ended tokens, and refresh tokens that may have been spent,
// alike. What users see after a loss: every request with a token issued
// before it answers 401 token_revoked, and they log in again; tokens issued
// afterwards work as usual. Call [Store.Init] at start-up, so that the
// epoch predates the tokens the process issues. The epoch cannot catch the
// loss of single keys (eviction of a revocation while the epoch survives):
// run Redis with maxmemory-policy noeviction.
//
// A failover to a replica that misses the last writes is what
// [WithReplicaAcks] is for: each write that decides access waits for
// replicas (WAIT) and fails (503) when too few acknowledge.
//
// "Log out everywhere" ([authx.Auth.RevokeAllSessions]) writes the
// subject's cut-off through [Store.RevokeSubject], read in the same round
// trip: it ends every token the subject held, also of sessions the session
// index no longer lists.
//
// # Time
//
// The Store keeps real time: blocklist and refresh entries live for the
// time from time.Now to their until, sessions lapse at their ExpiresAt on
// Redis's clock, Spend records time.Now, and rate limits run on Redis's
// TIME. An Auth using it should
// run on real time too (a test clock near time.Now does no harm; one far
// in the past makes revocations lapse at once).
//
// # Key layout
//
// Every key is the prefix ([WithPrefix], default "authx:"), then a '{',
// which no prefix may hold: the prefix is the part of a key before its
// first '{', so stores under different prefixes never share a key, and a
// store's keys are exactly those matching <prefix>{* (SCAN, ACL key
// patterns; '{' is not a glob character). Single keys go on with "{}", an
// empty hash tag that Redis Cluster ignores (it hashes the whole key), the
// keys of a subject's sessions with the subject's hash tag. Ids,
// subjects and rate-limit keys come from clients and may hold any bytes, so
// each is written as enc(x): x itself when it is 1 to 64 bytes of
// [A-Za-z0-9._:@-], else "~" followed by the unpadded base64url SHA-256 of
// x (44 bytes). enc never yields '{', '}', spaces, control bytes or glob
// characters, its two forms cannot meet (only hashes start with '~'), and
// it always ends the key or the hash tag it stands in, so no id can forge
// another key, escape its kind or choose a Redis Cluster slot. With the
// default prefix no key is longer than 150 bytes.
//
//	authx:{}bl:<enc id>                  blocklist entry: "1", PX until the revocation lapses
//	authx:{}rt:<enc jti>                 spent refresh token: "<unix ns of first use> <nonce>", PX until it expires
//	authx:{}rl:<enc key>                 rate-limit state (redis_rate's GCRA), EX until it is full again
//	authx:{}sid:<enc id>                 session id → subject: "<nonce> <subject>", PXAT the session's expiry
//	authx:{sub:<enc subject>}:sess:<enc id>
//	                                     session hash, PXAT its expiry (kept after revocation)
//	authx:{sub:<enc subject>}:sessions   the subject's index: sorted set of <enc id>, scored by
//	                                     expiry (unix ms); PXAT its latest session's expiry
//
// The subject's part in braces is a Redis Cluster hash tag: a subject's
// sessions and its index live in one slot, so that writing a session with
// its index entry, listing a subject's sessions (pruning index members
// whose session has expired) and revoking them all are each one atomic Lua
// script. Those scripts reach the session keys through the index, in the
// same slot, which Redis Cluster allows. Every other operation touches one
// key, or (IsRevoked) pipelines one EXISTS per key, which works across
// slots. Session lookups by id read the sid pointer first (a second round
// trip), since the session key is placed by its subject.
//
// A session hash holds the fields id, sub, ip, ua, active ("1" or "0"),
// created_s/created_ns, last_s/last_ns, expires_s/expires_ns (Unix seconds
// and nanoseconds: exact, and comparable in Lua), dev (present when Device
// is non-nil), d:<name> for each Device entry, and rv (the nonce of the
// RevokeAll that ended it). All fields are binary-safe.
package redisstore
