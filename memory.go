package authx

import (
	"strings"
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
		// A copy: id is often a slice of a decoded token's payload, which
		// the entry must not keep alive.
		s.m[strings.Clone(id)] = expiringEntry{until: until, at: now}
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
	if _, ok := s.m[k]; !ok {
		k = sessionKey{strings.Clone(k.id), strings.Clone(k.sub)} // not the token's payload
	}
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
