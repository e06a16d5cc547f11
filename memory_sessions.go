package authx

import (
	"context"
	"errors"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemorySessionStore is an in-process [SessionStore], indexed by subject.
// Sessions are forgotten once expired: they are spread by id over
// independently locked shards, and each Create examines the next few
// sessions of its shard and forgets the expired ones, so no call waits for
// a sweep of the whole store, and Get and Touch, which guarded requests
// call, wait only for calls on sessions of the same shard. It suits a
// single replica. A process restart forgets every session: tokens naming
// one are then refused (an unknown session is an ended one) and their
// users log in again.
type MemorySessionStore struct {
	now  func() time.Time
	seed maphash.Seed

	// Locks are taken in one order: a subject part's, then a session
	// part's; never two of either kind at once. A Create holds its
	// subject's part across the session's insertion into both, and a
	// RevokeAll holds it across the revocations, so that a session is
	// either created before a RevokeAll of its subject (and ended by it) or
	// after (and not).
	sessions [storeShards]sessionShard
	subjects [storeShards]subjectShard
}

// sessionShard is a part of the sessions, by id. Its lock guards the
// sessions it holds, their fields included.
type sessionShard struct {
	mu   sync.RWMutex
	m    map[string]*SessionInfo
	all  []*SessionInfo // m's values, in no order, walked by the sweep
	next int            // the sweep's position in all
	_    [64]byte
}

// subjectShard is a part of the index of sessions by subject. A session
// held is in its subject's set; a set may also name, for a moment, a
// session forgotten or taken over by another subject since (see
// [MemorySessionStore.unindex]): readers check the session's subject.
type subjectShard struct {
	mu sync.RWMutex
	m  map[string]*subjectSessions
	_  [64]byte
}

// subjectSessions is one subject's sessions.
type subjectSessions struct {
	name string              // the subject, a copy its sessions' Subject shares
	ids  map[string]struct{} // the ids, the strings the sessions hold
}

// forgotten is a session's id and subject whose entry in the subject
// index may have to go: the session expired and was swept, or its id was
// taken by a session of another subject.
type forgotten struct{ id, subject string }

// NewMemorySessionStore returns an empty MemorySessionStore reading time
// from now (nil means time.Now).
func NewMemorySessionStore(now func() time.Time) *MemorySessionStore {
	if now == nil {
		now = time.Now
	}
	m := &MemorySessionStore{now: now, seed: maphash.MakeSeed()}
	for i := range m.sessions {
		m.sessions[i].m = map[string]*SessionInfo{}
		m.subjects[i].m = map[string]*subjectSessions{}
	}
	return m
}

func (m *MemorySessionStore) sessionShard(id string) *sessionShard {
	return &m.sessions[maphash.String(m.seed, id)%storeShards]
}

func (m *MemorySessionStore) subjectShard(subject string) *subjectShard {
	return &m.subjects[maphash.String(m.seed, subject)%storeShards]
}

var errSessionExists = errors.New("authx: session id already exists")

// Create stores s as an active session.
func (m *MemorySessionStore) Create(_ context.Context, s SessionInfo) error {
	if s.ID == "" || s.Subject == "" {
		return errEmptyID
	}
	s.Active = true
	s.Device = maps.Clone(s.Device)
	var gone [sweepStep + 1]forgotten
	n, err := m.create(s, gone[:])
	m.unindex(gone[:n])
	return err
}

// create stores s, and records in gone the sessions whose subject index
// entries may have to go; it returns how many.
func (m *MemorySessionStore) create(s SessionInfo, gone []forgotten) (int, error) {
	sub, sh := m.subjectShard(s.Subject), m.sessionShard(s.ID)
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	n := 0
	old := sh.m[s.ID]
	if old != nil && old.ExpiresAt.After(now) {
		return 0, errSessionExists
	}
	set := sub.m[s.Subject]
	if set == nil {
		// A copy: the subject may be a slice of a token's payload, which
		// the session must not keep alive. Its sessions share it.
		set = &subjectSessions{name: strings.Clone(s.Subject), ids: map[string]struct{}{}}
		sub.m[set.name] = set
	}
	s.Subject = set.name
	if old != nil {
		// The id of an expired session, not yet swept, is free again,
		// perhaps for another subject: that subject's List and RevokeAll
		// must not reach the new session, so its index entry goes.
		if old.Subject != s.Subject {
			gone[n] = forgotten{old.ID, old.Subject}
			n++
		}
		s.ID = old.ID // a copy already
		*old = s
	} else {
		s.ID = strings.Clone(s.ID) // as the subject
		p := new(SessionInfo)
		*p = s
		sh.m[s.ID] = p
		sh.all = append(sh.all, p)
	}
	set.ids[s.ID] = struct{}{}
	n += sh.sweep(now, gone[n:])
	return n, nil
}

// sweep examines the part's next sweepStep sessions and forgets those
// expired at now, recording them in gone (room for sweepStep); it returns
// how many. The lock is held.
func (sh *sessionShard) sweep(now time.Time, gone []forgotten) int {
	n := 0
	for range sweepStep {
		if len(sh.all) == 0 {
			break
		}
		if sh.next >= len(sh.all) {
			sh.next = 0
		}
		p := sh.all[sh.next]
		if p.ExpiresAt.After(now) {
			sh.next++
			continue
		}
		delete(sh.m, p.ID)
		last := len(sh.all) - 1
		sh.all[sh.next] = sh.all[last]
		sh.all[last] = nil
		sh.all = sh.all[:last]
		gone[n] = forgotten{p.ID, p.Subject}
		n++
	}
	return n
}

// unindex takes each of gone out of its subject's set unless the store
// holds, by then, a session of that id and subject. No lock is held: it
// takes the subject's part's, then the session's, so a Create of that
// session for that subject, which needs the former, cannot slip between
// the check and the removal.
func (m *MemorySessionStore) unindex(gone []forgotten) {
	for _, g := range gone {
		sub, sh := m.subjectShard(g.subject), m.sessionShard(g.id)
		sub.mu.Lock()
		sh.mu.RLock()
		p := sh.m[g.id]
		held := p != nil && p.Subject == g.subject
		sh.mu.RUnlock()
		if set := sub.m[g.subject]; set != nil && !held {
			delete(set.ids, g.id)
			if len(set.ids) == 0 {
				delete(sub.m, g.subject)
			}
		}
		sub.mu.Unlock()
	}
}

// len returns the number of sessions held, expired ones not yet swept
// included.
func (m *MemorySessionStore) len() int {
	n := 0
	for i := range m.sessions {
		sh := &m.sessions[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// Get returns the session with id, revoked ones included until they expire.
func (m *MemorySessionStore) Get(_ context.Context, id string) (SessionInfo, bool, error) {
	sh := m.sessionShard(id)
	sh.mu.RLock()
	p := sh.m[id]
	var s SessionInfo
	if p != nil {
		s = *p
	}
	sh.mu.RUnlock()
	if p == nil || !s.ExpiresAt.After(m.now()) {
		return SessionInfo{}, false, nil
	}
	s.Device = maps.Clone(s.Device) // the stored map is never written
	return s, true, nil
}

// List returns subject's active sessions, newest first.
func (m *MemorySessionStore) List(_ context.Context, subject string) ([]SessionInfo, error) {
	sub := m.subjectShard(subject)
	sub.mu.RLock()
	defer sub.mu.RUnlock()
	set := sub.m[subject]
	if set == nil {
		return nil, nil
	}
	now := m.now()
	var out []SessionInfo
	for id := range set.ids {
		sh := m.sessionShard(id)
		sh.mu.RLock()
		p := sh.m[id]
		ok := p != nil && p.Subject == subject && p.Active && p.ExpiresAt.After(now)
		var s SessionInfo
		if ok {
			s = *p
		}
		sh.mu.RUnlock()
		if ok {
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
	now := m.now()
	sh := m.sessionShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p := sh.m[id]; p != nil && p.ExpiresAt.After(now) && p.Active && t.After(p.LastActive) {
		p.LastActive = t
	}
	return nil
}

// Revoke marks the session inactive.
func (m *MemorySessionStore) Revoke(_ context.Context, id string) error {
	now := m.now()
	sh := m.sessionShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p := sh.m[id]; p != nil && p.ExpiresAt.After(now) {
		p.Active = false
	}
	return nil
}

// RevokeAll marks every active session of subject inactive.
func (m *MemorySessionStore) RevokeAll(_ context.Context, subject string) ([]string, error) {
	sub := m.subjectShard(subject)
	// Creates of the subject wait: none slips in half done.
	sub.mu.RLock()
	defer sub.mu.RUnlock()
	set := sub.m[subject]
	if set == nil {
		return nil, nil
	}
	now := m.now()
	var ids []string
	for id := range set.ids {
		sh := m.sessionShard(id)
		sh.mu.Lock()
		if p := sh.m[id]; p != nil && p.Subject == subject && p.Active && p.ExpiresAt.After(now) {
			p.Active = false
			ids = append(ids, id)
		}
		sh.mu.Unlock()
	}
	slices.Sort(ids)
	return ids, nil
}
