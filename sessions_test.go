package authx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// reply is what a client sees of a response: the status and the JSON
// error code, if any.
type reply struct {
	Status int
	Code   string
}

// doReq serves r with h and reads the reply.
func doReq(t *testing.T, h http.Handler, r *http.Request) (reply, *httptest.ResponseRecorder) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	got := reply{Status: w.Code}
	if w.Code >= 400 {
		var body struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("error body %q: %v", w.Body.String(), err)
		}
		got.Code = body.Code
	}
	return got, w
}

// withBearer returns a request to path carrying tok in the Authorization header.
func withBearer(method, path, tok string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

// renew trades a refresh token at a's refresh endpoint.
func renew(t *testing.T, a *authx.Auth[string], refresh string) (reply, *authx.TokenPair) {
	t.Helper()
	got, w := doReq(t, a.RefreshHandler(), withBearer(http.MethodPost, "/auth/refresh", refresh))
	if got.Status != http.StatusOK {
		return got, nil
	}
	var pair authx.TokenPair
	if err := json.Unmarshal(w.Body.Bytes(), &pair); err != nil {
		t.Fatalf("token response %q: %v", w.Body.String(), err)
	}
	return got, &pair
}

// withLiveSession returns an option whose session store holds a live
// session id of sub, so that tokens issued with authx.Session(id) are
// admitted.
func withLiveSession(t *testing.T, id, sub string) authx.Option {
	t.Helper()
	store := authx.NewMemorySessionStore(nil)
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := store.Create(t.Context(), authx.SessionInfo{ID: id, Subject: sub, ExpiresAt: far}); err != nil {
		t.Fatal(err)
	}
	return authx.WithSessionStore(store)
}

func startSession(t *testing.T, a *authx.Auth[string], sub string) authx.SessionInfo {
	t.Helper()
	info, err := a.StartSession(t.Context(), httptest.NewRequest(http.MethodPost, "/auth/login", nil), sub, nil)
	if err != nil {
		t.Fatalf("StartSession(%q): %v", sub, err)
	}
	return info
}

func sessionIDs(t *testing.T, a *authx.Auth[string], sub string) []string {
	t.Helper()
	ss, err := a.Sessions(t.Context(), sub)
	if err != nil {
		t.Fatalf("Sessions(%q): %v", sub, err)
	}
	ids := []string{}
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

var (
	ok200          = reply{Status: http.StatusOK}
	revoked401     = reply{Status: http.StatusUnauthorized, Code: "token_revoked"}
	unavailable503 = reply{Status: http.StatusServiceUnavailable, Code: "unavailable"}
	sessionIDRE    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	tooLongID      = strings.Repeat("s", 10<<10)
	refreshTTL20   = 20 * 24 * time.Hour // the default refresh TTL: a session's life
)

func TestStartSession(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTrustedProxies("10.0.0.0/8"))
	r := httptest.NewRequest(http.MethodPost, "/auth/login", nil)
	r.RemoteAddr = "10.0.0.5:4711"
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.7")
	ua := "a" + strings.Repeat("é", 300) // 601 bytes; byte 512 falls inside an é
	r.Header.Set("User-Agent", ua)
	device := map[string]string{}
	wantDevice := map[string]string{}
	for i := range 20 {
		k := fmt.Sprintf("k%02d", i) + strings.Repeat("☃", 100) // 303 bytes
		device[k] = strings.Repeat("v", 300)
		if i < 16 { // the first 16 keys, in order
			wantDevice[fmt.Sprintf("k%02d", i)+strings.Repeat("☃", 84)] = strings.Repeat("v", 256)
		}
	}

	info, err := a.StartSession(t.Context(), r, "alice", device)
	if err != nil {
		t.Fatal(err)
	}
	want := authx.SessionInfo{
		Subject:    "alice",
		CreatedAt:  testNow,
		LastActive: testNow,
		ExpiresAt:  testNow.Add(refreshTTL20),
		IP:         "203.0.113.7",
		UserAgent:  ua[:511],
		Device:     wantDevice,
		Active:     true,
	}
	if diff := cmp.Diff(want, info, cmpopts.IgnoreFields(authx.SessionInfo{}, "ID")); diff != "" {
		t.Errorf("StartSession (-want +got):\n%s", diff)
	}
	if !sessionIDRE.MatchString(info.ID) {
		t.Errorf("session id %q: want 128 random bits in hex", info.ID)
	}
	if !utf8.ValidString(info.UserAgent) || len(info.UserAgent) > 512 {
		t.Errorf("User-Agent of %d bytes (valid UTF-8: %v): want at most 512, cut between characters", len(info.UserAgent), utf8.ValidString(info.UserAgent))
	}
	for k, v := range info.Device {
		if len(k) > 256 || len(v) > 256 || !utf8.ValidString(k) || !utf8.ValidString(v) {
			t.Errorf("device entry of %d+%d bytes: want at most 256 each, valid UTF-8", len(k), len(v))
		}
	}
	stored, err := a.Sessions(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]authx.SessionInfo{info}, stored); diff != "" {
		t.Errorf("Sessions(alice) after StartSession (-want +got):\n%s", diff)
	}
	if other := startSession(t, a, "alice"); other.ID == info.ID {
		t.Errorf("two sessions share the id %q", info.ID)
	}
}

