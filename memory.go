package authx

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
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

// hasAny reports whether any id has a live entry: one lock, one clock read.
func (s *expiringSet) hasAny(ids ...string) bool {
	var now time.Time
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range ids {
		if e, ok := s.m[id]; ok {
			if now.IsZero() {
				now = s.now()
			}
			if e.until.After(now) {
				return true
			}
		}
	}
	return false
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
	return m.set.hasAny(ids...), nil
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

// MemorySessionStore is an in-process [SessionStore], indexed by subject.
// Sessions are forgotten once expired (swept when the store has doubled
// since the last sweep). It suits a single replica.
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

// MemoryRateLimiter is an in-process [RateLimiter]: one
// golang.org/x/time/rate token bucket per key, evicted once idle long enough
// to have refilled (a new bucket would be identical). It suits a single
// replica.
type MemoryRateLimiter struct {
	now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	nextSweep int
}

type bucket struct {
	lim   *rate.Limiter
	limit Limit
	last  time.Time
}

// NewMemoryRateLimiter returns a MemoryRateLimiter reading time from now
// (nil means time.Now).
func NewMemoryRateLimiter(now func() time.Time) *MemoryRateLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryRateLimiter{now: now, buckets: map[string]*bucket{}, nextSweep: 1024}
}

// Allow takes one event from key's bucket.
func (m *MemoryRateLimiter) Allow(_ context.Context, key string, l Limit) (bool, time.Duration, error) {
	if err := l.valid(); err != nil {
		return false, 0, err
	}
	if l.isZero() {
		return true, 0, nil
	}
	l.Burst = l.burst() // Burst 0 and Burst == Rate are the same limit
	every := rate.Limit(float64(l.Rate) / l.Per.Seconds())
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buckets[key]
	switch {
	case b == nil:
		b = &bucket{lim: rate.NewLimiter(every, l.Burst), limit: l}
		m.buckets[key] = b
	case b.limit != l:
		// Another limit on the same key keeps the bucket's level: swapping
		// limits must not hand out a fresh, full bucket.
		b.lim.SetLimitAt(now, every)
		b.lim.SetBurstAt(now, l.Burst)
		b.limit = l
	}
	b.last = now
	if len(m.buckets) >= m.nextSweep {
		for k, x := range m.buckets {
			if now.Sub(x.last) > x.limit.refillTime() {
				delete(m.buckets, k)
			}
		}
		m.nextSweep = max(1024, 2*len(m.buckets))
	}
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, l.Per, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, nil
}

// Len returns the number of buckets held.
func (m *MemoryRateLimiter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}

// sessionKey names one (session, subject) pair checked by a replica.
type sessionKey struct{ id, sub string }

// checkedSessions remembers, per replica, which (session, subject) pairs
// were found live in the session store recently, and whether their
// activity was recorded since, so that a guarded request asks the store at
// most once per [WithSessionTouchInterval] per session.
type checkedSessions struct {
	mu        sync.RWMutex
	m         map[sessionKey]checkedSession
	nextSweep int
}

type checkedSession struct {
	until   time.Time
	touched bool
}

func newCheckedSessions() *checkedSessions {
	return &checkedSessions{m: make(map[sessionKey]checkedSession), nextSweep: 64}
}

// get returns k's live entry, if any.
func (s *checkedSessions) get(k sessionKey, now time.Time) (checkedSession, bool) {
	s.mu.RLock()
	c, ok := s.m[k]
	s.mu.RUnlock()
	return c, ok && c.until.After(now)
}

func (s *checkedSessions) put(k sessionKey, c checkedSession, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = c
	if len(s.m) >= s.nextSweep {
		for k, c := range s.m {
			if !c.until.After(now) {
				delete(s.m, k)
			}
		}
		s.nextSweep = max(64, 2*len(s.m))
	}
}
