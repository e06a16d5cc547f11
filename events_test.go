package authx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// eventRecorder is a WithEvents hook that keeps what it is given.
type eventRecorder struct {
	mu     sync.Mutex
	events []authx.Event
	all    []authx.Event
}

func (r *eventRecorder) hook(_ context.Context, e authx.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	r.all = append(r.all, e)
}

// take returns the events since the last take.
func (r *eventRecorder) take() []authx.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.events
	r.events = nil
	return got
}

// everything returns every event recorded.
func (r *eventRecorder) everything() []authx.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]authx.Event(nil), r.all...)
}

// eventOpts compare events: Err by errors.Is, Duration only as set or not
// (it is measured by the real clock).
var eventOpts = cmp.Options{
	cmpopts.EquateErrors(),
	cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Duration" },
		cmp.Comparer(func(a, b time.Duration) bool { return (a > 0) == (b > 0) })),
}

// about is the event of kind about verified claims c, as the hook sees it.
func about(kind authx.EventKind, now time.Time, c *authx.Claims) authx.Event {
	e := authx.Event{Kind: kind, Time: now}
	if c != nil {
		e.Subject, e.TokenID, e.SessionID, e.FamilyID, e.TokenType = c.Subject, c.ID, c.SessionID, c.FamilyID, c.Type
	}
	return e
}

// at adds the request's fields of a request from the test client.
func at(e authx.Event, method, path string) authx.Event {
	e.ClientIP, e.Method, e.Path = "127.0.0.1", method, path
	return e
}

// refused adds a refusal's fields.
func refused(e authx.Event, status int, code string, err error) authx.Event {
	e.Status, e.Code, e.Err = status, code, err
	return e
}

// eventSite is a small application emitting every kind of event over HTTP.
type eventSite struct {
	a     *authx.Auth[string]
	clock *authtest.Clock
	rec   *eventRecorder
	srv   *httptest.Server
}

func newEventSite(t *testing.T, opts ...authx.Option) *eventSite {
	t.Helper()
	s := &eventSite{rec: &eventRecorder{}}
	s.a, s.clock = newAuth(t, append([]authx.Option{
		authx.WithTokenLocations(authx.InHeader, authx.InCookie), // tokens carry a csrf claim
		authx.WithEvents(s.rec.hook),
	}, opts...)...)
	a := s.a
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		sub := r.URL.Query().Get("sub")
		info, err := a.StartSession(r.Context(), r, sub, nil)
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		pair, err := a.CreateTokenPair(sub, authx.Session(info.ID), authx.Grant("reports:read"))
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		_ = json.NewEncoder(w).Encode(pair)
	})
	mux.Handle("GET /api", a.Require().Wrap(echo))
	mux.Handle("GET /admin", a.Require(authx.Scopes("admin")).Wrap(echo))
	mux.Handle("POST /refresh", a.RefreshHandler())
	mux.Handle("POST /logout", a.LogoutHandler())
	mux.Handle("GET /limited", a.RateLimit(authx.RateLimitConfig{Name: "events", Anonymous: authx.PerMinute(1)})(echo))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// do sends a request with a bearer token ("": none) and returns the status
// and body.
func (s *eventSite) do(t *testing.T, method, path, tok string) (int, string) {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), method, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// login logs sub in and returns the pair and its verified claims.
func (s *eventSite) login(t *testing.T, sub string) (pair authx.TokenPair, access, refresh *authx.Claims) {
	t.Helper()
	status, body := s.do(t, http.MethodPost, "/login?sub="+sub, "")
	if status != http.StatusOK {
		t.Fatalf("login: %d %s", status, body)
	}
	if err := json.Unmarshal([]byte(body), &pair); err != nil {
		t.Fatal(err)
	}
	return pair, s.claims(t, pair.AccessToken, authx.Access), s.claims(t, pair.RefreshToken, authx.Refresh)
}

// claims decodes a token the site issued, without a guard (and so without
// events).
func (s *eventSite) claims(t *testing.T, tok string, typ authx.Policy) *authx.Claims {
	t.Helper()
	c, err := s.a.Verify(t.Context(), tok, typ)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}

