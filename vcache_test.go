package authx_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
)

// cacheServer serves /any (any access token), /admin (scope admin) and
// /me (prints the claims the handler got, then scribbles over them).
func cacheServer(t *testing.T, a *authx.Auth[string]) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := authx.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "%s %s %v %v", c.Subject, c.ID, c.Scopes, c.Audience)
		// A handler that writes to its claims writes to its own copy.
		c.Subject = "mallory"
		for i := range c.Scopes {
			c.Scopes[i] = "admin"
		}
		for i := range c.Audience {
			c.Audience[i] = "elsewhere"
		}
		c.ExpiresAt = c.ExpiresAt.Add(time.Hour)
	})
	mux.Handle("/me", a.Require().Wrap(me))
	mux.Handle("/any", a.Require().Wrap(me))
	mux.Handle("/admin", a.Require(authx.Scopes("admin")).Wrap(me))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// cacheGet returns the status and body of GET path with tok as bearer.
func cacheGet(t *testing.T, srv *httptest.Server, path, tok string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Every check that is not the token's bytes' holds on a cache hit: the
// claims are the same, a handler's writes to them do not reach the next
// request, the policies, the clock and the blocklist are applied, and a
// token that differs by one byte is verified (and refused) afresh.
func TestVerificationCacheHits(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(time.Now())
	a, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")),
		authx.WithClock(clock.Now), authx.WithAudience("api", "web"), authx.WithVerificationCache(100))
	if err != nil {
		t.Fatal(err)
	}
	srv := cacheServer(t, a)
	tok := authtest.Token(t, a, "alice", authx.Grant("read", "write"), authx.ForAudience("api"), authx.ExpiresIn(time.Minute))
	c, err := a.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("alice %s [read write] [api]", c.ID)
	for i := range 3 {
		if code, body := cacheGet(t, srv, "/me", tok); code != 200 || body != want {
			t.Fatalf("request %d: %d %q, want 200 %q", i, code, body, want)
		}
	}
	if code, _ := cacheGet(t, srv, "/admin", tok); code != http.StatusForbidden {
		t.Errorf("a cached token without the admin scope on /admin: %d, want 403 (the policy, not the cache, decides)", code)
	}
	// One byte off: not the cached token.
	b := []byte(tok)
	b[len(b)-2] ^= 'A' ^ 'B'
	if b[len(b)-2] == tok[len(tok)-2] {
		b[len(b)-2] = 'C'
	}
	if code, _ := cacheGet(t, srv, "/me", string(b)); code != http.StatusUnauthorized {
		t.Errorf("the cached token with its signature changed: %d, want 401", code)
	}
	if code, _ := cacheGet(t, srv, "/me", tok[:len(tok)-1]); code != http.StatusUnauthorized {
		t.Errorf("a prefix of the cached token: %d, want 401", code)
	}
	// Revocation is never cached.
	if err := a.Revoke(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if code, _ := cacheGet(t, srv, "/me", tok); code != http.StatusUnauthorized {
		t.Errorf("a cached token after Revoke: %d, want 401", code)
	}
	// The clock is read on every hit.
	tok2 := authtest.Token(t, a, "bob", authx.ForAudience("web"), authx.ExpiresIn(time.Minute))
	if code, _ := cacheGet(t, srv, "/any", tok2); code != 200 {
		t.Fatalf("bob: %d", code)
	}
	clock.Advance(time.Minute)
	if code, _ := cacheGet(t, srv, "/any", tok2); code != http.StatusUnauthorized {
		t.Errorf("a cached token after its exp: %d, want 401", code)
	}
	if _, err := a.Verify(context.Background(), tok2); !errors.Is(err, authx.ErrExpired) {
		t.Errorf("Verify of a cached token after its exp: %v, want ErrExpired", err)
	}
}

// A token that is not yet valid is refused, and then, once valid,
// admitted: refusals are not cached, and a cached nbf is checked again.
func TestVerificationCacheNotBefore(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(time.Now())
	a, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")),
		authx.WithClock(clock.Now), authx.WithVerificationCache(10))
	if err != nil {
		t.Fatal(err)
	}
	srv := cacheServer(t, a)
	tok := authtest.Token(t, a, "alice", authx.ValidFrom(clock.Now().Add(time.Minute)))
	for range 2 {
		if code, _ := cacheGet(t, srv, "/any", tok); code != http.StatusUnauthorized {
			t.Fatalf("before nbf: %d, want 401", code)
		}
	}
	clock.Advance(time.Minute)
	if code, _ := cacheGet(t, srv, "/any", tok); code != 200 {
		t.Fatalf("at nbf: %d, want 200", code)
	}
	// Refresh tokens are not admitted by an access guard, cached or not.
	rt, err := a.CreateRefreshToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if code, _ := cacheGet(t, srv, "/any", rt); code != http.StatusUnauthorized {
			t.Fatalf("a refresh token: %d, want 401", code)
		}
	}
}

