package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func newDemo(t *testing.T, mutate ...func(*config)) *httptest.Server {
	t.Helper()
	cfg := defaultConfig()
	cfg.Secret = []byte("demo-secret-demo-secret-demo-sec")
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := newServer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	code   int
	body   map[string]any
	list   []map[string]any
	header http.Header
	raw    string
}

// do sends a request with an optional bearer token and JSON body.
func do(t *testing.T, srv *httptest.Server, method, path, token, body string, hdr ...string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	_ = json.Unmarshal(raw, &r.list)
	return r
}

func login(t *testing.T, srv *httptest.Server, user, password string) (string, string) {
	t.Helper()
	r := do(t, srv, "POST", "/auth/login", "", `{"username":"`+user+`","password":"`+password+`"}`)
	if r.code != 200 {
		t.Fatalf("login %s: %d %s", user, r.code, r.raw)
	}
	return r.body["access_token"].(string), r.body["refresh_token"].(string)
}

func TestDemoContract(t *testing.T) {
	srv := newDemo(t)
	if r := do(t, srv, "POST", "/auth/login", "", `{"username":"bob","password":"nope"}`); r.code != 401 || r.body["code"] != "invalid_credentials" {
		t.Fatalf("bad password: %d %s", r.code, r.raw)
	}
	if r := do(t, srv, "POST", "/auth/login", "", `{"username":"nobody","password":"x"}`); r.code != 401 {
		t.Fatalf("unknown user: %d", r.code)
	}
	bob, bobRefresh := login(t, srv, "bob", "bob-password")
	alice, _ := login(t, srv, "alice", "alice-password")

	me := do(t, srv, "GET", "/api/me", bob, "")
	if me.code != 200 || me.body["sub"] != "bob" || me.body["name"] != "Bob" || me.body["fresh"] != true {
		t.Errorf("/api/me: %d %s", me.code, me.raw)
	}
	if strings.Contains(me.raw, bob) {
		t.Errorf("/api/me echoes the access token: %s", me.raw)
	}
	var claims struct {
		JTI       string    `json:"jti"`
		SID       string    `json:"sid"`
		IAT       time.Time `json:"iat"`
		Exp       time.Time `json:"exp"`
		RenewFrom time.Time `json:"renew_from"`
	}
	if err := json.Unmarshal([]byte(me.raw), &claims); err != nil {
		t.Fatalf("/api/me: %v: %s", err, me.raw)
	}
	// The default config: 15-minute tokens, renewed in their last 10.
	if claims.JTI == "" || claims.SID == "" || claims.IAT.IsZero() ||
		claims.Exp.Sub(claims.IAT) != 15*time.Minute || claims.Exp.Sub(claims.RenewFrom) != 10*time.Minute {
		t.Errorf("/api/me claims: %+v, want jti, sid, exp = iat + 15m, renew_from = exp − 10m", claims)
	}
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/api/me", "", 401},
		{"GET", "/api/reports", bob, 200},
		{"GET", "/api/reports", alice, 200},
		{"GET", "/api/admin", bob, 403},
		{"GET", "/api/admin", alice, 200},
		{"POST", "/api/me/password", bob, 204},
		{"GET", "/api/me", bobRefresh, 401},
	} {
		if r := do(t, srv, tc.method, tc.path, tc.token, ""); r.code != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.code, r.raw, tc.want)
		}
	}
	if r := do(t, srv, "GET", "/api/admin", bob, ""); !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="admin:*"`) {
		t.Errorf("403 challenge: %q", r.header.Get("WWW-Authenticate"))
	}

	// Refresh: a new pair, not fresh; the old refresh token is spent.
	fresh := do(t, srv, "POST", "/auth/refresh", bobRefresh, "")
	if fresh.code != 200 {
		t.Fatalf("refresh: %d %s", fresh.code, fresh.raw)
	}
	if r := do(t, srv, "POST", "/api/me/password", fresh.body["access_token"].(string), ""); r.code != 401 || r.body["code"] != "fresh_token_required" {
		t.Errorf("refreshed token changing the password: %d %s", r.code, r.raw)
	}
	if r := do(t, srv, "POST", "/auth/refresh", bobRefresh, ""); r.code != 401 {
		t.Errorf("refresh token reused: %d", r.code)
	}

	// Logout ends the login everywhere.
	if r := do(t, srv, "POST", "/auth/logout", alice, ""); r.code != 204 {
		t.Errorf("logout: %d", r.code)
	}
	if r := do(t, srv, "GET", "/api/me", alice, ""); r.code != 401 || r.body["code"] != "token_revoked" {
		t.Errorf("after logout: %d %s", r.code, r.raw)
	}
}

func TestDemoSessions(t *testing.T) {
	srv := newDemo(t)
	phone, _ := login(t, srv, "alice", "alice-password")
	laptop, _ := login(t, srv, "alice", "alice-password")
	bob, _ := login(t, srv, "bob", "bob-password")

	r := do(t, srv, "GET", "/api/sessions", laptop, "", "User-Agent", "laptop-browser")
	if r.code != 200 || len(r.list) != 2 {
		t.Fatalf("sessions: %d %s", r.code, r.raw)
	}
	var phoneID string
	for _, s := range r.list {
		for _, k := range []string{"id", "created_at", "last_active", "ip", "user_agent", "current"} {
			if _, ok := s[k]; !ok {
				t.Errorf("session lacks %q: %v", k, s)
			}
		}
		if s["current"] == false {
			phoneID = s["id"].(string)
		}
	}
	if phoneID == "" {
		t.Fatalf("no other session listed: %s", r.raw)
	}
	if r := do(t, srv, "DELETE", "/api/sessions/"+phoneID, bob, ""); r.code != 404 {
		t.Errorf("bob revoking alice's session: %d, want 404", r.code)
	}
	if r := do(t, srv, "DELETE", "/api/sessions/"+phoneID, laptop, ""); r.code != 204 {
		t.Fatalf("revoke: %d %s", r.code, r.raw)
	}
	if r := do(t, srv, "GET", "/api/me", phone, ""); r.code != 401 {
		t.Errorf("revoked session's token: %d, want 401 at once", r.code)
	}
	if r := do(t, srv, "GET", "/api/me", laptop, ""); r.code != 200 {
		t.Errorf("other session: %d", r.code)
	}
}

func TestDemoLoginRateLimit(t *testing.T) {
	srv := newDemo(t, func(c *config) { c.LoginLimit = 3 })
	for i := range 3 {
		if r := do(t, srv, "POST", "/auth/login", "", `{"username":"bob","password":"wrong"}`); r.code != 401 {
			t.Fatalf("attempt %d: %d", i, r.code)
		}
	}
	r := do(t, srv, "POST", "/auth/login", "", `{"username":"bob","password":"bob-password"}`)
	if r.code != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("4th login in a minute: %d Retry-After %q, want 429", r.code, r.header.Get("Retry-After"))
	}
}

func TestDemoCookieLoginAndPage(t *testing.T) {
	srv := newDemo(t)
	req, _ := http.NewRequest("POST", srv.URL+"/auth/login/cookie", strings.NewReader(`{"username":"alice","password":"alice-password"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := map[string]bool{}
	for _, c := range resp.Cookies() {
		got[c.Name] = c.Secure
	}
	for _, name := range []string{"access_token_cookie", "refresh_token_cookie", "csrf_access_token", "csrf_refresh_token"} {
		if secure, ok := got[name]; !ok || !secure {
			t.Errorf("cookie %s: set %v, secure %v", name, ok, secure)
		}
	}
	if resp.StatusCode != 204 {
		t.Errorf("cookie login: %d", resp.StatusCode)
	}
	page := do(t, srv, "GET", "/", "", "")
	if page.code != 200 || !strings.Contains(page.raw, "authx demo") || page.header.Get("Content-Security-Policy") == "" {
		t.Errorf("page: %d csp %q", page.code, page.header.Get("Content-Security-Policy"))
	}
	if js := do(t, srv, "GET", "/app.js", "", ""); js.code != 200 || !strings.Contains(js.raw, "X-CSRF-TOKEN") {
		t.Errorf("app.js: %d", js.code)
	}
}

