package authx

import (
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// TestShardedMapSweepIsBounded: a write examines at most sweepStep
// entries (each at most twice: hint and map), however many have lapsed,
// so no call's work grows with the store; and writes forget lapsed
// entries faster than new ones arrive.
func TestShardedMapSweepIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	const perShard = 10_000
	examined := 0
	lapsed := func(until time.Time, now time.Time) bool {
		examined++
		return !until.After(now)
	}
	s := newShardedMap(maphash.String, lapsed)
	for i := range perShard * storeShards {
		k := fmt.Sprint("k-", i)
		sh := s.shard(k)
		sh.add(k, now.Add(time.Minute)) // no sweep: every entry lapses at once
	}
	now = now.Add(2 * time.Minute)
	tests := []struct {
		name   string
		writes int // to one shard
		want   int // entries forgotten
		reason string
	}{
		{name: "one write", writes: 1, want: sweepStep, reason: "a write forgets at most sweepStep entries"},
		{name: "many writes", writes: 100, want: 100 * sweepStep, reason: "and, all lapsed, exactly that many"},
	}
	sh := &s.shards[0]
	for _, tt := range tests {
		// Not parallel: the cases share the map.
		before := len(sh.m)
		examined = 0
		for range tt.writes {
			sh.sweep(now, s.lapsed)
		}
		// Each entry is examined at most twice: its hint, then the map.
		if got := before - len(sh.m); got != tt.want || examined > 2*tt.want {
			t.Errorf("%s: %d writes to a shard of %d lapsed entries forgot %d, examined %d values; want %d, at most %d values (%s)",
				tt.name, tt.writes, before, got, examined, tt.want, 2*tt.want, tt.reason)
		}
	}
	// Lapsed entries go faster than new ones arrive: a shard of only
	// lapsed entries, written to with new keys, is emptied of them within
	// len/(sweepStep-1) writes.
	sh = &s.shards[1]
	old := len(sh.m)
	for i := 0; ; i++ {
		sh.add(fmt.Sprint("new-", i), now.Add(time.Hour))
		sh.sweep(now, s.lapsed)
		if len(sh.m) == i+1 {
			if limit := old/(sweepStep-1) + 1; i+1 > limit {
				t.Errorf("%d lapsed entries forgotten after %d writes, want ≤ %d", old, i+1, limit)
			}
			break
		}
		if i > old {
			t.Fatalf("%d lapsed entries not forgotten after %d writes", old, i)
		}
	}
}

// sessionIDs returns, for each session part of m, count ids (prefix then
// a number) that fall in it.
func sessionIDs(m *MemorySessionStore, prefix string, count int) [storeShards][]string {
	var ids [storeShards][]string
	full := 0
	for n := 0; full < storeShards; n++ {
		id := fmt.Sprint(prefix, n)
		i := maphash.String(m.seed, id) % storeShards
		if len(ids[i]) < count {
			ids[i] = append(ids[i], id)
			if len(ids[i]) == count {
				full++
			}
		}
	}
	return ids
}

// checkSessionIndex checks, on a quiet store, that the subject index is
// the sessions held, no more: every session is in its subject's set, under
// the very string its Subject holds, and every id of a set is a session of
// that subject (a stale one would make List and RevokeAll wander and keep
// memory); no set is empty. It returns the number of subjects.
func checkSessionIndex(t *testing.T, m *MemorySessionStore) int {
	t.Helper()
	subjects, indexed := 0, 0
	for i := range m.subjects {
		sub := &m.subjects[i]
		for name, set := range sub.m {
			subjects++
			if set.name != name || m.subjectShard(name) != sub {
				t.Errorf("subject %q: set named %q, in part %d", name, set.name, i)
			}
			if len(set.ids) == 0 {
				t.Errorf("subject %q: an empty set is kept", name)
			}
			for id := range set.ids {
				indexed++
				if p := m.sessionShard(id).m[id]; p == nil || p.Subject != name {
					t.Errorf("subject %q names session %q, held %v: want only its own sessions", name, id, p != nil)
				}
			}
		}
	}
	held := 0
	for i := range m.sessions {
		sh := &m.sessions[i]
		if len(sh.all) != len(sh.m) {
			t.Errorf("session part %d: %d sessions walked by the sweep, %d held", i, len(sh.all), len(sh.m))
		}
		for _, p := range sh.all {
			held++
			if sh.m[p.ID] != p || m.sessionShard(p.ID) != sh {
				t.Errorf("session %q: walked by the sweep of part %d, not held there", p.ID, i)
			}
			set := m.subjectShard(p.Subject).m[p.Subject]
			if set == nil {
				t.Errorf("session %q of %q: its subject has no set", p.ID, p.Subject)
				continue
			}
			if _, ok := set.ids[p.ID]; !ok {
				t.Errorf("session %q of %q: not in its subject's set (List and RevokeAll miss it)", p.ID, p.Subject)
			}
			if unsafe.StringData(set.name) != unsafe.StringData(p.Subject) {
				t.Errorf("session %q of %q: its own copy of the subject, not its set's", p.ID, p.Subject)
			}
		}
	}
	if indexed != held {
		t.Errorf("%d sessions indexed by subject, %d held", indexed, held)
	}
	return subjects
}

