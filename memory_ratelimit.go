package authx

import (
	"context"
	"hash/maphash"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// MemoryRateLimiter is an in-process [RateLimiter]: one
// golang.org/x/time/rate token bucket per key, evicted once idle long enough
// to have refilled (a new bucket would be identical). Its keys are spread
// over independently locked shards, each swept a few buckets per call, so
// no call waits for a sweep of the whole limiter. It suits a single
// replica.
type MemoryRateLimiter struct {
	now     func() time.Time
	buckets *shardedMap[string, *bucket] // each part's lock guards its buckets
}

type bucket struct {
	lim   *rate.Limiter
	limit Limit
	last  time.Time
}

// lapsed reports whether b has been idle long enough to have refilled: a
// new bucket would be identical.
func (b *bucket) lapsed(now time.Time) bool { return now.Sub(b.last) > b.limit.refillTime() }

// NewMemoryRateLimiter returns a MemoryRateLimiter reading time from now
// (nil means time.Now).
func NewMemoryRateLimiter(now func() time.Time) *MemoryRateLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryRateLimiter{now: now, buckets: newShardedMap(maphash.String, (*bucket).lapsed)}
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
	sh := m.buckets.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.m[key]
	switch {
	case b == nil:
		b = &bucket{lim: rate.NewLimiter(every, l.Burst), limit: l}
		sh.add(strings.Clone(key), b) // the key may be a slice of a token's payload
	case b.limit != l:
		// Another limit on the same key keeps the bucket's level: swapping
		// limits must not hand out a fresh, full bucket.
		b.lim.SetLimitAt(now, every)
		b.lim.SetBurstAt(now, l.Burst)
		b.limit = l
	}
	b.last = now
	sh.sweep(now, (*bucket).lapsed)
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
func (m *MemoryRateLimiter) Len() int { return m.buckets.len() }