// TestEventsOfFlows drives every flow of an application and checks the
// events each emits, in order, with their fields; then that none holds a
// token, the secret or a CSRF value.
func TestEventsOfFlows(t *testing.T) {
	t.Parallel()
	s := newEventSite(t)
	expired := authtest.ExpiredToken(t, s.a, "alice")
	var (
		pair            authx.TokenPair
		acc, ref        *authx.Claims
		newPair         authx.TokenPair
		bob, carol      *authx.Claims
		carolPair       authx.TokenPair
		carolRef        *authx.Claims
		daveSID, erinID string
		secrets         = []string{string(secret32), expired}
	)
	now := func() time.Time { return s.clock.Now() }
	steps := []struct {
		name   string
		do     func(t *testing.T)
		want   func() []authx.Event
		reason string
	}{{
		name: "login",
		do:   func(t *testing.T) { pair, acc, ref = s.login(t, "alice") },
		want: func() []authx.Event {
			start := at(authx.Event{Kind: authx.EventSessionStart, Time: now(), Subject: "alice", SessionID: acc.SessionID}, "POST", "/login")
			return []authx.Event{start, about(authx.EventIssue, now(), acc)}
		},
		reason: "a login starts a session (with the client's address) and issues a pair, named by its access token",
	}, {
		name: "admitted",
		do: func(t *testing.T) {
			if status, body := s.do(t, "GET", "/api", pair.AccessToken); status != 200 {
				t.Fatalf("%d %s", status, body)
			}
		},
		want: func() []authx.Event {
			v := at(about(authx.EventVerified, now(), acc), "GET", "/api")
			v.Duration = 1 // any positive
			return []authx.Event{v}
		},
		reason: "a guard that admits emits Verified with how long it took",
	}, {
		name: "insufficient scope",
		do:   func(t *testing.T) { s.do(t, "GET", "/admin", pair.AccessToken) },
		want: func() []authx.Event {
			return []authx.Event{refused(at(about(authx.EventDenied, now(), acc), "GET", "/admin"), 403, "insufficient_scope", authx.ErrInsufficientScope)}
		},
		reason: "a denial after verification names the token refused",
	}, {
		name: "no token",
		do:   func(t *testing.T) { s.do(t, "GET", "/api", "") },
		want: func() []authx.Event {
			return []authx.Event{refused(at(about(authx.EventDenied, now(), nil), "GET", "/api"), 401, "missing_token", authx.ErrNoToken)}
		},
	}, {
		name: "expired",
		do:   func(t *testing.T) { s.do(t, "GET", "/api", expired) },
		want: func() []authx.Event {
			return []authx.Event{refused(at(about(authx.EventDenied, now(), nil), "GET", "/api"), 401, "token_expired", authx.ErrExpired)}
		},
		reason: "an unverified token names no one",
	}, {
		name: "refresh",
		do: func(t *testing.T) {
			status, body := s.do(t, "POST", "/refresh", pair.RefreshToken)
			if status != 200 {
				t.Fatalf("%d %s", status, body)
			}
			if err := json.Unmarshal([]byte(body), &newPair); err != nil {
				t.Fatal(err)
			}
		},
		want: func() []authx.Event {
			return []authx.Event{at(about(authx.EventRefresh, now(), ref), "POST", "/refresh")}
		},
		reason: "a refresh names the refresh token it traded",
	}, {
		name: "reuse",
		do: func(t *testing.T) {
			s.clock.Advance(10 * time.Second) // past the grace window
			if status, body := s.do(t, "POST", "/refresh", pair.RefreshToken); status != 401 {
				t.Fatalf("%d %s", status, body)
			}
		},
		want: func() []authx.Event {
			reuse := at(about(authx.EventReuseDetected, now(), ref), "POST", "/refresh")
			reuse.Code, reuse.Err = "refresh_token_reused", authx.ErrRefreshReused
			return []authx.Event{reuse, refused(at(about(authx.EventDenied, now(), ref), "POST", "/refresh"), 401, "refresh_token_reused", authx.ErrRefreshReused)}
		},
		reason: "reuse past the grace window is reported with the client's address, then denied",
	}, {
		name: "rate limited",
		do: func(t *testing.T) {
			s.do(t, "GET", "/limited", "")
			if status, _ := s.do(t, "GET", "/limited", ""); status != 429 {
				t.Fatalf("status %d, want 429", status)
			}
		},
		want: func() []authx.Event {
			return []authx.Event{refused(at(about(authx.EventRateLimited, now(), nil), "GET", "/limited"), 429, "rate_limited", authx.ErrRateLimited)}
		},
	}, {
		name: "revoke",
		do: func(t *testing.T) {
			tok := authtest.Token(t, s.a, "bob")
			secrets = append(secrets, tok)
			bob = s.claims(t, tok, authx.Access)
			if err := s.a.Revoke(t.Context(), bob); err != nil {
				t.Fatal(err)
			}
		},
		want: func() []authx.Event {
			return []authx.Event{about(authx.EventIssue, now(), bob), about(authx.EventRevoke, now(), bob)}
		},
	}, {
		name: "revoke family",
		do: func(t *testing.T) {
			if err := s.a.RevokeFamily(t.Context(), "fam-1"); err != nil {
				t.Fatal(err)
			}
		},
		want: func() []authx.Event { return []authx.Event{{Kind: authx.EventRevoke, Time: now(), FamilyID: "fam-1"}} },
	}, {
		name: "logout",
		do: func(t *testing.T) {
			carolPair, carol, carolRef = s.login(t, "carol")
			s.rec.take() // the login's, as above
			if status, body := s.do(t, "POST", "/logout", carolPair.AccessToken); status != 204 {
				t.Fatalf("%d %s", status, body)
			}
		},
		want: func() []authx.Event {
			return []authx.Event{
				about(authx.EventRevoke, now(), carol),
				{Kind: authx.EventSessionEnd, Time: now(), Subject: "carol", SessionID: carol.SessionID},
				at(about(authx.EventLogout, now(), carol), "POST", "/logout"),
			}
		},
		reason: "a logout revokes the token it was given, ends its session and is reported",
	}, {
		name: "session revoked",
		do: func(t *testing.T) {
			info, err := s.a.StartSession(t.Context(), nil, "dave", nil)
			if err != nil {
				t.Fatal(err)
			}
			daveSID = info.ID
			if err := s.a.RevokeSession(t.Context(), "dave", info.ID); err != nil {
				t.Fatal(err)
			}
		},
		want: func() []authx.Event {
			return []authx.Event{
				{Kind: authx.EventSessionStart, Time: now(), Subject: "dave", SessionID: daveSID},
				{Kind: authx.EventSessionEnd, Time: now(), Subject: "dave", SessionID: daveSID},
			}
		},
		reason: "a session started without a request has no client fields",
	}, {
		name: "log out everywhere",
		do: func(t *testing.T) {
			info, err := s.a.StartSession(t.Context(), nil, "erin", nil)
			if err != nil {
				t.Fatal(err)
			}
			erinID = info.ID
			if err := s.a.RevokeAllSessions(t.Context(), "erin"); err != nil {
				t.Fatal(err)
			}
		},
		want: func() []authx.Event {
			return []authx.Event{
				{Kind: authx.EventSessionStart, Time: now(), Subject: "erin", SessionID: erinID},
				{Kind: authx.EventRevoke, Time: now(), Subject: "erin"},
				{Kind: authx.EventSessionEnd, Time: now(), Subject: "erin", SessionID: erinID},
			}
		},
		reason: "every token of the subject is revoked, and each listed session ends",
	}}
	s.rec.take() // the expired token's Issue
	for _, step := range steps {
		step.do(t)
		if diff := cmp.Diff(step.want(), s.rec.take(), eventOpts); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s\n%s", step.name, diff, step.reason)
		}
	}

	secrets = append(secrets, pair.AccessToken, pair.RefreshToken, newPair.AccessToken, newPair.RefreshToken,
		carolPair.AccessToken, carolPair.RefreshToken)
	for _, c := range []*authx.Claims{acc, ref, carol, carolRef, bob} {
		secrets = append(secrets, c.CSRF)
	}
	checkNoSecrets(t, s.rec.everything(), secrets)
}

