package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Spend marks the refresh token id as used until the given time, with one
// atomic SET NX GET: of any number of concurrent calls, on any number of
// replicas, exactly one reports first; the others get the time of the first
// use. The value written carries a per-call nonce, so a call whose command
// go-redis retried after a lost reply still knows it was first.
func (s *Store) Spend(ctx context.Context, id string, until time.Time) (bool, time.Time, error) {
	if err := s.Err(); err != nil {
		return false, time.Time{}, err
	}
	if id == "" {
		return false, time.Time{}, ErrEmptyID
	}
	now := time.Now()
	nonce := rand.Text()
	value := strconv.FormatInt(now.UnixNano(), 10) + " " + nonce
	key := s.key(kindRefresh, id)
	ms := ceilMillis(until.Sub(now))
	var old string
	var set bool
	err := s.run(ctx, "refresh spend", func(ctx context.Context) error {
		return s.write(ctx, key, func(c cmdWriter) error {
			v, err := c.Do(ctx, "SET", key, value, "PX", ms, "NX", "GET").Text()
			if errors.Is(err, redis.Nil) {
				set = true
				return nil
			}
			old = v
			return err
		})
	})
	if err != nil {
		return false, time.Time{}, err
	}
	if set {
		return true, time.Time{}, nil
	}
	at, theirs, ok := strings.Cut(old, " ")
	ns, perr := strconv.ParseInt(at, 10, 64)
	if !ok || perr != nil {
		return false, time.Time{}, fmt.Errorf("%w: refresh entry %q", ErrCorrupt, truncate(old, 64))
	}
	if theirs == nonce {
		return true, time.Time{}, nil // our own write, seen by a retry
	}
	return false, time.Unix(0, ns), nil
}

// truncate cuts s to at most n bytes, for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
