package authx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// AuthX's access_scopes/refresh_scopes: a pair whose tokens carry
// different scopes; a renewal carries the refresh token's.
func TestRefreshGrant(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	pair := authtest.Pair(t, a, "alice", authx.Grant("read", "write"), authx.RefreshGrant("read"))
	ac, err := a.Verify(t.Context(), pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := a.Verify(t.Context(), pair.RefreshToken, authx.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.RefreshHandler())
	t.Cleanup(srv.Close)
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, nil)
	r.Header.Set("Authorization", "Bearer "+pair.RefreshToken)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var renewed authx.TokenPair
	if err := json.NewDecoder(resp.Body).Decode(&renewed); err != nil {
		t.Fatal(err)
	}
	nc, err := a.Verify(t.Context(), renewed.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	type scopes struct{ Access, Refresh, Renewed []string }
	want := scopes{[]string{"read", "write"}, []string{"read"}, []string{"read"}}
	if diff := cmp.Diff(want, scopes{ac.Scopes, rc.Scopes, nc.Scopes}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := a.CreateTokenPair("alice", authx.RefreshGrant("bad scope")); !errors.Is(err, authx.ErrTokenOption) {
		t.Errorf("RefreshGrant with a bad scope: %v", err)
	}
}

// SessionCookies: cookies without Max-Age or Expires.
func TestSessionCookies(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithCookies(authx.CookieConfig{SessionCookies: true}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pair, err := a.CreateTokenPair("alice")
		if err == nil {
			err = a.SetTokenCookies(w, pair)
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
	}))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := resp.Header.Values("Set-Cookie")
	if len(lines) != 4 {
		t.Fatalf("Set-Cookie: %q", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, "Max-Age") || strings.Contains(l, "Expires") {
			t.Errorf("session cookie with a lifetime: %s", l)
		}
	}
}

// a.Session looks one session up, for its own subject only.
func TestSessionLookup(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	info, err := a.StartSession(t.Context(), nil, "alice", map[string]string{"app": "web"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Session(t.Context(), "alice", info.ID)
	if err != nil || got.ID != info.ID || got.Device["app"] != "web" {
		t.Errorf("Session(alice) = %+v, %v", got, err)
	}
	for _, tt := range []struct{ sub, id string }{{"bob", info.ID}, {"alice", "unknown"}, {"alice", ""}} {
		if _, err := a.Session(t.Context(), tt.sub, tt.id); !errors.Is(err, authx.ErrSessionNotFound) || authx.StatusOf(err) != http.StatusNotFound {
			t.Errorf("Session(%q, %q) = %v, want ErrSessionNotFound (404)", tt.sub, tt.id, err)
		}
	}
}

// InsecureShortSecret accepts a short AuthX secret for a migration, warns,
// and interoperates with a plain HS256 verifier using the same secret.
func TestInsecureShortSecret(t *testing.T) {
	t.Parallel()
	short := []byte("legacy-secret-16")
	if _, err := authx.New[string](authx.WithSecret(short)); !errors.Is(err, authx.ErrConfig) {
		t.Fatalf("WithSecret(16 bytes) = %v, want ErrConfig", err)
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	a, err := authx.New[string](authx.InsecureShortSecret(short), authx.WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "InsecureShortSecret")
	mu.Unlock()
	if !warned {
		t.Errorf("no warning logged: %q", logs.String())
	}
	tok := authtest.Token(t, a, "alice")
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return short, nil }, jwt.WithValidMethods([]string{"HS256"}))
	if err != nil || !parsed.Valid {
		t.Errorf("golang-jwt with the same short secret: %v", err)
	}
	if _, err := authx.New[string](authx.InsecureShortSecret(nil)); !errors.Is(err, authx.ErrConfig) {
		t.Errorf("InsecureShortSecret(nil) = %v, want ErrConfig", err)
	}
}
