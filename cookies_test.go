package authx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// This file tests the token and CSRF cookies and the CSRF layers; its
// helpers (a site behind a real server, calls, outcomes) serve
// refresh_test.go too.

// sessionSentinels are every authx sentinel; a test server's error handler
// names the one an error matches (errors.Is) so clients can compare errors.
var sessionSentinels = []error{
	authx.ErrNoToken, authx.ErrTokenTooLarge, authx.ErrInvalidRequest, authx.ErrMalformed,
	authx.ErrAlgorithm, authx.ErrUnknownKey, authx.ErrSignature, authx.ErrMissingClaim,
	authx.ErrExpired, authx.ErrNotYetValid, authx.ErrIssuedInFuture, authx.ErrIssuer,
	authx.ErrAudience, authx.ErrRevoked, authx.ErrAccessRequired, authx.ErrRefreshRequired,
	authx.ErrNotFresh, authx.ErrRefreshReused, authx.ErrInsufficientScope, authx.ErrForbidden,
	authx.ErrCrossOrigin, authx.ErrCSRFMissing, authx.ErrCSRFMismatch, authx.ErrSubjectNotFound,
	authx.ErrUnavailable, authx.ErrMisconfigured, authx.ErrNotConfigured, authx.ErrConfig,
	authx.ErrTokenOption, authx.ErrNoSigningKey,
}

const sentinelHeader = "X-Test-Sentinel"

// reportSentinel answers errors as authx does by default, plus a header
// naming the sentinel the error matches.
func reportSentinel() authx.Option {
	return authx.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		for i, s := range sessionSentinels {
			if errors.Is(err, s) {
				w.Header().Set(sentinelHeader, strconv.Itoa(i))
				break
			}
		}
		authx.WriteError(w, "api", err)
	})
}

// site is an Auth on the fixed clock behind a real server with the session
// endpoints. Guards look in the header, then the cookie; cookies go over
// plain HTTP so that a cookie jar sends them to the test server.
type site struct {
	a     *authx.Auth[string]
	clock *authtest.Clock
	srv   *httptest.Server
	// reader is configured like a, with a blocklist of its own: it reads
	// the claims of new tokens even when a's blocklist is down.
	reader *authx.Auth[string]
}

// loginOpts are the token options of every login: a fresh token with a
// scope and a custom claim, which refreshes must carry over.
var loginOpts = []authx.TokenOption{authx.FreshLogin(), authx.Grant("reports:read"), authx.Claim("tenant", "acme")}

// newSite starts a site. Routes:
//
//	POST /login      sets the four cookies of a new login
//	/me, /other      a.Require() echoing the subject
//	/reports         a.Require(Scopes("reports:read"))
//	/form            a.Require(), echoing the form field "amount"
//	/open            unguarded, writes 201 and flushes at once
//	/auth/refresh    a.RefreshHandler()
//	/auth/logout     a.LogoutHandler()
func newSite(t *testing.T, opts ...authx.Option) *site {
	t.Helper()
	return startSite(t, nil, opts...)
}

// startSite starts a site whose whole mux is wrapped in a.ImplicitRefresh(*ic)
// when ic is not nil.
func startSite(t *testing.T, ic *authx.ImplicitRefreshConfig, opts ...authx.Option) *site {
	t.Helper()
	base := []authx.Option{
		authx.WithTokenLocations(authx.InHeader, authx.InCookie),
		authx.WithCookies(authx.CookieConfig{InsecureNoSecure: true}),
		reportSentinel(),
	}
	a, clock := newAuth(t, append(base, opts...)...)
	reader, err := authx.New[string](append([]authx.Option{authx.WithSecret(secret32), authx.WithClock(clock.Now)},
		append(append(base, opts...), authx.WithBlocklist(authx.NewMemoryBlocklist(clock.Now)))...)...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		pair, err := a.CreateTokenPair("alice", loginOpts...)
		if err == nil {
			err = a.SetTokenCookies(w, pair)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/me", a.Require().Wrap(echo))
	mux.Handle("/other", a.Require().Wrap(echo))
	mux.Handle("/reports", a.Require(authx.Scopes("reports:read")).Wrap(echo))
	mux.Handle("/form", a.Require().WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "amount="+r.PostFormValue("amount"))
	}))
	mux.HandleFunc("/open", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		http.NewResponseController(w).Flush()
		io.WriteString(w, "open")
	})
	mux.Handle("/auth/refresh", a.RefreshHandler())
	mux.Handle("/auth/logout", a.LogoutHandler())
	var h http.Handler = mux
	if ic != nil {
		h = a.ImplicitRefresh(*ic)(h)
	}
	srv := httptest.NewServer(noPanic(h))
	t.Cleanup(srv.Close)
	return &site{a: a, clock: clock, srv: srv, reader: reader}
}

// noPanic turns a panic in h into a 599 response, which no test expects.
func noPanic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				w.WriteHeader(599)
				fmt.Fprintf(w, "panic: %v", p)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// browser returns a client with its own cookie jar, as a browser tab.
func (s *site) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: s.srv.Client().Transport, Jar: jar}
}