func TestStartSessionErrors(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	var nilAuth *authx.Auth[string]
	tests := []struct {
		name   string
		a      *authx.Auth[string]
		sub    string
		want   error
		reason string
	}{
		{name: "empty subject", a: a, sub: "", want: authx.ErrTokenOption, reason: "a session belongs to someone"},
		{name: "subject of 1025 bytes", a: a, sub: strings.Repeat("s", 1025), want: authx.ErrTokenOption, reason: "subjects are bounded as the sub claim is"},
		{name: "nil Auth", a: nilAuth, sub: "alice", want: authx.ErrNotConfigured, reason: "fail closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.a.StartSession(t.Context(), httptest.NewRequest(http.MethodPost, "/", nil), tt.sub, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("StartSession = %v, want %v (%s)", err, tt.want, tt.reason)
			}
		})
	}
	// Without a request there is no IP or User-Agent to record.
	info, err := a.StartSession(t.Context(), nil, "alice", map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if info.IP != "" || info.UserAgent != "" || info.Device != nil {
		t.Errorf("StartSession without request or device = %+v, want no IP, User-Agent or Device", info)
	}
}

func TestRevokeSession(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t)
	guard := a.Require().Wrap(echo)
	s1, s2 := startSession(t, a, "alice"), startSession(t, a, "alice")
	p1 := authtest.Pair(t, a, "alice", authx.Session(s1.ID))
	p2 := authtest.Pair(t, a, "alice", authx.Session(s2.ID))
	plain := authtest.Pair(t, a, "alice")

	clock.Advance(time.Minute)
	got, rotated := renew(t, a, p1.RefreshToken) // the renewed pair keeps the sid
	if got != ok200 {
		t.Fatalf("refresh before revocation: %+v", got)
	}
	for _, tok := range []string{p1.AccessToken, rotated.AccessToken, p2.AccessToken} {
		if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", tok)); got != ok200 {
			t.Fatalf("before revocation: %+v", got)
		}
	}

	if err := a.RevokeSession(t.Context(), "alice", s1.ID); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	// After the revocation no token can be issued for the session at all.
	if _, err := a.CreateAccessToken("alice", authx.Session(s1.ID)); !errors.Is(err, authx.ErrRevoked) {
		t.Errorf("CreateAccessToken for a revoked session: %v, want ErrRevoked", err)
	}
	tests := []struct {
		name   string
		h      http.Handler
		tok    string
		want   reply
		reason string
	}{
		{name: "access token of the session", h: guard, tok: p1.AccessToken, want: revoked401, reason: "the very next request fails"},
		{name: "renewed access token", h: guard, tok: rotated.AccessToken, want: revoked401, reason: "renewed tokens carry the sid"},
		{name: "renewed refresh token", h: a.RefreshHandler(), tok: rotated.RefreshToken, want: revoked401, reason: "the session cannot be renewed"},
		{name: "spent refresh token", h: a.RefreshHandler(), tok: p1.RefreshToken, want: revoked401, reason: "revoked before reuse is even considered"},
		{name: "other session, access", h: guard, tok: p2.AccessToken, want: ok200, reason: "only that session ends"},
		{name: "other session, refresh", h: a.RefreshHandler(), tok: p2.RefreshToken, want: ok200, reason: "only that session ends"},
		{name: "token without session", h: guard, tok: plain.AccessToken, want: ok200, reason: "only that session ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, _ := doReq(t, tt.h, withBearer(http.MethodPost, "/", tt.tok)); got != tt.want {
				t.Errorf("after RevokeSession: %+v, want %+v (%s)", got, tt.want, tt.reason)
			}
		})
	}
	t.Run("listing", func(t *testing.T) {
		t.Parallel()
		if diff := cmp.Diff([]string{s2.ID}, sessionIDs(t, a, "alice")); diff != "" {
			t.Errorf("Sessions(alice) after RevokeSession (-want +got):\n%s", diff)
		}
		if err := a.RevokeSession(t.Context(), "alice", s1.ID); err != nil {
			t.Errorf("RevokeSession of an ended session: %v, want nil (ending it twice is not an error)", err)
		}
	})
}

