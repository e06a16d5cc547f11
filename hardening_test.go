package authx_test

// Tests of the attacker's review (sessions that outlive their end, cookie
// tossing, cacheable token responses, renewals on denied requests, open
// ranges and the smaller fail-open edges), each through a real server.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// lossySessions is a session store that can forget a session, as a store
// does when the session expires out of it or its data is lost.
type lossySessions struct {
	*authx.MemorySessionStore
	mu   sync.Mutex
	lost map[string]bool
}

func newLossySessions(now func() time.Time) *lossySessions {
	return &lossySessions{MemorySessionStore: authx.NewMemorySessionStore(now), lost: map[string]bool{}}
}

func (s *lossySessions) lose(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost[id] = true
}

func (s *lossySessions) isLost(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost[id]
}

func (s *lossySessions) Get(ctx context.Context, id string) (authx.SessionInfo, bool, error) {
	if s.isLost(id) {
		return authx.SessionInfo{}, false, nil
	}
	return s.MemorySessionStore.Get(ctx, id)
}

func (s *lossySessions) List(ctx context.Context, sub string) ([]authx.SessionInfo, error) {
	all, err := s.MemorySessionStore.List(ctx, sub)
	var kept []authx.SessionInfo
	for _, x := range all {
		if !s.isLost(x.ID) {
			kept = append(kept, x)
		}
	}
	return kept, err
}

func (s *lossySessions) RevokeAll(ctx context.Context, sub string) ([]string, error) {
	ids, err := s.MemorySessionStore.RevokeAll(ctx, sub)
	var kept []string
	for _, id := range ids {
		if !s.isLost(id) {
			kept = append(kept, id)
		}
	}
	return kept, err
}

// sessionLogin starts a session for alice on s and mints its pair.
func sessionLogin(t *testing.T, s *site) (authx.SessionInfo, login) {
	t.Helper()
	info, err := s.a.StartSession(t.Context(), httptest.NewRequest(http.MethodPost, "/login", nil), "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	return info, s.login(t, append(append([]authx.TokenOption(nil), loginOpts...), authx.Session(info.ID))...)
}

func bearerCall(method, path, tok string) call {
	return call{method: method, path: path, header: hdr("Authorization", "Bearer "+tok)}
}

// A token naming a session the store no longer knows is ended: no renewal,
// explicit or implicit, and no guard admits it — also after "log out
// everywhere", which cannot list the lost session.
func TestUnknownSessionEndsItsTokens(t *testing.T) {
	t.Parallel()
	type row struct {
		name   string
		run    func(t *testing.T, s *site, l login) exchange
		want   outcome
		reason string
	}
	refreshHeader := func(t *testing.T, s *site, l login) exchange {
		return s.do(t, nil, bearerCall(http.MethodPost, "/auth/refresh", l.pair.RefreshToken))
	}
	refreshCookie := func(t *testing.T, s *site, l login) exchange {
		return s.do(t, nil, call{method: http.MethodPost, path: "/auth/refresh", cookies: l.refreshCookies(),
			header: hdr("X-CSRF-TOKEN", l.refresh.CSRF, "Origin", s.srv.URL)})
	}
	guard := func(t *testing.T, s *site, l login) exchange {
		return s.do(t, nil, bearerCall(http.MethodGet, "/me", l.pair.AccessToken))
	}
	guardLater := func(t *testing.T, s *site, l login) exchange {
		s.clock.Advance(2 * time.Minute) // past this replica's session check interval
		return guard(t, s, l)
	}
	revoked := outcome{http.StatusUnauthorized, authx.ErrRevoked}
	tests := []row{
		{name: "refresh, header", run: refreshHeader, want: revoked, reason: "an unknown session is not renewed"},
		{name: "refresh, cookie", run: refreshCookie, want: revoked, reason: "an unknown session is not renewed"},
		{name: "guard once the check is due", run: guardLater, want: revoked, reason: "the guard asks the store again and refuses"},
		{
			name: "guard right after a refused refresh",
			run: func(t *testing.T, s *site, l login) exchange {
				refreshHeader(t, s, l)
				return guard(t, s, l)
			},
			want: revoked, reason: "the refresh ended the session on the blocklist: every replica refuses at once",
		},
		{
			name: "log out everywhere",
			run: func(t *testing.T, s *site, l login) exchange {
				if err := s.a.RevokeAllSessions(t.Context(), "alice"); err != nil {
					t.Fatal(err)
				}
				return guardLater(t, s, l)
			},
			want: revoked, reason: "a session the store cannot list does not escape it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := authtest.NewClock(testNow)
			store := newLossySessions(clock.Now)
			s := startSite(t, nil, authx.WithClock(clock.Now), authx.WithSessionStore(store))
			s.clock = clock
			info, l := sessionLogin(t, s)
			if got := guard(t, s, l).outcome(); got != (outcome{Status: http.StatusOK}) {
				t.Fatalf("before the loss: %+v", got)
			}
			store.lose(info.ID)
			got := tt.run(t, s, l)
			if diff := cmp.Diff(tt.want, got.outcome(), equateErrors); diff != "" {
				t.Errorf("%s (-want +got):\n%s\n%s", tt.name, diff, tt.reason)
			}
		})
	}

	t.Run("implicit refresh", func(t *testing.T) {
		t.Parallel()
		clock := authtest.NewClock(testNow)
		store := newLossySessions(clock.Now)
		s := startSite(t, &authx.ImplicitRefreshConfig{Delta: 10 * time.Minute}, authx.WithClock(clock.Now), authx.WithSessionStore(store))
		s.clock = clock
		info, l := sessionLogin(t, s)
		store.lose(info.ID)
		clock.Advance(10 * time.Minute) // due for renewal
		got := s.do(t, nil, call{path: "/me", cookies: l.accessCookies()})
		if c := got.cookie("access_token_cookie"); c != nil {
			t.Errorf("a token of an unknown session was renewed: %v", c)
		}
		if diff := cmp.Diff(outcome{http.StatusUnauthorized, authx.ErrRevoked}, got.outcome(), equateErrors); diff != "" {
			t.Errorf("guard (-want +got):\n%s", diff)
		}
	})
}