// jarCookie returns the value of the cookie name that client would send to path.
func (s *site) jarCookie(client *http.Client, path, name string) string {
	u, _ := url.Parse(s.srv.URL + path)
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// host is the site's host:port, as a same-origin browser names it.
func (s *site) host() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// login is a pair minted by a site, with its verified claims.
type login struct {
	pair            *authx.TokenPair
	access, refresh *authx.Claims
}

// login mints a pair for alice (loginOpts unless opts are given).
func (s *site) login(t *testing.T, opts ...authx.TokenOption) login {
	t.Helper()
	if opts == nil {
		opts = loginOpts
	}
	pair := authtest.Pair(t, s.a, "alice", opts...)
	reader := s.reader
	if reader == nil {
		reader = s.a
	}
	ac, err := reader.Verify(t.Context(), pair.AccessToken)
	if err != nil {
		t.Fatalf("verifying the new access token: %v", err)
	}
	rc, err := reader.Verify(t.Context(), pair.RefreshToken, authx.Refresh)
	if err != nil {
		t.Fatalf("verifying the new refresh token: %v", err)
	}
	return login{pair: pair, access: ac, refresh: rc}
}

// accessCookies are the access token cookie and its CSRF cookie, as a browser sends them.
func (l login) accessCookies() []*http.Cookie {
	return []*http.Cookie{{Name: "access_token_cookie", Value: l.pair.AccessToken}, {Name: "csrf_access_token", Value: l.access.CSRF}}
}

// refreshCookies are the refresh token cookie and its CSRF cookie.
func (l login) refreshCookies() []*http.Cookie {
	return []*http.Cookie{{Name: "refresh_token_cookie", Value: l.pair.RefreshToken}, {Name: "csrf_refresh_token", Value: l.refresh.CSRF}}
}

// hdr builds a header map from name, value pairs.
func hdr(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// call is one request to a site.
type call struct {
	method  string            // default GET
	path    string            // default /me
	header  map[string]string // set as given: an empty value is sent empty
	cookies []*http.Cookie    // sent besides a jar's
	ctype   string
	body    string
}

// exchange is what a client sees of a response.
type exchange struct {
	Status  int
	Err     error // the sentinel of an error response, nil for success
	Body    string
	Cookies []*http.Cookie
	Header  http.Header
}

// outcome is the part of an exchange most rows compare.
type outcome struct {
	Status int
	Err    error
}

func (x exchange) outcome() outcome { return outcome{x.Status, x.Err} }

// cookie returns the Set-Cookie of name, or nil.
func (x exchange) cookie(name string) *http.Cookie {
	for _, c := range x.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// roundTrip sends c with client (nil: a client without cookie jar). It is
// safe to call from any goroutine.
func (s *site) roundTrip(client *http.Client, c call) (exchange, error) {
	method, path := c.method, c.path
	if method == "" {
		method = http.MethodGet
	}
	if path == "" {
		path = "/me"
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r, err := http.NewRequestWithContext(context.Background(), method, s.srv.URL+path, body)
	if err != nil {
		return exchange{}, err
	}
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	if c.ctype != "" {
		r.Header.Set("Content-Type", c.ctype)
	}
	for _, ck := range c.cookies {
		r.AddCookie(ck)
	}
	if client == nil {
		client = s.srv.Client()
	}
	resp, err := client.Do(r)
	if err != nil {
		return exchange{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return exchange{}, err
	}
	x := exchange{Status: resp.StatusCode, Body: strings.TrimSpace(string(raw)), Cookies: resp.Cookies(), Header: resp.Header}
	if v := resp.Header.Get(sentinelHeader); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= len(sessionSentinels) {
			return x, fmt.Errorf("bad %s %q", sentinelHeader, v)
		}
		x.Err = sessionSentinels[i]
	} else if x.Status >= 400 {
		x.Err = fmt.Errorf("status %d without a sentinel: %s", x.Status, x.Body)
	}
	return x, nil
}

// do is roundTrip for the test goroutine, failing t on transport errors.
func (s *site) do(t *testing.T, client *http.Client, c call) exchange {
	t.Helper()
	x, err := s.roundTrip(client, c)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	return x
}

// equateErrors compares errors with errors.Is.
var equateErrors = cmpopts.EquateErrors()

// cookieView is what a test compares of a Set-Cookie.
type cookieView struct {
	Name, Value, Path, Domain string
	MaxAge                    int
	Expires                   time.Time
	Secure, HttpOnly          bool
	SameSite                  http.SameSite
}

func viewCookies(cs []*http.Cookie) []cookieView {
	out := make([]cookieView, 0, len(cs))
	for _, c := range cs {
		out = append(out, cookieView{c.Name, c.Value, c.Path, c.Domain, c.MaxAge, c.Expires, c.Secure, c.HttpOnly, c.SameSite})
	}
	return out
}

// cookiesOver runs f in a handler behind a real server and returns the
// cookies the client received.
func cookiesOver(t *testing.T, f func(w http.ResponseWriter) error) []*http.Cookie {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return resp.Cookies()
}

var epoch = time.Unix(0, 0).UTC()

// TestCookieDefaults: token cookies are Secure, HttpOnly, SameSite=Lax,
// Path=/, host-only and live exactly as long as their token; CSRF cookies
// are the same but readable by scripts and carry the token's csrf claim.
func TestCookieDefaults(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t, authx.WithTokenLocations(authx.InCookie))
	pair := authtest.Pair(t, a, "alice")
	ac, err := a.Verify(t.Context(), pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := a.Verify(t.Context(), pair.RefreshToken, authx.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Minute) // the cookies live as long as the tokens have left
	now := clock.Now()
	accessLeft, refreshLeft := 10*60, 20*24*3600-5*60
	lax := http.SameSiteLaxMode
	want := []cookieView{
		{"access_token_cookie", pair.AccessToken, "/", "", accessLeft, now.Add(time.Duration(accessLeft) * time.Second), true, true, lax},
		{"csrf_access_token", ac.CSRF, "/", "", accessLeft, now.Add(time.Duration(accessLeft) * time.Second), true, false, lax},
		{"refresh_token_cookie", pair.RefreshToken, "/", "", refreshLeft, now.Add(time.Duration(refreshLeft) * time.Second), true, true, lax},
		{"csrf_refresh_token", rc.CSRF, "/", "", refreshLeft, now.Add(time.Duration(refreshLeft) * time.Second), true, false, lax},
	}
	got := cookiesOver(t, func(w http.ResponseWriter) error { return a.SetTokenCookies(w, pair) })
	if diff := cmp.Diff(want, viewCookies(got)); diff != "" {
		t.Errorf("SetTokenCookies (-want +got):\n%s", diff)
	}
	if ac.CSRF == "" || rc.CSRF == "" || ac.CSRF == rc.CSRF {
		t.Errorf("csrf claims %q, %q: want two distinct non-empty values", ac.CSRF, rc.CSRF)
	}
}

// TestCookieConfig: every CookieConfig field does what it says, on set and
// on unset, and deletion cookies carry the same Path, Domain, Secure,
// SameSite (and HttpOnly) as the cookies they delete.
func TestCookieConfig(t *testing.T) {
	t.Parallel()
	defNames := [4]string{"access_token_cookie", "csrf_access_token", "refresh_token_cookie", "csrf_refresh_token"}
	root := [4]string{"/", "/", "/", "/"}
	const accessLife, refreshLife = 15 * 60, 20 * 24 * 3600
	tests := []struct {
		name string
		cfg  authx.CookieConfig
		csrf authx.CSRFConfig
		// wantNames and wantPaths: access, access CSRF, refresh, refresh CSRF.
		wantNames, wantPaths          [4]string
		wantDomain                    string
		wantSecure, wantHTTPOnly      bool
		wantSameSite                  http.SameSite
		wantAccessAge, wantRefreshAge int
		wantCSRFCookies               bool
		reason                        string
	}{
		{
			name:      "defaults",
			wantNames: defNames, wantPaths: root, wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode,
			wantAccessAge: accessLife, wantRefreshAge: refreshLife, wantCSRFCookies: true,
			reason: "AuthX's names and paths with Secure, HttpOnly, SameSite=Lax",
		},
		{
			name: "names and paths",
			cfg: authx.CookieConfig{
				AccessName: "at", AccessCSRFName: "at_csrf", RefreshName: "rt", RefreshCSRFName: "rt_csrf",
				AccessPath: "/api", AccessCSRFPath: "/app", RefreshPath: "/auth/refresh", RefreshCSRFPath: "/auth",
			},
			wantNames: [4]string{"at", "at_csrf", "rt", "rt_csrf"}, wantPaths: [4]string{"/api", "/app", "/auth/refresh", "/auth"},
			wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode,
			wantAccessAge: accessLife, wantRefreshAge: refreshLife, wantCSRFCookies: true,
			reason: "each of the four names and paths is configurable",
		},
		{
			name:      "domain and SameSite=Strict",
			cfg:       authx.CookieConfig{Domain: "example.com", SameSite: http.SameSiteStrictMode},
			wantNames: defNames, wantPaths: root, wantDomain: "example.com", wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteStrictMode,
			wantAccessAge: accessLife, wantRefreshAge: refreshLife, wantCSRFCookies: true,
			reason: "Domain and SameSite apply to all four cookies",
		},
		{
			name:      "SameSite=None stays Secure",
			cfg:       authx.CookieConfig{SameSite: http.SameSiteNoneMode},
			wantNames: defNames, wantPaths: root, wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteNoneMode,
			wantAccessAge: accessLife, wantRefreshAge: refreshLife, wantCSRFCookies: true,
			reason: "browsers drop SameSite=None cookies that are not Secure",
		},
		{
			name:      "MaxAge overrides the token life",
			cfg:       authx.CookieConfig{MaxAge: time.Hour},
			wantNames: defNames, wantPaths: root, wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode,
			wantAccessAge: 3600, wantRefreshAge: 3600, wantCSRFCookies: true,
			reason: "a set MaxAge replaces the token's remaining life on every cookie",
		},
		{
			name:      "MaxAge rounds up to whole seconds",
			cfg:       authx.CookieConfig{MaxAge: 1500 * time.Millisecond},
			wantNames: defNames, wantPaths: root, wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode,
			wantAccessAge: 2, wantRefreshAge: 2, wantCSRFCookies: true,
			reason: "Max-Age counts seconds; rounding down could make it 0 (a deletion)",
		},
		{
			name:      "NoCSRFCookies",
			cfg:       authx.CookieConfig{NoCSRFCookies: true},
			wantNames: defNames, wantPaths: root, wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode,
			wantAccessAge: accessLife, wantRefreshAge: refreshLife,
			reason: "only the token cookies are written and deleted",
		},
		{
			name:      "CSRF disabled writes no CSRF cookie",
			csrf:      authx.CSRFConfig{InsecureDisable: true},
			wantNames: defNames, wantPaths: root, wantSecure: true, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode,
			wantAccessAge: accessLife, wantRefreshAge: refreshLife,
			reason: "without the check the CSRF cookies serve nothing",
		},
		{
			name:      "InsecureNoSecure",
			cfg:       authx.CookieConfig{InsecureNoSecure: true},
			wantNames: defNames, wantPaths: root, wantHTTPOnly: true, wantSameSite: http.SameSiteLaxMode,
			wantAccessAge: accessLife, wantRefreshAge: refreshLife, wantCSRFCookies: true,
			reason: "the loudly named opt-out drops Secure, on set and on unset",
		},
		{
			name:      "InsecureScriptReadable",
			cfg:       authx.CookieConfig{InsecureScriptReadable: true},
			wantNames: defNames, wantPaths: root, wantSecure: true, wantSameSite: http.SameSiteLaxMode,
			wantAccessAge: accessLife, wantRefreshAge: refreshLife, wantCSRFCookies: true,
			reason: "the loudly named opt-out drops HttpOnly on the token cookies",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, clock := newAuth(t, authx.WithCookies(tt.cfg), authx.WithCSRF(tt.csrf))
			l := (&site{a: a, clock: clock}).login(t)
			now := clock.Now()
			values := [4]string{l.pair.AccessToken, l.access.CSRF, l.pair.RefreshToken, l.refresh.CSRF}
			ages := [4]int{tt.wantAccessAge, tt.wantAccessAge, tt.wantRefreshAge, tt.wantRefreshAge}
			var wantSet, wantUnset []cookieView
			for i := range 4 {
				csrfCookie := i%2 == 1
				if csrfCookie && !tt.wantCSRFCookies {
					continue
				}
				v := cookieView{
					Name: tt.wantNames[i], Value: values[i], Path: tt.wantPaths[i], Domain: tt.wantDomain,
					MaxAge: ages[i], Expires: now.Add(time.Duration(ages[i]) * time.Second),
					Secure: tt.wantSecure, HttpOnly: tt.wantHTTPOnly && !csrfCookie, SameSite: tt.wantSameSite,
				}
				wantSet = append(wantSet, v)
				v.Value, v.MaxAge, v.Expires = "", -1, epoch // Max-Age=0 and an Expires in the past
				wantUnset = append(wantUnset, v)
			}
			set := viewCookies(cookiesOver(t, func(w http.ResponseWriter) error { return a.SetTokenCookies(w, l.pair) }))
			if diff := cmp.Diff(wantSet, set); diff != "" {
				t.Errorf("SetTokenCookies (-want +got):\n%s\n%s", diff, tt.reason)
			}
			unset := viewCookies(cookiesOver(t, func(w http.ResponseWriter) error { a.UnsetCookies(w); return nil }))
			if diff := cmp.Diff(wantUnset, unset); diff != "" {
				t.Errorf("UnsetCookies (-want +got):\n%s\n%s", diff, tt.reason)
			}
			// Deletions match the cookies they delete, attribute for attribute.
			type attrs struct {
				Name, Path, Domain string
				Secure, HttpOnly   bool
				SameSite           http.SameSite
			}
			attrsOf := func(vs []cookieView) []attrs {
				var out []attrs
				for _, v := range vs {
					out = append(out, attrs{v.Name, v.Path, v.Domain, v.Secure, v.HttpOnly, v.SameSite})
				}
				return out
			}
			if diff := cmp.Diff(attrsOf(set), attrsOf(unset)); diff != "" {
				t.Errorf("deletion attributes differ from the set cookies' (-set +unset):\n%s", diff)
			}
			half := len(wantUnset) / 2
			access := viewCookies(cookiesOver(t, func(w http.ResponseWriter) error { a.UnsetAccessCookies(w); return nil }))
			if diff := cmp.Diff(wantUnset[:half], access); diff != "" {
				t.Errorf("UnsetAccessCookies (-want +got):\n%s", diff)
			}
			refresh := viewCookies(cookiesOver(t, func(w http.ResponseWriter) error { a.UnsetRefreshCookies(w); return nil }))
			if diff := cmp.Diff(wantUnset[half:], refresh); diff != "" {
				t.Errorf("UnsetRefreshCookies (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnsetCookiesClearJar: a real cookie jar drops the cookies on unset,
// paths included.
func TestUnsetCookiesClearJar(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithCookies(authx.CookieConfig{
		InsecureNoSecure: true, AccessPath: "/api", RefreshPath: "/auth", RefreshCSRFPath: "/auth",
	}))
	pair := authtest.Pair(t, a, "alice")
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) { _ = a.SetTokenCookies(w, pair) })
	mux.HandleFunc("/unset", func(w http.ResponseWriter, r *http.Request) { a.UnsetCookies(w) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &site{a: a, srv: srv}
	client := s.browser(t)
	names := func() map[string][]string {
		out := map[string][]string{}
		for _, p := range []string{"/api/x", "/auth/x", "/x"} {
			u, _ := url.Parse(srv.URL + p)
			for _, c := range client.Jar.Cookies(u) {
				out[p] = append(out[p], c.Name)
			}
		}
		return out
	}
	for _, step := range []struct {
		path string
		want map[string][]string
	}{
		{"/set", map[string][]string{
			"/api/x":  {"access_token_cookie", "csrf_access_token"},
			"/auth/x": {"refresh_token_cookie", "csrf_refresh_token", "csrf_access_token"},
			"/x":      {"csrf_access_token"},
		}},
		{"/unset", map[string][]string{}},
	} {
		resp, err := client.Get(srv.URL + step.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if diff := cmp.Diff(step.want, names(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("jar after %s (-want +got):\n%s", step.path, diff)
		}
	}
}

// TestCookieAndCSRFConfigErrors: New refuses unsafe or malformed cookie and
// CSRF configurations.
func TestCookieAndCSRFConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     authx.Option
		wantErr error
		reason  string
	}{
		{"SameSite=None without Secure", authx.WithCookies(authx.CookieConfig{SameSite: http.SameSiteNoneMode, InsecureNoSecure: true}), authx.ErrConfig, "browsers drop such cookies; refuse at construction"},
		{"SameSite=None, Secure", authx.WithCookies(authx.CookieConfig{SameSite: http.SameSiteNoneMode}), nil, "valid with Secure"},
		{"name used twice", authx.WithCookies(authx.CookieConfig{AccessName: "t", RefreshName: "t"}), authx.ErrConfig, "one cookie cannot hold two tokens"},
		{"name clashes with a default", authx.WithCookies(authx.CookieConfig{AccessName: "csrf_access_token"}), authx.ErrConfig, "the token cookie would be the CSRF cookie"},
		{"invalid name", authx.WithCookies(authx.CookieConfig{AccessName: "a b"}), authx.ErrConfig, "a cookie name is an RFC 9110 token"},
		{"name with semicolon", authx.WithCookies(authx.CookieConfig{RefreshCSRFName: "a;b"}), authx.ErrConfig, "would inject attributes"},
		{"relative path", authx.WithCookies(authx.CookieConfig{RefreshPath: "auth"}), authx.ErrConfig, "paths start with /"},
		{"path with semicolon", authx.WithCookies(authx.CookieConfig{AccessPath: "/a;Domain=evil"}), authx.ErrConfig, "would inject attributes"},
		{"domain with space", authx.WithCookies(authx.CookieConfig{Domain: "a b"}), authx.ErrConfig, "not a cookie value"},
		{"negative MaxAge", authx.WithCookies(authx.CookieConfig{MaxAge: -time.Second}), authx.ErrConfig, "a negative lifetime is a mistake"},
		{"CSRF header not a token", authx.WithCSRF(authx.CSRFConfig{Header: "X CSRF"}), authx.ErrConfig, "not a header name"},
		{"CSRF refresh header not a token", authx.WithCSRF(authx.CSRFConfig{RefreshHeader: "a:b"}), authx.ErrConfig, "not a header name"},
		{"CSRF method not a token", authx.WithCSRF(authx.CSRFConfig{Methods: []string{"PO ST"}}), authx.ErrConfig, "not a method"},
		{"CSRF methods, lower case", authx.WithCSRF(authx.CSRFConfig{Methods: []string{"post"}}), nil, "matched case-insensitively"},
		{"trusted origin without scheme", authx.WithCSRF(authx.CSRFConfig{TrustedOrigins: []string{"app.example.com"}}), authx.ErrConfig, "origins are scheme://host"},
		{"trusted origin with path", authx.WithCSRF(authx.CSRFConfig{TrustedOrigins: []string{"https://app.example.com/x"}}), authx.ErrConfig, "an origin has no path"},
		{"trusted origin", authx.WithCSRF(authx.CSRFConfig{TrustedOrigins: []string{"https://app.example.com"}}), nil, "valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := authx.New[string](authx.WithSecret(secret32), tt.opt)
			if diff := cmp.Diff(tt.wantErr, err, equateErrors); diff != "" {
				t.Errorf("New error (-want +got):\n%s\n%s", diff, tt.reason)
			}
			if (err == nil) != (a != nil) {
				t.Errorf("New = %v, %v: want exactly one of Auth and error", a, err)
			}
		})
	}
}

// TestCookieNamePrefixes: browsers silently drop a __Host- cookie that is
// not Secure, has a Domain or a Path other than "/", and a __Secure- cookie
// that is not Secure (RFC 6265bis §4.1.3, prefixes matched in any letter
// case). New refuses such a configuration, naming the cookie, instead of
// letting every login fail without a trace.
func TestCookieNamePrefixes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cc      authx.CookieConfig
		wantErr string // in the error, which wraps ErrConfig; "" means New succeeds
		reason  string
	}{
		{"__Host- with the defaults", authx.CookieConfig{AccessName: "__Host-access", RefreshName: "__Host-refresh", AccessCSRFName: "__Host-csrf-access", RefreshCSRFName: "__Host-csrf-refresh"}, "", "Secure, Path=/, no Domain"},
		{"__Host- with a Domain", authx.CookieConfig{AccessName: "__Host-access", Domain: "example.com"}, `cookie "__Host-access"`, "a __Host- cookie is host-only"},
		{"__Host- refresh cookie on /auth", authx.CookieConfig{RefreshName: "__Host-refresh", RefreshPath: "/auth"}, `cookie "__Host-refresh"`, `a __Host- cookie has Path "/"`},
		{"__Host- CSRF cookie on /api", authx.CookieConfig{AccessCSRFName: "__Host-csrf", AccessCSRFPath: "/api"}, `cookie "__Host-csrf"`, "the CSRF cookies are checked too"},
		{"__Host- refresh CSRF cookie on /auth", authx.CookieConfig{RefreshCSRFName: "__Host-rcsrf", RefreshCSRFPath: "/auth"}, `cookie "__Host-rcsrf"`, "each cookie with its own path"},
		{"__Host- without Secure", authx.CookieConfig{AccessName: "__Host-access", InsecureNoSecure: true}, `cookie "__Host-access"`, "a __Host- cookie is Secure"},
		{"__host- lower case with a Domain", authx.CookieConfig{AccessName: "__host-access", Domain: "example.com"}, `cookie "__host-access"`, "prefixes match in any letter case"},
		{"__HOST- upper case without Secure", authx.CookieConfig{RefreshName: "__HOST-refresh", InsecureNoSecure: true}, `cookie "__HOST-refresh"`, "prefixes match in any letter case"},
		{"__Secure- without Secure", authx.CookieConfig{AccessName: "__Secure-access", InsecureNoSecure: true}, `cookie "__Secure-access"`, "a __Secure- cookie is Secure"},
		{"__sEcUrE- CSRF cookie without Secure", authx.CookieConfig{RefreshCSRFName: "__sEcUrE-csrf", InsecureNoSecure: true}, `cookie "__sEcUrE-csrf"`, "prefixes match in any letter case"},
		{"__Secure- with Domain and Path", authx.CookieConfig{AccessName: "__Secure-access", Domain: "example.com", AccessPath: "/api"}, "", "__Secure- asks only for Secure"},
		{"no prefix: _Host-", authx.CookieConfig{AccessName: "_Host-access", Domain: "example.com", InsecureNoSecure: true}, "", "one underscore is no prefix"},
		{"no prefix: __Host without dash", authx.CookieConfig{AccessName: "__Hostaccess", InsecureNoSecure: true}, "", "the prefix ends with a dash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := authx.New[string](authx.WithSecret(secret32), authx.WithCookies(tt.cc))
			if tt.wantErr == "" {
				if err != nil || a == nil {
					t.Fatalf("New: %v (%s)", err, tt.reason)
				}
				return
			}
			if !errors.Is(err, authx.ErrConfig) || a != nil {
				t.Fatalf("New = %v, %v; want an error wrapping ErrConfig (%s)", a, err, tt.reason)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error %q does not name %s", err, tt.wantErr)
			}
		})
	}
}

// TestSetCookiesErrors: Set…Cookies refuse tokens they must not store, and
// write nothing then.
func TestSetCookiesErrors(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t, authx.WithTokenLocations(authx.InCookie))
	headerOnly, _ := newAuth(t)                                                                // same key, no cookies: no csrf claim
	noCSRFCookies, _ := newAuth(t, authx.WithCookies(authx.CookieConfig{NoCSRFCookies: true})) // same key
	access := authtest.Token(t, a, "alice")
	refresh := authtest.RefreshToken(t, a, "alice")
	expired := authtest.Token(t, a, "alice", authx.ExpiresAt(clock.Now().Add(-time.Second)))
	plain := authtest.Token(t, headerOnly, "alice")
	forged := authtest.Resign(t, access)
	var nilAuth *authx.Auth[string]
	tests := []struct {
		name    string
		set     func(w http.ResponseWriter) error
		wantErr error
		want    int // Set-Cookie headers written
		reason  string
	}{
		{"access", func(w http.ResponseWriter) error { return a.SetAccessCookies(w, access) }, nil, 2, "token and CSRF cookie"},
		{"refresh", func(w http.ResponseWriter) error { return a.SetRefreshCookies(w, refresh) }, nil, 2, "token and CSRF cookie"},
		{"refresh as access", func(w http.ResponseWriter) error { return a.SetAccessCookies(w, refresh) }, authx.ErrAccessRequired, 0, "a refresh token in the access cookie would be refused anyway"},
		{"access as refresh", func(w http.ResponseWriter) error { return a.SetRefreshCookies(w, access) }, authx.ErrRefreshRequired, 0, "an access token is no refresh token"},
		{"expired", func(w http.ResponseWriter) error { return a.SetAccessCookies(w, expired) }, authx.ErrExpired, 0, "a cookie with Max-Age 0 would be a deletion"},
		{"signed by another key", func(w http.ResponseWriter) error { return a.SetAccessCookies(w, forged) }, authx.ErrSignature, 0, "only our tokens"},
		{"garbage", func(w http.ResponseWriter) error { return a.SetAccessCookies(w, "x;Domain=evil") }, authx.ErrMalformed, 0, "no attribute injection through the value"},
		{"no csrf claim", func(w http.ResponseWriter) error { return a.SetAccessCookies(w, plain) }, authx.ErrTokenOption, 0, "a cookie token without csrf claim could never pass the check"},
		{"no csrf claim, CSRF cookies off", func(w http.ResponseWriter) error { return noCSRFCookies.SetAccessCookies(w, plain) }, nil, 1, "the check still fails closed later; setting is allowed"},
		{"nil pair", func(w http.ResponseWriter) error { return a.SetTokenCookies(w, nil) }, authx.ErrTokenOption, 0, "no panic"},
		{"nil Auth", func(w http.ResponseWriter) error { return nilAuth.SetAccessCookies(w, access) }, authx.ErrNotConfigured, 0, "fail closed"},
		{"nil Auth unset", func(w http.ResponseWriter) error { nilAuth.UnsetCookies(w); return nil }, nil, 0, "no panic, nothing written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			err := tt.set(w)
			if diff := cmp.Diff(tt.wantErr, err, equateErrors); diff != "" {
				t.Errorf("error (-want +got):\n%s\n%s", diff, tt.reason)
			}
			if got := len(w.Result().Cookies()); got != tt.want {
				t.Errorf("%d cookies written, want %d", got, tt.want)
			}
		})
	}
}

// TestCSRFDoubleSubmit: on unsafe methods a cookie-borne token needs the
// X-CSRF-TOKEN header equal to the csrf claim inside the token; the CSRF
// cookie itself is never trusted.
func TestCSRFDoubleSubmit(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	l := s.login(t)
	other := s.login(t)
	with := func(method string, h map[string]string, cookies ...*http.Cookie) call {
		return call{method: method, header: h, cookies: cookies}
	}
	token := &http.Cookie{Name: "access_token_cookie", Value: l.pair.AccessToken}
	csrfCookie := &http.Cookie{Name: "csrf_access_token", Value: l.access.CSRF}
	ok := outcome{Status: 200}
	tests := []struct {
		name   string
		req    call
		want   outcome
		reason string
	}{
		{"claim in header", with("POST", hdr("X-CSRF-TOKEN", l.access.CSRF), token, csrfCookie), ok, "the page's script copies the CSRF cookie into the header"},
		{"header missing", with("POST", nil, token, csrfCookie), outcome{403, authx.ErrCSRFMissing}, "a forged form post carries no header"},
		{"header empty", with("POST", hdr("X-CSRF-TOKEN", ""), token, csrfCookie), outcome{403, authx.ErrCSRFMissing}, "an empty header is no value"},
		{"header mismatched", with("POST", hdr("X-CSRF-TOKEN", "wrong"), token, csrfCookie), outcome{403, authx.ErrCSRFMismatch}, "the header must equal the claim"},
		{"header is a prefix of the claim", with("POST", hdr("X-CSRF-TOKEN", l.access.CSRF[:35]), token, csrfCookie), outcome{403, authx.ErrCSRFMismatch}, "whole-value comparison"},
		{"header is another login's claim", with("POST", hdr("X-CSRF-TOKEN", other.access.CSRF), token, csrfCookie), outcome{403, authx.ErrCSRFMismatch}, "each token has its own value"},
		{"header is the refresh token's claim", with("POST", hdr("X-CSRF-TOKEN", l.refresh.CSRF), token, csrfCookie), outcome{403, authx.ErrCSRFMismatch}, "access and refresh tokens have distinct values"},
		{
			"cookie tossing: header equals a planted CSRF cookie",
			with("POST", hdr("X-CSRF-TOKEN", "attacker-chosen"), token, &http.Cookie{Name: "csrf_access_token", Value: "attacker-chosen"}),
			outcome{403, authx.ErrCSRFMismatch}, "a sibling domain can plant the CSRF cookie; the claim inside the signed token decides",
		},
		{"right CSRF cookie, wrong header", with("POST", hdr("X-CSRF-TOKEN", "wrong"), token, csrfCookie), outcome{403, authx.ErrCSRFMismatch}, "the cookie is never compared"},
		{"claim in header, no CSRF cookie sent", with("POST", hdr("X-CSRF-TOKEN", l.access.CSRF), token), ok, "the claim is compared, not the cookie"},
		{"header name in lower case", with("POST", hdr("x-csrf-token", l.access.CSRF), token), ok, "header names are case-insensitive"},
		{"PUT without header", with("PUT", nil, token, csrfCookie), outcome{403, authx.ErrCSRFMissing}, "unsafe"},
		{"PATCH mismatched", with("PATCH", hdr("X-CSRF-TOKEN", "wrong"), token, csrfCookie), outcome{403, authx.ErrCSRFMismatch}, "unsafe"},
		{"DELETE without header", with("DELETE", nil, token, csrfCookie), outcome{403, authx.ErrCSRFMissing}, "unsafe"},
		{"DELETE with claim", with("DELETE", hdr("X-CSRF-TOKEN", l.access.CSRF), token), ok, "unsafe, with the claim"},
		{"GET without header", with("GET", nil, token), ok, "safe methods need no header"},
		{"OPTIONS without header", with("OPTIONS", nil, token), ok, "safe methods need no header"},
		{"bearer token on POST", with("POST", hdr("Authorization", "Bearer "+l.pair.AccessToken)), ok, "a browser does not attach headers by itself: no CSRF needed"},
		{"bearer token wins over a cookie", with("POST", hdr("Authorization", "Bearer "+l.pair.AccessToken), token), ok, "the token came from the header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := s.do(t, nil, tt.req)
			if diff := cmp.Diff(tt.want, got.outcome(), equateErrors); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s; body %s", diff, tt.reason, got.Body)
			}
			if tt.want.Status == 200 && got.Body != "hello alice" {
				t.Errorf("body %q, want the handler's", got.Body)
			}
		})
	}
}

