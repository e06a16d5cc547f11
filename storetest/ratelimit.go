package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/google/go-cmp/cmp"
)

func (s *suite) rateLimiter(t *testing.T) {
	t.Run("Limits", s.limitLimits)
	t.Run("IndependentKeys", s.limitIndependent)
	t.Run("OddKeys", s.limitOddKeys)
	t.Run("Concurrent", s.limitConcurrent)
	t.Run("Refill", s.limitRefill)
}

// allowN calls Allow n times and returns which were allowed, checking
// that every denial says when to retry: within (0, l.Per].
func allowN(t *testing.T, rl authx.RateLimiter, key string, l authx.Limit, n int) []bool {
	t.Helper()
	got := make([]bool, n)
	for i := range n {
		ok, retry, err := rl.Allow(t.Context(), key, l)
		if err != nil {
			t.Fatalf("Allow(%s, %v) error: %v", show(key), l, err)
		}
		got[i] = ok
		if !ok && (retry <= 0 || retry > l.Per) {
			t.Errorf("Allow(%s, %v) denied with retryAfter %v, want within (0, %v]", show(key), l, retry, l.Per)
		}
	}
	return got
}

// allowed returns n trues then m falses.
func allowed(n, m int) []bool {
	out := make([]bool, n+m)
	for i := range n {
		out[i] = true
	}
	return out
}

func (s *suite) limitLimits(t *testing.T) {
	tests := []struct {
		name   string
		limit  authx.Limit
		want   int // events allowed at once
		reason string
	}{
		{name: "3 a minute", limit: authx.Limit{Rate: 3, Per: time.Minute, Burst: 3}, want: 3, reason: "a full bucket holds Burst events"},
		{name: "burst 0 means rate", limit: authx.Limit{Rate: 3, Per: time.Minute}, want: 3, reason: "Burst 0 is Burst = Rate"},
		{name: "burst above rate", limit: authx.Limit{Rate: 1, Per: time.Minute, Burst: 4}, want: 4, reason: "bursts of up to Burst"},
		{name: "burst below rate", limit: authx.Limit{Rate: 5, Per: time.Minute, Burst: 1}, want: 1, reason: "bursts of up to Burst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl := s.h.NewRateLimiter(t)
			if diff := cmp.Diff(allowed(tt.want, 2), allowN(t, rl, "key", tt.limit, tt.want+2)); diff != "" {
				t.Errorf("Allow × %d under %v: %s (-want +got):\n%s", tt.want+2, tt.limit, tt.reason, diff)
			}
		})
	}
}

func (s *suite) limitIndependent(t *testing.T) {
	rl := s.h.NewRateLimiter(t)
	l := authx.Limit{Rate: 3, Per: time.Minute, Burst: 3}
	steps := []struct {
		key  string
		n    int
		want []bool
	}{
		{"login:ip:192.0.2.1", 4, allowed(3, 1)},
		{"login:ip:192.0.2.2", 4, allowed(3, 1)},
		{"api:ip:192.0.2.1", 1, allowed(1, 0)},
		{"login:ip:192.0.2.1", 1, allowed(0, 1)},
	}
	for i, st := range steps {
		if diff := cmp.Diff(st.want, allowN(t, rl, st.key, l, st.n)); diff != "" {
			t.Errorf("step %d: Allow(%q) × %d: keys are independent (-want +got):\n%s", i, st.key, st.n, diff)
		}
	}
}

func (s *suite) limitOddKeys(t *testing.T) {
	l := authx.Limit{Rate: 1, Per: time.Minute, Burst: 1}
	for _, tt := range oddCases {
		t.Run(tt.name, func(t *testing.T) {
			rl := s.h.NewRateLimiter(t)
			for _, k := range tt.set {
				if got := allowN(t, rl, k, l, 1); !got[0] {
					t.Errorf("first Allow(%s) denied, want allowed", show(k))
				}
			}
			for _, k := range tt.others {
				if got := allowN(t, rl, k, l, 1); !got[0] {
					t.Errorf("first Allow(%s) denied, want allowed: only %s were used", show(k), showAll(tt.set))
				}
			}
			for _, k := range tt.set {
				if got := allowN(t, rl, k, l, 1); got[0] {
					t.Errorf("second Allow(%s) under %v allowed, want denied", show(k), l)
				}
			}
		})
	}
}

func (s *suite) limitConcurrent(t *testing.T) {
	rl := s.h.NewRateLimiter(t)
	ctx := t.Context()
	l := authx.Limit{Rate: 10, Per: time.Minute, Burst: 10}
	const callers = 50
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got int
	)
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			ok, _, err := rl.Allow(ctx, "contended", l)
			if err != nil {
				t.Errorf("Allow(contended): %v", err)
				return
			}
			if ok {
				mu.Lock()
				got++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if got != l.Burst {
		t.Errorf("%d concurrent Allow under %v: %d allowed, want exactly %d", callers, l, got, l.Burst)
	}
}

func (s *suite) limitRefill(t *testing.T) {
	rl := s.h.NewRateLimiter(t)
	l := authx.Limit{Rate: 2, Per: 400 * time.Millisecond} // burst 2, a token every 200 ms
	if diff := cmp.Diff(allowed(2, 1), allowN(t, rl, "refill", l, 3)); diff != "" {
		t.Errorf("Allow × 3 under %v (-want +got):\n%s", l, diff)
	}
	s.h.Advance(t, pastShort)
	if got := allowN(t, rl, "refill", l, 1); !got[0] {
		t.Errorf("Allow under %v, %v after the bucket emptied: denied, want allowed (the bucket refills)", l, pastShort)
	}
}
