package authx

import (
	"context"
	"errors"
	"sync"
	"time"
)

// expiringSet is a concurrency-safe map of ids to a time, whose entries
// lapse at their deadline and are swept when the map has doubled since the
// last sweep, so memory stays proportional to the live entries.
type expiringSet struct {
	now func() time.Time

	mu        sync.RWMutex
	m         map[string]expiringEntry
	nextSweep int
}

type expiringEntry struct {
	until time.Time // forget after
	at    time.Time // when it was recorded
}

func newExpiringSet(now func() time.Time) *expiringSet {
	if now == nil {
		now = time.Now
	}
	return &expiringSet{now: now, m: make(map[string]expiringEntry), nextSweep: 64}
}

// put records id until the given time unless a live entry exists; it
// returns that existing entry and whether there was one.
func (s *expiringSet) put(id string, until time.Time, keepLater bool) (expiringEntry, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[id]; ok && old.until.After(now) {
		if keepLater && until.After(old.until) {
			s.m[id] = expiringEntry{until: until, at: old.at}
		}
		return old, true
	}
	if until.After(now) {
		s.m[id] = expiringEntry{until: until, at: now}
	}
	if len(s.m) >= s.nextSweep {
		for k, e := range s.m {
			if !e.until.After(now) {
				delete(s.m, k)
			}
		}
		s.nextSweep = max(64, 2*len(s.m))
	}
	return expiringEntry{}, false
}

func (s *expiringSet) has(id string) bool {
	s.mu.RLock()
	e, ok := s.m[id]
	s.mu.RUnlock()
	return ok && e.until.After(s.now())
}

func (s *expiringSet) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

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
	for _, id := range ids {
		if m.set.has(id) {
			return true, nil
		}
	}
	return false, nil
}

// Len returns the number of entries held, lapsed ones included until the
// next sweep.
func (m *MemoryBlocklist) Len() int { return m.set.len() }

// MemoryRefreshStore is an in-process [RefreshStore]: spent refresh-token
// ids are remembered until the token expires. It suits a single replica.
type MemoryRefreshStore struct{ set *expiringSet }

// NewMemoryRefreshStore returns an empty MemoryRefreshStore reading time
// from now (nil means time.Now).
func NewMemoryRefreshStore(now func() time.Time) *MemoryRefreshStore {
	return &MemoryRefreshStore{set: newExpiringSet(now)}
}

// Spend marks id as used, atomically.
func (m *MemoryRefreshStore) Spend(_ context.Context, id string, until time.Time) (bool, time.Time, error) {
	if id == "" {
		return false, time.Time{}, errEmptyID
	}
	old, spent := m.set.put(id, until, false)
	if spent {
		return false, old.at, nil
	}
	return true, time.Time{}, nil
}

// Len returns the number of entries held.
func (m *MemoryRefreshStore) Len() int { return m.set.len() }