// TestCSRFConfig: custom header names and method lists, and the
// loudly named opt-out.
func TestCSRFConfig(t *testing.T) {
	t.Parallel()
	ok := outcome{Status: 200}
	tests := []struct {
		name   string
		cfg    authx.CSRFConfig
		method string
		header string // the header carrying the claim, "" for none
		want   outcome
		reason string
	}{
		{"custom header, default one sent", authx.CSRFConfig{Header: "X-XSRF-TOKEN"}, "POST", "X-CSRF-TOKEN", outcome{403, authx.ErrCSRFMissing}, "only the configured header counts"},
		{"custom header sent", authx.CSRFConfig{Header: "X-XSRF-TOKEN"}, "POST", "X-XSRF-TOKEN", ok, "the configured header"},
		{"Methods POST: DELETE unchecked", authx.CSRFConfig{Methods: []string{"POST"}}, "DELETE", "", ok, "only the listed methods are checked"},
		{"Methods POST: POST checked", authx.CSRFConfig{Methods: []string{"POST"}}, "POST", "", outcome{403, authx.ErrCSRFMissing}, "listed"},
		{"Methods POST: post checked", authx.CSRFConfig{Methods: []string{"POST"}}, "post", "", outcome{403, authx.ErrCSRFMissing}, "matched case-insensitively"},
		{"Methods POST: POST with claim", authx.CSRFConfig{Methods: []string{"POST"}}, "POST", "X-CSRF-TOKEN", ok, "listed, with the claim"},
		{"Methods GET: GET checked", authx.CSRFConfig{Methods: []string{"GET", "POST"}}, "GET", "", outcome{403, authx.ErrCSRFMissing}, "even a safe method when listed"},
		{"Methods GET: GET with claim", authx.CSRFConfig{Methods: []string{"GET", "POST"}}, "GET", "X-CSRF-TOKEN", ok, "listed, with the claim"},
		{"default: PROPFIND checked", authx.CSRFConfig{}, "PROPFIND", "", outcome{403, authx.ErrCSRFMissing}, "every method but the safe ones"},
		{"InsecureDisable", authx.CSRFConfig{InsecureDisable: true}, "POST", "", ok, "no protection at all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, authx.WithCSRF(tt.cfg))
			l := s.login(t)
			c := call{method: tt.method, cookies: l.accessCookies()}
			if tt.header != "" {
				c.header = hdr(tt.header, l.access.CSRF)
			}
			got := s.do(t, nil, c)
			if diff := cmp.Diff(tt.want, got.outcome(), equateErrors); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s; body %s", diff, tt.reason, got.Body)
			}
		})
	}
}

