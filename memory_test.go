package authx_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
)

// boundedStore is one in-memory store seen through what the bounds test
// needs: record an id (live for a minute), ask whether its entry still
// holds, and count the entries held.
type boundedStore struct {
	add  func(t *testing.T, id string)
	live func(t *testing.T, id string) bool
	len  func() int
}

// TestMemoryStoresStayBounded: entries that have lapsed are swept as new
// ones arrive, so memory stays proportional to the live entries, not to
// every id ever seen; live entries survive the sweeps.
func TestMemoryStoresStayBounded(t *testing.T) {
	t.Parallel()
	const perRound, rounds = 1000, 10
	tests := []struct {
		name    string
		store   func(clock *authtest.Clock) boundedStore
		wantMax int // entries held at any time
		reason  string
	}{
		{
			name: "MemoryBlocklist",
			store: func(clock *authtest.Clock) boundedStore {
				bl := authx.NewMemoryBlocklist(clock.Now)
				return boundedStore{
					add: func(t *testing.T, id string) {
						if err := bl.Revoke(t.Context(), id, clock.Now().Add(time.Minute)); err != nil {
							t.Fatal(err)
						}
					},
					live: func(t *testing.T, id string) bool {
						got, err := bl.IsRevoked(t.Context(), id)
						if err != nil {
							t.Fatal(err)
						}
						return got
					},
					len: bl.Len,
				}
			},
			wantMax: 2*perRound + 64, reason: "swept when doubled since the last sweep",
		},
		{
			name: "MemoryRefreshStore",
			store: func(clock *authtest.Clock) boundedStore {
				rs := authx.NewMemoryRefreshStore(clock.Now)
				spend := func(t *testing.T, id string) bool {
					first, _, err := rs.Spend(t.Context(), id, clock.Now().Add(time.Minute))
					if err != nil {
						t.Fatal(err)
					}
					return first
				}
				return boundedStore{
					add: func(t *testing.T, id string) {
						if !spend(t, id) {
							t.Fatalf("first Spend(%q) not first", id)
						}
					},
					live: func(t *testing.T, id string) bool { return !spend(t, id) },
					len:  rs.Len,
				}
			},
			wantMax: 2*perRound + 64, reason: "swept when doubled since the last sweep",
		},
		{
			name: "MemorySessionStore",
			store: func(clock *authtest.Clock) boundedStore {
				ss := authx.NewMemorySessionStore(clock.Now)
				return boundedStore{
					add: func(t *testing.T, id string) {
						now := clock.Now()
						in := authx.SessionInfo{ID: id, Subject: "sub-" + id[len(id)-1:], CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
						if err := ss.Create(t.Context(), in); err != nil {
							t.Fatal(err)
						}
					},
					live: func(t *testing.T, id string) bool {
						got, ok, err := ss.Get(t.Context(), id)
						if err != nil {
							t.Fatal(err)
						}
						return ok && got.Active
					},
					len: func() int { return authx.MemorySessionStoreLen(ss) },
				}
			},
			wantMax: 2*perRound + 64, reason: "each Create examines two sessions of its shard, forgetting the expired",
		},
		{
			name: "MemoryRateLimiter",
			store: func(clock *authtest.Clock) boundedStore {
				rl := authx.NewMemoryRateLimiter(clock.Now)
				allow := func(t *testing.T, key string) bool {
					ok, _, err := rl.Allow(t.Context(), key, authx.PerMinute(1))
					if err != nil {
						t.Fatal(err)
					}
					return ok
				}
				return boundedStore{
					add: func(t *testing.T, key string) {
						if !allow(t, key) {
							t.Fatalf("first Allow(%q) denied", key)
						}
					},
					live: func(t *testing.T, key string) bool { return !allow(t, key) }, // still empty: not evicted
					len:  rl.Len,
				}
			},
			wantMax: 2*perRound + 1024, reason: "buckets idle long enough to have refilled are evicted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := authtest.NewClock(testNow)
			s := tt.store(clock)
			peak := 0
			for r := range rounds {
				if r > 0 {
					clock.Advance(2 * time.Minute) // every earlier entry has lapsed
				}
				for i := range perRound {
					s.add(t, fmt.Sprintf("round-%d-%d", r, i))
					peak = max(peak, s.len())
				}
			}
			if peak > tt.wantMax {
				t.Errorf("%d rounds of %d entries, each lapsing before the next: peak Len() = %d, want ≤ %d (%s)",
					rounds, perRound, peak, tt.wantMax, tt.reason)
			}
			var lost []string
			for i := range perRound {
				if id := fmt.Sprintf("round-%d-%d", rounds-1, i); !s.live(t, id) {
					lost = append(lost, id)
				}
			}
			if len(lost) > 0 {
				t.Errorf("%d live entries lost in sweeps, e.g. %q", len(lost), lost[0])
			}
		})
	}
}

