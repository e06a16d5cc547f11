package authx

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"time"
)

// Blocklist records revoked ids until they would have expired anyway. authx
// revokes three kinds of id through it: a token's jti (as is, or behind "~"
// when it starts like another kind), a refresh family ("fam:" + id, every
// token of one login) and, with sessions, a session ("sid:" + id). Guards ask it on every request; when it cannot
// answer (an error), the request is denied with 503 — never allowed.
//
// Implementations must be safe for concurrent use. [NewMemoryBlocklist] is
// the default; github.com/authx-go/authx/redisstore shares one across
// replicas.
type Blocklist interface {
	// Revoke records id as revoked until the given time, after which the
	// entry may be forgotten.
	Revoke(ctx context.Context, id string, until time.Time) error
	// IsRevoked reports whether any of ids is revoked.
	IsRevoked(ctx context.Context, ids ...string) (bool, error)
}

// TokenCheck is what a guard asks a [SubjectBlocklist] about one verified
// token: its revocation ids (as [Blocklist.IsRevoked] gets them), its
// subject and when it was issued (zero when the token has no iat).
type TokenCheck struct {
	// IDs are the token's revocation ids: its jti, and the ids of its
	// refresh family and session when it has them.
	IDs []string
	// Subject is the token's verified sub claim.
	Subject string
	// IssuedAt is the token's iat, zero when it has none.
	IssuedAt time.Time
}

// SubjectBlocklist is a [Blocklist] that also revokes by subject and
// issue time, and that can vouch for its own completeness. authx uses it
// instead of IsRevoked when the configured Blocklist implements it (the
// memory and Redis stores do):
//
//   - [Auth.RevokeAllSessions] calls RevokeSubject, so "log out everywhere"
//     ends every token the subject held at that moment — also of sessions
//     the session store no longer lists;
//   - a store that keeps its state outside the process answers a token
//     issued before the store's data began (its data was lost: a restart
//     without persistence, a flush) as revoked: after a loss nothing
//     revoked, spent or ended is admitted again, and users log in again.
//
// Both are checked in the same lookup as the ids, so a guarded request
// still costs one round trip.
type SubjectBlocklist interface {
	Blocklist
	// IsTokenRevoked reports whether t is revoked: any of t.IDs is, t's
	// subject's tokens issued before a time after t.IssuedAt were revoked
	// (a zero IssuedAt is then revoked too), or the store cannot vouch for
	// tokens issued when t was.
	IsTokenRevoked(ctx context.Context, t TokenCheck) (bool, error)
	// RevokeSubject revokes every token of sub issued before before, until
	// until (after which those tokens have expired anyway). A later call
	// with an earlier before keeps the later one.
	RevokeSubject(ctx context.Context, sub string, before, until time.Time) error
}

// RefreshStore spends refresh tokens for rotation with reuse detection:
// every refresh token can be traded for a new pair once. It also spends
// WebSocket tickets ("ticket:" + id; refresh token ids are escaped as in
// [Blocklist], so the two never meet).
//
// Implementations must be safe for concurrent use and Spend must be atomic:
// of any number of concurrent calls for one id, exactly one reports first.
type RefreshStore interface {
	// Spend marks the refresh token id (its jti) as used, remembering it
	// until the given time. It reports whether this was the first use and,
	// if not, when the first use happened.
	Spend(ctx context.Context, id string, until time.Time) (first bool, spentAt time.Time, err error)
}

// Key spaces. The Blocklist holds token ids, families ("fam:" + id) and
// sessions ("sid:" + id); the RefreshStore holds refresh token ids and
// WebSocket tickets ("ticket:" + id). Token ids are chosen by whoever mints
// a token (TokenID, another issuer), so they are kept apart from the other
// spaces by escaping (see tokenKey): no token id can name a family, a
// session or a ticket.
const (
	familyPrefix  = "fam:"
	sessionPrefix = "sid:"
	ticketPrefix  = "ticket:"
	bindingPrefix = "pop:" // a KeyBinding's single-use ids (Presentation.FirstUse)
	escapePrefix  = "~"
)