// TestCSRFCrossOrigin: Go's cross-origin protection guards cookie-borne
// tokens on unsafe methods, even with the right CSRF header, unless the
// origin is trusted or the check is turned off by its Insecure… name.
func TestCSRFCrossOrigin(t *testing.T) {
	t.Parallel()
	ok := outcome{Status: 200}
	cross := outcome{403, authx.ErrCrossOrigin}
	trusted := authx.CSRFConfig{TrustedOrigins: []string{"https://app.example.com"}}
	off := authx.CSRFConfig{InsecureNoOriginCheck: true}
	tests := []struct {
		name   string
		cfg    authx.CSRFConfig
		method string
		header []string // besides the right X-CSRF-TOKEN; "$HOST" is the site's host
		csrf   string   // "claim" (default), "none" or "wrong"
		bearer bool     // send the token in the Authorization header instead
		want   outcome
		reason string
	}{
		{"Sec-Fetch-Site cross-site", authx.CSRFConfig{}, "POST", []string{"Sec-Fetch-Site", "cross-site"}, "", false, cross, "a cross-site POST with a cookie"},
		{"Sec-Fetch-Site same-site", authx.CSRFConfig{}, "POST", []string{"Sec-Fetch-Site", "same-site"}, "", false, cross, "a sibling subdomain is another origin"},
		{"Sec-Fetch-Site same-origin", authx.CSRFConfig{}, "POST", []string{"Sec-Fetch-Site", "same-origin"}, "", false, ok, "the page itself"},
		{"Sec-Fetch-Site none", authx.CSRFConfig{}, "POST", []string{"Sec-Fetch-Site", "none"}, "", false, ok, "user-initiated"},
		{"Origin of another host", authx.CSRFConfig{}, "POST", []string{"Origin", "https://evil.example"}, "", false, cross, "older browsers send Origin only"},
		{"Origin of this host", authx.CSRFConfig{}, "POST", []string{"Origin", "http://$HOST"}, "", false, ok, "same origin"},
		{"no browser headers", authx.CSRFConfig{}, "POST", nil, "", false, ok, "not a browser, or same-origin"},
		{"cross-site without CSRF header", authx.CSRFConfig{}, "POST", []string{"Sec-Fetch-Site", "cross-site"}, "none", false, cross, "the origin layer answers first"},
		{"cross-site DELETE", authx.CSRFConfig{}, "DELETE", []string{"Sec-Fetch-Site", "cross-site"}, "", false, cross, "every unsafe method"},
		{"cross-site GET", authx.CSRFConfig{}, "GET", []string{"Sec-Fetch-Site", "cross-site"}, "none", false, ok, "safe methods are not checked"},
		{"cross-site bearer token", authx.CSRFConfig{}, "POST", []string{"Sec-Fetch-Site", "cross-site"}, "none", true, ok, "only cookie-borne tokens are protected"},
		{"InsecureNoOriginCheck, cross-site", off, "POST", []string{"Sec-Fetch-Site", "cross-site"}, "", false, ok, "the origin layer is off"},
		{"InsecureNoOriginCheck, Origin of another host", off, "POST", []string{"Origin", "https://evil.example"}, "", false, ok, "the origin layer is off"},
		{"InsecureNoOriginCheck keeps the double submit", off, "POST", []string{"Sec-Fetch-Site", "cross-site"}, "wrong", false, outcome{403, authx.ErrCSRFMismatch}, "only the origin layer is off"},
		{"trusted origin", trusted, "POST", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.com"}, "", false, ok, "listed in TrustedOrigins"},
		{"trusted origin, Origin only", trusted, "POST", []string{"Origin", "https://app.example.com"}, "", false, ok, "listed in TrustedOrigins"},
		{"untrusted origin", trusted, "POST", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, "", false, cross, "not listed"},
		{"trusted origin keeps the double submit", trusted, "POST", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.com"}, "none", false, outcome{403, authx.ErrCSRFMissing}, "trust skips the origin layer only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, authx.WithCSRF(tt.cfg))
			l := s.login(t)
			h := map[string]string{}
			for i := 0; i+1 < len(tt.header); i += 2 {
				h[tt.header[i]] = strings.ReplaceAll(tt.header[i+1], "$HOST", s.host())
			}
			switch tt.csrf {
			case "":
				h["X-CSRF-TOKEN"] = l.access.CSRF
			case "wrong":
				h["X-CSRF-TOKEN"] = "wrong"
			}
			c := call{method: tt.method, header: h, cookies: l.accessCookies()}
			if tt.bearer {
				c.cookies = nil
				h["Authorization"] = "Bearer " + l.pair.AccessToken
			}
			got := s.do(t, nil, c)
			if diff := cmp.Diff(tt.want, got.outcome(), equateErrors); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s; body %s", diff, tt.reason, got.Body)
			}
		})
	}
}

