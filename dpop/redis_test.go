package dpop_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx/redisstore"
	"github.com/redis/go-redis/v9"
)

// TestReplayRedis: as TestReplay, with two replicas sharing a redisstore
// (Redis at AUTHX_REDIS_ADDR, default 127.0.0.1:6379; skipped without one,
// failed under CI=true). Keys live under a fresh prefix, deleted after.
func TestReplayRedis(t *testing.T) {
	t.Parallel()
	addr := os.Getenv("AUTHX_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		msg := fmt.Sprintf("no Redis at %s (%v): start redis-server or set AUTHX_REDIS_ADDR", addr, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	prefix := "authxtest:dpop:" + strings.ToLower(rand.Text()[:12]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var keys []string
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				t.Errorf("deleting the keys of %s: %v", prefix, err)
			}
		}
	})
	s := redisstore.New(c, redisstore.WithPrefix(prefix))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, s)
	// Redis expires keys by its own clock, the real one: the test's must
	// agree with it.
	f.Clock.Set(time.Now())
	testReplay(t, f, newReplica(t, f))
}
