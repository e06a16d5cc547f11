package authx_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func authtestRequest(t *testing.T) *http.Request {
	t.Helper()
	return httptest.NewRequest(http.MethodGet, "/", nil)
}

// newAuth builds an Auth[string] on a fixed clock.
func newAuth(t *testing.T, opts ...authx.Option) (*authx.Auth[string], *authtest.Clock) {
	t.Helper()
	clock := authtest.NewClock(testNow)
	a, err := authx.New[string](append([]authx.Option{authx.WithSecret(secret32), authx.WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a, clock
}

// response is what a client sees of a guarded request.
type response struct {
	Status int
	WWW    string
	Body   string
}

// serve runs h on r through a real HTTP round trip.
func serve(t *testing.T, h http.Handler, r *http.Request) response {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	r.RequestURI = ""
	u := *r.URL
	r.URL = &u
	r.URL.Scheme, r.URL.Host = "http", strings.TrimPrefix(srv.URL, "http://")
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(string(body))}
}

// echo answers with the subject from the claims.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := authx.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, "hello "+c.Subject)
})

func TestIssuedClaims(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTokenLocations(authx.InHeader, authx.InCookie), authx.WithIssuer("iss"), authx.WithAudience("api"),
		withLiveSession(t, "s1", "alice"))
	pair := authtest.Pair(t, a, "alice", authx.Grant("r:read", "w:*"), authx.Claim("tenant", "acme"),
		authx.Session("s1"), authx.FreshLogin(), authx.ExpiresIn(time.Minute))
	access, err := a.Verify(t.Context(), pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := a.Verify(t.Context(), pair.RefreshToken, authx.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Sub, Iss, Type, SID string
		Aud, Scopes         []string
		Fresh               bool
		TTL                 time.Duration
		CSRFLen             int
		Data                map[string]any
	}
	see := func(c *authx.Claims) view {
		return view{c.Subject, c.Issuer, string(c.Type), c.SessionID, c.Audience, c.Scopes, c.Fresh,
			c.ExpiresAt.Sub(c.IssuedAt), len(c.CSRF), c.Data()}
	}
	wantAccess := view{"alice", "iss", "access", "s1", []string{"api"}, []string{"r:read", "w:*"}, true, time.Minute, 36, map[string]any{"tenant": "acme"}}
	wantRefresh := view{"alice", "iss", "refresh", "s1", []string{"api"}, []string{"r:read", "w:*"}, false, 20 * 24 * time.Hour, 36, map[string]any{"tenant": "acme"}}
	if diff := cmp.Diff(wantAccess, see(access)); diff != "" {
		t.Errorf("access claims (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRefresh, see(refresh)); diff != "" {
		t.Errorf("refresh claims (-want +got):\n%s", diff)
	}
	if access.ID == refresh.ID || access.CSRF == refresh.CSRF {
		t.Errorf("pair shares jti or csrf")
	}
	if access.FamilyID == "" || access.FamilyID != refresh.FamilyID {
		t.Errorf("family ids %q, %q: want one shared non-empty id", access.FamilyID, refresh.FamilyID)
	}
	if pair.TokenType != "bearer" || pair.ExpiresIn != 60 {
		t.Errorf("pair = %+v", pair)
	}
	body, _ := json.Marshal(pair)
	var keys map[string]any
	_ = json.Unmarshal(body, &keys)
	if diff := cmp.Diff([]string{"access_token", "expires_in", "refresh_token", "token_type"}, sortedMapKeys(keys)); diff != "" {
		t.Errorf("pair JSON keys (-want +got):\n%s", diff)
	}
}

func sortedMapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestTokenOptionErrors(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	tests := []struct {
		name string
		sub  string
		opts []authx.TokenOption
	}{
		{"empty subject", "", nil},
		{"reserved claim", "a", []authx.TokenOption{authx.Claim("sub", "x")}},
		{"reserved claim, other case", "a", []authx.TokenOption{authx.Claim("EXP", 1)}},
		{"authx claim", "a", []authx.TokenOption{authx.Claim("scopes", []string{"x"})}},
		{"ours: sid", "a", []authx.TokenOption{authx.Data(map[string]any{"sid": "x"})}},
		{"unencodable claim", "a", []authx.TokenOption{authx.Claim("f", func() {})}},
		{"empty claim name", "a", []authx.TokenOption{authx.Claim("", 1)}},
		{"reserved header alg", "a", []authx.TokenOption{authx.ExtraHeader("alg", "none")}},
		{"reserved header jku", "a", []authx.TokenOption{authx.ExtraHeader("JKU", "https://x")}},
		{"header given twice", "a", []authx.TokenOption{authx.ExtraHeader("x-tenant", "a"), authx.ExtraHeader("x-tenant", "b")}},
		{"invalid scope", "a", []authx.TokenOption{authx.Grant("a b")}},
		{"negative ExpiresIn", "a", []authx.TokenOption{authx.ExpiresIn(-time.Second)}},
		{"empty audience", "a", []authx.TokenOption{authx.ForAudience()}},
		{"nil option", "a", []authx.TokenOption{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := a.CreateAccessToken(tt.sub, tt.opts...); !errors.Is(err, authx.ErrTokenOption) {
				t.Errorf("CreateAccessToken error = %v, want ErrTokenOption", err)
			}
		})
	}
	if _, err := a.CreateTokenPair("a", authx.TokenID("x")); !errors.Is(err, authx.ErrTokenOption) {
		t.Errorf("CreateTokenPair with TokenID: %v, want ErrTokenOption", err)
	}
}

// TestTokenDateBounds: an Auth never mints a token it cannot verify. A
// date outside the NumericDate range (1970 to 9999-12-31T23:59:59Z), from
// ExpiresAt, ValidFrom or a clock, is an ErrTokenOption error at issue
// time; dates inside it make tokens that verify (or are merely expired).
func TestTokenDateBounds(t *testing.T) {
	t.Parallel()
	last := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name       string
		clock      time.Time // zero: testNow
		opts       []authx.TokenOption
		wantErr    error // from CreateAccessToken
		wantVerify error // from Verify of the token, when issued
		reason     string
	}{
		{name: "ExpiresAt before 1970", opts: []authx.TokenOption{authx.ExpiresAt(time.Unix(-1, 0))}, wantErr: authx.ErrTokenOption, reason: "a negative exp is malformed"},
		{name: "ExpiresAt a nanosecond before 1970", opts: []authx.TokenOption{authx.ExpiresAt(time.Unix(0, -1))}, wantErr: authx.ErrTokenOption, reason: "written as -1"},
		{name: "ExpiresAt in year 1", opts: []authx.TokenOption{authx.ExpiresAt(time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC))}, wantErr: authx.ErrTokenOption, reason: "not the zero time, still before 1970"},
		{name: "ExpiresAt in year 10000", opts: []authx.TokenOption{authx.ExpiresAt(last.Add(time.Second))}, wantErr: authx.ErrTokenOption, reason: "past the last NumericDate"},
		{name: "ValidFrom before 1970", opts: []authx.TokenOption{authx.ValidFrom(time.Unix(-86400, 0))}, wantErr: authx.ErrTokenOption, reason: "a negative nbf is malformed"},
		{name: "ValidFrom in year 10000", opts: []authx.TokenOption{authx.ValidFrom(last.Add(time.Second))}, wantErr: authx.ErrTokenOption, reason: "past the last NumericDate"},
		{name: "clock in 9999, exp past it", clock: last.Add(-time.Minute), wantErr: authx.ErrTokenOption, reason: "now + 15 minutes is past the last NumericDate"},
		{name: "ok: ExpiresAt the last second", opts: []authx.TokenOption{authx.ExpiresAt(last)}, reason: "in range"},
		{name: "ok: ExpiresAt the epoch", opts: []authx.TokenOption{authx.ExpiresAt(time.Unix(0, 0))}, wantVerify: authx.ErrExpired, reason: "in range, and long expired"},
		{name: "ok: ValidFrom the epoch", opts: []authx.TokenOption{authx.ValidFrom(time.Unix(0, 0))}, reason: "in range"},
		{name: "ok: clock in 9999, ExpiresAt the last second", clock: last.Add(-time.Minute), opts: []authx.TokenOption{authx.ExpiresAt(last)}, reason: "iat and exp in range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.clock
			if now.IsZero() {
				now = testNow
			}
			a, err := authx.New[string](authx.WithSecret(secret32), authx.WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := a.CreateAccessToken("alice", tt.opts...)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("CreateAccessToken error (-want +got):\n%s\n%s", diff, tt.reason)
			}
			if err != nil {
				return
			}
			_, err = a.Verify(t.Context(), tok)
			if diff := cmp.Diff(tt.wantVerify, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Verify of the issued token (-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}

func TestExtraHeaderAndAudience(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithAudience("api", "admin"))
	tok := authtest.Token(t, a, "alice", authx.ExtraHeader("x-tenant", "acme"))
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if got, want := string(hdr), `{"alg":"HS256","typ":"JWT","x-tenant":"acme"}`; got != want {
		t.Errorf("header = %s, want %s", got, want)
	}
	if _, err := a.Verify(t.Context(), tok); err != nil {
		t.Errorf("token with extra header: %v", err)
	}
	other := authtest.Token(t, a, "alice", authx.ForAudience("billing"))
	if _, err := a.Verify(t.Context(), other); !errors.Is(err, authx.ErrAudience) || !errors.Is(err, jwt.ErrTokenInvalidAudience) {
		t.Errorf("token for another audience: %v, want ErrAudience and jwt.ErrTokenInvalidAudience", err)
	}
	admin := authtest.Token(t, a, "alice", authx.ForAudience("admin"))
	if _, err := a.Verify(t.Context(), admin); err != nil {
		t.Errorf("token for one of the audiences: %v", err)
	}
}

func TestLocations(t *testing.T) {
	t.Parallel()
	all := authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery, authx.InJSON)
	a, _ := newAuth(t, all)
	access := authtest.Token(t, a, "alice")
	refresh := authtest.RefreshToken(t, a, "alice")
	accessGuard := a.Require().Wrap(echo)
	refreshGuard := a.Require(authx.Refresh).Wrap(echo)
	tests := []struct {
		name   string
		loc    authx.Location
		method string
		tok    string
		guard  http.Handler
		want   int
	}{
		{"header", authx.InHeader, "GET", access, accessGuard, 200},
		{"cookie GET", authx.InCookie, "GET", access, accessGuard, 200},
		{"query", authx.InQuery, "GET", access, accessGuard, 200},
		{"json POST", authx.InJSON, "POST", access, accessGuard, 200},
		{"refresh in header", authx.InHeader, "POST", refresh, refreshGuard, 200},
		{"refresh in cookie GET", authx.InCookie, "GET", refresh, refreshGuard, 200},
		{"refresh in query", authx.InQuery, "POST", refresh, refreshGuard, 200},
		{"refresh in json", authx.InJSON, "POST", refresh, refreshGuard, 200},
		{"refresh at access guard, header", authx.InHeader, "GET", refresh, accessGuard, 401},
		{"refresh at access guard, query", authx.InQuery, "GET", refresh, accessGuard, 401},
		{"access at refresh guard, query", authx.InQuery, "POST", access, refreshGuard, 401},
		{"access at refresh guard, json", authx.InJSON, "POST", access, refreshGuard, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := authtest.Request(t, a, tt.loc, tt.method, "/x", tt.tok)
			got := serve(t, tt.guard, r)
			if got.Status != tt.want {
				t.Errorf("status = %d (%s), want %d", got.Status, got.Body, tt.want)
			}
		})
	}
}