// checkNoSecrets fails if an event, printed in full or as a log value,
// holds one of secrets.
func checkNoSecrets(t *testing.T, events []authx.Event, secrets []string) {
	t.Helper()
	if len(events) == 0 {
		t.Fatal("no events to check")
	}
	for _, e := range events {
		printed := fmt.Sprintf("%+v %v", e, e.LogValue())
		for _, s := range secrets {
			if s == "" {
				t.Fatal("an empty secret checks nothing")
			}
			if strings.Contains(printed, s) {
				t.Errorf("%v event holds a secret (%.12s…): %s", e.Kind, s, printed)
			}
		}
	}
}

// failingTouch is a session store whose activity cannot be recorded.
type failingTouch struct{ authx.SessionStore }

func (failingTouch) Touch(context.Context, string, time.Time) error {
	return errors.New("sessions: down")
}

func TestEventsOfStoreFailures(t *testing.T) {
	t.Parallel()
	t.Run("blocklist down", func(t *testing.T) {
		t.Parallel()
		s := newEventSite(t, authx.WithBlocklist(failingBlocklist{}))
		tok := authtest.Token(t, s.a, "alice")
		c := s.rec.take()[0] // its Issue
		if status, _ := s.do(t, "GET", "/api", tok); status != 503 {
			t.Fatalf("status %d, want 503", status)
		}
		want := refused(at(authx.Event{Kind: authx.EventStoreFailure, Time: s.clock.Now(), Subject: "alice", TokenID: c.TokenID, TokenType: authx.Access},
			"GET", "/api"), 503, "unavailable", authx.ErrUnavailable)
		if diff := cmp.Diff([]authx.Event{want}, s.rec.take(), eventOpts); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
	t.Run("session touch fails", func(t *testing.T) {
		t.Parallel()
		s := newEventSite(t, authx.WithSessionStore(failingTouch{authx.NewMemorySessionStore(nil)}))
		pair, acc, _ := s.login(t, "alice")
		s.clock.Advance(2 * time.Minute) // past WithSessionTouchInterval: the guard touches the session
		s.rec.take()
		if status, body := s.do(t, "GET", "/api", pair.AccessToken); status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		touch := about(authx.EventStoreFailure, s.clock.Now(), acc)
		touch.Code, touch.Err = "unavailable", authx.ErrUnavailable
		verified := at(about(authx.EventVerified, s.clock.Now(), acc), "GET", "/api")
		verified.Duration = 1
		if diff := cmp.Diff([]authx.Event{touch, verified}, s.rec.take(), eventOpts); diff != "" {
			t.Errorf("events (-want +got):\n%s\nthe request is admitted (Status 0), the failure reported", diff)
		}
	})
}

func TestEventsOfWebSocketCloses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		end     func(s *wsSite, c *authx.Claims) error
		wantErr error
		reason  string
	}{
		{"expired", func(s *wsSite, _ *authx.Claims) error { s.clock.Advance(time.Minute); return nil }, authx.ErrExpired,
			"a token that expires closes its connection with 1008"},
		{"revoked", func(s *wsSite, c *authx.Claims) error { return s.a.Revoke(context.Background(), c) }, authx.ErrRevoked,
			"a revoked token closes its connection with 1008"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &eventRecorder{}
			s := newWSSite(t, nil, authx.WithEvents(rec.hook))
			tok := authtest.Token(t, s.a, "alice", authx.ExpiresIn(time.Minute))
			c, err := s.a.Verify(t.Context(), tok)
			if err != nil {
				t.Fatal(err)
			}
			conn, _ := s.dial(t, "token="+tok, nil)
			echoOnce(t, conn, "alice: hi")
			if err := tt.end(s, c); err != nil {
				t.Fatal(err)
			}
			if code, _ := closedWith(t, conn); code != websocket.StatusPolicyViolation {
				t.Fatalf("closed with %d", code)
			}
			var got []authx.EventKind
			var closed *authx.Event
			for _, e := range rec.take() {
				got = append(got, e.Kind)
				if e.Kind == authx.EventWebSocketClose {
					closed = &e
				}
			}
			wantKinds := []authx.EventKind{authx.EventIssue, authx.EventVerified, authx.EventWebSocketClose}
			if tt.name == "revoked" {
				wantKinds = []authx.EventKind{authx.EventIssue, authx.EventVerified, authx.EventRevoke, authx.EventWebSocketClose}
			}
			if diff := cmp.Diff(wantKinds, got); diff != "" {
				t.Fatalf("kinds (-want +got):\n%s", diff)
			}
			want := about(authx.EventWebSocketClose, s.clock.Now(), c)
			want.Code, want.Err = "1008", tt.wantErr
			if diff := cmp.Diff(want, *closed, eventOpts); diff != "" {
				t.Errorf("close event (-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}

// A hook that panics is logged at Error; the request and the hooks after
// it go on.
func TestEventHookPanics(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	rec := &eventRecorder{}
	a, _ := newAuth(t,
		authx.WithLogger(slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))),
		authx.WithEvents(func(context.Context, authx.Event) { panic("hook: boom") }),
		authx.WithEvents(rec.hook))
	tok := authtest.Token(t, a, "alice")
	got := serve(t, a.Require().Wrap(echo), withBearer(http.MethodGet, "/", tok))
	if got.Status != 200 || got.Body != "hello alice" {
		t.Errorf("request with a panicking hook: %+v, want 200 hello alice", got)
	}
	var kinds []authx.EventKind
	for _, e := range rec.take() {
		kinds = append(kinds, e.Kind)
	}
	if diff := cmp.Diff([]authx.EventKind{authx.EventIssue, authx.EventVerified}, kinds); diff != "" {
		t.Errorf("the next hook's events (-want +got):\n%s", diff)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Count(out, `"msg":"authx: event hook panicked; the request goes on"`) != 2 || !strings.Contains(out, `"level":"ERROR"`) ||
		!strings.Contains(out, "hook: boom") || strings.Contains(out, tok) {
		t.Errorf("want two Error records naming the panic, without the token:\n%s", out)
	}
}

// Without a hook, events are records of the configured logger, at their
// kind's level, carrying the kind and code; Verified is never logged.
func TestEventsAreLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	a, _ := newAuth(t, authx.WithLogger(slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	tok := authtest.Token(t, a, "alice")
	guard := a.Require().Wrap(echo)
	serve(t, guard, withBearer(http.MethodGet, "/", tok))
	expired := authtest.ExpiredToken(t, a, "alice")
	serve(t, guard, withBearer(http.MethodGet, "/x", expired))
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	type record struct {
		Level, Msg, Event, Code, Sub, Method, Path string
		Status                                     int
	}
	var got []record
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		got = append(got, r)
	}
	want := []record{
		{Level: "INFO", Msg: "authx: tokens issued", Event: "issue", Sub: "alice"},
		{Level: "INFO", Msg: "authx: tokens issued", Event: "issue", Sub: "alice"}, // ExpiredToken issues two
		{Level: "INFO", Msg: "authx: tokens issued", Event: "issue", Sub: "alice"},
		{Level: "DEBUG", Msg: "authx: request denied", Event: "denied", Code: "token_expired", Status: 401, Method: "GET", Path: "/x"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s\n%s", diff, out)
	}
	if strings.Contains(out, tok) || strings.Contains(out, expired) || strings.Contains(out, string(secret32)) {
		t.Errorf("a record holds the token or the secret:\n%s", out)
	}
}

func TestEventKindString(t *testing.T) {
	t.Parallel()
	want := map[authx.EventKind]string{
		authx.EventIssue: "issue", authx.EventRefresh: "refresh", authx.EventReuseDetected: "reuse_detected",
		authx.EventRevoke: "revoke", authx.EventLogout: "logout", authx.EventSessionStart: "session_start",
		authx.EventSessionEnd: "session_end", authx.EventDenied: "denied", authx.EventRateLimited: "rate_limited",
		authx.EventStoreFailure: "store_failure", authx.EventWebSocketClose: "websocket_close", authx.EventVerified: "verified",
		0: "EventKind(0)", 200: "EventKind(200)",
	}
	got := map[authx.EventKind]string{}
	for k := range want {
		got[k] = k.String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
}

// Strings an event takes from a request or a token are bounded.
func TestEventsAreBounded(t *testing.T) {
	t.Parallel()
	rec := &eventRecorder{}
	a, _ := newAuth(t, authx.WithEvents(rec.hook))
	long := strings.Repeat("x", 1000)
	tok := authtest.Token(t, a, long, authx.TokenID(long))
	serve(t, a.Require(authx.Scopes("admin")).Wrap(echo), withBearer(http.MethodGet, "/"+long, tok))
	events := rec.take()
	if len(events) != 2 || events[1].Kind != authx.EventDenied || events[1].Subject != long[:128]+"…" {
		t.Fatalf("want an Issue and a Denial naming the subject, cut; got %+v", events)
	}
	for _, e := range events {
		for _, f := range []string{e.Subject, e.TokenID, e.Path} {
			if len(f) > 200 {
				t.Errorf("%v event carries a field of %d bytes", e.Kind, len(f))
			}
		}
	}
}

func TestWithEventsNil(t *testing.T) {
	t.Parallel()
	if _, err := authx.New[string](authx.WithSecret(secret32), authx.WithEvents(nil)); !errors.Is(err, authx.ErrConfig) || !strings.Contains(err.Error(), "nil event hook") {
		t.Errorf("WithEvents(nil): %v, want ErrConfig naming it", err)
	}
}

// An implicit refresh is a Refresh event naming the access token it
// renewed, emitted only when the renewed cookie is sent.
func TestEventsOfImplicitRefresh(t *testing.T) {
	t.Parallel()
	rec := &eventRecorder{}
	a, clock := newAuth(t, authx.WithTokenLocations(authx.InCookie), authx.WithEvents(rec.hook))
	mux := http.NewServeMux()
	mux.Handle("GET /api", a.Require().Wrap(echo))
	mux.Handle("GET /admin", a.Require(authx.Scopes("admin")).Wrap(echo))
	srv := httptest.NewServer(a.ImplicitRefresh(authx.ImplicitRefreshConfig{Delta: 5 * time.Minute})(mux))
	t.Cleanup(srv.Close)
	tok := authtest.Token(t, a, "alice")
	c, err := a.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(12 * time.Minute) // due: 3 minutes left
	get := func(path string) []authx.EventKind {
		rec.take()
		r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		r.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: tok})
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var kinds []authx.EventKind
		for _, e := range rec.take() {
			kinds = append(kinds, e.Kind)
			if e.Kind == authx.EventRefresh {
				want := at(about(authx.EventRefresh, clock.Now(), c), "GET", path)
				if diff := cmp.Diff(want, e, eventOpts); diff != "" {
					t.Errorf("refresh event (-want +got):\n%s", diff)
				}
			}
		}
		return kinds
	}
	if diff := cmp.Diff([]authx.EventKind{authx.EventVerified, authx.EventRefresh}, get("/api")); diff != "" {
		t.Errorf("admitted request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]authx.EventKind{authx.EventDenied}, get("/admin")); diff != "" {
		t.Errorf("refused request: no renewal sent, no Refresh (-want +got):\n%s", diff)
	}
}

// A failed in-band re-authentication closes the connection: a
// WebSocketClose naming the connection's token.
func TestEventsOfFailedReauthentication(t *testing.T) {
	t.Parallel()
	rec := &eventRecorder{}
	s := newWSSite(t, nil, authx.WithEvents(rec.hook))
	tok := authtest.Token(t, s.a, "alice")
	c, err := s.a.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := s.dial(t, "token="+tok, nil)
	echoOnce(t, conn, "alice: hi")
	if err := conn.Write(t.Context(), websocket.MessageText, authx.ReauthMessage(authtest.Token(t, s.a, "mallory"))); err != nil {
		t.Fatal(err)
	}
	if code, _ := closedWith(t, conn); code != websocket.StatusPolicyViolation {
		t.Fatalf("closed with %d, want 1008", code)
	}
	var closes []authx.Event
	for _, e := range rec.take() {
		if e.Kind == authx.EventWebSocketClose {
			closes = append(closes, e)
		}
	}
	want := about(authx.EventWebSocketClose, s.clock.Now(), c)
	want.Code, want.Err = "1008", authx.ErrForbidden
	if diff := cmp.Diff([]authx.Event{want}, closes, eventOpts); diff != "" {
		t.Errorf("close events (-want +got):\n%s", diff)
	}
}
