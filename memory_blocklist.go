package authx

import (
	"context"
	"errors"
	"time"
)

var errEmptyID = errors.New("authx: empty id")

// MemoryBlocklist is an in-process [Blocklist]. Entries are forgotten once
// the token they revoke has expired, so memory stays proportional to the
// number of revoked, still-valid tokens. It suits a single replica; several
// replicas need a shared store such as redisstore.
type MemoryBlocklist struct{ set *expiringSet }

// NewMemoryBlocklist returns an empty MemoryBlocklist reading time from now
// (nil means time.Now; pass the same clock as [WithClock] in tests).
func NewMemoryBlocklist(now func() time.Time) *MemoryBlocklist {
	return &MemoryBlocklist{set: newExpiringSet(now)}
}

// Revoke records id until the given time. Revoking an id again keeps the
// later time; a time already past records nothing.
func (m *MemoryBlocklist) Revoke(_ context.Context, id string, until time.Time) error {
	if id == "" {
		return errEmptyID
	}
	m.set.put(id, until, true)
	return nil
}

// IsRevoked reports whether any of ids is revoked and the revocation has
// not lapsed.
func (m *MemoryBlocklist) IsRevoked(_ context.Context, ids ...string) (bool, error) {
	return m.set.hasAny(ids...), nil
}

// Len returns the number of entries held, lapsed ones included until the
// next sweep.
func (m *MemoryBlocklist) Len() int { return m.set.len() }
