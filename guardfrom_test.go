package authx_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// Guard.From narrows where one guard looks for the token, and
// InsecureWithoutCSRF turns the CSRF check off for one guard, without a
// second Auth (Python AuthX's token_required(locations=..., verify_csrf=...)).
func TestGuardFrom(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTokenLocations(authx.InHeader, authx.InCookie))
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := authx.ClaimsFrom(r.Context())
		if !ok {
			fmt.Fprint(w, "anonymous")
			return
		}
		fmt.Fprintf(w, "%s %s", c.Subject, r.URL.RawQuery)
	})
	base := a.Require()
	mux := http.NewServeMux()
	mux.Handle("/any", base.Wrap(who))
	mux.Handle("/api", base.From(authx.InHeader).Wrap(who))
	mux.Handle("/form", base.From(authx.InCookie).Wrap(who))
	mux.Handle("/form-nocsrf", base.From(authx.InCookie).InsecureWithoutCSRF().Wrap(who))
	mux.Handle("/cookie-first", base.From(authx.InCookie, authx.InHeader).Wrap(who))
	mux.Handle("/header-first", base.From(authx.InHeader, authx.InCookie).Wrap(who))
	mux.Handle("/download", base.From(authx.InQuery).Wrap(who))
	mux.Handle("/optional-api", a.Optional().From(authx.InHeader).Wrap(who))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	alice := authtest.Token(t, a, "alice")
	bob := authtest.Token(t, a, "bob")
	ac, err := a.Verify(t.Context(), alice)
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	cookie := func(tok string) []string { return []string{"Cookie", "access_token_cookie=" + tok} }
	csrf := []string{"X-CSRF-TOKEN", ac.CSRF}
	join := func(hs ...[]string) []string {
		var all []string
		for _, h := range hs {
			all = append(all, h...)
		}
		return all
	}
	tests := []struct {
		name         string
		method, path string
		header       []string
		want         response
		reason       string
	}{
		{"unnarrowed: header", "GET", "/any", bearer(alice), response{Status: 200, Body: "alice "}, ""},
		{"unnarrowed: cookie", "GET", "/any", cookie(alice), response{Status: 200, Body: "alice "}, ""},
		{"API route: header", "GET", "/api", bearer(alice), response{Status: 200, Body: "alice "}, ""},
		{"API route: cookie", "GET", "/api", cookie(alice), response{Status: 401, WWW: `Bearer realm="api"`},
			"the API guard does not read cookies"},
		{"form route: cookie", "GET", "/form", cookie(alice), response{Status: 200, Body: "alice "}, ""},
		{"form route: header", "GET", "/form", bearer(alice), response{Status: 401, WWW: `Bearer realm="api"`},
			"the form guard does not read the header"},
		{"form route: POST with CSRF", "POST", "/form", join(cookie(alice), csrf), response{Status: 200, Body: "alice "}, ""},
		{"form route: POST without CSRF", "POST", "/form", cookie(alice), response{Status: 403},
			"a narrowed guard keeps the CSRF check"},
		{"CSRF off: POST without CSRF", "POST", "/form-nocsrf", cookie(alice), response{Status: 200, Body: "alice "},
			"InsecureWithoutCSRF skips the check"},
		{"CSRF off: header still not read", "POST", "/form-nocsrf", bearer(alice), response{Status: 401, WWW: `Bearer realm="api"`}, ""},
		{"order: cookie first", "GET", "/cookie-first", join(cookie(alice), bearer(bob)), response{Status: 200, Body: "alice "},
			"the guard's own order decides"},
		{"order: header first", "GET", "/header-first", join(cookie(alice), bearer(bob)), response{Status: 200, Body: "bob "}, ""},
		{"query only: header", "GET", "/download", bearer(alice), response{Status: 401, WWW: `Bearer realm="api"`}, ""},
		{"optional API: cookie only", "GET", "/optional-api", cookie(alice), response{Status: 200, Body: "anonymous"},
			"a token where the guard does not look is no token"},
		{"optional API: header", "GET", "/optional-api", bearer(alice), response{Status: 200, Body: "alice "}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := doRequest(t, tt.method, srv.URL+tt.path, tt.header)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s %s: (-want +got)\n%s\n%s", tt.method, tt.path, diff, tt.reason)
			}
		})
	}
	t.Run("query location the Auth does not configure", func(t *testing.T) {
		t.Parallel()
		got := doRequest(t, "GET", srv.URL+"/download?x=1&token="+url.QueryEscape(alice), nil)
		if diff := cmp.Diff(response{Status: 200, Body: "alice x=1"}, got); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	})
}

// doRequest sends one request with the header pairs kv and returns what the
// client sees; the body only for a 2xx.
func doRequest(t *testing.T, method, target string, kv []string) response {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	got := response{Status: resp.StatusCode, WWW: resp.Header.Get("WWW-Authenticate")}
	if resp.StatusCode < 300 {
		got.Body = string(body)
	}
	return got
}