// TestRevokeSessionOutlivesItsTokens: a session's revocation must last as
// long as any token carrying its sid. A refresh near the end of the login
// mints an access token that outlives the session's ExpiresAt by up to the
// access TTL; RevokeSession blocklists the sid only until ExpiresAt, so
// the revoked session's token works again when the entry lapses (and, with
// ImplicitRefresh, can then be renewed for ever).
func TestRevokeSessionOutlivesItsTokens(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t) // access TTL 15 minutes, refresh TTL 20 days
	guard := a.Require().Wrap(echo)
	s := startSession(t, a, "alice")
	pair := authtest.Pair(t, a, "alice", authx.Session(s.ID))

	clock.Advance(refreshTTL20 - time.Minute) // the login's last minute
	got, late := renew(t, a, pair.RefreshToken)
	if got != ok200 {
		t.Fatalf("refresh in the login's last minute: %+v", got)
	}
	if err := a.RevokeSession(t.Context(), "alice", s.ID); err != nil {
		t.Fatal(err)
	}
	// The renewed access token ends with the login, not an access TTL later.
	if _, err := a.Verify(t.Context(), pair.RefreshToken, authx.Refresh); err == nil {
		t.Fatalf("the spent refresh token still verifies after RevokeSession")
	}
	if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", late.AccessToken)); got != revoked401 {
		t.Errorf("access token of the revoked session: %+v, want %+v", got, revoked401)
	}
	for _, advance := range []time.Duration{2 * time.Minute, 10 * time.Minute, 5 * time.Minute} {
		clock.Advance(advance)
		if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", late.AccessToken)); got.Status != http.StatusUnauthorized {
			t.Errorf("access token of the revoked session, %v after the session's ExpiresAt: %+v, want 401",
				clock.Now().Sub(s.ExpiresAt), got)
		}
	}
}

