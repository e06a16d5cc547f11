package authx_test

// Tests of the maintainer's review (issue 10): each bug through the public
// API, over a real server where HTTP is involved.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// A client that sends its expired access token in the header and its
// refresh token in the body or cookie gets its refresh.
func TestRefreshBesideAnExpiredAccessToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(s *site, l login) call
		want int
	}{
		{"refresh token in the JSON body", func(s *site, l login) call {
			return call{method: http.MethodPost, path: "/auth/refresh", header: hdr("Authorization", "Bearer "+l.pair.AccessToken),
				ctype: "application/json", body: `{"refresh_token":"` + l.pair.RefreshToken + `"}`}
		}, http.StatusOK},
		{"refresh token in the cookie", func(s *site, l login) call {
			return call{method: http.MethodPost, path: "/auth/refresh", header: hdr("Authorization", "Bearer "+l.pair.AccessToken,
				"X-CSRF-TOKEN", l.refresh.CSRF, "Origin", s.srv.URL), cookies: l.refreshCookies()}
		}, http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t)
			l := s.login(t)
			s.clock.Advance(20 * time.Minute) // the access token expired 5 minutes ago
			if got := s.do(t, nil, tt.call(s, l)); got.Status != tt.want {
				t.Errorf("refresh: %d %s, want %d", got.Status, got.Body, tt.want)
			}
		})
	}
}

// flakySessions fails Get once, on demand.
type flakySessions struct {
	*authx.MemorySessionStore
	failNext atomic.Bool
}

func (s *flakySessions) Get(ctx context.Context, id string) (authx.SessionInfo, bool, error) {
	if s.failNext.CompareAndSwap(true, false) {
		return authx.SessionInfo{}, false, errors.New("session store blip")
	}
	return s.MemorySessionStore.Get(ctx, id)
}

// One 503 from the session store does not burn the login: the refresh
// token is spent only after everything that can fail, so the retry works.
func TestStoreBlipDoesNotBurnTheLogin(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(testNow)
	store := &flakySessions{MemorySessionStore: authx.NewMemorySessionStore(clock.Now)}
	s := newSite(t, authx.WithClock(clock.Now), authx.WithSessionStore(store), authx.WithRefreshReuseGrace(0))
	s.clock = clock
	_, l := sessionLogin(t, s)
	refresh := bearerCall(http.MethodPost, "/auth/refresh", l.pair.RefreshToken)
	store.failNext.Store(true)
	steps := []struct {
		name string
		want outcome
	}{
		{"the blip", outcome{http.StatusServiceUnavailable, authx.ErrUnavailable}},
		{"the client's retry", outcome{Status: http.StatusOK}},
		{"a third use is reuse", outcome{http.StatusUnauthorized, authx.ErrRefreshReused}},
	}
	for _, st := range steps {
		if diff := cmp.Diff(st.want, s.do(t, nil, refresh).outcome(), equateErrors); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", st.name, diff)
		}
	}
}

// The session endpoints answer POST only: a HEAD (whose body net/http
// discards) or a GET must not rotate tokens or log anyone out.
func TestSessionEndpointsArePostOnly(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ticketSrv := httptest.NewServer(s.a.TicketHandler())
	t.Cleanup(ticketSrv.Close)
	l := s.login(t)
	for _, tt := range []struct{ url, method string }{
		{s.srv.URL + "/auth/refresh", http.MethodHead},
		{s.srv.URL + "/auth/refresh", http.MethodGet},
		{s.srv.URL + "/auth/refresh", http.MethodPut},
		{s.srv.URL + "/auth/logout", http.MethodHead},
		{s.srv.URL + "/auth/logout", http.MethodGet},
		{ticketSrv.URL, http.MethodGet},
	} {
		r, _ := http.NewRequestWithContext(t.Context(), tt.method, tt.url, nil)
		r.Header.Set("Authorization", "Bearer "+l.pair.RefreshToken)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		type view struct {
			Status       int
			Allow, CType string
			NewCookies   int
		}
		want := view{http.StatusMethodNotAllowed, "POST", "application/json; charset=utf-8", 0}
		got := view{resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"), len(resp.Cookies())}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.method, tt.url, diff)
		}
	}
	// Nothing was spent: the refresh token still works once.
	if got := s.do(t, nil, bearerCall(http.MethodPost, "/auth/refresh", l.pair.RefreshToken)); got.Status != http.StatusOK {
		t.Errorf("refresh after the refused methods: %d %s", got.Status, got.Body)
	}
}

