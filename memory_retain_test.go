package authx_test

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
)

// heapInUse returns the live heap after a full collection.
func heapInUse(tb testing.TB) uint64 {
	tb.Helper()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryStoresRetainOnlyTheID: an id a store keeps is often a slice of
// a decoded token's payload (its jti, its sid); keeping the slice keeps the
// whole payload alive, 1 KB and more per entry. The stores copy what
// they keep.
func TestMemoryStoresRetainOnlyTheID(t *testing.T) {
	// Not parallel: it measures the heap.
	const n, payload = 4000, 1024
	clock := authtest.NewClock(testNow)
	tests := []struct {
		name   string
		store  func() func(t *testing.T, id string) any // a new store's keep: records id, returns the store
		reason string
	}{
		{name: "MemoryBlocklist.Revoke", store: func() func(*testing.T, string) any {
			bl := authx.NewMemoryBlocklist(clock.Now)
			return func(t *testing.T, id string) any {
				if err := bl.Revoke(t.Context(), id, clock.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				return bl
			}
		}, reason: "a revoked token's jti"},
		{name: "MemoryRefreshStore.Spend", store: func() func(*testing.T, string) any {
			rs := authx.NewMemoryRefreshStore(clock.Now)
			return func(t *testing.T, id string) any {
				if _, _, err := rs.Spend(t.Context(), id, clock.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				return rs
			}
		}, reason: "a spent refresh token's jti"},
		{name: "MemorySessionStore.Create", store: func() func(*testing.T, string) any {
			ss := authx.NewMemorySessionStore(clock.Now)
			return func(t *testing.T, id string) any {
				s := authx.SessionInfo{ID: id, Subject: id[:4], CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}
				if err := ss.Create(t.Context(), s); err != nil {
					t.Fatal(err)
				}
				return ss
			}
		}, reason: "a session's id and subject"},
		{name: "MemoryRateLimiter.Allow", store: func() func(*testing.T, string) any {
			rl := authx.NewMemoryRateLimiter(clock.Now)
			return func(t *testing.T, id string) any {
				if _, _, err := rl.Allow(t.Context(), id, authx.PerMinute(5)); err != nil {
					t.Fatal(err)
				}
				return rl
			}
		}, reason: "a key taken from a claim"},
	}
	// retained is the heap kept per entry by a new store given n ids,
	// each cut from a fresh payload (as a decoder hands them over) or, for
	// the control, a copy.
	retained := func(t *testing.T, store func() func(*testing.T, string) any, cut bool) float64 {
		keep := store()
		before := heapInUse(t)
		var s any
		for i := range n {
			p := strconv.Itoa(i) + "-" + strings.Repeat("x", payload)
			id := p[:len(strconv.Itoa(i))+9]
			if !cut {
				id = strings.Clone(id)
			}
			s = keep(t, id)
		}
		after := heapInUse(t)
		runtime.KeepAlive(s)
		return (float64(after) - float64(before)) / n
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			control, cut := retained(t, tt.store, false), retained(t, tt.store, true)
			t.Logf("%s: %.0f B retained per entry for an id cut from a %d B payload, %.0f B for a copy", tt.name, cut, payload, control)
			if cut-control > 100 {
				t.Errorf("%s: %.0f B retained per entry for an id cut from a %d B payload, %.0f B for a copy: want < 100 B more (%s must not pin its payload)", tt.name, cut, payload, control, tt.reason)
			}
		})
	}
}