func TestRevokeSessionNotFound(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	guard := a.Require().Wrap(echo)
	bob := startSession(t, a, "bob")
	bobTok := authtest.Token(t, a, "bob", authx.Session(bob.ID))
	_ = startSession(t, a, "alice")
	tests := []struct {
		name   string
		sub    string
		id     string
		reason string
	}{
		{name: "another subject's session", sub: "alice", id: bob.ID, reason: "a caller cannot end someone else's session by its id"},
		{name: "empty subject", sub: "", id: bob.ID, reason: "no subject owns it"},
		{name: "unknown id", sub: "bob", id: "0123456789abcdef0123456789abcdef", reason: "no such session"},
		{name: "empty id", sub: "bob", id: "", reason: "no such session"},
		{name: "10 KB id", sub: "bob", id: tooLongID, reason: "refused before the store is asked"},
		{name: "CRLF after the id", sub: "bob", id: bob.ID + "\r\n", reason: "ids are compared exactly"},
		{name: "CRLF id", sub: "bob", id: "\r\nX-Injected: 1", reason: "no such session"},
		{name: "upper-case id", sub: "bob", id: strings.ToUpper(bob.ID), reason: "ids are compared exactly"},
		{name: "prefix of the id", sub: "bob", id: bob.ID[:16], reason: "ids are compared exactly"},
		{name: "subject differing in case", sub: "Bob", id: bob.ID, reason: "subjects are compared exactly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the checks after the loop need every attempt done.
			err := a.RevokeSession(t.Context(), tt.sub, tt.id)
			if !errors.Is(err, authx.ErrSessionNotFound) || authx.StatusOf(err) != http.StatusNotFound {
				t.Errorf("RevokeSession(%q, %.40q) = %v (status %d), want ErrSessionNotFound (404): %s", tt.sub, tt.id, err, authx.StatusOf(err), tt.reason)
			}
		})
	}
	if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", bobTok)); got != ok200 {
		t.Errorf("bob's token after failed attempts on his session: %+v, want 200", got)
	}
	if diff := cmp.Diff([]string{bob.ID}, sessionIDs(t, a, "bob")); diff != "" {
		t.Errorf("Sessions(bob) after failed attempts (-want +got):\n%s", diff)
	}
}

func TestRevokeAllSessions(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t)
	guard := a.Require().Wrap(echo)
	var alice []*authx.TokenPair
	for range 3 {
		s := startSession(t, a, "alice")
		alice = append(alice, authtest.Pair(t, a, "alice", authx.Session(s.ID)))
		clock.Advance(time.Second)
	}
	bob := startSession(t, a, "bob")
	bobPair := authtest.Pair(t, a, "bob", authx.Session(bob.ID))

	if err := a.RevokeAllSessions(t.Context(), "alice"); err != nil {
		t.Fatalf("RevokeAllSessions: %v", err)
	}
	for i, p := range alice {
		if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", p.AccessToken)); got != revoked401 {
			t.Errorf("alice's session %d, access: %+v, want %+v", i, got, revoked401)
		}
		if got, _ := renew(t, a, p.RefreshToken); got != revoked401 {
			t.Errorf("alice's session %d, refresh: %+v, want %+v", i, got, revoked401)
		}
	}
	if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", bobPair.AccessToken)); got != ok200 {
		t.Errorf("bob's session after alice logged out everywhere: %+v, want 200", got)
	}
	if got, _ := renew(t, a, bobPair.RefreshToken); got != ok200 {
		t.Errorf("bob's refresh after alice logged out everywhere: %+v, want 200", got)
	}
	if diff := cmp.Diff([]string{}, sessionIDs(t, a, "alice")); diff != "" {
		t.Errorf("Sessions(alice) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{bob.ID}, sessionIDs(t, a, "bob")); diff != "" {
		t.Errorf("Sessions(bob) (-want +got):\n%s", diff)
	}
	// A login after "log out everywhere" is a new session.
	again := startSession(t, a, "alice")
	if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", authtest.Token(t, a, "alice", authx.Session(again.ID)))); got != ok200 {
		t.Errorf("new session after RevokeAllSessions: %+v, want 200", got)
	}
	if err := a.RevokeAllSessions(t.Context(), "nobody"); err != nil {
		t.Errorf("RevokeAllSessions of a subject without sessions: %v, want nil", err)
	}
}