// A session belongs to one subject: alice's token carrying bob's session id
// is refused wherever sessions are consulted, and cannot be issued.
func TestSessionBelongsToItsSubject(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(testNow)
	store := authx.NewMemorySessionStore(clock.Now)
	s := newSite(t, authx.WithClock(clock.Now), authx.WithSessionStore(store))
	bobs, err := s.a.StartSession(t.Context(), nil, "bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.CreateAccessToken("alice", authx.Session(bobs.ID)); !errors.Is(err, authx.ErrRevoked) {
		t.Errorf("CreateAccessToken(alice, Session(bob's)) = %v, want ErrRevoked", err)
	}
	// A second service with the same key whose store says the id is
	// alice's mints such a token anyway.
	other := authx.NewMemorySessionStore(nil)
	if err := other.Create(t.Context(), authx.SessionInfo{ID: bobs.ID, Subject: "alice", ExpiresAt: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	minter, _ := newAuth(t, authx.WithTokenLocations(authx.InHeader, authx.InCookie), authx.WithSessionStore(other))
	forged := authtest.Pair(t, minter, "alice", authx.Session(bobs.ID))
	bobTok := authtest.Token(t, s.a, "bob", authx.Session(bobs.ID))

	revoked := outcome{http.StatusUnauthorized, authx.ErrRevoked}
	tests := []struct {
		name string
		c    call
		want outcome
	}{
		{"guard", bearerCall(http.MethodGet, "/me", forged.AccessToken), revoked},
		{"refresh", bearerCall(http.MethodPost, "/auth/refresh", forged.RefreshToken), revoked},
		{"bob's own token", bearerCall(http.MethodGet, "/me", bobTok), outcome{Status: http.StatusOK}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, s.do(t, nil, tt.c).outcome(), equateErrors); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if err := s.a.RevokeAllSessions(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(outcome{Status: http.StatusOK}, s.do(t, nil, bearerCall(http.MethodGet, "/me", bobTok)).outcome(), equateErrors); diff != "" {
		t.Errorf("alice's log-out-everywhere touched bob's session (-want +got):\n%s", diff)
	}
	// Logging out with the forged token ends alice's tokens, not bob's session.
	if got := s.do(t, nil, bearerCall(http.MethodPost, "/auth/logout", forged.AccessToken)); got.Status != http.StatusNoContent {
		t.Fatalf("logout: %+v", got.outcome())
	}
	if diff := cmp.Diff(outcome{Status: http.StatusOK}, s.do(t, nil, bearerCall(http.MethodGet, "/me", bobTok)).outcome(), equateErrors); diff != "" {
		t.Errorf("a logout naming bob's session ended it (-want +got):\n%s", diff)
	}
}

// A live WebSocket whose session the store forgets is closed like a
// revoked one.
func TestWebSocketSessionLost(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(testNow)
	store := newLossySessions(clock.Now)
	a, _ := newAuth(t, authx.WithClock(clock.Now), authx.WithSessionStore(store), authx.WithWebSocketRecheck(2*time.Millisecond))
	guard := a.Require()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := guard.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		conn.Read(r.Context()) // until the watcher closes it
	}))
	t.Cleanup(srv.Close)
	info, err := a.StartSession(t.Context(), nil, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := authtest.Token(t, a, "alice", authx.Session(info.ID))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{HTTPHeader: header("Authorization", "Bearer "+tok)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	store.lose(info.ID)
	clock.Advance(2 * time.Minute) // the session check is due again
	_, _, rerr := conn.Read(ctx)
	if got := websocket.CloseStatus(rerr); got != websocket.StatusPolicyViolation {
		t.Errorf("close status %v (%v), want 1008", got, rerr)
	}
}

// A request the guard denies records no activity in its session.
func TestDeniedRequestRecordsNoActivity(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t)
	info, err := a.StartSession(t.Context(), nil, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := authtest.Token(t, a, "alice", authx.Session(info.ID))
	clock.Advance(5 * time.Minute)
	if got := serve(t, a.Require(authx.Scopes("admin")).Wrap(echo), withBearer(http.MethodGet, "/", tok)); got.Status != http.StatusForbidden {
		t.Fatalf("status %d", got.Status)
	}
	ss, err := a.Sessions(t.Context(), "alice")
	if err != nil || len(ss) != 1 {
		t.Fatalf("Sessions: %v %v", ss, err)
	}
	if !ss[0].LastActive.Equal(info.LastActive) {
		t.Errorf("LastActive moved to %v on a denied request", ss[0].LastActive)
	}
	if got := serve(t, a.Require().Wrap(echo), withBearer(http.MethodGet, "/", tok)); got.Status != http.StatusOK {
		t.Fatalf("status %d", got.Status)
	}
	if ss, _ := a.Sessions(t.Context(), "alice"); len(ss) != 1 || !ss[0].LastActive.Equal(clock.Now()) {
		t.Errorf("LastActive %v after an admitted request, want %v", ss[0].LastActive, clock.Now())
	}
}

// rawCall sends a request with headers given line by line (repeats kept).
func rawCall(t *testing.T, url, method string, lines ...string) *http.Response {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(lines); i += 2 {
		r.Header.Add(lines[i], lines[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// deletions lists the "name path" of each deletion cookie of resp.
func deletions(resp *http.Response) []string {
	var out []string
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 && c.Value == "" && c.Domain == "" {
			out = append(out, c.Name+" "+c.Path)
		}
	}
	return out
}

// Two cookies of one authx name, or two CSRF headers, are an ambiguous
// request: 400 everywhere a token is read, and the refusal deletes what it
// can so the client recovers.
func TestCookieTossing(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	l := s.login(t)
	attacker := s.login(t, authx.Grant()) // a valid token of the attacker's own
	ticketSrv := httptest.NewServer(s.a.TicketHandler())
	t.Cleanup(ticketSrv.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := s.a.Require().Accept(w, r, nil)
		if err == nil {
			conn.Close(websocket.StatusNormalClosure, "")
		}
	})
	wsSrv := httptest.NewServer(mux)
	t.Cleanup(wsSrv.Close)

	access := func(tok string) string { return "access_token_cookie=" + tok }
	twoAccess := access(attacker.pair.AccessToken) + "; " + access(l.pair.AccessToken)
	origin := s.srv.URL
	tests := []struct {
		name          string
		url, method   string
		lines         []string
		wantDeletions []string
	}{
		{name: "guard, two access cookies", url: s.srv.URL + "/me", method: "GET", lines: []string{"Cookie", twoAccess},
			wantDeletions: []string{"access_token_cookie /", "csrf_access_token /", "access_token_cookie /me", "csrf_access_token /me"}},
		{name: "guard, two CSRF cookies", url: s.srv.URL + "/me", method: "GET",
			lines: []string{"Cookie", access(l.pair.AccessToken) + "; csrf_access_token=x; csrf_access_token=" + l.access.CSRF}},
		{name: "guard, two CSRF headers", url: s.srv.URL + "/me", method: "POST",
			lines: []string{"Cookie", access(l.pair.AccessToken), "Origin", origin, "X-CSRF-TOKEN", l.access.CSRF, "X-CSRF-TOKEN", l.access.CSRF}},
		{name: "refresh, two refresh cookies", url: s.srv.URL + "/auth/refresh", method: "POST",
			lines: []string{"Cookie", "refresh_token_cookie=" + attacker.pair.RefreshToken + "; refresh_token_cookie=" + l.pair.RefreshToken, "Origin", origin, "X-CSRF-TOKEN", attacker.refresh.CSRF}},
		{name: "logout, two access cookies", url: s.srv.URL + "/auth/logout", method: "POST",
			lines: []string{"Cookie", twoAccess, "Origin", origin, "X-CSRF-TOKEN", attacker.access.CSRF}},
		{name: "ticket, two access cookies", url: ticketSrv.URL, method: "POST",
			lines: []string{"Cookie", twoAccess, "Origin", ticketSrv.URL, "X-CSRF-TOKEN", attacker.access.CSRF}},
		{name: "WebSocket handshake, two access cookies", url: wsSrv.URL + "/ws", method: "GET",
			lines: []string{"Cookie", twoAccess, "Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}},
		{name: "WebSocket handshake, two marker subprotocols", url: wsSrv.URL + "/ws", method: "GET",
			lines: []string{"Sec-WebSocket-Protocol", "authx.bearer, " + attacker.pair.AccessToken + ", authx.bearer, " + l.pair.AccessToken,
				"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := rawCall(t, tt.url, tt.method, tt.lines...)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("WWW-Authenticate") != `Bearer realm="api", error="invalid_request"` {
				t.Errorf("status %d, WWW-Authenticate %q; want 400 invalid_request", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			if tt.wantDeletions != nil {
				if diff := cmp.Diff(tt.wantDeletions, deletions(resp)); diff != "" {
					t.Errorf("deletion cookies (-want +got):\n%s", diff)
				}
			}
		})
	}
	// Two CSRF form fields are as ambiguous as two headers.
	form, _ := newAuth(t, authx.WithTokenLocations(authx.InCookie), authx.WithCSRF(authx.CSRFConfig{FormField: "csrf_token"}),
		authx.WithCookies(authx.CookieConfig{InsecureNoSecure: true}))
	ftok := authtest.Token(t, form, "alice")
	fc, err := form.Verify(t.Context(), ftok)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("csrf_token=x&csrf_token="+fc.CSRF))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: ftok})
	if got := serve(t, form.Require().Wrap(echo), r); got.Status != http.StatusBadRequest {
		t.Errorf("two CSRF form fields: %d %s, want 400", got.Status, got.Body)
	}

	// The victim's login survived the refused logout.
	if got := s.do(t, nil, bearerCall(http.MethodGet, "/me", l.pair.AccessToken)).outcome(); got.Status != http.StatusOK {
		t.Errorf("victim's token after the refused logout: %+v", got)
	}
}

// A browser stuck with a stale duplicate on another path recovers: the 400
// deletes both, and the next login works.
func TestCookieTossingRecovery(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	client := s.browser(t)
	stale := s.login(t)
	u, _ := url.Parse(s.srv.URL + "/me")
	client.Jar.SetCookies(u, []*http.Cookie{{Name: "access_token_cookie", Value: stale.pair.AccessToken, Path: "/me"}})
	if got := s.do(t, client, call{method: http.MethodPost, path: "/login"}); got.Status != http.StatusNoContent {
		t.Fatalf("login: %+v", got.outcome())
	}
	steps := []struct {
		name string
		c    call
		want int
	}{
		{"stale duplicate", call{path: "/me"}, http.StatusBadRequest},
		{"both deleted", call{path: "/me"}, http.StatusUnauthorized},
		{"log in again", call{method: http.MethodPost, path: "/login"}, http.StatusNoContent},
		{"one cookie", call{path: "/me"}, http.StatusOK},
	}
	for _, st := range steps {
		if got := s.do(t, client, st.c); got.Status != st.want {
			t.Fatalf("%s: %d %s, want %d", st.name, got.Status, got.Body, st.want)
		}
	}
}

// Every response that carries a token is marked no-store; a token in the
// query string leaves the URL the handler sees, and its response is neither
// cached nor sent on as a Referer.
func TestTokenResponsesNoStore(t *testing.T) {
	t.Parallel()
	s := startSite(t, &authx.ImplicitRefreshConfig{Delta: 10 * time.Minute})
	l := s.login(t)
	ticketSrv := httptest.NewServer(s.a.TicketHandler())
	t.Cleanup(ticketSrv.Close)

	// A handler that asks caches to keep its answer, behind implicit refresh.
	cached := s.a.ImplicitRefresh(authx.ImplicitRefreshConfig{Delta: 10 * time.Minute})(s.a.Require().WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		io.WriteString(w, "cached")
	}))
	cachedSrv := httptest.NewServer(cached)
	t.Cleanup(cachedSrv.Close)

	type view struct {
		Status       int
		CacheControl string
		Pragma       string
	}
	noStore := func(status int) view { return view{status, "no-store", "no-cache"} }
	send := func(method, url string, cookies []*http.Cookie, lines ...string) view {
		for _, c := range cookies {
			lines = append(lines, "Cookie", c.String())
		}
		resp := rawCall(t, url, method, lines...)
		return view{resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma")}
	}
	get := func(srv, path string, cookies []*http.Cookie, lines ...string) view {
		return send(http.MethodGet, srv+path, cookies, lines...)
	}
	post := func(srv, path string, cookies []*http.Cookie, lines ...string) view {
		return send(http.MethodPost, srv+path, cookies, lines...)
	}
	checks := []struct {
		name string
		got  func() view
		want view
	}{
		{"login helper (SetTokenCookies)", func() view { return post(s.srv.URL, "/login", nil) }, noStore(http.StatusNoContent)},
		{"refresh, OAuth response", func() view {
			return post(s.srv.URL, "/auth/refresh", nil, "Authorization", "Bearer "+s.login(t).pair.RefreshToken)
		}, noStore(http.StatusOK)},
		{"refresh, cookies", func() view {
			x := s.login(t)
			return post(s.srv.URL, "/auth/refresh", x.refreshCookies(), "X-CSRF-TOKEN", x.refresh.CSRF, "Origin", s.srv.URL)
		}, noStore(http.StatusNoContent)},
		{"ticket", func() view {
			return post(ticketSrv.URL, "", nil, "Authorization", "Bearer "+l.pair.AccessToken)
		}, noStore(http.StatusOK)},
		{"implicit refresh on a GET", func() view {
			s.clock.Advance(6 * time.Minute)
			return get(s.srv.URL, "/me", l.accessCookies())
		}, noStore(http.StatusOK)},
		{"implicit refresh, handler asks for caching", func() view {
			return get(cachedSrv.URL, "/", s.login(t, authx.ExpiresIn(time.Minute)).accessCookies())
		}, noStore(http.StatusOK)},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}

	t.Run("query token", func(t *testing.T) {
		t.Parallel()
		a, _ := newAuth(t, authx.WithTokenLocations(authx.InHeader, authx.InQuery))
		srv := httptest.NewServer(a.Require().WrapFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", r.URL.String(), r.RequestURI)
		}))
		t.Cleanup(srv.Close)
		tok := authtest.Token(t, a, "alice")
		resp, err := http.Get(srv.URL + "/p?a=1&token=" + tok + "&b=%20x")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		type seen struct {
			Status                       int
			Body, CacheControl, Referrer string
		}
		want := seen{200, "/p?a=1&b=%20x /p?a=1&b=%20x", "no-store", "no-referrer"}
		got := seen{resp.StatusCode, string(body), resp.Header.Get("Cache-Control"), resp.Header.Get("Referrer-Policy")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// Implicit refresh renews only requests that the guard admits.
func TestImplicitRefreshOnlyWhenAdmitted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path        string
		want        int
		wantRenewal bool
	}{
		{"admitted", "/me", http.StatusOK, true},
		{"denied for its scope", "/reports", http.StatusForbidden, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSite(t, &authx.ImplicitRefreshConfig{Delta: 10 * time.Minute})
			l := s.login(t, authx.Grant("other:read"))
			s.clock.Advance(6 * time.Minute)
			got := s.do(t, nil, call{path: tt.path, cookies: l.accessCookies()})
			renewed := got.cookie("access_token_cookie") != nil || got.cookie("csrf_access_token") != nil
			if got.Status != tt.want || renewed != tt.wantRenewal {
				t.Errorf("status %d renewed %v, want %d %v", got.Status, renewed, tt.want, tt.wantRenewal)
			}
		})
	}
}

// A guard whose Scopes no token within WithMaxScopes can meet is a
// construction mistake, not a guard that silently refuses everyone.
func TestScopesBeyondMaxScopes(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithMaxScopes(2))
	tests := []struct {
		name       string
		policies   []authx.Policy
		wantErr    bool
		wantStatus int // for a token granted "a:*" and "b"
	}{
		{"three namespaces", []authx.Policy{authx.Scopes("a", "b", "c")}, true, http.StatusInternalServerError},
		{"three in one namespace", []authx.Policy{authx.Scopes("a:x", "a:y", "a:z")}, false, http.StatusOK},
		{"All adds up", []authx.Policy{authx.Scopes("a"), authx.All(authx.Scopes("b"), authx.Scopes("c:d"))}, true, http.StatusInternalServerError},
		{"All shares namespaces", []authx.Policy{authx.Scopes("a"), authx.Scopes("a:b", "b")}, false, http.StatusOK},
		{"Any takes the cheapest", []authx.Policy{authx.Any(authx.Scopes("a", "b", "c"), authx.Scopes("d"))}, false, http.StatusForbidden},
		{"two", []authx.Policy{authx.Scopes("a", "b")}, false, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := a.TryRequire(tt.policies...)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, authx.ErrMisconfigured)) {
				t.Fatalf("TryRequire: %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if msg := panicMessage(func() { a.Require(tt.policies...) }); !strings.Contains(msg, "WithMaxScopes(2)") {
					t.Errorf("Require panicked with %q, want the WithMaxScopes mistake", msg)
				}
				return
			}
			g := a.Require(tt.policies...)
			tok := authtest.Token(t, a, "alice", authx.Grant("a:*", "b"))
			if got := serve(t, g.Wrap(echo), withBearer(http.MethodGet, "/", tok)); got.Status != tt.wantStatus {
				t.Errorf("status %d, want %d", got.Status, tt.wantStatus)
			}
		})
	}
}