// TestMemorySessionStoreSweepIsBounded: a Create examines exactly
// sweepStep sessions of its part, however many have expired, so no call's
// work grows with the store; each examined session is forgotten or passed;
// and Creates forget expired sessions, and their subject index entries,
// faster than new ones arrive.
func TestMemorySessionStoreSweepIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	m := NewMemorySessionStore(func() time.Time { return now })
	const perShard, subjects = 1000, 300
	oldIDs, newIDs := sessionIDs(m, "old-", perShard), sessionIDs(m, "new-", 2*perShard)
	for i := range storeShards {
		for j, id := range oldIDs[i] {
			in := SessionInfo{ID: id, Subject: fmt.Sprint("sub-", (i+j)%subjects), CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
			if err := m.Create(t.Context(), in); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := checkSessionIndex(t, m); got != subjects {
		t.Fatalf("%d subjects indexed, want %d", got, subjects)
	}
	// Nothing has expired: a sweep passes sweepStep sessions.
	sh := &m.sessions[0]
	var gone [sweepStep]forgotten
	for range 2 * perShard / sweepStep { // round the part, twice
		next := sh.next % len(sh.all)
		if k := sh.sweep(now, gone[:]); k != 0 || sh.next%len(sh.all) != (next+sweepStep)%len(sh.all) {
			t.Fatalf("a sweep of live sessions forgot %d, moved from %d to %d; want 0, moved by %d", k, next, sh.next, sweepStep)
		}
	}

	now = now.Add(2 * time.Minute) // every session has expired
	tests := []struct {
		name   string
		writes int // sweeps of part 0
		want   int // sessions forgotten
		reason string
	}{
		{name: "one write", writes: 1, want: sweepStep, reason: "a write forgets at most sweepStep sessions"},
		{name: "many writes", writes: 100, want: 100 * sweepStep, reason: "and, all expired, exactly that many"},
	}
	for _, tt := range tests {
		// Not parallel: the cases share the part.
		before, forgot := len(sh.m), 0
		for range tt.writes {
			k := sh.sweep(now, gone[:])
			forgot += k
			for _, g := range gone[:k] {
				if _, held := sh.m[g.id]; held || g.subject == "" {
					t.Errorf("%s: %q reported forgotten, held %v, of subject %q", tt.name, g.id, held, g.subject)
				}
			}
			m.unindex(gone[:k])
		}
		if got := before - len(sh.m); got != tt.want || forgot != tt.want {
			t.Errorf("%s: %d writes to a part of %d expired sessions forgot %d, reported %d; want %d (%s)",
				tt.name, tt.writes, before, got, forgot, tt.want, tt.reason)
		}
	}
	checkSessionIndex(t, m)

	// Creates forget expired sessions faster than new ones arrive: part 1,
	// of expired sessions only, is emptied of them within
	// len/(sweepStep-1) Creates of new sessions there (of new subjects,
	// so that the old subjects' sets empty too), each a bounded amount
	// of work.
	sh = &m.sessions[1]
	old := len(sh.m)
	for i := 0; ; i++ {
		id := newIDs[1][i]
		in := SessionInfo{ID: id, Subject: fmt.Sprint("new-sub-", i%subjects), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := m.Create(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		if len(sh.m) == i+1 {
			if limit := old/(sweepStep-1) + 1; i+1 > limit {
				t.Errorf("%d expired sessions forgotten after %d Creates, want ≤ %d", old, i+1, limit)
			}
			break
		}
		if i > old {
			t.Fatalf("%d expired sessions not forgotten after %d Creates", old, i)
		}
	}
	checkSessionIndex(t, m)

	// Every part given twice as many Creates as it has expired sessions:
	// all of them, and every old subject, are forgotten.
	used := [storeShards]int{1: len(sh.m)} // new ids created, all still held
	for i := range storeShards {
		for j, id := range newIDs[i][used[i]:] {
			in := SessionInfo{ID: id, Subject: fmt.Sprint("new-sub-", (i+j)%subjects), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := m.Create(t.Context(), in); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := m.len(), storeShards*2*perShard; got != want {
		t.Errorf("%d sessions held after every part had %d Creates, want %d: the expired ones forgotten", got, 2*perShard, want)
	}
	if got := checkSessionIndex(t, m); got != subjects {
		t.Errorf("%d subjects indexed, want the %d new ones: the old subjects' sets go with their sessions", got, subjects)
	}
}

// TestMemorySessionStoreIndexUnderConcurrency: Creates that take the ids
// of expired sessions for other subjects, sweeps, Revokes, RevokeAlls and
// Lists, all at once while the clock moves, leave the subject index exactly
// the sessions held (and, by finishing, took their locks in an order that
// cannot deadlock).
func TestMemorySessionStoreIndexUnderConcurrency(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	start := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return start.Add(time.Duration(clock.Load())) }
	m := NewMemorySessionStore(now)
	const workers, rounds, ids, subjects = 8, 3000, 200, 7
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				id := fmt.Sprint("sid-", (w*rounds+r*7)%ids)
				sub := fmt.Sprint("sub-", (w+r)%subjects)
				switch r % 8 {
				case 0, 1, 2:
					t := now()
					_ = m.Create(ctx, SessionInfo{ID: id, Subject: sub, CreatedAt: t, ExpiresAt: t.Add(time.Duration(1+r%5) * time.Second)})
				case 3:
					_, _, _ = m.Get(ctx, id)
					_ = m.Touch(ctx, id, now())
				case 4:
					_ = m.Revoke(ctx, id)
				case 5:
					_, _ = m.RevokeAll(ctx, sub)
				case 6:
					for _, s := range must(m.List(ctx, sub)) {
						if s.Subject != sub || !s.Active {
							panic(fmt.Sprintf("List(%s) holds session %s of %s, active %v", sub, s.ID, s.Subject, s.Active))
						}
					}
				case 7:
					clock.Add(int64(300 * time.Millisecond))
				}
			}
		})
	}
	wg.Wait()
	checkSessionIndex(t, m)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestShardedMapCountsItsEntries: each part's lock-free count (empty) is
// its map's length after any mix of adds, replacements and sweeps, so a
// reader that skips an empty part never skips an entry. A blocklist
// subject cut-off is found through the fast path's shard.
func TestShardedMapCountsItsEntries(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	b := NewMemoryBlocklist(func() time.Time { return now })
	for i := range 5000 {
		if err := b.Revoke(t.Context(), fmt.Sprint("id-", i%3000), now.Add(time.Duration(i%7)*time.Second)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			now = now.Add(3 * time.Second)
		}
	}
	for i := range b.set.m.shards {
		sh := &b.set.m.shards[i]
		if got, want := int(sh.n.Load()), len(sh.m); got != want {
			t.Errorf("shard %d counts %d entries, holds %d", i, got, want)
		}
	}
	sh := b.subjects.shard("alice")
	if !sh.empty() {
		t.Fatal("a subject shard is not empty before any cut-off")
	}
	if err := b.RevokeSubject(t.Context(), "alice", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if sh.empty() {
		t.Fatal("the subject's shard is empty after its cut-off")
	}
	bad, err := b.IsTokenRevoked(t.Context(), TokenCheck{IDs: []string{"x"}, Subject: "alice", IssuedAt: now.Add(-time.Minute)})
	if err != nil || !bad {
		t.Errorf("a token issued before alice's cut-off: revoked %v, %v", bad, err)
	}
}
