package authx

import (
	"context"
	"time"
)

// Blocklist records revoked ids until they would have expired anyway. authx
// revokes three kinds of id through it: a token's jti (as is), a refresh
// family ("fam:" + id, every token of one login) and, with sessions, a
// session ("sid:" + id). Guards ask it on every request; when it cannot
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

// RefreshStore spends refresh tokens for rotation with reuse detection:
// every refresh token can be traded for a new pair once.
//
// Implementations must be safe for concurrent use and Spend must be atomic:
// of any number of concurrent calls for one id, exactly one reports first.
type RefreshStore interface {
	// Spend marks the refresh token id (its jti) as used, remembering it
	// until the given time. It reports whether this was the first use and,
	// if not, when the first use happened.
	Spend(ctx context.Context, id string, until time.Time) (first bool, spentAt time.Time, err error)
}

// Prefixes of non-token ids in the Blocklist.
const (
	familyPrefix  = "fam:"
	sessionPrefix = "sid:"
)