func TestJSONBodyRestored(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTokenLocations(authx.InJSON))
	tok := authtest.Token(t, a, "alice")
	body := `{"access_token":"` + tok + `","amount":42}`
	var seen string
	h := a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = string(b)
	}))
	r := httptest.NewRequest("POST", "/pay", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	if got := serve(t, h, r); got.Status != 200 {
		t.Fatalf("status %d: %s", got.Status, got.Body)
	}
	if seen != body {
		t.Errorf("handler read %q, want the original body", seen)
	}
}

func TestLookupOrder(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTokenLocations(authx.InCookie, authx.InHeader))
	good := authtest.Token(t, a, "cookie-user")
	other := authtest.Token(t, a, "header-user")
	r := authtest.Request(t, a, authx.InCookie, "GET", "/", good)
	r.Header.Set("Authorization", "Bearer "+other)
	if got := serve(t, a.Require().Wrap(echo), r); got.Body != "hello cookie-user" {
		t.Errorf("got %+v, want the cookie (first location) to win", got)
	}
}

func TestForeignSchemeOfAnySize(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTokenLocations(authx.InHeader, authx.InCookie))
	r := authtest.Request(t, a, authx.InCookie, "GET", "/", authtest.Token(t, a, "alice"))
	// A Kerberos ticket is long and not ours: lookup moves on to the cookie.
	r.Header.Set("Authorization", "Negotiate "+strings.Repeat("A", 9000))
	if got := serve(t, a.Require().Wrap(echo), r); got.Status != 200 {
		t.Errorf("got %+v, want 200 from the cookie token", got)
	}
}