// A token whose jti names another key space (a session, a family, a
// ticket) revokes only itself.
func TestTokenIDsCannotNameOtherKeySpaces(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	bob, err := s.a.StartSession(t.Context(), nil, "bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	bobTok := authtest.Token(t, s.a, "bob", authx.Session(bob.ID))
	bobPair := authtest.Pair(t, s.a, "bob")
	bobRefresh, err := s.a.Verify(t.Context(), bobPair.RefreshToken, authx.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	for _, jti := range []string{"sid:" + bob.ID, "fam:" + bobRefresh.FamilyID} {
		c, err := s.a.Verify(t.Context(), authtest.Token(t, s.a, "mallory", authx.TokenID(jti)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.a.Revoke(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	checks := []struct {
		name string
		c    call
		want int
	}{
		{"bob's session token", bearerCall(http.MethodGet, "/me", bobTok), http.StatusOK},
		{"bob's family token", bearerCall(http.MethodGet, "/me", bobPair.AccessToken), http.StatusOK},
		{"bob's refresh", bearerCall(http.MethodPost, "/auth/refresh", bobPair.RefreshToken), http.StatusOK},
	}
	for _, c := range checks {
		if got := s.do(t, nil, c.c); got.Status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, got.Status, got.Body, c.want)
		}
	}
	// A refresh token whose jti is "ticket:<id>" spends only itself, and a
	// ticket is not burned by it (and vice versa).
	rt := authtest.RefreshToken(t, s.a, "mallory", authx.TokenID("ticket:x"))
	if got := s.do(t, nil, bearerCall(http.MethodPost, "/auth/refresh", rt)); got.Status != http.StatusOK {
		t.Errorf("refresh with a ticket-shaped jti: %d %s", got.Status, got.Body)
	}
}

// A ticket is not burned by a handshake that websocket.Accept refuses for
// its Origin: the refusal comes first.
func TestTicketSurvivesARefusedOrigin(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil)
	tok := authtest.Token(t, s.a, "alice", authx.ExpiresIn(10*time.Minute))
	ticket := s.ticket(t, tok)
	_, refused := s.dial(t, "ticket="+ticket, &websocket.DialOptions{HTTPHeader: header("Origin", "https://evil.example")})
	if refused.Status != http.StatusForbidden {
		t.Fatalf("foreign origin: %+v", refused)
	}
	conn, ok := s.dial(t, "ticket="+ticket, nil)
	if ok.Status != http.StatusSwitchingProtocols {
		t.Fatalf("the same ticket from the right origin: %+v", ok)
	}
	echoOnce(t, conn, "alice: hi")
	conn.Close(websocket.StatusNormalClosure, "")
}

// Require(Any(Access, Refresh)) finds either token under its own names.
func TestGuardForBothTokenTypes(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTokenLocations(authx.InCookie, authx.InJSON))
	g := a.Require(authx.Any(authx.Access, authx.Refresh))
	access := authtest.Token(t, a, "alice")
	refresh := authtest.RefreshToken(t, a, "alice")
	for _, tt := range []struct {
		name string
		req  func() *http.Request
	}{
		{"access cookie", func() *http.Request { return authtest.Request(t, a, authx.InCookie, "GET", "/", access) }},
		{"refresh cookie", func() *http.Request { return authtest.Request(t, a, authx.InCookie, "GET", "/", refresh) }},
		{"access JSON member", func() *http.Request { return authtest.Request(t, a, authx.InJSON, "PUT", "/", access) }},
		{"refresh JSON member", func() *http.Request { return authtest.Request(t, a, authx.InJSON, "PUT", "/", refresh) }},
	} {
		if got := serve(t, g.Wrap(echo), tt.req()); got.Status != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", tt.name, got.Status, got.Body)
		}
	}
}

// An ImplicitRefresh Delta that is not shorter than the access TTL would
// renew on every request: it is refused at start-up.
func TestImplicitRefreshDeltaBounds(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithAccessTTL(5*time.Minute), authx.WithTokenLocations(authx.InCookie))
	for _, d := range []time.Duration{5 * time.Minute, time.Hour, -time.Second} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "ImplicitRefreshConfig.Delta") || !strings.Contains(msg, "access TTL") {
					t.Errorf("Delta %v: panic %q, want one naming Delta and the access TTL", d, msg)
				}
			}()
			a.ImplicitRefresh(authx.ImplicitRefreshConfig{Delta: d})
		}()
	}
	// The default on a 5-minute TTL renews in the last half, not always.
	srv := httptest.NewServer(a.ImplicitRefresh(authx.ImplicitRefreshConfig{})(a.Require().Wrap(echo)))
	t.Cleanup(srv.Close)
	tok := authtest.Token(t, a, "alice")
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	r.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: tok})
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 0 {
		t.Errorf("fresh token: %d with %d cookies, want 200 and none", resp.StatusCode, len(resp.Cookies()))
	}
}

// Every method of a nil Auth fails closed with the same *Error (500).
func TestNilAuthFailsAlike(t *testing.T) {
	t.Parallel()
	var a *authx.Auth[string]
	ctx := context.Background()
	_, e1 := a.Verify(ctx, "x")
	_, e2 := a.CreateAccessToken("alice")
	_, e3 := a.StartSession(ctx, nil, "alice", nil)
	_, e4 := a.Sessions(ctx, "alice")
	errs := map[string]error{
		"Verify": e1, "CreateAccessToken": e2, "StartSession": e3, "Sessions": e4,
		"Revoke":            a.Revoke(ctx, &authx.Claims{ID: "x"}),
		"RevokeFamily":      a.RevokeFamily(ctx, "f"),
		"RevokeSession":     a.RevokeSession(ctx, "alice", "s"),
		"RevokeAllSessions": a.RevokeAllSessions(ctx, "alice"),
		"SetAccessCookies":  a.SetAccessCookies(httptest.NewRecorder(), "x"),
		"AttachToken":       a.AttachToken(httptest.NewRequest("GET", "/", nil), authx.InHeader, authx.Access, "x"),
		"Guard.Err":         a.Require().Err(),
	}
	for name, err := range errs {
		var e *authx.Error
		if !errors.Is(err, authx.ErrNotConfigured) || authx.StatusOf(err) != http.StatusInternalServerError {
			t.Errorf("%s: %v (status %d), want ErrNotConfigured, 500", name, err, authx.StatusOf(err))
		}
		if name != "Guard.Err" && !errors.As(err, &e) {
			t.Errorf("%s: %T is not an *authx.Error", name, err)
		}
	}
	for name, h := range map[string]http.Handler{"RefreshHandler": a.RefreshHandler(), "LogoutHandler": a.LogoutHandler(), "TicketHandler": a.TicketHandler()} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if got := serve(t, h, r); got.Status != http.StatusInternalServerError || !strings.Contains(got.Body, "misconfigured") {
			t.Errorf("%s: %d %s, want 500 misconfigured", name, got.Status, got.Body)
		}
	}
}
