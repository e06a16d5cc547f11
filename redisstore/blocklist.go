package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/authx-go/authx"
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
		return s.write(ctx, key, func(c cmdWriter) error {
			return revokeScript.Run(ctx, c, []string{key}, ceilMillis(ttl)).Err()
		})
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

var _ authx.SubjectBlocklist = (*Store)(nil)

// WithClock sets the clock that dates the store's epoch (see
// [Store.IsTokenRevoked]). Default time.Now; tests pass the clock of the
// Auth (authx.WithClock) so that token times and the epoch agree.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(s *Store) {
		if now == nil {
			s.err = fmt.Errorf("%w: nil clock", ErrConfig)
			return
		}
		s.now = now
	})
}

// Keys of the loss detection and the subject cut-offs.
const (
	kindSubject = single + "sub:"  // + enc(subject): RevokeSubject's cut-off, unix seconds
	epochKey    = single + "epoch" // when this store's data began, unix seconds; no TTL
)

// revokeSubjectScript records a subject's cut-off, keeping the later
// cut-off and the later expiry of an existing one.
//
//	KEYS[1] the cut-off; ARGV[1] its time (unix seconds); ARGV[2] its life in ms.
var revokeSubjectScript = redis.NewScript(`
local before = tonumber(ARGV[1])
local px = tonumber(ARGV[2])
local cur = tonumber(redis.call('GET', KEYS[1]) or '')
if cur and cur > before then before = cur end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > px then px = ttl end
redis.call('SET', KEYS[1], before, 'PX', px)
return 1
`)

// RevokeSubject revokes sub's tokens issued before before (in earlier
// seconds), until until; an existing later cut-off is kept.
func (s *Store) RevokeSubject(ctx context.Context, sub string, before, until time.Time) error {
	if err := s.Err(); err != nil {
		return err
	}
	if sub == "" {
		return ErrEmptyID
	}
	ttl := time.Until(until)
	if ttl <= 0 {
		return nil
	}
	key := s.key(kindSubject, sub)
	return s.run(ctx, "blocklist revoke subject", func(ctx context.Context) error {
		return s.write(ctx, key, func(c cmdWriter) error {
			return revokeSubjectScript.Run(ctx, c, []string{key}, before.Unix(), ceilMillis(ttl)).Err()
		})
	})
}

// IsTokenRevoked reports whether t is revoked: one of its ids is, its
// subject's tokens issued before a later time were (RevokeSubject), or it
// was issued before this store's data began. All in one pipelined round
// trip with the ids' lookups. The store's epoch — a key without TTL,
// written the first time a store finds none — tells a Redis that never
// forgot from one that lost authx's keys (a restart without persistence, a
// flush, a failover to a replica that had not received them): after a
// loss, the epoch is written anew, and every token issued before it is
// refused, since what would have revoked it may be gone. Users then log in
// again. (The first start of a store is such a moment too.)
func (s *Store) IsTokenRevoked(ctx context.Context, t authx.TokenCheck) (bool, error) {
	if err := s.Err(); err != nil {
		return false, err
	}
	var revoked bool
	err := s.run(ctx, "blocklist lookup", func(ctx context.Context) error {
		exists := make([]*redis.IntCmd, len(t.IDs))
		var epoch, cut *redis.StringCmd
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range t.IDs {
				exists[i] = p.Exists(ctx, s.key(kindBlock, id))
			}
			epoch = p.Get(ctx, s.prefix+epochKey)
			if t.Subject != "" {
				cut = p.Get(ctx, s.key(kindSubject, t.Subject))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for _, c := range exists {
			if err := c.Err(); err != nil {
				return err
			}
			if c.Val() > 0 {
				revoked = true
			}
		}
		since, err := s.epoch(ctx, epoch)
		if err != nil {
			return err
		}
		if issuedBefore(t.IssuedAt, since) {
			revoked = true
		}
		if cut != nil {
			switch sec, err := cut.Int64(); {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return err
			case issuedBefore(t.IssuedAt, sec):
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

// Init writes the store's epoch — the time from which it vouches for
// tokens — if Redis has none, and returns it. Call it at start-up, before
// the process issues tokens: a store first met by a lookup starts its
// epoch then, and tokens issued in earlier seconds (by a process that
// skipped Init) are refused as if the store had lost their revocations.
// After a loss, a later Init, or the first lookup, starts a new epoch.
func (s *Store) Init(ctx context.Context) (time.Time, error) {
	if err := s.Err(); err != nil {
		return time.Time{}, err
	}
	var sec int64
	err := s.run(ctx, "init", func(ctx context.Context) error {
		var err error
		sec, err = s.epoch(ctx, s.c.Get(ctx, s.prefix+epochKey))
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, 0), nil
}

// epoch returns the store's epoch (unix seconds) as got read it, writing
// it first when Redis has none: a new store, or one whose data was lost.
func (s *Store) epoch(ctx context.Context, got *redis.StringCmd) (int64, error) {
	sec, err := got.Int64()
	if err == nil {
		return sec, nil
	}
	if !errors.Is(err, redis.Nil) {
		return 0, err
	}
	now := s.now().Unix()
	// SET NX GET: of concurrent writers one sets it; the others read it.
	var old string
	ours := false
	err = s.write(ctx, s.prefix+epochKey, func(c cmdWriter) error {
		var err error
		old, err = c.SetArgs(ctx, s.prefix+epochKey, now, redis.SetArgs{Mode: "NX", Get: true}).Result()
		if errors.Is(err, redis.Nil) {
			ours, err = true, nil // set by us: a reply, not an error (WAIT still runs)
		}
		return err
	})
	switch {
	case err != nil:
		return 0, err
	case ours:
		return now, nil
	}
	return strconv.ParseInt(old, 10, 64)
}

// issuedBefore reports whether a token issued at iat (zero: unknown) was
// issued in a second before sec.
func issuedBefore(iat time.Time, sec int64) bool {
	return iat.IsZero() || iat.Unix() < sec
}
