package authx

import (
	"context"
	"time"
)

// Blocklist records revoked tokens by their id (jti) until they would have
// expired anyway. authx asks it on every guarded request; when it cannot
// answer (an error), the request is denied with 503 — never allowed.
//
// Implementations must be safe for concurrent use. [NewMemoryBlocklist] is
// the default; github.com/authx-go/authx/redisstore shares one across
// replicas.
type Blocklist interface {
	// Revoke records jti as revoked until the given time, after which the
	// entry may be forgotten.
	Revoke(ctx context.Context, jti string, until time.Time) error
	// IsRevoked reports whether jti is revoked.
	IsRevoked(ctx context.Context, jti string) (bool, error)
}
