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
//	go test -run '^$' -bench 'Blocklist|RateLimiter' -benchmem -count 6 .

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