// tokenKey returns the Blocklist (and RefreshStore) key of token id jti:
// jti itself, or, when it starts like another key space (or like an
// escaped id), jti behind escapePrefix. The mapping is one-to-one, and costs nothing for the ids
// authx mints (UUIDs).
func tokenKey(jti string) string {
	if strings.HasPrefix(jti, familyPrefix) || strings.HasPrefix(jti, sessionPrefix) ||
		strings.HasPrefix(jti, ticketPrefix) || strings.HasPrefix(jti, bindingPrefix) || strings.HasPrefix(jti, escapePrefix) {
		return escapePrefix + jti
	}
	return jti
}

// newSafeBlocklist wraps b (see below).
func newSafeBlocklist(b Blocklist) safeBlocklist {
	sb, _ := b.(SubjectBlocklist)
	return safeBlocklist{s: b, sb: sb}
}

// The stores are the application's code (or a client library's), called on
// every request. A store that panics must not abort the connection with
// nothing logged: each is wrapped at [New] so that a panic becomes an error
// — a 503, logged as a store failure — like any store that cannot answer.
type (
	safeBlocklist struct {
		s  Blocklist
		sb SubjectBlocklist // s, when it is one (asked once, at New)
	}
	safeRefresh  struct{ s RefreshStore }
	safeSessions struct{ s SessionStore }
	safeLimiter  struct{ s RateLimiter }
)

// maxPanicText bounds the panic value kept in the error (and so the log).
const maxPanicText = 200

// recoverStore turns a panic of the store named what into *err.
func recoverStore(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s panicked: %s", what, bound(fmt.Sprint(r), maxPanicText))
	}
}

func (s safeBlocklist) Revoke(ctx context.Context, id string, until time.Time) (err error) {
	defer recoverStore(&err, "blocklist")
	return s.s.Revoke(ctx, id, until)
}

func (s safeBlocklist) IsTokenRevoked(ctx context.Context, t TokenCheck) (_ bool, err error) {
	defer recoverStore(&err, "blocklist")
	if s.sb != nil {
		return s.sb.IsTokenRevoked(ctx, t)
	}
	return s.s.IsRevoked(ctx, t.IDs...)
}

// RevokeSubject revokes sub's tokens issued before before, or does nothing
// when the Blocklist cannot (the session ids then end the sessions it
// knows).
func (s safeBlocklist) RevokeSubject(ctx context.Context, sub string, before, until time.Time) (err error) {
	defer recoverStore(&err, "blocklist")
	if s.sb != nil {
		return s.sb.RevokeSubject(ctx, sub, before, until)
	}
	return nil
}

func (s safeRefresh) Spend(ctx context.Context, id string, until time.Time) (_ bool, _ time.Time, err error) {
	defer recoverStore(&err, "refresh store")
	return s.s.Spend(ctx, id, until)
}

func (s safeSessions) Create(ctx context.Context, info SessionInfo) (err error) {
	defer recoverStore(&err, "session store")
	return s.s.Create(ctx, info)
}

func (s safeSessions) Get(ctx context.Context, id string) (_ SessionInfo, _ bool, err error) {
	defer recoverStore(&err, "session store")
	return s.s.Get(ctx, id)
}

func (s safeSessions) List(ctx context.Context, subject string) (_ []SessionInfo, err error) {
	defer recoverStore(&err, "session store")
	return s.s.List(ctx, subject)
}

func (s safeSessions) Touch(ctx context.Context, id string, t time.Time) (err error) {
	defer recoverStore(&err, "session store")
	return s.s.Touch(ctx, id, t)
}

func (s safeSessions) Revoke(ctx context.Context, id string) (err error) {
	defer recoverStore(&err, "session store")
	return s.s.Revoke(ctx, id)
}

func (s safeSessions) RevokeAll(ctx context.Context, subject string) (_ []string, err error) {
	defer recoverStore(&err, "session store")
	return s.s.RevokeAll(ctx, subject)
}

func (s safeLimiter) Allow(ctx context.Context, key string, l Limit) (_ bool, _ time.Duration, err error) {
	defer recoverStore(&err, "rate limiter")
	return s.s.Allow(ctx, key, l)
}