func TestPolicies(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	denyWith := func(err error) authx.Policy {
		return authx.PolicyFunc(func(context.Context, *authx.Claims) error { return err })
	}
	tests := []struct {
		name       string
		grant      []string
		fresh      bool
		policies   []authx.Policy
		wantStatus int
		wantWWW    string
		wantString string
	}{
		{"no policy", nil, false, nil, 200, "", "All(Access)"},
		{"exact scope", []string{"reports:read"}, false, []authx.Policy{authx.Scopes("reports:read")}, 200, "", `All(Access, Scopes("reports:read"))`},
		{"namespace wildcard", []string{"admin:*"}, false, []authx.Policy{authx.Scopes("admin:users:edit", "admin")}, 200, "", `All(Access, Scopes("admin:users:edit", "admin"))`},
		{"wildcard is not a prefix", []string{"admin:*"}, false, []authx.Policy{authx.Scopes("administrator")}, 403,
			`Bearer realm="api", error="insufficient_scope", scope="administrator"`, `All(Access, Scopes("administrator"))`},
		{"AND needs both", []string{"read"}, false, []authx.Policy{authx.Scopes("read", "write")}, 403,
			`Bearer realm="api", error="insufficient_scope", scope="read write"`, `All(Access, Scopes("read", "write"))`},
		{"no scopes claim", nil, false, []authx.Policy{authx.Scopes("read")}, 403,
			`Bearer realm="api", error="insufficient_scope", scope="read"`, `All(Access, Scopes("read"))`},
		{"Any merges scopes", []string{"x"}, false, []authx.Policy{authx.Any(authx.Scopes("a"), authx.Scopes("b"))}, 403,
			`Bearer realm="api", error="insufficient_scope", scope="a b"`, `All(Access, Any(Scopes("a"), Scopes("b")))`},
		{"Any second allows", []string{"b"}, false, []authx.Policy{authx.Any(authx.Scopes("a"), authx.Scopes("b"))}, 200, "", `All(Access, Any(Scopes("a"), Scopes("b")))`},
		{"Any() denies", nil, false, []authx.Policy{authx.Any()}, 403, "", "All(Access, Any())"},
		{"All() allows", nil, false, []authx.Policy{authx.All()}, 200, "", "All(Access, All())"},
		{"explicit Access", nil, false, []authx.Policy{authx.Access}, 200, "", "All(Access)"},
		{"Fresh denies stale", nil, false, []authx.Policy{authx.Fresh}, 401, `Bearer realm="api", error="invalid_token"`, "All(Access, Fresh)"},
		{"Fresh allows fresh", nil, true, []authx.Policy{authx.Fresh}, 200, "", "All(Access, Fresh)"},
		{"PolicyFunc ErrForbidden", nil, false, []authx.Policy{denyWith(authx.ErrForbidden)}, 403, "", "All(Access, PolicyFunc)"},
		{"PolicyFunc unknown error fails closed", nil, false, []authx.Policy{denyWith(errors.New("db: boom"))}, 403, "", "All(Access, PolicyFunc)"},
		{"PolicyFunc ErrUnavailable", nil, false, []authx.Policy{denyWith(authx.ErrUnavailable)}, 503, "", "All(Access, PolicyFunc)"},
		{"Any reports outage over denial", []string{"x"}, false, []authx.Policy{authx.Any(authx.Scopes("a"), denyWith(authx.ErrUnavailable))}, 503, "", `All(Access, Any(Scopes("a"), PolicyFunc))`},
		{"PolicyFunc allows", nil, false, []authx.Policy{denyWith(nil)}, 200, "", "All(Access, PolicyFunc)"},
		{"bad pattern denies with 500", []string{"a b"}, false, []authx.Policy{authx.Scopes("a b")}, 500, "", `All(Access, Scopes("a b"))`},
		{"star alone is refused", []string{"x"}, false, []authx.Policy{authx.Scopes("*")}, 500, "", `All(Access, Scopes("*"))`},
		{"nil policy", nil, false, []authx.Policy{nil}, 500, "", "All(Access, nil)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := []authx.TokenOption{}
			if tt.grant != nil {
				opts = append(opts, authx.Grant(tt.grant...))
			}
			if tt.fresh {
				opts = append(opts, authx.FreshLogin())
			}
			if tt.name == "bad pattern denies with 500" {
				opts = nil // "a b" cannot be granted either
			}
			tok := authtest.Token(t, a, "alice", opts...)
			if tt.wantStatus == 500 { // a mistake in the arguments: a panic at start-up, or TryRequire's error
				msg := panicMessage(func() { a.Require(tt.policies...) })
				if !strings.HasPrefix(msg, "authx: Require(") {
					t.Errorf("Require panicked with %q, want a message naming Require and the mistake", msg)
				}
				g, err := a.TryRequire(tt.policies...)
				if g != nil || !errors.Is(err, authx.ErrMisconfigured) {
					t.Errorf("TryRequire = %v, %v; want nil, ErrMisconfigured", g, err)
				}
				if _, err := a.Verify(t.Context(), tok, tt.policies...); authx.StatusOf(err) != 500 {
					t.Errorf("Verify with the policies: %v, want 500", err)
				}
				return
			}
			g := a.Require(tt.policies...)
			if got := g.String(); got != tt.wantString {
				t.Errorf("String() = %s, want %s", got, tt.wantString)
			}
			if g.Err() != nil {
				t.Errorf("Err() = %v", g.Err())
			}
			got := serve(t, g.Wrap(echo), authtest.Request(t, a, authx.InHeader, "GET", "/", tok))
			if got.Status != tt.wantStatus || got.WWW != tt.wantWWW {
				t.Errorf("got %d %q (%s), want %d %q", got.Status, got.WWW, got.Body, tt.wantStatus, tt.wantWWW)
			}
			if strings.Contains(got.Body, "boom") {
				t.Errorf("body leaks internal error text: %s", got.Body)
			}
		})
	}
}

