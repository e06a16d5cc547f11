package authx

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

var errEmptyID = errors.New("authx: empty id")

// MemoryBlocklist is an in-process [SubjectBlocklist]. Entries are
// forgotten once the tokens they revoke have expired, so memory stays
// proportional to the number of revoked, still-valid tokens. It suits a
// single replica; several replicas need a shared store such as redisstore.
// Its state lives and dies with the process: a restart forgets every
// revocation (tokens revoked before it are valid again until they expire),
// which is why a deployment that revokes tokens and restarts its processes
// wants a shared, persistent store.
type MemoryBlocklist struct {
	set *expiringSet

	mu       sync.RWMutex
	subjects map[string]subjectCut // RevokeSubject's cut-offs
	next     int                   // len(subjects) at which to sweep
}

type subjectCut struct{ before, until time.Time }

// NewMemoryBlocklist returns an empty MemoryBlocklist reading time from now
// (nil means time.Now; pass the same clock as [WithClock] in tests).
func NewMemoryBlocklist(now func() time.Time) *MemoryBlocklist {
	return &MemoryBlocklist{set: newExpiringSet(now), subjects: map[string]subjectCut{}, next: 64}
}

// RevokeSubject revokes sub's tokens issued before before, until until;
// an existing later cut-off is kept.
func (m *MemoryBlocklist) RevokeSubject(_ context.Context, sub string, before, until time.Time) error {
	if sub == "" {
		return errEmptyID
	}
	now := m.set.now()
	if !until.After(now) {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.subjects[sub]
	if ok && old.until.After(now) {
		before, until = laterOf(old.before, before), laterOf(old.until, until)
	}
	if !ok {
		sub = strings.Clone(sub) // not the caller's token payload
	}
	m.subjects[sub] = subjectCut{before, until}
	if len(m.subjects) >= m.next {
		for k, c := range m.subjects {
			if !c.until.After(now) {
				delete(m.subjects, k)
			}
		}
		m.next = max(64, 2*len(m.subjects))
	}
	return nil
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// IsTokenRevoked reports whether any of t.IDs is revoked, or t's subject's
// tokens issued before a time after t.IssuedAt were.
func (m *MemoryBlocklist) IsTokenRevoked(_ context.Context, t TokenCheck) (bool, error) {
	if m.set.hasAny(t.IDs...) {
		return true, nil
	}
	m.mu.RLock()
	c, ok := m.subjects[t.Subject]
	m.mu.RUnlock()
	return ok && c.until.After(m.set.now()) && issuedBefore(t.IssuedAt, c.before), nil
}

// issuedBefore reports whether a token issued at iat (whole seconds; zero:
// unknown) was issued before cut: in an earlier second than cut's, or at
// an unknown time. A token issued in the cut's own second is not before
// it, so a login right after "log out everywhere" works.
func issuedBefore(iat, cut time.Time) bool {
	return iat.IsZero() || iat.Before(cut.Truncate(time.Second))
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