// TestRevokeAllSessionsAfterImplicitRefresh: a browser that stays active
// keeps its access cookie renewed by ImplicitRefresh past the session's
// ExpiresAt; the store then forgets the session, so "log out everywhere"
// no longer finds it and the browser stays logged in.
func TestRevokeAllSessionsAfterImplicitRefresh(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t, authx.WithTokenLocations(authx.InCookie))
	h := a.ImplicitRefresh(authx.ImplicitRefreshConfig{})(a.Require().Wrap(echo))
	s := startSession(t, a, "alice")
	tok := authtest.Token(t, a, "alice", authx.Session(s.ID))
	browse := func() reply {
		got, w := doReq(t, h, authtest.Request(t, a, authx.InCookie, http.MethodGet, "/me", tok))
		for _, c := range w.Result().Cookies() {
			if c.Name == "access_token_cookie" && c.Value != "" {
				tok = c.Value
			}
		}
		return got
	}
	for clock.Now().Before(s.ExpiresAt.Add(time.Hour)) { // a page every 9 minutes, for 20 days
		got := browse()
		if got == ok200 {
			clock.Advance(9 * time.Minute)
			continue
		}
		if clock.Now().Before(s.ExpiresAt) {
			t.Fatalf("browsing %v before the session's ExpiresAt: %+v, want 200", s.ExpiresAt.Sub(clock.Now()), got)
		}
		break // the session ended at its ExpiresAt: fine
	}
	if err := a.RevokeAllSessions(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	if got := browse(); got.Status != http.StatusUnauthorized {
		t.Errorf("browser of session %s, %v past its ExpiresAt, after RevokeAllSessions: %+v, want 401 (the session is over, and was to be revoked anyway)",
			s.ID, clock.Now().Sub(s.ExpiresAt), got)
	}
}

func TestSessionsNewestFirst(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t)
	var ids []string
	for range 3 {
		ids = append(ids, startSession(t, a, "alice").ID)
		clock.Advance(time.Second)
	}
	startSession(t, a, "bob")
	if diff := cmp.Diff([]string{ids[2], ids[1], ids[0]}, sessionIDs(t, a, "alice")); diff != "" {
		t.Errorf("Sessions(alice): newest first (-want +got):\n%s", diff)
	}
	if err := a.RevokeSession(t.Context(), "alice", ids[1]); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ids[2], ids[0]}, sessionIDs(t, a, "alice")); diff != "" {
		t.Errorf("Sessions(alice) after revoking the middle one (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, sessionIDs(t, a, "carol")); diff != "" {
		t.Errorf("Sessions(carol) (-want +got):\n%s", diff)
	}
	clock.Advance(refreshTTL20) // every session has expired
	if diff := cmp.Diff([]string{}, sessionIDs(t, a, "alice")); diff != "" {
		t.Errorf("Sessions(alice) after expiry (-want +got):\n%s", diff)
	}
}

// touchCounter counts Touch calls on a memory session store.
type touchCounter struct {
	*authx.MemorySessionStore
	touches atomic.Int64
}

func (s *touchCounter) Touch(ctx context.Context, id string, at time.Time) error {
	s.touches.Add(1)
	return s.MemorySessionStore.Touch(ctx, id, at)
}

func TestSessionTouchThrottled(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(testNow)
	store := &touchCounter{MemorySessionStore: authx.NewMemorySessionStore(clock.Now)}
	a, _ := newAuth(t, authx.WithClock(clock.Now), authx.WithSessionStore(store), authx.WithSessionTouchInterval(time.Minute))
	guard := a.Require().Wrap(echo)
	s, other := startSession(t, a, "alice"), startSession(t, a, "alice")
	tok := authtest.Token(t, a, "alice", authx.Session(s.ID))
	otherTok := authtest.Token(t, a, "alice", authx.Session(other.ID))
	plain := authtest.Token(t, a, "alice")

	type state struct {
		Touches    int64
		LastActive time.Time
	}
	see := func() state {
		got, ok, err := store.Get(t.Context(), s.ID)
		if err != nil || !ok {
			t.Fatalf("Get(session) = %v, %v", ok, err)
		}
		return state{store.touches.Load(), got.LastActive}
	}
	request := func(tok string) {
		t.Helper()
		if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", tok)); got != ok200 {
			t.Fatalf("request: %+v", got)
		}
	}

	first := clock.Now().Add(500 * time.Millisecond)
	for range 100 { // 100 requests in 50 seconds
		clock.Advance(500 * time.Millisecond)
		request(tok)
		request(plain) // no sid: nothing to touch
	}
	if diff := cmp.Diff(state{1, first}, see()); diff != "" {
		t.Errorf("after 100 requests within a minute: one Touch (-want +got):\n%s", diff)
	}
	clock.Advance(time.Minute)
	request(tok)
	if diff := cmp.Diff(state{2, clock.Now()}, see()); diff != "" {
		t.Errorf("a minute later: one more Touch (-want +got):\n%s", diff)
	}
	request(otherTok)
	if diff := cmp.Diff(state{3, clock.Now()}, see()); diff != "" {
		t.Errorf("another session's request: its own Touch (-want +got):\n%s", diff)
	}
}

