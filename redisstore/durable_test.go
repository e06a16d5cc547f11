package redisstore_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/redisstore"
)

// TestLossOfAuthxKeys: Redis forgets authx's keys (a restart without
// persistence, a FLUSHALL, a failover to a replica that never got them).
// Nothing revoked, spent or ended is admitted afterwards; a new login
// works.
func TestLossOfAuthxKeys(t *testing.T) {
	t.Parallel()
	requireRedis(t)
	clock := authtest.NewClock(time.Now())
	prefix := testPrefix(t)
	s := redisstore.New(newClient(t, redisAddr()), redisstore.WithPrefix(prefix), redisstore.WithClock(clock.Now))
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

	// The loss: every key of the store goes, as in a restart without
	// persistence. The service's clock moves on.
	keys, err := scanKeys(ctx, raw(t), prefix)
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if err := raw(t).Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)

	got := admitted()
	t.Logf("after losing %d keys: admitted %d/%d revoked, %d/%d spent, %d/%d ended", len(keys), got["revoked"], n, got["spent"], n, got["ended"], n)
	if len(got) != 0 {
		t.Errorf("after the loss, admitted %v; want none", got)
	}
	fresh := authtest.Token(t, st.a, "alice")
	if code := serve(st.guarded, authtest.Request(t, st.a, authx.InHeader, "GET", "/", fresh)).StatusCode; code != http.StatusOK {
		t.Errorf("a login after the loss: %d, want 200", code)
	}
}
