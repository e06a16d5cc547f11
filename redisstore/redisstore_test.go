package redisstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/redisstore"
	"github.com/authx-go/authx/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// These tests run against a real Redis: AUTHX_REDIS_ADDR, default
// 127.0.0.1:6379. Without one they skip, except under CI=true, where they
// fail. Each test writes under its own random key prefix and deletes its
// keys when it ends.

// TestMain silences go-redis's own logging: the tests that take Redis
// away make its pool report every failed dial.
func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func redisAddr() string {
	if a := os.Getenv("AUTHX_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// redisDown is nil when Redis answered a PING, once per test binary.
var redisDown = sync.OnceValue(func() error {
	c := redis.NewClient(&redis.Options{Addr: redisAddr(), MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
})

// requireRedis skips tb when Redis does not answer, or fails it under
// CI=true, where Redis is part of the environment.
func requireRedis(tb testing.TB) {
	tb.Helper()
	if err := redisDown(); err != nil {
		msg := fmt.Sprintf("no Redis at %s (%v): start redis-server or set AUTHX_REDIS_ADDR", redisAddr(), err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
}

// newClient returns a client of the Redis at addr, closed when tb ends,
// built with ContextTimeoutEnabled as New requires. configure, if given,
// adjusts its options.
func newClient(tb testing.TB, addr string, configure ...func(*redis.Options)) *redis.Client {
	tb.Helper()
	opt := &redis.Options{Addr: addr, ContextTimeoutEnabled: true}
	for _, f := range configure {
		f(opt)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix returns a fresh key prefix whose keys are deleted when tb
// ends. It skips tb when there is no Redis (see requireRedis).
func testPrefix(tb testing.TB) string {
	tb.Helper()
	requireRedis(tb)
	prefix := "authxtest:" + strings.ToLower(rand.Text()[:12]) + ":"
	tb.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: redisAddr()})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, err := scanKeys(ctx, c, prefix)
		if err == nil && len(keys) > 0 {
			err = c.Unlink(ctx, keys...).Err()
		}
		if err != nil {
			tb.Errorf("deleting the keys of %s: %v", prefix, err)
		}
	})
	return prefix
}

// scanKeys returns the keys that start with prefix.
func scanKeys(ctx context.Context, c redis.UniversalClient, prefix string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	slices.Sort(keys)
	return keys, iter.Err()
}

// newStore returns a Store on the test Redis under a fresh prefix.
func newStore(tb testing.TB) *redisstore.Store {
	tb.Helper()
	return storeOn(tb, redisAddr(), testPrefix(tb))
}

// storeOn returns a Store with its own client of addr, under prefix.
func storeOn(tb testing.TB, addr, prefix string, configure ...func(*redis.Options)) *redisstore.Store {
	tb.Helper()
	s := redisstore.New(newClient(tb, addr, configure...), redisstore.WithPrefix(prefix))
	if err := s.Err(); err != nil {
		tb.Fatalf("redisstore.New: %v", err)
	}
	// As a service does at start-up; a store whose Redis is down (some
	// tests point at a dead port) starts its epoch at its first lookup.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = s.Init(ctx)
	return s
}

// TestConformance runs authx's store conformance suite on the four stores.
func TestConformance(t *testing.T) {
	requireRedis(t)
	storetest.Run(t, harness(func(t *testing.T) *redisstore.Store { return newStore(t) }))
}

// harness is the conformance suite's harness for Stores from newStore.
func harness(newStore func(t *testing.T) *redisstore.Store) storetest.Harness {
	return storetest.Harness{
		NewBlocklist:    func(t *testing.T) authx.Blocklist { return newStore(t) },
		NewRefreshStore: func(t *testing.T) authx.RefreshStore { return newStore(t) },
		NewSessionStore: func(t *testing.T) authx.SessionStore { return newStore(t).Sessions() },
		NewRateLimiter:  func(t *testing.T) authx.RateLimiter { return newStore(t) },
		Now:             time.Now,
		Advance:         func(t *testing.T, d time.Duration) { time.Sleep(d) },
	}
}

// TestCluster runs the conformance suite (odd ids included) on a Redis
// Cluster when AUTHX_REDIS_CLUSTER names its nodes ("host:port,…"): there
// the keys of one IsRevoked live in different slots, and the session
// scripts rely on the subject's hash tag.
func TestCluster(t *testing.T) {
	addrs := os.Getenv("AUTHX_REDIS_CLUSTER")
	if addrs == "" {
		t.Skip("set AUTHX_REDIS_CLUSTER=host:port,… to run against a Redis Cluster")
	}
	newClusterStore := func(t *testing.T) *redisstore.Store {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
		prefix := "authxtest:" + strings.ToLower(rand.Text()[:12]) + ":"
		t.Cleanup(func() {
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
				keys, err := scanKeys(ctx, node, prefix)
				for _, k := range keys { // one by one: they live in different slots
					err = errors.Join(err, node.Unlink(ctx, k).Err())
				}
				return err
			})
			if err != nil {
				t.Errorf("deleting the keys of %s: %v", prefix, err)
			}
		})
		return redisstore.New(c, redisstore.WithPrefix(prefix))
	}
	storetest.Run(t, harness(newClusterStore))
}

// raw is a client for looking at a test's keys directly.
func raw(tb testing.TB) *redis.Client { tb.Helper(); return newClient(tb, redisAddr()) }

func TestBlocklistKeepsLaterExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		revokes []time.Duration // from now, in order
		wantTTL time.Duration   // about
		reason  string
	}{
		{name: "once", revokes: []time.Duration{time.Hour}, wantTTL: time.Hour, reason: "kept until the given time"},
		{name: "extended", revokes: []time.Duration{time.Minute, time.Hour}, wantTTL: time.Hour, reason: "a later time extends the entry"},
		{name: "not shortened", revokes: []time.Duration{time.Hour, time.Minute}, wantTTL: time.Hour, reason: "an earlier time keeps the later one"},
		{name: "past then future", revokes: []time.Duration{-time.Second, time.Minute}, wantTTL: time.Minute, reason: "a past time records nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := testPrefix(t)
			s := storeOn(t, redisAddr(), prefix)
			for _, d := range tt.revokes {
				if err := s.Revoke(t.Context(), "jti-1", time.Now().Add(d)); err != nil {
					t.Fatalf("Revoke(+%v): %v", d, err)
				}
			}
			ttl, err := raw(t).PTTL(t.Context(), prefix+"{}bl:jti-1").Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl <= tt.wantTTL-10*time.Second || ttl > tt.wantTTL {
				t.Errorf("PTTL of the entry = %v, want about %v: %s", ttl, tt.wantTTL, tt.reason)
			}
		})
	}
}