// TestCSRFFormField: with CSRFConfig.FormField the value may come from a
// urlencoded form when the header is absent, and the handler still reads
// the form.
func TestCSRFFormField(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded"
	field := authx.CSRFConfig{FormField: "csrf_token"}
	tests := []struct {
		name     string
		cfg      authx.CSRFConfig
		opts     []authx.Option
		ctype    string
		body     string // "$CSRF" is the claim
		header   string // X-CSRF-TOKEN, "$CSRF" the claim, "" none
		want     outcome
		wantBody string
		reason   string
	}{
		{"form field", field, nil, form, "amount=10&csrf_token=$CSRF", "", outcome{Status: 200}, "amount=10", "the handler still reads r.PostForm"},
		{"form field, charset", field, nil, form + "; charset=utf-8", "csrf_token=$CSRF&amount=7", "", outcome{Status: 200}, "amount=7", "media type parameters allowed"},
		{"form field wrong", field, nil, form, "amount=10&csrf_token=wrong", "", outcome{403, authx.ErrCSRFMismatch}, "", "compared with the claim"},
		{"form without the field", field, nil, form, "amount=10", "", outcome{403, authx.ErrCSRFMissing}, "", "absent"},
		{"header wins over the form", field, nil, form, "amount=3&csrf_token=wrong", "$CSRF", outcome{Status: 200}, "amount=3", "the header is read first"},
		{"wrong header, right form", field, nil, form, "amount=3&csrf_token=$CSRF", "wrong", outcome{403, authx.ErrCSRFMismatch}, "", "a present header decides"},
		{"field in a JSON body", field, nil, "application/json", `{"csrf_token":"$CSRF"}`, "", outcome{403, authx.ErrCSRFMissing}, "", "urlencoded forms only"},
		{"field in a multipart body", field, nil, "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n$CSRF\r\n--b--\r\n", "", outcome{403, authx.ErrCSRFMissing}, "", "urlencoded forms only"},
		{"form field not configured", authx.CSRFConfig{}, nil, form, "amount=10&csrf_token=$CSRF", "", outcome{403, authx.ErrCSRFMissing}, "", "header only by default"},
		{"form larger than the body bound", field, []authx.Option{authx.WithMaxBodySize(1024)}, form, "amount=" + strings.Repeat("9", 2000) + "&csrf_token=$CSRF", "", outcome{403, authx.ErrCSRFMissing}, "", "the form is read up to WithMaxBodySize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, append([]authx.Option{authx.WithCSRF(tt.cfg)}, tt.opts...)...)
			l := s.login(t)
			c := call{method: "POST", path: "/form", ctype: tt.ctype, body: strings.ReplaceAll(tt.body, "$CSRF", l.access.CSRF), cookies: l.accessCookies()}
			if tt.header != "" {
				c.header = hdr("X-CSRF-TOKEN", strings.ReplaceAll(tt.header, "$CSRF", l.access.CSRF))
			}
			got := s.do(t, nil, c)
			if diff := cmp.Diff(tt.want, got.outcome(), equateErrors); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s; body %s", diff, tt.reason, got.Body)
			}
			if tt.wantBody != "" && got.Body != tt.wantBody {
				t.Errorf("handler answered %q, want %q", got.Body, tt.wantBody)
			}
		})
	}
}