// A JSON body is read for a token only on methods with a body.
func TestJSONBodyOnlyWithBody(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTokenLocations(authx.InJSON))
	tok := authtest.Token(t, a, "alice")
	for _, tt := range []struct {
		method string
		want   int
	}{{"GET", 401}, {"HEAD", 401}, {"OPTIONS", 401}, {"POST", 200}, {"PUT", 200}, {"DELETE", 200}} {
		r := httptest.NewRequest(tt.method, "/", strings.NewReader(`{"access_token":"`+tok+`"}`))
		r.Header.Set("Content-Type", "application/json")
		if got := serve(t, a.Require().Wrap(echo), r); got.Status != tt.want {
			t.Errorf("%s: %d, want %d", tt.method, got.Status, tt.want)
		}
	}
}

type panickingBlocklist struct{}

func (panickingBlocklist) Revoke(context.Context, string, time.Time) error { panic("boom: revoke") }
func (panickingBlocklist) IsRevoked(context.Context, ...string) (bool, error) {
	panic(strings.Repeat("boom ", 1000))
}

type panickingLimiter struct{}

func (panickingLimiter) Allow(context.Context, string, authx.Limit) (bool, time.Duration, error) {
	panic("boom: limiter")
}

// A store that panics answers 503 and logs, instead of aborting the
// connection.
func TestPanickingStore(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, _ := newAuth(t, authx.WithBlocklist(panickingBlocklist{}), authx.WithRateLimiter(panickingLimiter{}), authx.WithLogger(logger))
	tok := authtest.Token(t, a, "alice")
	if got := serve(t, a.Require().Wrap(echo), withBearer(http.MethodGet, "/", tok)); got.Status != http.StatusServiceUnavailable {
		t.Errorf("blocklist panics: %d %s, want 503", got.Status, got.Body)
	}
	limited := a.RateLimit(authx.RateLimitConfig{Name: "t", Anonymous: authx.PerMinute(5)})(echo)
	if got := serve(t, limited, httptest.NewRequest(http.MethodGet, "/", nil)); got.Status != http.StatusServiceUnavailable {
		t.Errorf("limiter panics: %d %s, want 503", got.Status, got.Body)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Count(out, "panicked") != 2 || len(out) > 4096 {
		t.Errorf("want two bounded log lines naming the panics, got %d bytes:\n%s", len(out), out)
	}
}

// A subject getter that panics is a store that cannot answer.
func TestPanickingSubjectGetter(t *testing.T) {
	t.Parallel()
	a, err := authx.New[string](authx.WithSecret(secret32), authx.WithSubjectGetter(func(context.Context, *authx.Claims) (string, error) {
		panic("getter down")
	}))
	if err != nil {
		t.Fatal(err)
	}
	tok := authtest.Token(t, a, "alice")
	if got := serve(t, a.Require(a.KnownSubject()).Wrap(echo), withBearer(http.MethodGet, "/", tok)); got.Status != http.StatusServiceUnavailable {
		t.Errorf("getter panics: %d %s, want 503", got.Status, got.Body)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// An IPv4-mapped IPv6 peer shares the IPv4 address's bucket.
func TestMappedIPv4SharesBucket(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	limited := a.RateLimit(authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(1)})(echo)
	// A dual-stack listener reports v4 clients as mapped addresses; the
	// next request of the same client arrives over plain IPv4.
	peers := []string{"[::ffff:192.0.2.1]:4000", "192.0.2.1:4001"}
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		r.RemoteAddr = peers[n%len(peers)]
		n++
		mu.Unlock()
		limited.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	var got []int
	for range peers {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	// echo answers 500 without claims: the first request passed the limiter.
	if diff := cmp.Diff([]int{http.StatusInternalServerError, http.StatusTooManyRequests}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// "Bearer" with nothing after it is invalid_request (RFC 6750 §3.1).
func TestBearerWithoutToken(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	for _, v := range []string{"Bearer", "Bearer ", "bearer    "} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", v)
		got := serve(t, a.Require().Wrap(echo), r)
		if got.Status != http.StatusBadRequest || got.WWW != `Bearer realm="api", error="invalid_request"` {
			t.Errorf("%q: %d %q, want 400 invalid_request", v, got.Status, got.WWW)
		}
	}
}

// A WebSocket closed for its token cancels the connection's context, the
// cause saying why.
func TestWebSocketCloseCancelsContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		end   func(t *testing.T, a *authx.Auth[string], clock *authtest.Clock, c *authx.Claims)
		cause error
		code  websocket.StatusCode
	}{
		{"expiry", func(t *testing.T, _ *authx.Auth[string], clock *authtest.Clock, _ *authx.Claims) {
			clock.Advance(2 * time.Minute)
		},
			authx.ErrExpired, websocket.StatusPolicyViolation},
		{"revocation", func(t *testing.T, a *authx.Auth[string], _ *authtest.Clock, c *authx.Claims) {
			if err := a.Revoke(t.Context(), c); err != nil {
				t.Fatal(err)
			}
		}, authx.ErrRevoked, websocket.StatusPolicyViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, clock := newAuth(t, authx.WithWebSocketRecheck(2*time.Millisecond))
			guard := a.Require()
			causes := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, c, err := guard.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer conn.CloseNow()
				ctx := guard.NewContext(r.Context(), c)
				select {
				case <-ctx.Done():
					causes <- context.Cause(ctx)
				case <-time.After(10 * time.Second):
					causes <- errors.New("context never cancelled")
				}
			}))
			t.Cleanup(srv.Close)
			tok := authtest.Token(t, a, "alice", authx.ExpiresIn(time.Minute))
			claims, err := a.Verify(t.Context(), tok)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{HTTPHeader: header("Authorization", "Bearer "+tok)})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			tt.end(t, a, clock, claims)
			_, _, rerr := conn.Read(ctx)
			if got := websocket.CloseStatus(rerr); got != tt.code {
				t.Errorf("close status %v (%v), want %v", got, rerr, tt.code)
			}
			if cause := <-causes; !errors.Is(cause, tt.cause) {
				t.Errorf("context cause %v, want %v", cause, tt.cause)
			}
		})
	}
}

// Log records bound the attacker-chosen strings they carry.
func TestDenialLogsAreBounded(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, _ := newAuth(t, authx.WithLogger(logger))
	srv := httptest.NewServer(a.Require().Wrap(echo))
	t.Cleanup(srv.Close)
	long := strings.Repeat("x", 4000)
	r, _ := http.NewRequest(strings.Repeat("M", 300), srv.URL+"/"+long, nil)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "request denied") || len(out) > 800 || strings.Contains(out, long[:200]) {
		t.Errorf("log record of %d bytes, want a bounded one:\n%.1000s", len(out), out)
	}
}