func TestEmptyID(t *testing.T) {
	t.Parallel()
	later := time.Now().Add(time.Hour)
	tests := []struct {
		name string
		op   func(ctx context.Context, s *redisstore.Store) error
	}{
		{"Revoke", func(ctx context.Context, s *redisstore.Store) error { return s.Revoke(ctx, "", later) }},
		{"Spend", func(ctx context.Context, s *redisstore.Store) error {
			_, _, err := s.Spend(ctx, "", later)
			return err
		}},
		{"Create without id", func(ctx context.Context, s *redisstore.Store) error {
			return s.Sessions().Create(ctx, authx.SessionInfo{Subject: "alice", ExpiresAt: later})
		}},
		{"Create without subject", func(ctx context.Context, s *redisstore.Store) error {
			return s.Sessions().Create(ctx, authx.SessionInfo{ID: "s", ExpiresAt: later})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.op(t.Context(), newStore(t)); !errors.Is(err, redisstore.ErrEmptyID) {
				t.Errorf("error %v, want ErrEmptyID", err)
			}
		})
	}
}

func TestSpend(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	until := time.Now().Add(time.Hour)
	before := time.Now()
	first, at, err := s.Spend(ctx, "jti-1", until)
	after := time.Now()
	if err != nil || !first || !at.IsZero() {
		t.Fatalf("first Spend = %v, %v, %v; want true, zero time, nil", first, at, err)
	}
	first, at, err = s.Spend(ctx, "jti-1", until)
	if err != nil || first {
		t.Fatalf("second Spend = %v, %v, %v; want false, the first use, nil", first, at, err)
	}
	if at.Before(before) || at.After(after) {
		t.Errorf("second Spend: spentAt %v, want the first use, within [%v, %v] exactly (no rounding)", at, before, after)
	}
}

