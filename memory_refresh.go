package authx

import (
	"context"
	"time"
)

// MemoryRefreshStore is an in-process [RefreshStore]: spent refresh-token
// ids (and WebSocket tickets) are remembered until the token expires. It
// suits a single replica. A process restart forgets them: a refresh token
// spent before it can be traded once more (the family's reuse detection
// starts afresh), so deployments that restart use a shared store.
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
