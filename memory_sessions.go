package authx

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemorySessionStore is an in-process [SessionStore], indexed by subject.
// Sessions are forgotten once expired (swept when the store has doubled
// since the last sweep). It suits a single replica. A process restart
// forgets every session: tokens naming one are then refused (an unknown
// session is an ended one) and their users log in again.
type MemorySessionStore struct {
	now func() time.Time

	mu        sync.Mutex
	byID      map[string]SessionInfo
	bySubject map[string]map[string]struct{}
	nextSweep int
}

// NewMemorySessionStore returns an empty MemorySessionStore reading time
// from now (nil means time.Now).
func NewMemorySessionStore(now func() time.Time) *MemorySessionStore {
	if now == nil {
		now = time.Now
	}
	return &MemorySessionStore{now: now, byID: map[string]SessionInfo{}, bySubject: map[string]map[string]struct{}{}, nextSweep: 64}
}

var errSessionExists = errors.New("authx: session id already exists")

// Create stores s as an active session.
func (m *MemorySessionStore) Create(_ context.Context, s SessionInfo) error {
	if s.ID == "" || s.Subject == "" {
		return errEmptyID
	}
	s.Active = true
	s.Device = maps.Clone(s.Device)
	// Copies: the id and subject may be slices of a token's payload, which
	// the session must not keep alive.
	s.ID, s.Subject = strings.Clone(s.ID), strings.Clone(s.Subject)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if old, ok := m.byID[s.ID]; ok {
		if old.ExpiresAt.After(now) {
			return errSessionExists
		}
		// The id of an expired session is free again, perhaps for another
		// subject: take it out of its old subject's index first, or that
		// subject's List and RevokeAll would reach the new session.
		m.forget(s.ID, old.Subject)
	}
	m.byID[s.ID] = s
	if m.bySubject[s.Subject] == nil {
		m.bySubject[s.Subject] = map[string]struct{}{}
	}
	m.bySubject[s.Subject][s.ID] = struct{}{}
	if len(m.byID) >= m.nextSweep {
		for id, x := range m.byID {
			if !x.ExpiresAt.After(now) {
				m.forget(id, x.Subject)
			}
		}
		m.nextSweep = max(64, 2*len(m.byID))
	}
	return nil
}

func (m *MemorySessionStore) forget(id, subject string) {
	delete(m.byID, id)
	if ids := m.bySubject[subject]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(m.bySubject, subject)
		}
	}
}

// len returns the number of sessions held, expired ones not yet swept
// included.
func (m *MemorySessionStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}

// live returns the unexpired session id; the lock is held.
func (m *MemorySessionStore) live(id string) (SessionInfo, bool) {
	s, ok := m.byID[id]
	if !ok || !s.ExpiresAt.After(m.now()) {
		return SessionInfo{}, false
	}
	return s, true
}

// Get returns the session with id, revoked ones included until they expire.
func (m *MemorySessionStore) Get(_ context.Context, id string) (SessionInfo, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.live(id)
	s.Device = maps.Clone(s.Device)
	return s, ok, nil
}

// List returns subject's active sessions, newest first.
func (m *MemorySessionStore) List(_ context.Context, subject string) ([]SessionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SessionInfo
	for id := range m.bySubject[subject] {
		if s, ok := m.live(id); ok && s.Active {
			s.Device = maps.Clone(s.Device)
			out = append(out, s)
		}
	}
	sortSessions(out)
	return out, nil
}

// sortSessions orders sessions newest first (ties by id, for stable output).
func sortSessions(ss []SessionInfo) {
	slices.SortFunc(ss, func(a, b SessionInfo) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Touch records activity at t in an active session; earlier times are ignored.
func (m *MemorySessionStore) Touch(_ context.Context, id string, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.live(id); ok && s.Active && t.After(s.LastActive) {
		s.LastActive = t
		m.byID[id] = s
	}
	return nil
}

// Revoke marks the session inactive.
func (m *MemorySessionStore) Revoke(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.live(id); ok {
		s.Active = false
		m.byID[id] = s
	}
	return nil
}

// RevokeAll marks every active session of subject inactive.
func (m *MemorySessionStore) RevokeAll(_ context.Context, subject string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id := range m.bySubject[subject] {
		if s, ok := m.live(id); ok && s.Active {
			s.Active = false
			m.byID[id] = s
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