// brokenSessions is a memory session store whose method named fail errs.
type brokenSessions struct {
	*authx.MemorySessionStore
	fail string
}

var errStoreDown = errors.New("session store down")

func (s *brokenSessions) err(method string) error {
	if s.fail == method {
		return errStoreDown
	}
	return nil
}

func (s *brokenSessions) Create(ctx context.Context, in authx.SessionInfo) error {
	if err := s.err("Create"); err != nil {
		return err
	}
	return s.MemorySessionStore.Create(ctx, in)
}

func (s *brokenSessions) Get(ctx context.Context, id string) (authx.SessionInfo, bool, error) {
	if err := s.err("Get"); err != nil {
		return authx.SessionInfo{}, false, err
	}
	return s.MemorySessionStore.Get(ctx, id)
}

func (s *brokenSessions) List(ctx context.Context, sub string) ([]authx.SessionInfo, error) {
	if err := s.err("List"); err != nil {
		return nil, err
	}
	return s.MemorySessionStore.List(ctx, sub)
}

func (s *brokenSessions) Touch(ctx context.Context, id string, at time.Time) error {
	if err := s.err("Touch"); err != nil {
		return err
	}
	return s.MemorySessionStore.Touch(ctx, id, at)
}

func (s *brokenSessions) Revoke(ctx context.Context, id string) error {
	if err := s.err("Revoke"); err != nil {
		return err
	}
	return s.MemorySessionStore.Revoke(ctx, id)
}

func (s *brokenSessions) RevokeAll(ctx context.Context, sub string) ([]string, error) {
	if err := s.err("RevokeAll"); err != nil {
		return nil, err
	}
	return s.MemorySessionStore.RevokeAll(ctx, sub)
}

