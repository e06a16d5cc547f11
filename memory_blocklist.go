package authx

import (
	"context"
	"errors"
	"hash/maphash"
	"strings"
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
	set      *expiringSet
	subjects *shardedMap[string, subjectCut] // RevokeSubject's cut-offs
}

type subjectCut struct{ before, until time.Time }

func (c subjectCut) lapsed(now time.Time) bool { return !c.until.After(now) }

// NewMemoryBlocklist returns an empty MemoryBlocklist reading time from now
// (nil means time.Now; pass the same clock as [WithClock] in tests).
func NewMemoryBlocklist(now func() time.Time) *MemoryBlocklist {
	return &MemoryBlocklist{set: newExpiringSet(now), subjects: newShardedMap(maphash.String, subjectCut.lapsed)}
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
	sh := m.subjects.shard(sub)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, ok := sh.m[sub]
	if ok && old.until.After(now) {
		before, until = laterOf(old.before, before), laterOf(old.until, until)
	}
	if ok {
		sh.m[sub] = subjectCut{before, until}
	} else {
		sh.add(strings.Clone(sub), subjectCut{before, until}) // not the caller's token payload
	}
	sh.sweep(now, subjectCut.lapsed)
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
	sh := m.subjects.shard(t.Subject)
	if sh.empty() { // the common case: no cut-off near this subject
		return false, nil
	}
	sh.mu.RLock()
	c, ok := sh.m[t.Subject]
	sh.mu.RUnlock()
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

// Len returns the number of revoked ids held, lapsed ones included until
// swept (each Revoke examines a few entries).
func (m *MemoryBlocklist) Len() int { return m.set.len() }
