package authx

import (
	"fmt"
	"hash/maphash"
	"testing"
	"time"
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
