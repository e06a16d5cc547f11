package authx_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
)

// The store benchmarks ask a store holding 1 k or 1 M entries from every
// core at once (b.RunParallel), the way guarded requests do:
//
//	go test -run '^$' -bench 'Blocklist|RateLimiter|SessionStore' -benchmem -count 6 .

var storeSizes = []int{1 << 10, 1 << 20}

func BenchmarkBlocklistIsRevoked(b *testing.B) {
	for _, n := range storeSizes {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			clock := authtest.NewClock(testNow)
			bl := authx.NewMemoryBlocklist(clock.Now)
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("jti-%016x", i)
				if i%2 == 0 { // half revoked, half not
					if err := bl.Revoke(b.Context(), ids[i], clock.Now().Add(time.Hour)); err != nil {
						b.Fatal(err)
					}
				}
			}
			var seq atomic.Uint64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1) * 7919)
				for pb.Next() {
					i++
					if _, err := bl.IsRevoked(b.Context(), ids[i%n]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkRateLimiterAllow(b *testing.B) {
	for _, n := range storeSizes {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			clock := authtest.NewClock(testNow)
			rl := authx.NewMemoryRateLimiter(clock.Now)
			l := authx.PerMinute(1000)
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("login:key:%016x", i)
				if _, _, err := rl.Allow(b.Context(), keys[i], l); err != nil {
					b.Fatal(err)
				}
			}
			var seq atomic.Uint64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1) * 7919)
				for pb.Next() {
					i++
					if _, _, err := rl.Allow(b.Context(), keys[i%n], l); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// newBenchSessions returns a MemorySessionStore holding n sessions of n/10
// subjects, and their ids. It reads the real clock: an authtest.Clock is
// one mutex, which every call of every core would wait for.
func newBenchSessions(b *testing.B, n int) (*authx.MemorySessionStore, []string) {
	b.Helper()
	ss := authx.NewMemorySessionStore(nil)
	ids := make([]string, n)
	now := time.Now()
	for i := range ids {
		ids[i] = fmt.Sprintf("sid-%016x", i)
		in := authx.SessionInfo{ID: ids[i], Subject: fmt.Sprintf("user-%08x", i/10), CreatedAt: now, LastActive: now, ExpiresAt: now.Add(time.Hour), IP: "192.0.2.1", UserAgent: "bench"}
		if err := ss.Create(b.Context(), in); err != nil {
			b.Fatal(err)
		}
	}
	return ss, ids
}

// BenchmarkSessionStoreGet is what every guarded request of a session
// asks (once per touch interval per replica).
func BenchmarkSessionStoreGet(b *testing.B) {
	for _, n := range storeSizes {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			ss, ids := newBenchSessions(b, n)
			var seq atomic.Uint64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1) * 7919)
				for pb.Next() {
					i++
					if _, ok, err := ss.Get(b.Context(), ids[i%n]); err != nil || !ok {
						b.Errorf("Get: found %v, %v", ok, err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSessionStoreTouch records activity, each call a later time.
func BenchmarkSessionStoreTouch(b *testing.B) {
	for _, n := range storeSizes {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			ss, ids := newBenchSessions(b, n)
			var seq atomic.Uint64
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1) * 7919)
				for pb.Next() {
					i++
					if err := ss.Touch(b.Context(), ids[i%n], start.Add(time.Duration(i))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