// A narrowed guard prints as written, leaves the guard it came from alone,
// and a mistake in its locations is reported and denies.
func TestGuardFromBuild(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	base := a.Require(authx.Scopes("read"))
	for _, tt := range []struct {
		g    *authx.Guard
		want string
	}{
		{base, `All(Access, Scopes("read"))`},
		{base.From(authx.InHeader), `All(Access, Scopes("read")).From(InHeader)`},
		{base.From(authx.InCookie, authx.InQuery).InsecureWithoutCSRF(), `All(Access, Scopes("read")).From(InCookie, InQuery).InsecureWithoutCSRF()`},
		{a.Optional().InsecureWithoutCSRF(), `Optional(All(Access)).InsecureWithoutCSRF()`},
	} {
		if got := tt.g.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
		if err := tt.g.Err(); err != nil {
			t.Errorf("%s: Err() = %v", tt.want, err)
		}
	}

	if err := base.From(authx.InCookie).InsecureWithoutCSRF().Err(); err != nil {
		t.Errorf("cookies without CSRF checks: %v", err)
	}
	srv := httptest.NewServer(a.Require().From(authx.InQuery).Wrap(http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	tok := authtest.Token(t, a, "alice")
	if got := doRequest(t, "GET", srv.URL, []string{"Authorization", "Bearer " + tok}); got.Status != 401 {
		t.Errorf("narrowed guard: %d, want 401", got.Status)
	}
	plain := httptest.NewServer(a.Require().Wrap(http.NotFoundHandler()))
	t.Cleanup(plain.Close)
	if got := doRequest(t, "GET", plain.URL, []string{"Authorization", "Bearer " + tok}); got.Status != 404 {
		t.Errorf("the guard From was called on: %d, want 404 (From must not change it)", got.Status)
	}

	for _, tt := range []struct {
		name string
		f    func()
		want string
	}{
		{"no location", func() { base.From() }, "authx: Guard.From needs at least one location"},
		{"a location twice", func() { base.From(authx.InHeader, authx.InHeader) }, "authx: Guard.From: token location header listed twice"},
		{"an unknown location", func() { base.From(authx.Location(9)) }, "authx: Guard.From: unknown token location 9"},
	} {
		if got := panicMessage(tt.f); got != tt.want {
			t.Errorf("%s: panicked with %q, want %q", tt.name, got, tt.want)
		}
	}
	var logs strings.Builder
	quiet, _ := newAuth(t, authx.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	_ = quiet.Require().From(authx.InHeader)
	if logs.String() != "" {
		t.Errorf("From(InHeader) logged %q", logs.String())
	}
	_ = quiet.Require().From(authx.InCookie)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "no csrf claim") {
		t.Errorf("From(InCookie) on an Auth without cookies logged %q, want a warning about the csrf claim", logs.String())
	}

	var nilGuard *authx.Guard
	if nilGuard.From(authx.InHeader) != nil || nilGuard.InsecureWithoutCSRF() != nil {
		t.Error("From or InsecureWithoutCSRF on a nil guard returned a guard")
	}
}

// A narrowed guard's WebSocket handshakes read only its locations: the
// token subprotocol stands for the header.
func TestGuardFromWebSocket(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	tok := authtest.Token(t, a, "alice")
	serve := func(g *authx.Guard) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, c, err := g.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer conn.CloseNow()
			_ = conn.Write(r.Context(), websocket.MessageText, []byte(c.Subject))
			_, _, _ = conn.Read(r.Context())
		}))
		t.Cleanup(srv.Close)
		return "ws" + strings.TrimPrefix(srv.URL, "http")
	}
	plain, inHeader, inCookie := serve(a.Require()), serve(a.Require().From(authx.InHeader)), serve(a.Require().From(authx.InCookie))
	proto := &websocket.DialOptions{Subprotocols: []string{authx.WebSocketProtocol, tok}}
	query := "?token=" + url.QueryEscape(tok)
	cookieOpts := &websocket.DialOptions{HTTPHeader: header("Cookie", "access_token_cookie="+tok, "Origin", "")}
	for _, tt := range []struct {
		name, url  string
		opts       *websocket.DialOptions
		wantStatus int
	}{
		{"plain: subprotocol", plain, proto, http.StatusSwitchingProtocols},
		{"plain: query fallback", plain + query, nil, http.StatusSwitchingProtocols},
		{"plain: cookie fallback", plain, cookieOpts, http.StatusSwitchingProtocols},
		{"header: subprotocol", inHeader, proto, http.StatusSwitchingProtocols},
		{"header: no query fallback", inHeader + query, nil, http.StatusUnauthorized},
		{"header: no cookie fallback", inHeader, cookieOpts, http.StatusUnauthorized},
		{"cookie: cookie", inCookie, cookieOpts, http.StatusSwitchingProtocols},
		{"cookie: no subprotocol", inCookie, proto, http.StatusUnauthorized},
		{"cookie: no query", inCookie + query, nil, http.StatusUnauthorized},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		conn, resp, err := websocket.Dial(ctx, tt.url, tt.opts)
		if resp == nil || resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: response %v, %v; want %d", tt.name, resp, err, tt.wantStatus)
		}
		if conn != nil {
			if _, msg, err := conn.Read(ctx); err != nil || string(msg) != "alice" {
				t.Errorf("%s: message %q, %v; want alice", tt.name, msg, err)
			}
			conn.CloseNow()
		}
		cancel()
	}
}