func TestSessionStoreDown(t *testing.T) {
	t.Parallel()
	type outcome struct {
		Err    error // of the operation
		Access reply // of the session's token afterwards
	}
	tests := []struct {
		name      string
		fail      string // the store method that errs
		blockDown bool   // the blocklist cannot answer either
		op        func(ctx context.Context, a *authx.Auth[string], s authx.SessionInfo) error
		want      outcome
		reason    string
	}{
		{
			name: "Create", fail: "Create",
			op: func(ctx context.Context, a *authx.Auth[string], _ authx.SessionInfo) error {
				_, err := a.StartSession(ctx, nil, "alice", nil)
				return err
			},
			want: outcome{authx.ErrUnavailable, ok200}, reason: "no session recorded, no session started",
		},
		{
			name: "Get", fail: "Get",
			op: func(ctx context.Context, a *authx.Auth[string], s authx.SessionInfo) error {
				return a.RevokeSession(ctx, "alice", s.ID)
			},
			want: outcome{authx.ErrUnavailable, unavailable503}, reason: "ownership unknown: 503, not 404, and nothing revoked; the guard cannot confirm the session either, so it fails closed",
		},
		{
			name: "List", fail: "List",
			op: func(ctx context.Context, a *authx.Auth[string], _ authx.SessionInfo) error {
				_, err := a.Sessions(ctx, "alice")
				return err
			},
			want: outcome{authx.ErrUnavailable, ok200}, reason: "an empty list would be a lie",
		},
		{
			name: "RevokeAll", fail: "RevokeAll",
			op: func(ctx context.Context, a *authx.Auth[string], _ authx.SessionInfo) error {
				return a.RevokeAllSessions(ctx, "alice")
			},
			want: outcome{authx.ErrUnavailable, revoked401}, reason: "reported, but the blocklist, which decides access, was written first and holds the sids",
		},
		{
			name: "Revoke", fail: "Revoke",
			op: func(ctx context.Context, a *authx.Auth[string], s authx.SessionInfo) error {
				return a.RevokeSession(ctx, "alice", s.ID)
			},
			want: outcome{authx.ErrUnavailable, revoked401}, reason: "reported, but the blocklist, which decides access, already holds the sid",
		},
		{
			name: "Touch", fail: "Touch",
			op:   func(context.Context, *authx.Auth[string], authx.SessionInfo) error { return nil },
			want: outcome{nil, ok200}, reason: "last-active bookkeeping never denies a request",
		},
		{
			name: "blocklist, RevokeSession", blockDown: true,
			op: func(ctx context.Context, a *authx.Auth[string], s authx.SessionInfo) error {
				return a.RevokeSession(ctx, "alice", s.ID)
			},
			want: outcome{authx.ErrUnavailable, reply{http.StatusServiceUnavailable, "unavailable"}}, reason: "fail closed",
		},
		{
			name: "blocklist, RevokeAllSessions", blockDown: true,
			op: func(ctx context.Context, a *authx.Auth[string], _ authx.SessionInfo) error {
				return a.RevokeAllSessions(ctx, "alice")
			},
			want: outcome{authx.ErrUnavailable, reply{http.StatusServiceUnavailable, "unavailable"}}, reason: "fail closed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := authtest.NewClock(testNow)
			store := &brokenSessions{MemorySessionStore: authx.NewMemorySessionStore(clock.Now)}
			opts := []authx.Option{authx.WithClock(clock.Now), authx.WithSessionStore(store)}
			if tt.blockDown {
				opts = append(opts, authx.WithBlocklist(failingBlocklist{}))
			}
			a, _ := newAuth(t, opts...)
			s := startSession(t, a, "alice")
			tok := authtest.Token(t, a, "alice", authx.Session(s.ID))
			store.fail = tt.fail
			err := tt.op(t.Context(), a, s)
			got := outcome{Err: err}
			got.Access, _ = doReq(t, a.Require().Wrap(echo), withBearer(http.MethodGet, "/me", tok))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, diff)
			}
			if err != nil && authx.StatusOf(err) != http.StatusServiceUnavailable {
				t.Errorf("StatusOf(%v) = %d, want 503", err, authx.StatusOf(err))
			}
		})
	}
}

func TestSessionsNilAuth(t *testing.T) {
	t.Parallel()
	var a *authx.Auth[string]
	ctx := t.Context()
	_, errList := a.Sessions(ctx, "alice")
	errs := map[string]error{
		"Sessions":          errList,
		"RevokeSession":     a.RevokeSession(ctx, "alice", "id"),
		"RevokeAllSessions": a.RevokeAllSessions(ctx, "alice"),
	}
	for name, err := range errs {
		if !errors.Is(err, authx.ErrNotConfigured) {
			t.Errorf("nil Auth: %s = %v, want ErrNotConfigured", name, err)
		}
	}
}

// TestLogoutEndsSession: LogoutHandler ends the session of the token it is
// given, so it leaves the session list and its other tokens stop working.
func TestLogoutEndsSession(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	s := startSession(t, a, "alice")
	other := startSession(t, a, "alice")
	pair := authtest.Pair(t, a, "alice", authx.Session(s.ID))
	sibling := authtest.Token(t, a, "alice", authx.Session(s.ID)) // same session, another login's token
	keep := authtest.Token(t, a, "alice", authx.Session(other.ID))
	if got, _ := doReq(t, a.LogoutHandler(), withBearer(http.MethodPost, "/logout", pair.AccessToken)); got.Status != http.StatusNoContent {
		t.Fatalf("logout: %+v", got)
	}
	if diff := cmp.Diff([]string{other.ID}, sessionIDs(t, a, "alice")); diff != "" {
		t.Errorf("sessions after logout (-want +got):\n%s", diff)
	}
	guard := a.Require().Wrap(echo)
	if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", sibling)); got != revoked401 {
		t.Errorf("another token of the logged-out session: %+v, want %+v", got, revoked401)
	}
	if got, _ := doReq(t, guard, withBearer(http.MethodGet, "/me", keep)); got.Status != http.StatusOK {
		t.Errorf("a token of another session: %+v, want 200", got)
	}
}