// switchKeySet is an issuer's key set that a test can break, empty, or
// make return another key under the same kid.
type switchKeySet struct {
	authx.KeySet
	mode  atomic.Int32 // 0 normal, 1 error, 2 no keys, 3 another key, same kid
	other *ecdsa.PublicKey
	calls atomic.Int32
}

func (s *switchKeySet) Keys(ctx context.Context, kid string) ([]authx.PublicKey, error) {
	s.calls.Add(1)
	switch s.mode.Load() {
	case 1:
		return nil, errors.New("jwks endpoint down")
	case 2:
		return nil, nil
	case 3:
		keys, err := s.KeySet.Keys(ctx, kid)
		for i := range keys {
			keys[i].Key = s.other
			keys[i].Alg = "ES256"
		}
		return keys, err
	}
	return s.KeySet.Keys(ctx, kid)
}

// A token verified by a key set's key is served from the cache only while
// the set still returns that key: a removed or replaced key, or a rotated
// out one, makes the next request verify afresh (and fail), and a set that
// cannot answer denies with 503, as without the cache.
func TestVerificationCacheKeySets(t *testing.T) {
	t.Parallel()
	idp := authtest.NewIssuer(t)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ks := &switchKeySet{KeySet: idp.KeySet(), other: &other.PublicKey}
	a, err := authx.New[string](authx.WithKeySet(ks, authx.Audience("api")), authx.WithVerificationCache(100))
	if err != nil {
		t.Fatal(err)
	}
	srv := cacheServer(t, a)
	tok := idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read"})
	if code, body := cacheGet(t, srv, "/me", tok); code != 200 || !strings.HasPrefix(body, "alice ") {
		t.Fatalf("first request: %d %q", code, body)
	}
	if code, _ := cacheGet(t, srv, "/me", tok); code != 200 {
		t.Fatalf("cached: %d", code)
	}
	for _, tc := range []struct {
		name string
		mode int32
		want int
	}{
		{"the set cannot answer", 1, http.StatusServiceUnavailable},
		{"the set has no key", 2, http.StatusUnauthorized},
		{"the set has another key under the kid", 3, http.StatusUnauthorized},
		{"the set is back", 0, http.StatusOK},
	} {
		ks.mode.Store(tc.mode)
		for i := range 2 {
			if code, _ := cacheGet(t, srv, "/me", tok); code != tc.want {
				t.Errorf("%s, request %d: %d, want %d", tc.name, i, code, tc.want)
			}
		}
	}
	// Rotated out at the issuer: the token's key is gone from the set.
	idp.Rotate(t)
	idp.Retire()
	if code, _ := cacheGet(t, srv, "/me", tok); code != http.StatusUnauthorized {
		t.Errorf("after the key was retired: %d, want 401", code)
	}
	fresh := idp.Token(t, "bob", map[string]any{"aud": "api"})
	if code, _ := cacheGet(t, srv, "/me", fresh); code != 200 {
		t.Errorf("a token of the new key: %d, want 200", code)
	}
}

// Many goroutines hitting, missing and evicting one small cache at once
// (run with -race): every answer is right.
func TestVerificationCacheConcurrent(t *testing.T) {
	t.Parallel()
	a, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")), authx.WithVerificationCache(16))
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = authtest.Token(t, a, fmt.Sprintf("user-%d", i), authx.Grant(fmt.Sprintf("s%d", i)))
	}
	guard := a.Require()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 400 {
				i := (n*7 + g) % len(toks)
				if g%2 == 0 {
					i %= 8 // half the goroutines hit a hot set
				}
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authorization", "Bearer "+toks[i])
				c, err := guard.Check(r)
				if err != nil {
					t.Errorf("token %d: %v", i, err)
					return
				}
				if c.Subject != fmt.Sprintf("user-%d", i) || len(c.Scopes) != 1 || c.Scopes[0] != fmt.Sprintf("s%d", i) {
					t.Errorf("token %d: claims of %s %v", i, c.Subject, c.Scopes)
					return
				}
				c.Scopes[0] = "scribbled"
			}
		})
	}
	wg.Wait()
}

// WithVerificationCache's bounds are New's errors.
func TestVerificationCacheConfig(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, -1, 1<<20 + 1} {
		_, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")), authx.WithVerificationCache(n))
		if !errors.Is(err, authx.ErrConfig) || !strings.Contains(err.Error(), "verification cache") {
			t.Errorf("WithVerificationCache(%d): %v, want ErrConfig", n, err)
		}
	}
}