func TestSubjectResolution(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	type ctxKey struct{}
	get := func(ctx context.Context, c *authx.Claims) (userT, error) {
		calls.Add(1)
		switch c.Subject {
		case "alice":
			if ctx.Value(ctxKey{}) != "request-scoped" {
				return userT{}, errors.New("getter did not get the request context")
			}
			return userT{Name: "Alice"}, nil
		case "ghost":
			return userT{}, authx.ErrSubjectNotFound
		}
		return userT{}, errors.New("db down")
	}
	clock := authtest.NewClock(testNow)
	a, err := authx.New[userT](authx.WithSecret(secret32), authx.WithClock(clock.Now), authx.WithSubjectGetter(get))
	if err != nil {
		t.Fatal(err)
	}
	withValue := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "request-scoped")))
		})
	}
	twice := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u1, ok1 := authx.SubjectFrom[userT](r.Context())
		u2, ok2 := authx.SubjectFrom[userT](r.Context())
		_, okOther := authx.SubjectFrom[string](r.Context())
		if !ok1 || !ok2 || u1 != u2 || okOther {
			t.Errorf("SubjectFrom: %v %v %v %v %v", u1, ok1, u2, ok2, okOther)
		}
		io.WriteString(w, u1.Name)
	})
	lazy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "no subject needed") })

	calls.Store(0)
	if got := serve(t, withValue(a.Require().Wrap(twice)), authtest.Request(t, a, authx.InHeader, "GET", "/", authtest.Token(t, a, "alice"))); got.Body != "Alice" {
		t.Errorf("got %+v", got)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("getter called %d times for two SubjectFrom calls, want 1", n)
	}
	calls.Store(0)
	serve(t, a.Require().Wrap(lazy), authtest.Request(t, a, authx.InHeader, "GET", "/", authtest.Token(t, a, "alice")))
	if n := calls.Load(); n != 0 {
		t.Errorf("getter called %d times when nobody asked, want 0 (lazy)", n)
	}
	known := a.Require(a.KnownSubject())
	for sub, want := range map[string]int{"ghost": 401, "broken": 503} {
		got := serve(t, known.Wrap(lazy), authtest.Request(t, a, authx.InHeader, "GET", "/", authtest.Token(t, a, sub)))
		if got.Status != want || strings.Contains(got.Body, "db down") {
			t.Errorf("%s: got %+v, want status %d without internal text", sub, got, want)
		}
	}
	if _, err := a.Subject(t.Context()); !errors.Is(err, authx.ErrNoToken) {
		t.Errorf("Subject outside a guarded request: %v, want ErrNoToken", err)
	}
	// A context carrying another subject type is a programming error.
	ctx := authx.NewContext(t.Context(), &authx.Claims{Subject: "x"}, "a string subject")
	if _, err := a.Subject(ctx); !errors.Is(err, authx.ErrMisconfigured) {
		t.Errorf("Subject with a string context: %v", err)
	}
}

