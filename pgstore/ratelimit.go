package pgstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/authx-go/authx"
)

// Allow takes one event from key's token bucket under l, in one statement
// (allow.sql) on the database's clock, so every replica shares it: the
// bucket holds up to l.Burst tokens (0: l.Rate) and refills at l.Rate per
// l.Per. When it is empty, Allow reports false and how long until the next
// token, at most l.Per. The zero Limit allows everything without asking
// the database, as authx's memory limiter does.
func (s *Store) Allow(ctx context.Context, key string, l authx.Limit) (bool, time.Duration, error) {
	if err := s.check(); err != nil {
		return false, 0, err
	}
	if l.Rate == 0 {
		return true, 0, nil
	}
	if l.Rate < 0 || l.Per <= 0 || l.Burst < 0 {
		return false, 0, fmt.Errorf("%w: %+v", ErrInvalidLimit, l)
	}
	burst := l.Burst
	if burst == 0 {
		burst = l.Rate
	}
	rate := float64(l.Rate) / l.Per.Seconds() // tokens a second
	var (
		allowed bool
		tokens  float64
	)
	err := s.run(ctx, "rate limit", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, s.q.allow, []byte(key), float64(burst), rate).Scan(&allowed, &tokens)
	})
	if err != nil {
		return false, 0, err
	}
	if allowed {
		return true, 0, nil
	}
	retry := time.Duration(math.Ceil((1 - tokens) / rate * float64(time.Second)))
	return false, min(max(retry, time.Microsecond), l.Per), nil
}