// TestMemoryRateLimiterEvictsOnlyRefilled: eviction must not hand a
// client a full bucket early: a bucket is dropped only once it would have
// refilled anyway.
func TestMemoryRateLimiterEvictsOnlyRefilled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		idle   time.Duration // after the victim emptied its bucket
		want   int           // events then allowed at once
		reason string
	}{
		{name: "just emptied", idle: 0, want: 0, reason: "an empty bucket survives sweeps"},
		{name: "almost refilled", idle: 59 * time.Second, want: 2, reason: "2.95 of 3 tokens back: not yet evictable"},
		{name: "refilled", idle: 61 * time.Second, want: 3, reason: "evicted or not, the bucket is full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := authtest.NewClock(testNow)
			rl := authx.NewMemoryRateLimiter(clock.Now)
			l := authx.PerMinute(3)
			allowN := func(key string, n int) int {
				got := 0
				for range n {
					ok, _, err := rl.Allow(t.Context(), key, l)
					if err != nil {
						t.Fatal(err)
					}
					if ok {
						got++
					}
				}
				return got
			}
			if got := allowN("victim", 3); got != 3 {
				t.Fatalf("victim's first 3 events: %d allowed", got)
			}
			clock.Advance(tt.idle)
			for i := range 5000 { // several sweeps
				allowN(fmt.Sprintf("other-%d", i), 1)
			}
			if got := allowN("victim", 5); got != tt.want {
				t.Errorf("victim after %v idle and 5000 other keys: %d allowed, want %d (%s)", tt.idle, got, tt.want, tt.reason)
			}
		})
	}
}

// TestMemoryRateLimiterLimitChangeKeepsLevel: one key's bucket must not
// be refilled because the Limit passed with it changed. MemoryRateLimiter
// replaces the bucket with a full one whenever the Limit value differs from
// the last call's — even for an equivalent Limit (Burst 0 is Burst = Rate)
// — so alternating two limits on one key is never limited. Through
// Auth.RateLimit this happens with a Key func when a key is used both with
// and without claims (see TestRateLimitOneKeyTwoLimits).
func TestMemoryRateLimiterLimitChangeKeepsLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		limits  [2]authx.Limit // alternated
		wantMax int            // events allowed in the first minute
		reason  string
	}{
		{name: "equivalent limits", limits: [2]authx.Limit{authx.PerMinute(5), {Rate: 5, Per: time.Minute}}, wantMax: 5, reason: "the same limit, written two ways"},
		{name: "two limits", limits: [2]authx.Limit{authx.PerMinute(5), authx.PerMinute(10)}, wantMax: 10, reason: "never more than the larger burst"},
		{name: "same limit", limits: [2]authx.Limit{authx.PerMinute(5), authx.PerMinute(5)}, wantMax: 5, reason: "control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := authtest.NewClock(testNow)
			rl := authx.NewMemoryRateLimiter(clock.Now)
			got := 0
			for i := range 40 {
				ok, _, err := rl.Allow(t.Context(), "login:key:alice", tt.limits[i%2])
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got++
				}
			}
			if got > tt.wantMax {
				t.Errorf("40 events alternating %v and %v on one key: %d allowed, want ≤ %d (%s)", tt.limits[0], tt.limits[1], got, tt.wantMax, tt.reason)
			}
		})
	}
}

func TestMemoryRateLimiterZeroAndInvalidLimits(t *testing.T) {
	t.Parallel()
	rl := authx.NewMemoryRateLimiter(authtest.NewClock(testNow).Now)
	type result struct {
		Allowed int
		Err     bool
		Len     int
	}
	tests := []struct {
		name   string
		limit  authx.Limit
		want   result
		reason string
	}{
		{name: "zero limit", limit: authx.Limit{}, want: result{Allowed: 10}, reason: "no limit, and no bucket kept"},
		{name: "negative rate", limit: authx.Limit{Rate: -1, Per: time.Minute}, want: result{Err: true}, reason: "a misconfiguration is an error, never an allow"},
		{name: "zero per", limit: authx.Limit{Rate: 1}, want: result{Err: true}, reason: "a misconfiguration is an error"},
		{name: "negative burst", limit: authx.Limit{Rate: 1, Per: time.Minute, Burst: -1}, want: result{Err: true}, reason: "a misconfiguration is an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: Len counts the shared limiter's buckets.
			var got result
			for range 10 {
				ok, _, err := rl.Allow(t.Context(), "k-"+tt.name, tt.limit)
				if err != nil {
					got.Err = true
				}
				if ok {
					got.Allowed++
				}
			}
			got.Len = rl.Len()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("10 × Allow under %+v: %s (-want +got):\n%s", tt.limit, tt.reason, diff)
			}
		})
	}
}

