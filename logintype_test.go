package authx_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// Two Auths sharing one key with different login types accept only their
// own tokens, everywhere, and refuse the other's exactly as a forged token
// (no oracle for whose token it is).
func TestLoginTypes(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(testNow)
	build := func(loginType string) *authx.Auth[string] {
		a, err := authx.New[string](authx.WithSecret(secret32), authx.WithClock(clock.Now), authx.WithLoginType(loginType))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	user, admin := build("user"), build("admin")
	plain, _ := newAuth(t) // no login type: a token without one
	serveAll := func(a *authx.Auth[string]) *httptest.Server {
		mux := http.NewServeMux()
		mux.Handle("GET /me", a.Require().Wrap(echo))
		mux.Handle("POST /refresh", a.RefreshHandler())
		mux.Handle("POST /logout", a.LogoutHandler())
		mux.Handle("POST /ticket", a.TicketHandler())
		g := a.Require()
		mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
			if conn, _, err := g.Accept(w, r, nil); err == nil {
				conn.Close(websocket.StatusNormalClosure, "")
			}
		})
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return srv
	}
	srv := serveAll(user)
	type answer struct {
		Status int
		WWW    string
		Body   string
	}
	call := func(method, path, tok string) answer {
		r, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(string(b))}
	}
	forged := authtest.ForgedToken(t, user, "alice")
	refused := call("GET", "/me", forged) // what a bad signature gets
	if refused.Status != http.StatusUnauthorized {
		t.Fatalf("forged token: %+v", refused)
	}
	adminPair := authtest.Pair(t, admin, "root")
	plainPair := authtest.Pair(t, plain, "root")
	for _, tt := range []struct{ name, method, path, tok string }{
		{"guard, admin's token", "GET", "/me", adminPair.AccessToken},
		{"guard, a token without login type", "GET", "/me", plainPair.AccessToken},
		{"refresh, admin's refresh token", "POST", "/refresh", adminPair.RefreshToken},
		{"refresh, a refresh token without login type", "POST", "/refresh", plainPair.RefreshToken},
		{"ticket, admin's token", "POST", "/ticket", adminPair.AccessToken},
	} {
		if diff := cmp.Diff(refused, call(tt.method, tt.path, tt.tok)); diff != "" {
			t.Errorf("%s: not answered as a forged token (-forged +got):\n%s", tt.name, diff)
		}
	}
	if _, err := user.Verify(t.Context(), adminPair.AccessToken); authx.StatusOf(err) != http.StatusUnauthorized {
		t.Errorf("Verify of admin's token by user: %v", err)
	}
	// A WebSocket handshake with admin's token is refused like a forged one.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: header("Authorization", "Bearer "+adminPair.AccessToken)})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("WebSocket with admin's token: %v, %v; want 401", resp, err)
	}
	// A logout with admin's token ends nothing of admin's.
	if got := call("POST", "/logout", adminPair.AccessToken); got.Status != http.StatusNoContent {
		t.Errorf("logout: %+v", got)
	}
	if _, err := admin.Verify(t.Context(), adminPair.AccessToken); err != nil {
		t.Errorf("admin's token after user's logout endpoint saw it: %v", err)
	}
	// Each accepts its own, carrying the claim.
	own := authtest.Token(t, user, "alice")
	if got := call("GET", "/me", own); got.Status != http.StatusOK {
		t.Errorf("user's own token: %+v", got)
	}
	if c, err := user.Verify(t.Context(), own); err != nil || c.LoginType != "user" {
		t.Errorf("user's own token: %+v, %v", c, err)
	}
	// A plain Auth reads the claim and does not check it (as a plain AuthX).
	if c, err := plain.Verify(t.Context(), adminPair.AccessToken); err != nil || c.LoginType != "admin" {
		t.Errorf("plain Auth on admin's token: %+v, %v", c, err)
	}
	// login_type is ours now: custom data cannot set it.
	if _, err := plain.CreateAccessToken("alice", authx.Claim("login_type", "admin")); err == nil {
		t.Error(`Claim("login_type") was accepted`)
	}
}

// The AuthX vector minted by AuthX(login_type="admin") verifies with
// WithLoginType("admin") and not with another login type.
func TestLoginTypeAuthXVector(t *testing.T) {
	t.Parallel()
	for _, v := range loadInteropVectors(t) {
		if v.Name != "access-login-type" {
			continue
		}
		at := time.Unix(1767225600, 0).Add(time.Minute)
		for _, tt := range []struct {
			loginType string
			want      int
		}{{"admin", http.StatusOK}, {"user", http.StatusUnauthorized}} {
			a, err := authx.New[string](authx.WithSecret([]byte(v.Secret)), authx.WithClock(func() time.Time { return at }), authx.WithLoginType(tt.loginType))
			if err != nil {
				t.Fatal(err)
			}
			c, err := a.Verify(t.Context(), v.Token)
			if got := authx.StatusOf(err); got != tt.want || (err == nil && c.LoginType != "admin") {
				t.Errorf("WithLoginType(%q): %v (%d), want %d", tt.loginType, err, got, tt.want)
			}
		}
		return
	}
	t.Fatal("no access-login-type vector")
}
