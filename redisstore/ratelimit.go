package redisstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/authx-go/authx"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Allow takes one event from key's bucket under l, with redis_rate's GCRA
// (the state is one key, updated by one Lua script on Redis's clock, so
// every replica shares it). l maps to redis_rate.Limit{Rate: l.Rate,
// Burst: l.Burst (0: l.Rate), Period: l.Per}. The zero Limit allows
// everything without asking Redis, as authx's memory limiter does.
func (s *Store) Allow(ctx context.Context, key string, l authx.Limit) (bool, time.Duration, error) {
	if err := s.Err(); err != nil {
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
	limit := redis_rate.Limit{Rate: l.Rate, Burst: burst, Period: l.Per}
	k := s.key(kindLimit, key)
	var res *redis_rate.Result
	err := s.run(ctx, "rate limit", func(ctx context.Context) (err error) {
		defer func() {
			// redis_rate asserts the types of the script's reply; a reply
			// it does not expect is an error here, never a crash.
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: rate limiter reply: %v", ErrCorrupt, p)
			}
		}()
		res, err = s.limiter.Allow(ctx, k, limit)
		return err
	})
	if err != nil {
		return false, 0, err
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	retry := res.RetryAfter
	if retry <= 0 {
		retry = l.Per / time.Duration(l.Rate) // one emission interval
	}
	return false, retry, nil
}

// rateClient is the client as redis_rate sees it. redis_rate prepends
// "rate:" to every key it is given; rateClient takes it off again, so that
// rate-limit keys, like every other key, start with the Store's prefix
// (one prefix to grant in ACLs, to scan, to delete).
type rateClient struct{ redis.UniversalClient }

const rateLibPrefix = "rate:"

func unprefixed(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, rateLibPrefix)
	}
	return out
}

func (c rateClient) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.Eval(ctx, script, unprefixed(keys), args...)
}

func (c rateClient) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalSha(ctx, sha1, unprefixed(keys), args...)
}

func (c rateClient) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalRO(ctx, script, unprefixed(keys), args...)
}

func (c rateClient) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalShaRO(ctx, sha1, unprefixed(keys), args...)
}

func (c rateClient) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return c.UniversalClient.Del(ctx, unprefixed(keys)...)
}