func TestDemoWebSocket(t *testing.T) {
	srv := newDemo(t, func(c *config) { c.AccessTTL = 2 * time.Second })
	access, _ := login(t, srv, "alice", "alice-password")
	r := do(t, srv, "POST", "/ws/ticket", access, "")
	if r.code != 200 {
		t.Fatalf("ticket: %d %s", r.code, r.raw)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/echo?ticket=" + r.body["ticket"].(string)
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.Read(ctx); err != nil || string(msg) != "alice: hi" {
		t.Fatalf("echo: %q %v", msg, err)
	}
	// The demo runs on real time: the 2-second token expires and the server
	// closes the socket with 1008.
	_, _, err = conn.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("close: %v, want 1008", err)
	}
	if _, resp, err := websocket.Dial(ctx, url, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("ticket reused: %v", err)
	}
}

// A -refresh-delta that is not shorter than -access-ttl is refused with a
// message naming both flags, not a panic.
func TestRefreshDeltaFlag(t *testing.T) {
	cfg := defaultConfig()
	cfg.Secret = []byte("demo-secret-demo-secret-demo-sec")
	cfg.AccessTTL, cfg.RefreshDelta = 2*time.Second, 10*time.Minute
	if _, err := newServer(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "-refresh-delta") {
		t.Errorf("newServer = %v, want an error naming -refresh-delta", err)
	}
	cfg.RefreshDelta = 0 // authx's default, half of the 2 s TTL
	if _, err := newServer(cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("newServer with the default delta: %v", err)
	}
}

// renewDelta is the window ImplicitRefresh is given and /api/me reports:
// the flag's value, else authx's default.
func TestRenewDelta(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ttl, delta time.Duration
		want       time.Duration
	}{
		{"flag", 30 * time.Second, 25 * time.Second, 25 * time.Second},
		{"default, long TTL", 15 * time.Minute, 0, 10 * time.Minute},
		{"default, 10-minute TTL", 10 * time.Minute, 0, 5 * time.Minute},
		{"default, short TTL", 8 * time.Second, 0, 4 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config{AccessTTL: tc.ttl, RefreshDelta: tc.delta}
			if got := cfg.renewDelta(); got != tc.want {
				t.Errorf("renewDelta() with TTL %v, -refresh-delta %v = %v, want %v", tc.ttl, tc.delta, got, tc.want)
			}
		})
	}
}