// TestMemoryRateLimiterHugeLimitsSurviveSweeps: a bucket's refill time,
// Per × Burst / Rate, overflows a time.Duration when Per × Burst is
// computed first in nanoseconds (past 2^63 ns, 292 years): the sweep then
// took a drained bucket for a refilled one and evicted it, handing the
// client a full bucket at once.
func TestMemoryRateLimiterHugeLimitsSurviveSweeps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limit  authx.Limit
		reason string
	}{
		{name: "120000 a day", limit: authx.Limit{Rate: 120000, Per: 24 * time.Hour, Burst: 120000}, reason: "Per × Burst is 1.04e19 ns: past int64"},
		{name: "2 per 200 years", limit: authx.Limit{Rate: 2, Per: 200 * 365 * 24 * time.Hour, Burst: 2}, reason: "Per × Burst is 1.26e19 ns: past int64"},
		{name: "3 a minute", limit: authx.PerMinute(3), reason: "control: no overflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := authtest.NewClock(testNow)
			rl := authx.NewMemoryRateLimiter(clock.Now)
			allow := func(key string) bool {
				ok, _, err := rl.Allow(t.Context(), key, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			for i := range tt.limit.Burst {
				if !allow("victim") {
					t.Fatalf("event %d of the first %d refused", i+1, tt.limit.Burst)
				}
			}
			for i := range 5000 { // several sweeps
				allow(fmt.Sprintf("other-%d", i))
			}
			if allow("victim") {
				t.Errorf("victim after draining its %d events and 5000 other keys: allowed, want refused (%s)", tt.limit.Burst, tt.reason)
			}
		})
	}
}

// TestMemorySessionStoreRevokeAllEndsWhatWasSeen: "log out everywhere"
// ends every session of the subject that a request could have found live
// before it began, even one whose Create has not returned yet: a session
// is indexed by its subject in the same step as it becomes visible, never
// after, or a RevokeAll between the two would miss a session already in
// use.
func TestMemorySessionStoreRevokeAllEndsWhatWasSeen(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(testNow)
	ss := authx.NewMemorySessionStore(clock.Now)
	ctx := t.Context()
	const creators, perCreator = 4, 250
	seen := make(chan string, creators*perCreator) // found live by a request
	var wg sync.WaitGroup
	for c := range creators {
		wg.Go(func() {
			for i := range perCreator {
				id := fmt.Sprintf("s-%d-%d", c, i)
				found := make(chan struct{})
				go func() { // a request using the session as soon as it is there
					defer close(found)
					for {
						if s, ok, err := ss.Get(ctx, id); err != nil || ok {
							if ok && s.Active {
								seen <- id
							}
							return
						}
						runtime.Gosched()
					}
				}()
				now := clock.Now()
				if err := ss.Create(ctx, authx.SessionInfo{ID: id, Subject: "crowd", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
					t.Errorf("Create(%s): %v", id, err)
				}
				<-found
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var before []string
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		for drained := false; !drained; {
			select {
			case id := <-seen:
				before = append(before, id)
			default:
				drained = true
			}
		}
		if _, err := ss.RevokeAll(ctx, "crowd"); err != nil {
			t.Fatal(err)
		}
		for _, id := range before {
			if s, ok, err := ss.Get(ctx, id); err != nil || !ok || s.Active {
				t.Fatalf("session %s, found live before RevokeAll(crowd) began, after it: found %v, active %v, %v; want found, inactive", id, ok, s.Active, err)
			}
		}
		before = before[:0] // inactive now: they stay so
		runtime.Gosched()
	}
	if got, err := ss.List(ctx, "crowd"); err != nil || len(got) != 0 {
		t.Errorf("List(crowd) after the last RevokeAll = %d sessions, %v; want none", len(got), err)
	}
}