// TestSpendAcrossClients spends one id from 32 goroutines over 4 clients
// (as replicas would): exactly one is first.
func TestSpendAcrossClients(t *testing.T) {
	t.Parallel()
	prefix := testPrefix(t)
	stores := make([]*redisstore.Store, 4)
	for i := range stores {
		stores[i] = storeOn(t, redisAddr(), prefix)
	}
	until := time.Now().Add(time.Hour)
	var firsts, others atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 32 {
		wg.Go(func() {
			<-start
			first, at, err := stores[i%len(stores)].Spend(t.Context(), "contended", until)
			switch {
			case err != nil:
				t.Errorf("Spend: %v", err)
			case first:
				firsts.Add(1)
			case !at.IsZero():
				others.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if diff := cmp.Diff([2]int32{1, 31}, [2]int32{firsts.Load(), others.Load()}); diff != "" {
		t.Errorf("[first, not first with a spentAt] of 32 concurrent Spend (-want +got):\n%s", diff)
	}
}

// TestNeverSwallowed puts values this package did not write where it
// looks: every operation must fail, never answer "not spent", "not found"
// or "allowed".
func TestNeverSwallowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		key    string // under the prefix
		setup  func(ctx context.Context, c *redis.Client, key string) error
		op     func(ctx context.Context, s *redisstore.Store) error
		reason string
	}{
		{
			name: "refresh entry not ours",
			key:  "{}rt:jti-1",
			setup: func(ctx context.Context, c *redis.Client, k string) error {
				return c.Set(ctx, k, "garbage", time.Hour).Err()
			},
			op: func(ctx context.Context, s *redisstore.Store) error {
				_, _, err := s.Spend(ctx, "jti-1", time.Now().Add(time.Hour))
				return err
			},
			reason: "an unparsable entry is not a first use",
		},
		{
			name:  "refresh entry of the wrong type",
			key:   "{}rt:jti-1",
			setup: func(ctx context.Context, c *redis.Client, k string) error { return c.HSet(ctx, k, "a", "b").Err() },
			op: func(ctx context.Context, s *redisstore.Store) error {
				_, _, err := s.Spend(ctx, "jti-1", time.Now().Add(time.Hour))
				return err
			},
			reason: "WRONGTYPE is an error",
		},
		{
			name: "session pointer not ours",
			key:  "{}sid:s-1",
			setup: func(ctx context.Context, c *redis.Client, k string) error {
				return c.Set(ctx, k, "garbage", time.Hour).Err()
			},
			op: func(ctx context.Context, s *redisstore.Store) error {
				_, _, err := s.Sessions().Get(ctx, "s-1")
				return err
			},
			reason: "an unparsable pointer is not a missing session",
		},
		{
			name: "session hash not ours",
			key:  "{}sid:s-1",
			setup: func(ctx context.Context, c *redis.Client, k string) error {
				prefix := strings.TrimSuffix(k, "{}sid:s-1")
				if err := c.Set(ctx, k, "nonce alice", time.Hour).Err(); err != nil {
					return err
				}
				return c.HSet(ctx, prefix+"{sub:alice}:sess:s-1", "id", "s-1").Err()
			},
			op: func(ctx context.Context, s *redisstore.Store) error {
				_, _, err := s.Sessions().Get(ctx, "s-1")
				return err
			},
			reason: "a hash missing its fields is not a session",
		},
		{
			name:  "session index of the wrong type",
			key:   "{sub:alice}:sessions",
			setup: func(ctx context.Context, c *redis.Client, k string) error { return c.Set(ctx, k, "x", time.Hour).Err() },
			op: func(ctx context.Context, s *redisstore.Store) error {
				_, err := s.Sessions().RevokeAll(ctx, "alice")
				return err
			},
			reason: "RevokeAll must not report that there was nothing to revoke",
		},
		{
			name:  "rate-limit state not ours",
			key:   "{}rl:login",
			setup: func(ctx context.Context, c *redis.Client, k string) error { return c.HSet(ctx, k, "a", "b").Err() },
			op: func(ctx context.Context, s *redisstore.Store) error {
				_, _, err := s.Allow(ctx, "login", authx.PerMinute(3))
				return err
			},
			reason: "a limiter that cannot read its state does not allow",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := testPrefix(t)
			s := storeOn(t, redisAddr(), prefix)
			if err := tt.setup(t.Context(), raw(t), prefix+tt.key); err != nil {
				t.Fatal(err)
			}
			if err := tt.op(t.Context(), s); err == nil {
				t.Errorf("error = nil, want one: %s", tt.reason)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	prefix := testPrefix(t)
	s := storeOn(t, redisAddr(), prefix)
	ss := s.Sessions()
	ctx := t.Context()
	now := time.Now().UTC()
	mk := func(id, sub string, age time.Duration) authx.SessionInfo {
		return authx.SessionInfo{ID: id, Subject: sub, CreatedAt: now.Add(-age), LastActive: now.Add(-age),
			ExpiresAt: now.Add(time.Hour), Active: true}
	}
	for _, si := range []authx.SessionInfo{mk("a-old", "alice", 2*time.Hour), mk("a-new", "alice", 0), mk("b-1", "bob", 0)} {
		if err := ss.Create(ctx, si); err != nil {
			t.Fatalf("Create(%s): %v", si.ID, err)
		}
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"Create with a live id", func() error { return ss.Create(ctx, mk("a-old", "alice", 0)) }, redisstore.ErrSessionExists},
		{"Create with a live id of another subject", func() error { return ss.Create(ctx, mk("a-old", "carol", 0)) }, redisstore.ErrSessionExists},
		{"Create already expired", func() error {
			si := mk("gone", "alice", 0)
			si.ExpiresAt = now.Add(-time.Second)
			return ss.Create(ctx, si)
		}, nil},
	}
	for _, st := range steps {
		if err := st.do(); !errors.Is(err, st.want) {
			t.Errorf("%s: error %v, want %v", st.name, err, st.want)
		}
	}
	if _, ok, err := ss.Get(ctx, "gone"); ok || err != nil {
		t.Errorf("Get of a session created expired = found %v, %v; want not found", ok, err)
	}
	// The index is pruned of sessions whose key is gone (Redis expired it).
	c := raw(t)
	if err := c.Del(ctx, prefix+"{sub:alice}:sess:a-old").Err(); err != nil {
		t.Fatal(err)
	}
	list, err := ss.List(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a-new"}, ids(list)); diff != "" {
		t.Errorf("List(alice) after a-old's key lapsed (-want +got):\n%s", diff)
	}
	if n, err := c.ZCard(ctx, prefix+"{sub:alice}:sessions").Result(); err != nil || n != 1 {
		t.Errorf("index of alice holds %d members (%v), want 1: List prunes lapsed sessions", n, err)
	}
	// Touch must not bring back a session whose key lapsed.
	if err := ss.Touch(ctx, "a-old", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, prefix+"{sub:alice}:sess:a-old").Result(); err != nil || n != 0 {
		t.Errorf("Touch of a lapsed session: key exists = %d (%v), want 0", n, err)
	}
	// The index lives as long as the subject's latest session.
	exp, err := c.PExpireTime(ctx, prefix+"{sub:alice}:sessions").Result()
	if err != nil || exp.Milliseconds() < now.Add(time.Hour).UnixMilli() {
		t.Errorf("index expiry = %v (%v), want at the latest session's expiry, %v", exp, err, now.Add(time.Hour).UnixMilli())
	}
}

func ids(ss []authx.SessionInfo) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		limit     authx.Limit
		n         int
		want      []bool
		wantRetry time.Duration // of the last denial, about
		wantErr   error
	}{
		{name: "3 a minute", limit: authx.PerMinute(3), n: 4, want: []bool{true, true, true, false}, wantRetry: 20 * time.Second},
		{name: "burst 0 is rate", limit: authx.Limit{Rate: 2, Per: time.Minute}, n: 3, want: []bool{true, true, false}, wantRetry: 30 * time.Second},
		{name: "2 per 200 years", limit: authx.Limit{Rate: 2, Per: 200 * 365 * 24 * time.Hour, Burst: 2}, n: 3, want: []bool{true, true, false}, wantRetry: 100 * 365 * 24 * time.Hour},
		{name: "zero limit allows", limit: authx.Limit{}, n: 5, want: []bool{true, true, true, true, true}},
		{name: "negative rate", limit: authx.Limit{Rate: -1, Per: time.Second}, n: 1, wantErr: redisstore.ErrInvalidLimit},
		{name: "no period", limit: authx.Limit{Rate: 1}, n: 1, wantErr: redisstore.ErrInvalidLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := testPrefix(t)
			s := storeOn(t, redisAddr(), prefix)
			var got []bool
			var retry time.Duration
			for range tt.n {
				ok, r, err := s.Allow(t.Context(), "login:ip:192.0.2.1", tt.limit)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Allow: error %v, want %v", err, tt.wantErr)
				}
				if err != nil {
					return
				}
				got, retry = append(got, ok), r
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("allowed (-want +got):\n%s", diff)
			}
			if tt.wantRetry != 0 && (retry <= tt.wantRetry-time.Second/4 || retry > tt.wantRetry) {
				t.Errorf("retryAfter = %v, want about %v", retry, tt.wantRetry)
			}
			keys, err := scanKeys(t.Context(), raw(t), prefix+"{}rl:")
			if err != nil {
				t.Fatal(err)
			}
			wantKeys := []string{prefix + "{}rl:login:ip:192.0.2.1"}
			if tt.limit.Rate == 0 {
				wantKeys = nil
			}
			if diff := cmp.Diff(wantKeys, keys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConfig: a misbuilt Store fails every call; it never allows.
func TestConfig(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	var nilStore *redisstore.Store
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{redisAddr()}})
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": redisAddr()}})
	t.Cleanup(func() { _ = cluster.Close(); _ = ring.Close() })
	tests := []struct {
		name   string
		s      *redisstore.Store
		wantIn string // in Err's message, if not empty
	}{
		{name: "nil client", s: redisstore.New(nil)},
		{name: "typed nil client", s: redisstore.New((*redis.Client)(nil))},
		{name: "typed nil cluster client", s: redisstore.New((*redis.ClusterClient)(nil))},
		{name: "prefix with a brace", s: redisstore.New(newClient(t, redisAddr()), redisstore.WithPrefix("a{b"))},
		{name: "nil option", s: redisstore.New(newClient(t, redisAddr()), nil)},
		{name: "client without ContextTimeoutEnabled", s: redisstore.New(newClient(t, redisAddr(), noContextTimeout)), wantIn: "ContextTimeoutEnabled: true"},
		{name: "cluster client without ContextTimeoutEnabled", s: redisstore.New(cluster), wantIn: "ContextTimeoutEnabled: true"},
		{name: "ring without ContextTimeoutEnabled", s: redisstore.New(ring), wantIn: "ContextTimeoutEnabled: true"},
		{name: "timeout in nanoseconds", s: redisstore.New(newClient(t, redisAddr()), redisstore.WithTimeout(500)), wantIn: "WithTimeout(500ns)"},
		{name: "zero timeout", s: redisstore.New(newClient(t, redisAddr()), redisstore.WithTimeout(0))},
		{name: "timeout over a minute", s: redisstore.New(newClient(t, redisAddr()), redisstore.WithTimeout(time.Hour))},
		{name: "nil logger", s: redisstore.New(newClient(t, redisAddr()), redisstore.WithLogger(nil))},
		{name: "nil Store", s: nilStore},
		{name: "zero Store", s: &redisstore.Store{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.s.Err()
			if !errors.Is(err, redisstore.ErrConfig) {
				t.Errorf("Err() = %v, want ErrConfig", err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Err() = %q, want it to say %q", err, tt.wantIn)
			}
			for op, err := range everyOperation(t.Context(), tt.s) {
				if !errors.Is(err, redisstore.ErrConfig) {
					t.Errorf("%s: error %v, want ErrConfig", op, err)
				}
			}
		})
	}
}

// noContextTimeout builds a client that does not stop at a context's
// deadline, go-redis's default.
func noContextTimeout(o *redis.Options) { o.ContextTimeoutEnabled = false }

// everyOperation calls every method of s and its sessions once, with a
// limit and ids that touch Redis, and returns their errors by name.
func everyOperation(ctx context.Context, s *redisstore.Store) map[string]error {
	later := time.Now().Add(time.Hour)
	ss := s.Sessions()
	errs := map[string]error{}
	errs["Revoke"] = s.Revoke(ctx, "jti-1", later)
	_, errs["IsRevoked one"] = s.IsRevoked(ctx, "jti-1")
	_, errs["IsRevoked three"] = s.IsRevoked(ctx, "jti-1", "fam:f", "sid:s")
	_, _, errs["Spend"] = s.Spend(ctx, "jti-1", later)
	_, _, errs["Allow"] = s.Allow(ctx, "login", authx.PerMinute(3))
	errs["Create"] = ss.Create(ctx, authx.SessionInfo{ID: "s-1", Subject: "alice", ExpiresAt: later})
	_, _, errs["Get"] = ss.Get(ctx, "s-1")
	_, errs["List"] = ss.List(ctx, "alice")
	errs["Touch"] = ss.Touch(ctx, "s-1", time.Now())
	errs["Session Revoke"] = ss.Revoke(ctx, "s-1")
	_, errs["RevokeAll"] = ss.RevokeAll(ctx, "alice")
	return errs
}

// oddIDs are ids, subjects and keys a client may send.
var oddIDs = []string{
	"a", "a b", "b", "a\r\nb", "{a}", "a}", "x}y", "x", "{", "}", ":", "a:b", "*", "?",
	strings.Repeat("x", 10<<10), "ünïcødé ☃", "~" + hashOf("a b"), "nul\x00byte", "",
}

// hashOf is how the package doc says an unsafe id is written; an id that
// spells it must not reach the hashed id's key.
func hashOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestOddBytes: ids, subjects and rate-limit keys of any bytes round-trip,
// stay apart, and make keys that start with the prefix, stay short and
// carry no hash tag but the store's own.
func TestOddBytes(t *testing.T) {
	t.Parallel()
	prefix := testPrefix(t)
	s := storeOn(t, redisAddr(), prefix)
	ss := s.Sessions()
	ctx := t.Context()
	later := time.Now().Add(time.Hour)

	t.Run("blocklist", func(t *testing.T) {
		for i, id := range oddIDs[:len(oddIDs)-1] {
			bl := storeOn(t, redisAddr(), fmt.Sprintf("%sbl%d:", prefix, i))
			if err := bl.Revoke(ctx, id, later); err != nil {
				t.Fatalf("Revoke(%q): %v", id, err)
			}
			for _, other := range oddIDs {
				got, err := bl.IsRevoked(ctx, other)
				if err != nil || got != (other == id) {
					t.Errorf("after Revoke(%.20q): IsRevoked(%.20q) = %v, %v; want %v", id, other, got, err, other == id)
				}
			}
		}
	})
	t.Run("refresh", func(t *testing.T) {
		for _, id := range oddIDs[:len(oddIDs)-1] {
			if first, _, err := s.Spend(ctx, id, later); err != nil || !first {
				t.Errorf("first Spend(%.20q) = %v, %v; want first", id, first, err)
			}
		}
	})
	t.Run("sessions", func(t *testing.T) {
		// Each odd value names a subject and, with "#", one of its sessions.
		want := map[string]authx.SessionInfo{}
		for _, v := range oddIDs[:len(oddIDs)-1] {
			si := authx.SessionInfo{ID: v + "#", Subject: v, CreatedAt: time.Now(), LastActive: time.Now(), ExpiresAt: later,
				IP: v, UserAgent: v, Device: map[string]string{v: v, "k": v}, Active: true}
			if err := ss.Create(ctx, si); err != nil {
				t.Fatalf("Create(%.20q): %v", si.ID, err)
			}
			want[v] = si
		}
		for v, si := range want {
			got, ok, err := ss.Get(ctx, si.ID)
			if diff := cmp.Diff(si, got); err != nil || !ok || diff != "" {
				t.Errorf("Get(%.20q) = found %v, %v (-want +got):\n%s", si.ID, ok, err, diff)
			}
			list, err := ss.List(ctx, v)
			if diff := cmp.Diff([]string{si.ID}, ids(list)); err != nil || diff != "" {
				t.Errorf("List(%.20q) (%v) (-want +got):\n%s", v, err, diff)
			}
		}
		for _, v := range []string{"x", "a"} {
			got, err := ss.RevokeAll(ctx, v)
			if diff := cmp.Diff([]string{v + "#"}, got); err != nil || diff != "" {
				t.Errorf("RevokeAll(%q) (%v): only its own (-want +got):\n%s", v, err, diff)
			}
		}
		for _, v := range []string{"x}y", "{a}", "a b", "a}"} {
			if list, err := ss.List(ctx, v); err != nil || len(list) != 1 {
				t.Errorf("List(%q) after RevokeAll of x and a = %d sessions (%v), want 1", v, len(list), err)
			}
		}
	})
	t.Run("rate limits", func(t *testing.T) {
		one := authx.Limit{Rate: 1, Per: time.Minute}
		for _, k := range oddIDs {
			if ok, _, err := s.Allow(ctx, k, one); err != nil || !ok {
				t.Errorf("first Allow(%.20q) = %v, %v; want allowed", k, ok, err)
			}
		}
		if ok, _, err := s.Allow(ctx, "a b", one); err != nil || ok {
			t.Errorf("second Allow(a b) = %v, %v; want denied", ok, err)
		}
	})

	keys, err := scanKeys(ctx, raw(t), prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 4*len(oddIDs) {
		t.Errorf("%d keys under the prefix, want at least %d", len(keys), 4*len(oddIDs))
	}
	tags := map[string][]string{} // hash tag → kinds of key carrying it
	for _, k := range keys {
		if len(k) > 200 {
			t.Errorf("key of %d bytes, want at most 200: %.60q…", len(k), k)
		}
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key %.60q does not start with the prefix %q", k, prefix)
		}
		if strings.ContainsAny(k, " \r\n\x00*?[]") {
			t.Errorf("key %q holds a space, line break, NUL or glob character", k)
		}
		tag := hashTag(k)
		switch {
		case strings.HasSuffix(k, "}:sessions"):
			tags[tag] = append(tags[tag], "index")
		case strings.Contains(k, "}:sess:"):
			tags[tag] = append(tags[tag], "session")
		case tag != "":
			t.Errorf("key %.60q has the hash tag %q: only session keys may have one", k, tag)
		}
	}
	for tag, kinds := range tags {
		if !strings.HasPrefix(tag, "sub:") || !slices.Contains(kinds, "index") || !slices.Contains(kinds, "session") {
			t.Errorf("hash tag %q is on %v; want a subject's sessions and its index in one slot", tag, kinds)
		}
	}
}

// TestPrefixesShareNothing: stores on one Redis under different prefixes
// share no key, whatever the prefixes and ids. Keys used to be prefix +
// kind + id, so that the store under p+"bl:" revoking "x" wrote the key
// of p's blocklist entry for "bl:x": p's IsRevoked("bl:x") was true, a
// spent refresh token or a drained bucket under one prefix was another's,
// and a blocklist entry under p+"sid:" was a corrupt session pointer
// under p.
func TestPrefixesShareNothing(t *testing.T) {
	t.Parallel()
	later := time.Now().Add(time.Hour)
	one := authx.Limit{Rate: 1, Per: time.Minute}
	tests := []struct {
		name   string
		suffix string                                                       // the writer's prefix is the reader's + suffix
		write  func(ctx context.Context, w *redisstore.Store) error         // by the store under the longer prefix
		read   func(ctx context.Context, r *redisstore.Store) (bool, error) // by the other: true if it saw the write
		reason string
	}{
		{
			name: "blocklist", suffix: "bl:",
			write:  func(ctx context.Context, w *redisstore.Store) error { return w.Revoke(ctx, "x", later) },
			read:   func(ctx context.Context, r *redisstore.Store) (bool, error) { return r.IsRevoked(ctx, "bl:x") },
			reason: `p+"bl:" revoking "x" revoked "bl:x" under p`,
		},
		{
			name: "refresh", suffix: "rt:",
			write: func(ctx context.Context, w *redisstore.Store) error {
				_, _, err := w.Spend(ctx, "x", later)
				return err
			},
			read: func(ctx context.Context, r *redisstore.Store) (bool, error) {
				first, _, err := r.Spend(ctx, "rt:x", later)
				return !first, err
			},
			reason: `p+"rt:" spending "x" spent "rt:x" under p`,
		},
		{
			name: "rate limit", suffix: "rl:",
			write: func(ctx context.Context, w *redisstore.Store) error { _, _, err := w.Allow(ctx, "x", one); return err },
			read: func(ctx context.Context, r *redisstore.Store) (bool, error) {
				ok, _, err := r.Allow(ctx, "rl:x", one)
				return !ok, err
			},
			reason: `p+"rl:" draining "x" drained "rl:x" under p`,
		},
		{
			name: "session id", suffix: "sid:",
			write: func(ctx context.Context, w *redisstore.Store) error {
				return w.Sessions().Create(ctx, authx.SessionInfo{ID: "x", Subject: "bob", ExpiresAt: later})
			},
			read: func(ctx context.Context, r *redisstore.Store) (bool, error) {
				err := r.Sessions().Create(ctx, authx.SessionInfo{ID: "sid:x", Subject: "carol", ExpiresAt: later})
				return errors.Is(err, redisstore.ErrSessionExists), ignore(err, redisstore.ErrSessionExists)
			},
			reason: `p+"sid:" creating session "x" took the id "sid:x" under p`,
		},
		{
			name: "blocklist entry as a session pointer", suffix: "sid:",
			write: func(ctx context.Context, w *redisstore.Store) error { return w.Revoke(ctx, "x", later) },
			read: func(ctx context.Context, r *redisstore.Store) (bool, error) {
				_, found, err := r.Sessions().Get(ctx, "bl:x")
				return found || errors.Is(err, redisstore.ErrCorrupt), ignore(err, redisstore.ErrCorrupt)
			},
			reason: `p+"sid:" revoking "x" wrote what p read as the pointer of session "bl:x"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := testPrefix(t)
			reader, writer := storeOn(t, redisAddr(), p), storeOn(t, redisAddr(), p+tt.suffix)
			if err := tt.write(t.Context(), writer); err != nil {
				t.Fatalf("write under %q: %v", p+tt.suffix, err)
			}
			saw, err := tt.read(t.Context(), reader)
			if err != nil {
				t.Fatalf("read under %q: %v", p, err)
			}
			if saw {
				t.Errorf("the store under %q saw a write of the store under %q: %s", p, p+tt.suffix, tt.reason)
			}
			// Every key names its store: the prefix is the part of the key
			// before its first '{', which no prefix may hold.
			keys, err := scanKeys(t.Context(), raw(t), p)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if before, _, _ := strings.Cut(k, "{"); before != p && before != p+tt.suffix {
					t.Errorf("key %q: the part before its first '{' is %q, not a store's prefix", k, before)
				}
			}
		})
	}
}

// ignore returns err unless it matches target.
func ignore(err, target error) error {
	if errors.Is(err, target) {
		return nil
	}
	return err
}

// hashTag returns the part of key Redis Cluster hashes, if it is not the
// whole key: between the first '{' and the next '}', when not empty.
func hashTag(key string) string {
	_, rest, ok := strings.Cut(key, "{")
	if !ok {
		return ""
	}
	tag, _, ok := strings.Cut(rest, "}")
	if !ok {
		return ""
	}
	return tag
}

// -- losing Redis -----------------------------------------------------------

// proxy forwards TCP connections to Redis; it can delay Redis's replies
// and be closed, cutting every connection, to take Redis away mid-test.
type proxy struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // of each reply chunk, in nanoseconds

	mu    sync.Mutex
	conns map[net.Conn]struct{} // nil once closed
	wg    sync.WaitGroup
}

// startProxy listens on a free loopback port; it is closed when tb ends.
func startProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(p.Close)
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

// SetDelay makes every reply arrive d late.
func (p *proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		open := p.conns != nil
		if open {
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.wg.Add(2)
		}
		p.mu.Unlock()
		if !open {
			_ = c.Close()
			_ = up.Close()
			return
		}
		go p.pipe(up, c, false)
		go p.pipe(c, up, true)
	}
}

// pipe copies src to dst, delaying each chunk if delayed, until either ends.
func (p *proxy) pipe(dst, src net.Conn, delayed bool) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(p.delay.Load()); delayed && d > 0 {
				time.Sleep(d) // the latency being simulated
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Close stops listening and cuts every connection, as a Redis that died.
func (p *proxy) Close() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	_ = p.ln.Close()
	for c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

var secret = []byte("redisstore-test-secret-of-32-bytes-or-more")

// site is an Auth on s with a guarded endpoint, the refresh endpoint and a
// rate-limited one, as a service would mount them.
type site struct {
	a       *authx.Auth[string]
	guarded http.Handler
	refresh http.Handler
	limited http.Handler
}

// newSite builds the site on clock (nil: a fixed clock reading now).
func newSite(tb testing.TB, s *redisstore.Store, clock *authtest.Clock, opts ...authx.Option) *site {
	tb.Helper()
	if clock == nil {
		clock = authtest.NewClock(time.Now())
	}
	a, err := authx.New[string](append([]authx.Option{authx.WithSecret(secret), authx.WithClock(clock.Now), s.Option()}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	return &site{
		a:       a,
		guarded: a.Require().Wrap(ok),
		refresh: a.RefreshHandler(),
		limited: a.RateLimit(authx.RateLimitConfig{Name: "api", Anonymous: authx.PerMinute(1000)})(ok),
	}
}

// serve returns h's response to r.
func serve(h http.Handler, r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

// requests returns one request of each kind the site answers: a guarded
// request with a valid access token, a refresh with an unspent refresh
// token, an anonymous rate-limited request.
func (st *site) requests(tb testing.TB) map[string]func() (http.Handler, *http.Request) {
	tb.Helper()
	access := authtest.Token(tb, st.a, "alice")
	return map[string]func() (http.Handler, *http.Request){
		"guarded": func() (http.Handler, *http.Request) {
			return st.guarded, authtest.Request(tb, st.a, authx.InHeader, "GET", "/", access)
		},
		"refresh": func() (http.Handler, *http.Request) {
			return st.refresh, authtest.Request(tb, st.a, authx.InHeader, "POST", "/auth/refresh", authtest.RefreshToken(tb, st.a, "alice"))
		},
		"rate limited": func() (http.Handler, *http.Request) {
			return st.limited, httptest.NewRequest("GET", "/", nil)
		},
	}
}

// failFast makes a client give up on a dead Redis at once. With go-redis's
// defaults (3 retries of the command, 5 attempts at each dial, 100 ms
// apart) each call takes about 1.7 s to fail, and the answer is the same.
func failFast(o *redis.Options) {
	o.MaxRetries = -1
	o.DialerRetries = 1
}

// TestFailClosed takes Redis away mid-test: every request that needs it is
// then refused with 503, never served.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	p := startProxy(t, redisAddr())
	s := storeOn(t, p.Addr(), testPrefix(t), failFast)
	st := newSite(t, s, nil)
	reqs := st.requests(t)
	for _, name := range slices.Sorted(maps.Keys(reqs)) {
		h, r := reqs[name]()
		if got := serve(h, r).StatusCode; got != http.StatusOK {
			t.Fatalf("%s with Redis up: status %d, want 200", name, got)
		}
	}
	p.Close()
	for _, name := range slices.Sorted(maps.Keys(reqs)) {
		for i := range 3 {
			h, r := reqs[name]()
			start := time.Now()
			got := serve(h, r).StatusCode
			t.Logf("%s #%d with Redis gone: %d in %v", name, i+1, got, time.Since(start).Round(time.Microsecond))
			if got != http.StatusServiceUnavailable {
				t.Errorf("%s #%d with Redis gone: status %d, want 503", name, i+1, got)
			}
		}
	}
	for op, err := range everyOperation(t.Context(), s) {
		if err == nil {
			t.Errorf("%s with Redis gone: no error", op)
		}
	}
}

// TestNoRedis points a Store at a port nothing listens on from the start.
func TestNoRedis(t *testing.T) {
	t.Parallel()
	s := redisstore.New(newClient(t, closedAddr(t), failFast), redisstore.WithPrefix("authxtest:none:"))
	st := newSite(t, s, nil)
	reqs := st.requests(t)
	for _, name := range slices.Sorted(maps.Keys(reqs)) {
		h, r := reqs[name]()
		start := time.Now()
		got := serve(h, r).StatusCode
		t.Logf("%s without Redis: %d in %v", name, got, time.Since(start).Round(time.Microsecond))
		if got != http.StatusServiceUnavailable {
			t.Errorf("%s without Redis: status %d, want 503", name, got)
		}
	}
	for op, err := range everyOperation(t.Context(), s) {
		if err == nil {
			t.Errorf("%s without Redis: no error", op)
		}
	}
}

// opaqueClient hides a client's type from New, which then cannot tell
// whether it honours context deadlines: as a wrapper of the caller's own
// would.
type opaqueClient struct{ redis.UniversalClient }

// ignoresDeadlines is a client that does not stop at a context's deadline
// (no ContextTimeoutEnabled), behind a type New cannot inspect.
func ignoresDeadlines(tb testing.TB, addr string) redis.UniversalClient {
	tb.Helper()
	return opaqueClient{newClient(tb, addr, func(o *redis.Options) { o.ContextTimeoutEnabled = false })}
}

// TestSlowRedis: with every reply 300 ms late, a call whose context has a
// 50 ms deadline fails at the deadline, whether the client stops at it
// itself or the Store has to wait on the context for it; a guarded request
// is answered 503.
func TestSlowRedis(t *testing.T) {
	t.Parallel()
	const (
		latency  = 300 * time.Millisecond
		deadline = 50 * time.Millisecond
		bound    = 200 * time.Millisecond // generous: the deadline plus scheduling
	)
	tests := []struct {
		name   string
		client func(tb testing.TB, addr string) redis.UniversalClient
	}{
		{"ContextTimeoutEnabled", func(tb testing.TB, addr string) redis.UniversalClient { return newClient(tb, addr) }},
		{"client ignoring deadlines", ignoresDeadlines},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startProxy(t, redisAddr())
			s := redisstore.New(tt.client(t, p.Addr()), redisstore.WithPrefix(testPrefix(t)))
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			st := newSite(t, s, nil)
			if _, err := s.IsRevoked(t.Context(), "warm-up"); err != nil {
				t.Fatalf("IsRevoked before the delay: %v", err)
			}
			p.SetDelay(latency)

			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			start := time.Now()
			_, err := s.IsRevoked(ctx, "jti-1")
			took := time.Since(start)
			t.Logf("IsRevoked with a %v deadline: %v after %v", deadline, err, took.Round(time.Millisecond))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("IsRevoked: error %v, want context.DeadlineExceeded", err)
			}
			if took > bound {
				t.Errorf("IsRevoked returned after %v, want within %v", took, bound)
			}

			r := authtest.Request(t, st.a, authx.InHeader, "GET", "/", authtest.Token(t, st.a, "alice"))
			ctx, cancel = context.WithTimeout(r.Context(), deadline)
			defer cancel()
			start = time.Now()
			got := serve(st.guarded, r.WithContext(ctx)).StatusCode
			took = time.Since(start)
			t.Logf("guarded request with a %v deadline: %d after %v", deadline, got, took.Round(time.Millisecond))
			if got != http.StatusServiceUnavailable {
				t.Errorf("guarded request: status %d, want 503", got)
			}
			if took > bound {
				t.Errorf("guarded request answered after %v, want within %v", took, bound)
			}
		})
	}
}

// BenchmarkIsRevoked measures the guard's question to Redis: token, family
// and session in one pipelined round trip. Every call is bounded: a context
// without a deadline gets the Store's timeout (a context.WithTimeout per
// call), one with an earlier deadline keeps it (nothing added), and with a
// client New cannot inspect the Store also waits on the context in a
// goroutine of its own.
func BenchmarkIsRevoked(b *testing.B) {
	tests := []struct {
		name     string
		client   func(tb testing.TB, addr string) redis.UniversalClient
		deadline time.Duration // of the request's context; 0: none
	}{
		{"no deadline", func(tb testing.TB, addr string) redis.UniversalClient { return newClient(tb, addr) }, 0},
		{"earlier deadline", func(tb testing.TB, addr string) redis.UniversalClient { return newClient(tb, addr) }, 30 * time.Second},
		{"client ignoring deadlines", ignoresDeadlines, 0},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			s := redisstore.New(tt.client(b, redisAddr()), redisstore.WithPrefix(testPrefix(b)), redisstore.WithTimeout(time.Minute))
			if err := s.Err(); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.IsRevoked(ctx, "3f1c2b9e-6d0a-4c7e-9b1f-2a8d5e7c4b10", "fam:a1b2c3", "sid:d4e5f6"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
