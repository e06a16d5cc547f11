package redisstore_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/redisstore"
	"github.com/redis/go-redis/v9"
)

// TestLossOfAuthxKeys: Redis forgets authx's keys (a restart without
// persistence, a FLUSHALL, a failover to a replica that never got them).
// Nothing revoked, spent or ended is admitted afterwards; a new login
// works.
func TestLossOfAuthxKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// store returns the client the Store uses and how to lose its data.
		store func(t *testing.T, prefix string) (client redis.UniversalClient, lose func())
	}{
		{"flush of authx's keys", func(t *testing.T, prefix string) (redis.UniversalClient, func()) {
			requireRedis(t)
			return newClient(t, redisAddr()), func() {
				keys, err := scanKeys(t.Context(), raw(t), prefix)
				if err != nil || len(keys) == 0 {
					t.Fatalf("keys: %v %v", keys, err)
				}
				if err := raw(t).Del(t.Context(), keys...).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"restart without persistence (the tests' config)", func(t *testing.T, _ string) (redis.UniversalClient, func()) {
			p := startRedis(t)
			return p.Client(t), func() { p.Restart(t) }
		}},
		{"restart with RDB defaults, after a crash", func(t *testing.T, _ string) (redis.UniversalClient, func()) {
			p := startRedis(t, "--save", "3600 1 300 100 60 10000")
			return p.Client(t), func() { p.Restart(t) } // SIGKILL: nothing saved yet
		}},
		{"SIGSTOP, then SIGCONT", func(t *testing.T, prefix string) (redis.UniversalClient, func()) {
			p := startRedis(t)
			client := p.Client(t)
			return client, func() {
				p.Pause(t)
				defer p.Resume(t)
				// Paused, a lookup fails (and authx answers 503), never allows.
				s := redisstore.New(client, redisstore.WithPrefix(prefix), redisstore.WithTimeout(50*time.Millisecond))
				if revoked, err := s.IsTokenRevoked(t.Context(), authx.TokenCheck{IDs: []string{"x"}, Subject: "alice", IssuedAt: time.Now()}); err == nil {
					t.Errorf("paused Redis answered revoked=%v, want an error", revoked)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := testPrefix(t)
			client, lose := tt.store(t, prefix)
			lossScenario(t, client, prefix, lose)
		})
	}
}

// lossScenario revokes tokens, spends refresh tokens and ends sessions on a
// Store, loses the data, and checks that none of them is admitted
// afterwards while a new login is.
func lossScenario(t *testing.T, client redis.UniversalClient, prefix string, lose func()) {
	t.Helper()
	clock := authtest.NewClock(time.Now())
	s := redisstore.New(client, redisstore.WithPrefix(prefix), redisstore.WithClock(clock.Now))
	if _, err := s.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := newSite(t, s, clock)
	ctx := t.Context()

	const n = 20
	type token struct{ kind, tok string }
	var before []token
	for i := range n {
		// A revoked access token.
		tok := authtest.Token(t, st.a, "alice")
		c, err := st.a.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.a.Revoke(ctx, c); err != nil {
			t.Fatal(err)
		}
		before = append(before, token{"revoked", tok})
		// A spent refresh token.
		rt := authtest.RefreshToken(t, st.a, "alice")
		if got := serve(st.refresh, authtest.Request(t, st.a, authx.InHeader, "POST", "/auth/refresh", rt)).StatusCode; got != http.StatusOK {
			t.Fatalf("refresh %d: %d", i, got)
		}
		before = append(before, token{"spent", rt})
		// A token of an ended session.
		info, err := st.a.StartSession(ctx, nil, "alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		stok := authtest.Token(t, st.a, "alice", authx.Session(info.ID))
		if err := st.a.RevokeSession(ctx, "alice", info.ID); err != nil {
			t.Fatal(err)
		}
		before = append(before, token{"ended", stok})
	}
	admitted := func() map[string]int {
		got := map[string]int{}
		for _, b := range before {
			h, path, method := st.guarded, "/", "GET"
			if b.kind == "spent" {
				h, path, method = st.refresh, "/auth/refresh", "POST"
			}
			if serve(h, authtest.Request(t, st.a, authx.InHeader, method, path, b.tok)).StatusCode < 400 {
				got[b.kind]++
			}
		}
		return got
	}
	if got := admitted(); len(got) != 0 {
		t.Fatalf("before the loss, admitted %v", got)
	}

	lose()
	clock.Advance(time.Second) // the service's clock moves on

	got := admitted()
	t.Logf("after the loss: admitted %d/%d revoked, %d/%d spent, %d/%d ended", got["revoked"], n, got["spent"], n, got["ended"], n)
	if len(got) != 0 {
		t.Errorf("after the loss, admitted %v; want none", got)
	}
	fresh := authtest.Token(t, st.a, "alice")
	if code := serve(st.guarded, authtest.Request(t, st.a, authx.InHeader, "GET", "/", fresh)).StatusCode; code != http.StatusOK {
		t.Errorf("a login after the loss: %d, want 200", code)
	}
}

// TestEviction fills a small Redis under an evicting policy: revocations
// are evicted with everything else, so such a Redis is refused at start-up
// by CheckConfig. The counts show why.
func TestEviction(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"allkeys-lru", "volatile-lru"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			p := startRedis(t, "--maxmemory", "4mb", "--maxmemory-policy", policy)
			client := p.Client(t)
			prefix := testPrefix(t)
			s := redisstore.New(client, redisstore.WithPrefix(prefix))
			if err := s.CheckConfig(t.Context()); !errors.Is(err, redisstore.ErrUnsafeConfig) {
				t.Fatalf("CheckConfig on a %s Redis: %v, want ErrUnsafeConfig", policy, err)
			}
			if _, err := s.Init(t.Context()); err != nil {
				t.Fatal(err)
			}
			const n = 2000
			for i := range n {
				if err := s.Revoke(t.Context(), fmt.Sprintf("jti-%d", i), time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			// Other data of the application's, with a TTL, fills the memory.
			filler := strings.Repeat("x", 8<<10)
			for i := range 2000 {
				if err := client.Set(t.Context(), fmt.Sprintf("app:%d", i), filler, time.Hour).Err(); err != nil {
					break // noeviction would refuse; evicting policies make room
				}
			}
			kept := 0
			for i := range n {
				revoked, err := s.IsTokenRevoked(t.Context(), authx.TokenCheck{IDs: []string{fmt.Sprintf("jti-%d", i)}, Subject: "alice", IssuedAt: time.Now()})
				if err == nil && revoked {
					kept++
				}
			}
			t.Logf("%s, 4 MB: %d/%d revocations survived the application's data filling the memory; the rest were evicted (loss detection cannot see single keys go): CheckConfig refuses this Redis", policy, kept, n)
		})
	}
}
