package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// revokeScript records a blocklist entry, keeping the later expiry of an
// entry that exists already. A key without expiry (not ours) is left alone.
//
//	KEYS[1] the entry; ARGV[1] how long to keep it, in milliseconds.
var revokeScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 or ttl >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
`)

// Revoke records id as revoked until the given time; an entry that lasts
// longer already is kept as is, and a time already past records nothing.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	if err := s.Err(); err != nil {
		return err
	}
	if id == "" {
		return ErrEmptyID
	}
	ttl := time.Until(until)
	if ttl <= 0 {
		return nil
	}
	key := s.key(kindBlock, id)
	return s.run(ctx, "blocklist revoke", func(ctx context.Context) error {
		return revokeScript.Run(ctx, s.c, []string{key}, ceilMillis(ttl)).Err()
	})
}

// IsRevoked reports whether any of ids is revoked, in one round trip: one
// EXISTS per id, pipelined (a multi-key EXISTS would fail on Redis Cluster,
// where the keys live in different slots).
func (s *Store) IsRevoked(ctx context.Context, ids ...string) (bool, error) {
	if err := s.Err(); err != nil {
		return false, err
	}
	if len(ids) == 0 {
		return false, nil
	}
	var revoked bool
	err := s.run(ctx, "blocklist lookup", func(ctx context.Context) error {
		if len(ids) == 1 {
			n, err := s.c.Exists(ctx, s.key(kindBlock, ids[0])).Result()
			revoked = n > 0
			return err
		}
		cmds := make([]*redis.IntCmd, len(ids))
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.Exists(ctx, s.key(kindBlock, id))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, c := range cmds {
			if c.Val() > 0 {
				revoked = true
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return revoked, nil
}

// ceilMillis returns d in whole milliseconds, rounded up, at least 1.
func ceilMillis(d time.Duration) int64 {
	return max(1, int64((d+time.Millisecond-1)/time.Millisecond))
}