// TestCookieMaxAgeLongLives: Max-Age rounds a cookie's life up to whole
// seconds without overflowing. Rounding by adding a second first wrapped
// lives near the longest Duration (292 years: a CookieConfig.MaxAge, or a
// token expiring in 9999, whose remaining life saturates) to a negative
// Max-Age, which deletes the cookie just set.
func TestCookieMaxAgeLongLives(t *testing.T) {
	t.Parallel()
	const longest = 9223372037 // math.MaxInt64 ns in seconds, rounded up
	tests := []struct {
		name   string
		cfg    authx.CookieConfig
		opts   []authx.TokenOption
		want   int
		reason string
	}{
		{name: "longest MaxAge", cfg: authx.CookieConfig{MaxAge: 1<<63 - 1}, want: longest, reason: "a MaxAge of 292 years, rounded up"},
		{name: "token expiring in 9999", opts: []authx.TokenOption{authx.ExpiresAt(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))}, want: longest, reason: "the token's life saturates at the longest Duration"},
		{name: "an hour", cfg: authx.CookieConfig{MaxAge: time.Hour}, want: 3600, reason: "control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, clock := newAuth(t, authx.WithCookies(tt.cfg))
			tok := authtest.Token(t, a, "alice", tt.opts...)
			cs := cookiesOver(t, func(w http.ResponseWriter) error { return a.SetAccessCookies(w, tok) })
			var got []cookieView
			for _, c := range viewCookies(cs) {
				got = append(got, cookieView{Name: c.Name, MaxAge: c.MaxAge, Expires: c.Expires})
			}
			exp := clock.Now().Add(time.Duration(tt.want-1) * time.Second).Add(time.Second).UTC()
			want := []cookieView{
				{Name: "access_token_cookie", MaxAge: tt.want, Expires: exp},
				{Name: "csrf_access_token", MaxAge: tt.want, Expires: exp},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("SetAccessCookies (-want +got): %s\n%s", tt.reason, diff)
			}
		})
	}
}