func TestStringSubjectWithoutGetter(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	h := a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.Subject(r.Context())
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		io.WriteString(w, s)
	}))
	if got := serve(t, h, authtest.Request(t, a, authx.InHeader, "GET", "/", authtest.Token(t, a, "alice"))); got.Body != "alice" {
		t.Errorf("got %+v, want the sub as subject", got)
	}
}

// failingBlocklist cannot answer.
type failingBlocklist struct{}

func (failingBlocklist) Revoke(context.Context, string, time.Time) error {
	return errors.New("redis: down")
}
func (failingBlocklist) IsRevoked(context.Context, ...string) (bool, error) {
	return false, errors.New("redis: down")
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t)
	tok := authtest.Token(t, a, "alice")
	c, err := a.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Revoke(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got := serve(t, a.Require().Wrap(echo), authtest.Request(t, a, authx.InHeader, "GET", "/", tok))
	if diff := cmp.Diff(response{401, `Bearer realm="api", error="invalid_token"`, `{"code":"token_revoked","message":"The token has been revoked."}`}, got); diff != "" {
		t.Errorf("revoked token (-want +got):\n%s", diff)
	}
	if _, err := a.Verify(t.Context(), tok); !errors.Is(err, authx.ErrRevoked) {
		t.Errorf("Verify revoked: %v", err)
	}
	other := authtest.Token(t, a, "alice")
	if _, err := a.Verify(t.Context(), other); err != nil {
		t.Errorf("another token of the same user: %v", err)
	}

	// Entries lapse with the token.
	bl := authx.NewMemoryBlocklist(clock.Now)
	_ = bl.Revoke(t.Context(), "j1", clock.Now().Add(time.Minute))
	clock.Advance(2 * time.Minute)
	if revoked, _ := bl.IsRevoked(t.Context(), "j1"); revoked {
		t.Errorf("entry still revoked after its expiry")
	}

	// A blocklist that cannot answer denies with 503: fail closed.
	var logs bytes.Buffer
	down, _ := newAuth(t, authx.WithBlocklist(failingBlocklist{}), authx.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	dtok := authtest.Token(t, down, "alice")
	got = serve(t, down.Require().Wrap(echo), authtest.Request(t, down, authx.InHeader, "GET", "/", dtok))
	if got.Status != 503 || strings.Contains(got.Body, "redis") {
		t.Errorf("blocklist down: got %+v, want 503 without internal text", got)
	}
	if !strings.Contains(logs.String(), "redis: down") || strings.Contains(logs.String(), dtok) {
		t.Errorf("log should hold the cause and never the token: %s", logs.String())
	}
	if _, err := down.Verify(t.Context(), dtok); !errors.Is(err, authx.ErrUnavailable) {
		t.Errorf("Verify with blocklist down: %v", err)
	}
}

func TestErrorHandlerAndStatusOf(t *testing.T) {
	t.Parallel()
	var gotErr error
	a, _ := newAuth(t, authx.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		gotErr = err
		w.WriteHeader(authx.StatusOf(err))
	}))
	got := serve(t, a.Require().Wrap(echo), authtest.Request(t, a, authx.InHeader, "GET", "/", authtest.ExpiredToken(t, a, "alice")))
	if got.Status != 401 || !errors.Is(gotErr, authx.ErrExpired) || !errors.Is(gotErr, jwt.ErrTokenExpired) {
		t.Errorf("custom handler saw %v, status %d", gotErr, got.Status)
	}
	var e *authx.Error
	if !errors.As(gotErr, &e) || e.Code != "token_expired" {
		t.Errorf("errors.As: %#v", e)
	}
	for sentinel, want := range map[error]int{
		authx.ErrNoToken: 401, authx.ErrExpired: 401, authx.ErrRevoked: 401, authx.ErrInsufficientScope: 403,
		authx.ErrCSRFMissing: 403, authx.ErrUnavailable: 503, authx.ErrInvalidRequest: 400, authx.ErrTokenTooLarge: 400,
		errors.New("other"): 500, nil: 200,
	} {
		if got := authx.StatusOf(sentinel); got != want {
			t.Errorf("StatusOf(%v) = %d, want %d", sentinel, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	g := a.Require(authx.Scopes("x"))
	c, err := g.Check(authtest.Request(t, a, authx.InHeader, "GET", "/", authtest.Token(t, a, "alice", authx.Grant("x"))))
	if err != nil || c.Subject != "alice" {
		t.Errorf("Check = %v, %v", c, err)
	}
	_, err = g.Check(authtest.Request(t, a, authx.InHeader, "GET", "/", authtest.Token(t, a, "alice")))
	if !errors.Is(err, authx.ErrInsufficientScope) {
		t.Errorf("Check without scope: %v", err)
	}
}

// panicMessage runs f and returns what it panicked with, "" if it did not.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// A mistake in a guard's literal arguments cannot go unnoticed: Require and
// Optional panic at start-up with a message naming it (as ServeMux.Handle
// does for a bad pattern); TryRequire and TryOptional return it.
func TestRequirePanics(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	for _, tt := range []struct {
		name string
		f    func()
		want string
	}{
		{"misplaced star", func() { a.Require(authx.Scopes("admin*")) },
			`authx: Require(Scopes("admin*")): Scopes("admin*"): "*" is allowed only as a whole last segment ("ns:*")`},
		{"no pattern", func() { a.Require(authx.Scopes()) }, `authx: Require(Scopes()): Scopes() needs at least one pattern`},
		{"nil policy", func() { a.Optional(authx.Fresh, nil) }, `authx: Optional(Fresh, nil): nil policy`},
	} {
		if got := panicMessage(tt.f); got != tt.want {
			t.Errorf("%s: panicked with %q, want %q", tt.name, got, tt.want)
		}
	}
	if g, err := a.TryOptional(authx.Scopes("admin*")); g != nil || !errors.Is(err, authx.ErrMisconfigured) {
		t.Errorf("TryOptional = %v, %v; want nil, ErrMisconfigured", g, err)
	}
	if g, err := a.TryRequire(authx.Scopes("admin:*")); g == nil || err != nil {
		t.Errorf("TryRequire of a good policy = %v, %v", g, err)
	}
	var unconfigured *authx.Auth[string]
	if g, err := unconfigured.TryRequire(); g != nil || !errors.Is(err, authx.ErrNotConfigured) {
		t.Errorf("TryRequire on a nil Auth = %v, %v; want nil, ErrNotConfigured", g, err)
	}
	if msg := panicMessage(func() { unconfigured.Require() }); msg != "" {
		t.Errorf("Require on a nil Auth panicked (%q): it must build a guard that denies", msg)
	}
}

// A misconfiguration seen only at request time is logged at Error through
// slog.Default when no WithLogger is given: it cannot go unnoticed. (Not
// parallel: it swaps the process's default logger.)
func TestRequestTimeMisconfigurationIsLogged(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	broken := authx.PolicyFunc(func(context.Context, *authx.Claims) error { return authx.ErrMisconfigured })

	a, _ := newAuth(t)
	tok := authtest.Token(t, a, "alice")
	if got := serve(t, a.Require(broken).Wrap(echo), withBearer("GET", "/misconfigured", tok)); got.Status != 500 {
		t.Fatalf("status %d, want 500", got.Status)
	}
	out := logs.String()
	for _, want := range []string{"level=ERROR", `msg="authx: request denied"`, "code=misconfigured", "path=/misconfigured"} {
		if !strings.Contains(out, want) {
			t.Errorf("slog.Default got %q, want it to contain %s", out, want)
		}
	}
	if strings.Contains(out, tok) {
		t.Error("the log carries the token")
	}

	logs.Reset()
	var own bytes.Buffer
	b, _ := newAuth(t, authx.WithLogger(slog.New(slog.NewTextHandler(&own, nil))))
	serve(t, b.Require(broken).Wrap(echo), withBearer("GET", "/misconfigured", authtest.Token(t, b, "alice")))
	if logs.Len() != 0 || !strings.Contains(own.String(), "code=misconfigured") {
		t.Errorf("with WithLogger: default got %q, own got %q; want only the own logger", logs.String(), own.String())
	}
	logs.Reset()
	serve(t, a.Require().Wrap(echo), withBearer("GET", "/", "not-a-token"))
	if logs.Len() != 0 {
		t.Errorf("a denial (401) reached slog.Default: %q; only errors should", logs.String())
	}
}

// A guard's denial is byte for byte what WriteError writes, for every
// sentinel, whether it comes from the responses built at New or is
// written afresh.
func TestDenialsAsWriteErrorWrites(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithRealm("shop"))
	tok := authtest.Token(t, a, "alice")
	for _, sentinel := range []error{authx.ErrNoToken, authx.ErrTokenTooLarge, authx.ErrInvalidRequest, authx.ErrMalformed, authx.ErrAlgorithm,
		authx.ErrUnknownKey, authx.ErrSignature, authx.ErrLoginType, authx.ErrMissingClaim, authx.ErrExpired, authx.ErrNotYetValid,
		authx.ErrIssuedInFuture, authx.ErrIssuer, authx.ErrAudience, authx.ErrRevoked, authx.ErrAccessRequired, authx.ErrRefreshRequired,
		authx.ErrNotFresh, authx.ErrRefreshReused, authx.ErrInsufficientScope, authx.ErrForbidden, authx.ErrCrossOrigin, authx.ErrCSRFMissing,
		authx.ErrCSRFMismatch, authx.ErrMethodNotAllowed, authx.ErrSessionNotFound, authx.ErrRateLimited, authx.ErrSubjectNotFound,
		authx.ErrUnavailable, authx.ErrMisconfigured, authx.ErrNotConfigured} {
		deny := authx.PolicyFunc(func(context.Context, *authx.Claims) error { return sentinel })
		got := httptest.NewRecorder()
		a.Require(deny).Wrap(echo).ServeHTTP(got, withBearer("GET", "/", tok))
		want := httptest.NewRecorder()
		_, cerr := a.Require(deny).Check(withBearer("GET", "/", tok))
		authx.WriteError(want, "shop", cerr)
		if got.Code != want.Code || got.Body.String() != want.Body.String() {
			t.Errorf("%v: %d %q, want %d %q", sentinel, got.Code, got.Body, want.Code, want.Body)
		}
		if diff := cmp.Diff(want.Header(), got.Header()); diff != "" {
			t.Errorf("%v: headers (-WriteError +guard)\n%s", sentinel, diff)
		}
	}
}
