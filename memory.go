package authx

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// expiringSet is a concurrency-safe map of ids to a time, whose entries
// lapse at their deadline and are swept incrementally as new ones arrive
// (see [shardedMap]), so memory stays proportional to the live entries.
type expiringSet struct {
	now func() time.Time
	m   *shardedMap[string, expiringEntry]
}

type expiringEntry struct {
	until time.Time // forget after
	at    time.Time // when it was recorded
}

func (e expiringEntry) lapsed(now time.Time) bool { return !e.until.After(now) }

func newExpiringSet(now func() time.Time) *expiringSet {
	if now == nil {
		now = time.Now
	}
	return &expiringSet{now: now, m: newShardedMap(maphash.String, expiringEntry.lapsed)}
}

// put records id until the given time unless a live entry exists; it
// returns that existing entry and whether there was one.
func (s *expiringSet) put(id string, until time.Time, keepLater bool) (expiringEntry, bool) {
	now := s.now()
	sh := s.m.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, held := sh.m[id]
	if held && old.until.After(now) {
		if keepLater && until.After(old.until) {
			sh.m[id] = expiringEntry{until: until, at: old.at}
		}
		return old, true
	}
	if until.After(now) {
		e := expiringEntry{until: until, at: now}
		if held { // lapsed, not yet swept
			sh.m[id] = e
		} else {
			// A copy: id is often a slice of a decoded token's payload,
			// which the entry must not keep alive.
			sh.add(strings.Clone(id), e)
		}
	}
	sh.sweep(now, expiringEntry.lapsed)
	return expiringEntry{}, false
}

// hasAny reports whether any id has a live entry: one clock read.
func (s *expiringSet) hasAny(ids ...string) bool {
	var now time.Time
	for _, id := range ids {
		sh := s.m.shard(id)
		sh.mu.RLock()
		e, ok := sh.m[id]
		sh.mu.RUnlock()
		if ok {
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

func (s *expiringSet) len() int { return s.m.len() }

// sessionKey names one (session, subject) pair checked by a replica.
type sessionKey struct{ id, sub string }

// hashSessionKey hashes the session id alone: a session has one subject.
func hashSessionKey(seed maphash.Seed, k sessionKey) uint64 { return maphash.String(seed, k.id) }

// checkedSessions remembers, per replica, which (session, subject) pairs
// were found live in the session store recently, and whether their
// activity was recorded since, so that a guarded request asks the store at
// most once per [WithSessionTouchInterval] per session.
type checkedSessions struct {
	m *shardedMap[sessionKey, checkedSession]
}

type checkedSession struct {
	until   time.Time
	touched bool
}

func (c checkedSession) lapsed(now time.Time) bool { return !c.until.After(now) }

func newCheckedSessions() *checkedSessions {
	return &checkedSessions{m: newShardedMap(hashSessionKey, checkedSession.lapsed)}
}

// get returns k's live entry, if any.
func (s *checkedSessions) get(k sessionKey, now time.Time) (checkedSession, bool) {
	sh := s.m.shard(k)
	sh.mu.RLock()
	c, ok := sh.m[k]
	sh.mu.RUnlock()
	return c, ok && c.until.After(now)
}

func (s *checkedSessions) put(k sessionKey, c checkedSession, now time.Time) {
	sh := s.m.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[k]; ok {
		sh.m[k] = c
	} else {
		sh.add(sessionKey{strings.Clone(k.id), strings.Clone(k.sub)}, c) // not the token's payload
	}
	sh.sweep(now, checkedSession.lapsed)
}

// storeShards is how many independently locked parts a memory store is
// split into, so that calls on different keys seldom wait for each other.
const storeShards = 64

// sweepStep is how many entries each write to a shard examines for lapse.
// More than one, so lapsed entries are forgotten faster than new ones
// arrive; few, so no call does work that grows with the store.
const sweepStep = 2

// shardedMap is a map split into storeShards parts, each with its own lock
// and its own incremental sweep: every write to a part examines the next
// sweepStep of its entries, walking them round and round, and forgets the
// lapsed ones. A lapsed entry is thus forgotten within len/sweepStep
// writes to its part, and memory stays proportional to the live entries,
// without a sweep of the whole map under a lock every request needs.
type shardedMap[K comparable, V any] struct {
	seed   maphash.Seed
	hash   func(maphash.Seed, K) uint64
	lapsed func(v V, now time.Time) bool
	shards [storeShards]mapShard[K, V]
}

type mapShard[K comparable, V any] struct {
	mu   sync.RWMutex
	m    map[K]V
	keys []shardKey[K, V] // m's keys, in no order, walked by the sweep
	next int              // the sweep's position in keys
	n    atomic.Int32     // len(m), written under mu, read without it (empty)
	_    [64]byte
}

// empty reports, without the lock, whether the part holds nothing: a
// reader that finds it empty need not lock it. An entry counts from before
// the write that added it unlocks until after the one that removes it.
func (sh *mapShard[K, V]) empty() bool { return sh.n.Load() == 0 }

// shardKey is one of a part's keys with a hint of its value: the value
// when it was added or last examined. The sweep reads the hint, not the map,
// so examining a live entry costs no random lookup. A value replaced since
// lapses no earlier than its hint in every store here (deadlines only move
// later; a rate limiter's hint is the bucket itself), and should one lapse
// earlier it is still forgotten, once its hint lapses.
type shardKey[K comparable, V any] struct {
	k K
	v V
}

func newShardedMap[K comparable, V any](hash func(maphash.Seed, K) uint64, lapsed func(v V, now time.Time) bool) *shardedMap[K, V] {
	s := &shardedMap[K, V]{seed: maphash.MakeSeed(), hash: hash, lapsed: lapsed}
	for i := range s.shards {
		s.shards[i].m = make(map[K]V)
	}
	return s
}

// shard returns key's part.
func (s *shardedMap[K, V]) shard(key K) *mapShard[K, V] {
	return &s.shards[s.hash(s.seed, key)%storeShards]
}

// add stores v under key, which the part does not hold; the lock is held.
// A string key is kept as given: callers copy a key cut from a token.
func (sh *mapShard[K, V]) add(key K, v V) {
	sh.n.Add(1)
	sh.m[key] = v
	sh.keys = append(sh.keys, shardKey[K, V]{key, v})
}

// sweep examines the part's next sweepStep entries and forgets those
// lapsed at now; the lock is held.
func (sh *mapShard[K, V]) sweep(now time.Time, lapsed func(V, time.Time) bool) {
	for range sweepStep {
		if len(sh.keys) == 0 {
			return
		}
		if sh.next >= len(sh.keys) {
			sh.next = 0
		}
		e := &sh.keys[sh.next]
		if !lapsed(e.v, now) {
			sh.next++
			continue
		}
		if v := sh.m[e.k]; !lapsed(v, now) { // replaced since: a new hint
			e.v = v
			sh.next++
			continue
		}
		delete(sh.m, e.k)
		sh.n.Add(-1)
		last := len(sh.keys) - 1
		sh.keys[sh.next] = sh.keys[last]
		sh.keys[last] = shardKey[K, V]{}
		sh.keys = sh.keys[:last]
	}
}

// len returns the number of entries held, lapsed ones not yet swept
// included.
func (s *shardedMap[K, V]) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}