// SessionInfo describes one login session: a device or browser where a
// subject logged in. Tokens name their session in the sid claim (see
// [Session]); revoking the session makes every one of them fail at once.
type SessionInfo struct {
	// ID names the session; tokens carry it in their sid claim.
	ID string `json:"id"`
	// Subject is the user who logged in.
	Subject string `json:"subject"`
	// CreatedAt is when the session started ([Auth.StartSession]).
	CreatedAt time.Time `json:"created_at"`
	// LastActive is the last time a guarded request used the session, to
	// within [WithSessionTouchInterval].
	LastActive time.Time `json:"last_active"`
	// ExpiresAt is when the store forgets the session: as long after its
	// start as the longest a token of its login can live (the refresh TTL,
	// or the access TTL if longer, plus the leeway).
	ExpiresAt time.Time `json:"expires_at"`
	// IP is the client's address when the session started ([Auth.ClientIP],
	// which honours [WithTrustedProxies]), "" if unknown.
	IP string `json:"ip,omitempty"`
	// UserAgent is the starting request's User-Agent, cut to 512 bytes.
	UserAgent string `json:"user_agent,omitempty"`
	// Device is what the application passed to [Auth.StartSession] about
	// the device (a name, a platform), nil if nothing.
	Device map[string]string `json:"device,omitempty"`
	// Active is false once the session was revoked or ended; its tokens
	// then fail.
	Active bool `json:"active"`
}

// SessionStore keeps sessions. Implementations must be safe for concurrent
// use, forget a session after its ExpiresAt, and index sessions by subject.
// [NewMemorySessionStore] is the default; redisstore shares one across
// replicas. The conformance suite in authx/storetest checks an
// implementation.
type SessionStore interface {
	// Create stores a new, active session.
	Create(ctx context.Context, s SessionInfo) error
	// Get returns the session with id and whether it exists. A revoked
	// session is returned with Active false until it expires.
	Get(ctx context.Context, id string) (SessionInfo, bool, error)
	// List returns the subject's active sessions, newest first.
	List(ctx context.Context, subject string) ([]SessionInfo, error)
	// Touch records activity in the session at t.
	Touch(ctx context.Context, id string, t time.Time) error
	// Revoke marks the session inactive. Revoking an unknown or revoked
	// session is not an error.
	Revoke(ctx context.Context, id string) error
	// RevokeAll marks every active session of subject inactive and returns
	// their ids.
	RevokeAll(ctx context.Context, subject string) ([]string, error)
}

// Limit is a token-bucket rate: Rate events per Per, with bursts of up to
// Burst (default: Rate). The zero Limit means no limit.
type Limit struct {
	// Rate is the number of events allowed per Per.
	Rate int
	// Per is the period Rate counts over.
	Per time.Duration
	// Burst is how many events may come at once; 0 means Rate.
	Burst int
}

// PerMinute returns a Limit of n events a minute, bursts of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Per: time.Minute, Burst: n} }

// PerSecond returns a Limit of n events a second, bursts of n.
func PerSecond(n int) Limit { return Limit{Rate: n, Per: time.Second, Burst: n} }

func (l Limit) isZero() bool { return l.Rate == 0 }

func (l Limit) valid() error {
	switch {
	case l.isZero():
		return nil
	case l.Rate < 0 || l.Per <= 0 || l.Burst < 0:
		return fmt.Errorf("invalid limit %+v: Rate and Per must be positive", l)
	}
	return nil
}

func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Rate
}

// refillTime is how long an empty bucket of a valid, non-zero l takes to
// fill again: Per × burst / Rate, computed in 128 bits so that no limit
// overflows (24h × 120000 is past 2^63 ns), and saturated at the longest
// Duration when the answer itself does not fit (it is then longer than
// 292 years).
func (l Limit) refillTime() time.Duration {
	hi, lo := bits.Mul64(uint64(l.Per), uint64(l.burst()))
	rate := uint64(l.Rate)
	if hi >= rate {
		return math.MaxInt64 // the quotient needs more than 64 bits
	}
	q, _ := bits.Div64(hi, lo, rate)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(q)
}

// String formats the limit, e.g. "5/1m0s (burst 5)".
func (l Limit) String() string {
	return fmt.Sprintf("%d/%v (burst %d)", l.Rate, l.Per, l.burst())
}

// RateLimiter decides whether an event under key may happen now. It must
// be safe for concurrent use; when it cannot answer (an error), authx denies
// with 503. [NewMemoryRateLimiter] is the default (golang.org/x/time/rate
// buckets, idle keys evicted); redisstore shares limits across replicas.
type RateLimiter interface {
	// Allow takes one event from key's bucket under limit. When the bucket
	// is empty it reports false and how long until an event would be
	// allowed.
	Allow(ctx context.Context, key string, limit Limit) (allowed bool, retryAfter time.Duration, err error)
}
