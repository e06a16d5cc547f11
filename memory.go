package authx

import (
	"context"
	"errors"
	"sync"
	"time"
)

// MemoryBlocklist is an in-process [Blocklist]. Entries are forgotten once
// the token they revoke has expired, so memory stays proportional to the
// number of revoked, still-valid tokens. It suits a single replica; several
// replicas need a shared store such as redisstore.
type MemoryBlocklist struct {
	now func() time.Time

	mu        sync.RWMutex
	until     map[string]time.Time
	nextSweep int
}

// NewMemoryBlocklist returns an empty MemoryBlocklist reading time from now
// (nil means time.Now; pass the same clock as [WithClock] in tests).
func NewMemoryBlocklist(now func() time.Time) *MemoryBlocklist {
	if now == nil {
		now = time.Now
	}
	return &MemoryBlocklist{now: now, until: make(map[string]time.Time), nextSweep: 64}
}

var errEmptyJTI = errors.New("authx: empty jti")

// Revoke records jti until the given time. Revoking an id again keeps the
// later time.
func (m *MemoryBlocklist) Revoke(_ context.Context, jti string, until time.Time) error {
	if jti == "" {
		return errEmptyJTI
	}
	now := m.now()
	if !until.After(now) {
		return nil // already expired: nothing to remember
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.until[jti]; !ok || until.After(old) {
		m.until[jti] = until
	}
	// Amortised eviction: sweep when the map has doubled since the last sweep.
	if len(m.until) >= m.nextSweep {
		for id, t := range m.until {
			if !t.After(now) {
				delete(m.until, id)
			}
		}
		m.nextSweep = max(64, 2*len(m.until))
	}
	return nil
}

// IsRevoked reports whether jti is revoked and the revocation has not lapsed.
func (m *MemoryBlocklist) IsRevoked(_ context.Context, jti string) (bool, error) {
	m.mu.RLock()
	t, ok := m.until[jti]
	m.mu.RUnlock()
	if !ok {
		return false, nil
	}
	return t.After(m.now()), nil
}

// Len returns the number of entries held, lapsed ones included until the
// next sweep.
func (m *MemoryBlocklist) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.until)
}
