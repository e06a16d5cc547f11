package authx

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MemoryRateLimiter is an in-process [RateLimiter]: one
// golang.org/x/time/rate token bucket per key, evicted once idle long enough
// to have refilled (a new bucket would be identical). It suits a single
// replica.
type MemoryRateLimiter struct {
	now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	nextSweep int
}

type bucket struct {
	lim   *rate.Limiter
	limit Limit
	last  time.Time
}

// NewMemoryRateLimiter returns a MemoryRateLimiter reading time from now
// (nil means time.Now).
func NewMemoryRateLimiter(now func() time.Time) *MemoryRateLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryRateLimiter{now: now, buckets: map[string]*bucket{}, nextSweep: 1024}
}

// Allow takes one event from key's bucket.
func (m *MemoryRateLimiter) Allow(_ context.Context, key string, l Limit) (bool, time.Duration, error) {
	if err := l.valid(); err != nil {
		return false, 0, err
	}
	if l.isZero() {
		return true, 0, nil
	}
	l.Burst = l.burst() // Burst 0 and Burst == Rate are the same limit
	every := rate.Limit(float64(l.Rate) / l.Per.Seconds())
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buckets[key]
	switch {
	case b == nil:
		b = &bucket{lim: rate.NewLimiter(every, l.Burst), limit: l}
		m.buckets[strings.Clone(key)] = b // the key may be a slice of a token's payload
	case b.limit != l:
		// Another limit on the same key keeps the bucket's level: swapping
		// limits must not hand out a fresh, full bucket.
		b.lim.SetLimitAt(now, every)
		b.lim.SetBurstAt(now, l.Burst)
		b.limit = l
	}
	b.last = now
	if len(m.buckets) >= m.nextSweep {
		for k, x := range m.buckets {
			if now.Sub(x.last) > x.limit.refillTime() {
				delete(m.buckets, k)
			}
		}
		m.nextSweep = max(1024, 2*len(m.buckets))
	}
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, l.Per, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, nil
}

// Len returns the number of buckets held.
func (m *MemoryRateLimiter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}
