package authx_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// This file tests the refresh endpoint (rotation, reuse detection, family
// revocation), implicit refresh and logout. Its helpers live in
// cookies_test.go (site, call, exchange, outcome).

const day = 24 * time.Hour

// bearerRefresh, bodyRefresh and cookieRefresh present a refresh token to
// the refresh endpoint in each of its three places.
func bearerRefresh(tok string) call {
	return call{method: "POST", path: "/auth/refresh", header: hdr("Authorization", "Bearer "+tok)}
}

func bodyRefresh(tok string) call {
	return call{method: "POST", path: "/auth/refresh", ctype: "application/json", body: `{"refresh_token":"` + tok + `"}`}
}

// cookieRefresh sends tok in the refresh cookie and csrf ("" for none) in
// the X-CSRF-TOKEN header.
func cookieRefresh(tok, csrf string) call {
	c := call{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{{Name: "refresh_token_cookie", Value: tok}}}
	if csrf != "" {
		c.header = hdr("X-CSRF-TOKEN", csrf)
	}
	return c
}

// bearer calls path with tok in the Authorization header.
func bearer(method, path, tok string) call {
	return call{method: method, path: path, header: hdr("Authorization", "Bearer "+tok)}
}

// tokenResponse decodes an OAuth 2.0 token response, checking its members.
func tokenResponse(t *testing.T, x exchange) *authx.TokenPair {
	t.Helper()
	var members map[string]json.RawMessage
	if err := json.Unmarshal([]byte(x.Body), &members); err != nil {
		t.Fatalf("token response %q: %v", x.Body, err)
	}
	want := []string{"access_token", "expires_in", "refresh_token", "token_type"}
	if _, ok := members["refresh_token"]; !ok {
		// Without rotation the client keeps its refresh token; the member is
		// left out (RFC 6749 §5.1 makes it optional), never sent empty.
		want = []string{"access_token", "expires_in", "token_type"}
	}
	if string(members["refresh_token"]) == `""` {
		t.Errorf("token response has an empty refresh_token member")
	}
	if diff := cmp.Diff(want, slices.Sorted(func(yield func(string) bool) {
		for k := range members {
			if !yield(k) {
				return
			}
		}
	})); diff != "" {
		t.Errorf("token response members (-want +got):\n%s", diff)
	}
	var p authx.TokenPair
	if err := json.Unmarshal([]byte(x.Body), &p); err != nil {
		t.Fatalf("token response: %v", err)
	}
	return &p
}

// tamper rewrites the token's sub to mallory, keeping the signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(payload), `"sub":"alice"`, `"sub":"mallory"`, 1)
	if changed == string(payload) {
		t.Fatalf("no sub to tamper with in %s", payload)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(changed)) + "." + parts[2]
}

// pythonRefresh signs a refresh token as Python AuthX mints them: no
// family claim.
func pythonRefresh(t *testing.T, jti string) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "alice", "jti": jti, "type": "refresh", "fresh": false, "csrf": "py-csrf-" + jti,
		"iat": testNow.Unix(), "exp": testNow.Add(3 * time.Hour).Unix(),
		"scopes": []string{"reports:read"}, "tenant": "acme",
	}).SignedString(secret32)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// renewed is what a refresh must carry over, and what it must change.
type renewed struct {
	Sub    string
	Type   authx.TokenType
	Fresh  bool
	Scopes []string
	Data   map[string]any
	SID    string
	Aud    []string
	Exp    time.Time
}

func renewedView(c *authx.Claims) renewed {
	return renewed{c.Subject, c.Type, c.Fresh, c.Scopes, c.Data(), c.SessionID, c.Audience, c.ExpiresAt}
}

// TestRefreshHandler: where the endpoint takes a refresh token from, how
// it answers, and what it refuses.
func TestRefreshHandler(t *testing.T) {
	t.Parallel()
	const (
		wantJSON    = "json"    // 200 with an OAuth 2.0 token response
		wantCookies = "cookies" // 204 with the four cookies
	)
	ok, set := outcome{Status: 200}, outcome{Status: 204}
	tests := []struct {
		name       string
		opts       []authx.Option
		prep       func(t *testing.T, s *site, l login)
		age        time.Duration // the clock moves before the request
		req        func(t *testing.T, s *site, l login) call
		want       outcome
		wantTokens string
		reason     string
	}{
		{
			name: "header", want: ok, wantTokens: wantJSON,
			req:    func(t *testing.T, s *site, l login) call { return bearerRefresh(l.pair.RefreshToken) },
			reason: "API clients send the refresh token as a bearer token",
		},
		{
			name: "JSON body", want: ok, wantTokens: wantJSON,
			req:    func(t *testing.T, s *site, l login) call { return bodyRefresh(l.pair.RefreshToken) },
			reason: `{"refresh_token": …}`,
		},
		{
			name: "JSON body, charset and other members", want: ok, wantTokens: wantJSON,
			req: func(t *testing.T, s *site, l login) call {
				return call{method: "POST", path: "/auth/refresh", ctype: "application/json; charset=utf-8", body: `{"client":"web","refresh_token":"` + l.pair.RefreshToken + `"}`}
			},
			reason: "a JSON object with the member",
		},
		{
			name: "cookie with the claim", want: set, wantTokens: wantCookies,
			req:    func(t *testing.T, s *site, l login) call { return cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF) },
			reason: "browsers get new cookies, never tokens in a body",
		},
		{
			name: "cookie, claim in a configured refresh header", want: set, wantTokens: wantCookies,
			opts: []authx.Option{authx.WithCSRF(authx.CSRFConfig{RefreshHeader: "X-REFRESH-CSRF-TOKEN"})},
			req: func(t *testing.T, s *site, l login) call {
				c := cookieRefresh(l.pair.RefreshToken, "")
				c.header = hdr("X-REFRESH-CSRF-TOKEN", l.refresh.CSRF)
				return c
			},
			reason: "CSRFConfig.RefreshHeader, as AuthX's X-REFRESH-CSRF-TOKEN",
		},
		{
			name: "cookie, claim in the access header when a refresh header is configured", want: outcome{403, authx.ErrCSRFMissing},
			opts:   []authx.Option{authx.WithCSRF(authx.CSRFConfig{RefreshHeader: "X-REFRESH-CSRF-TOKEN"})},
			req:    func(t *testing.T, s *site, l login) call { return cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF) },
			reason: "refresh cookies read the refresh header",
		},
		{
			name: "cookie without CSRF header", want: outcome{403, authx.ErrCSRFMissing},
			req:    func(t *testing.T, s *site, l login) call { return cookieRefresh(l.pair.RefreshToken, "") },
			reason: "a cookie-borne refresh token needs the double submit",
		},
		{
			name: "cookie with an empty CSRF header", want: outcome{403, authx.ErrCSRFMissing},
			req: func(t *testing.T, s *site, l login) call {
				c := cookieRefresh(l.pair.RefreshToken, "")
				c.header = hdr("X-CSRF-TOKEN", "")
				return c
			},
			reason: "empty is missing",
		},
		{
			name: "cookie with the access token's claim", want: outcome{403, authx.ErrCSRFMismatch},
			req:    func(t *testing.T, s *site, l login) call { return cookieRefresh(l.pair.RefreshToken, l.access.CSRF) },
			reason: "each token has its own claim",
		},
		{
			name: "cookie tossing", want: outcome{403, authx.ErrCSRFMismatch},
			req: func(t *testing.T, s *site, l login) call {
				c := cookieRefresh(l.pair.RefreshToken, "planted")
				c.cookies = append(c.cookies, &http.Cookie{Name: "csrf_refresh_token", Value: "planted"})
				return c
			},
			reason: "a planted CSRF cookie echoed in the header does not match the claim",
		},
		{
			name: "cookie, cross-site", want: outcome{403, authx.ErrCrossOrigin},
			req: func(t *testing.T, s *site, l login) call {
				c := cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF)
				c.header["Sec-Fetch-Site"] = "cross-site"
				return c
			},
			reason: "the origin layer guards the refresh cookie too",
		},
		{
			name: "cookie, Origin of another host", want: outcome{403, authx.ErrCrossOrigin},
			req: func(t *testing.T, s *site, l login) call {
				c := cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF)
				c.header["Origin"] = "https://evil.example"
				return c
			},
			reason: "older browsers send Origin only",
		},
		{
			name: "cookie, cross-site, InsecureNoOriginCheck", want: set, wantTokens: wantCookies,
			opts: []authx.Option{authx.WithCSRF(authx.CSRFConfig{InsecureNoOriginCheck: true})},
			req: func(t *testing.T, s *site, l login) call {
				c := cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF)
				c.header["Sec-Fetch-Site"] = "cross-site"
				return c
			},
			reason: "the origin layer is off; the double submit passed",
		},
		{
			name: "cookie, trusted origin", want: set, wantTokens: wantCookies,
			opts: []authx.Option{authx.WithCSRF(authx.CSRFConfig{TrustedOrigins: []string{"https://app.example.com"}})},
			req: func(t *testing.T, s *site, l login) call {
				c := cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF)
				c.header["Sec-Fetch-Site"] = "cross-site"
				c.header["Origin"] = "https://app.example.com"
				return c
			},
			reason: "listed in TrustedOrigins",
		},
		{
			name: "header without CSRF", want: ok, wantTokens: wantJSON,
			req: func(t *testing.T, s *site, l login) call {
				c := bearerRefresh(l.pair.RefreshToken)
				c.header["Sec-Fetch-Site"] = "cross-site"
				return c
			},
			reason: "only cookie-borne tokens need CSRF protection",
		},
		{
			name: "access token in the header", want: outcome{401, authx.ErrRefreshRequired},
			req:    func(t *testing.T, s *site, l login) call { return bearerRefresh(l.pair.AccessToken) },
			reason: "an access token buys no new pair",
		},
		{
			name: "access token in the body", want: outcome{401, authx.ErrRefreshRequired},
			req:    func(t *testing.T, s *site, l login) call { return bodyRefresh(l.pair.AccessToken) },
			reason: "an access token buys no new pair",
		},
		{
			name: "access token under access_token in the body", want: outcome{401, authx.ErrNoToken},
			req: func(t *testing.T, s *site, l login) call {
				return call{method: "POST", path: "/auth/refresh", ctype: "application/json", body: `{"access_token":"` + l.pair.AccessToken + `"}`}
			},
			reason: "the endpoint reads refresh_token only",
		},
		{
			name: "access token in the refresh cookie", want: outcome{401, authx.ErrRefreshRequired},
			req:    func(t *testing.T, s *site, l login) call { return cookieRefresh(l.pair.AccessToken, l.access.CSRF) },
			reason: "an access token buys no new pair",
		},
		{
			name: "access cookies only", want: outcome{401, authx.ErrNoToken},
			req: func(t *testing.T, s *site, l login) call {
				return call{method: "POST", path: "/auth/refresh", header: hdr("X-CSRF-TOKEN", l.access.CSRF), cookies: l.accessCookies()}
			},
			reason: "the endpoint reads the refresh cookie only",
		},
		{
			name: "an access token in the header does not hide the refresh cookie", want: outcome{204, nil}, wantTokens: wantCookies,
			req: func(t *testing.T, s *site, l login) call {
				c := cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF)
				c.header["Authorization"] = "Bearer " + l.pair.AccessToken
				return c
			},
			reason: "API clients send their access token everywhere; the endpoint looks on for a refresh token",
		},
		{
			name: "no token", want: outcome{401, authx.ErrNoToken},
			req:    func(t *testing.T, s *site, l login) call { return call{method: "POST", path: "/auth/refresh"} },
			reason: "nothing to refresh",
		},
		{
			name: "tampered header token", want: outcome{401, authx.ErrSignature},
			req:    func(t *testing.T, s *site, l login) call { return bearerRefresh(tamper(t, l.pair.RefreshToken)) },
			reason: "the payload was changed",
		},
		{
			name: "tampered refresh cookie", want: outcome{401, authx.ErrSignature},
			req: func(t *testing.T, s *site, l login) call {
				return cookieRefresh(tamper(t, l.pair.RefreshToken), l.refresh.CSRF)
			},
			reason: "the payload was changed",
		},
		{
			name: "refresh cookie signed by another key", want: outcome{401, authx.ErrSignature},
			req: func(t *testing.T, s *site, l login) call {
				return cookieRefresh(authtest.Resign(t, l.pair.RefreshToken), l.refresh.CSRF)
			},
			reason: "forged",
		},
		{
			name: "expired refresh cookie", age: 20*day + time.Second, want: outcome{401, authx.ErrExpired},
			req:    func(t *testing.T, s *site, l login) call { return cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF) },
			reason: "the login is over",
		},
		{
			name: "expired refresh token in the header", age: 20*day + time.Second, want: outcome{401, authx.ErrExpired},
			req:    func(t *testing.T, s *site, l login) call { return bearerRefresh(l.pair.RefreshToken) },
			reason: "the login is over",
		},
		{
			name: "malformed JSON body", want: outcome{400, authx.ErrInvalidRequest},
			req: func(t *testing.T, s *site, l login) call {
				return call{method: "POST", path: "/auth/refresh", ctype: "application/json", body: `{"refresh_token":`}
			},
			reason: "unreadable request",
		},
		{
			name: "spent refresh token", want: outcome{401, authx.ErrRefreshReused},
			prep: func(t *testing.T, s *site, l login) {
				if x := s.do(t, nil, bearerRefresh(l.pair.RefreshToken)); x.Status != 200 {
					t.Fatalf("first refresh: %d %s", x.Status, x.Body)
				}
			},
			req:    func(t *testing.T, s *site, l login) call { return bearerRefresh(l.pair.RefreshToken) },
			reason: "rotation: each refresh token works once",
		},
		{
			name: "revoked refresh token", want: outcome{401, authx.ErrRevoked},
			prep: func(t *testing.T, s *site, l login) {
				if err := s.a.Revoke(t.Context(), l.refresh); err != nil {
					t.Fatal(err)
				}
			},
			req:    func(t *testing.T, s *site, l login) call { return bearerRefresh(l.pair.RefreshToken) },
			reason: "on the blocklist",
		},
		{
			name: "refresh token of a revoked family, header", want: outcome{401, authx.ErrRevoked},
			prep: func(t *testing.T, s *site, l login) {
				if err := s.a.RevokeFamily(t.Context(), l.refresh.FamilyID); err != nil {
					t.Fatal(err)
				}
			},
			req:    func(t *testing.T, s *site, l login) call { return bearerRefresh(l.pair.RefreshToken) },
			reason: "the login was revoked",
		},
		{
			name: "refresh token of a revoked family, cookie", want: outcome{401, authx.ErrRevoked},
			prep: func(t *testing.T, s *site, l login) {
				if err := s.a.RevokeFamily(t.Context(), l.refresh.FamilyID); err != nil {
					t.Fatal(err)
				}
			},
			req:    func(t *testing.T, s *site, l login) call { return cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF) },
			reason: "the login was revoked",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, tt.opts...)
			l := s.login(t)
			if tt.prep != nil {
				tt.prep(t, s, l)
			}
			s.clock.Advance(tt.age)
			got := s.do(t, nil, tt.req(t, s, l))
			if diff := cmp.Diff(tt.want, got.outcome(), equateErrors); diff != "" {
				t.Fatalf("(-want +got):\n%s\n%s; body %s", diff, tt.reason, got.Body)
			}
			var newAccess string
			switch tt.wantTokens {
			case wantJSON:
				p := tokenResponse(t, got)
				if diff := cmp.Diff(authx.TokenPair{AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, TokenType: "bearer", ExpiresIn: 900}, *p); diff != "" {
					t.Errorf("token response (-want +got):\n%s", diff)
				}
				if len(got.Cookies) != 0 {
					t.Errorf("a header or body refresh set cookies: %v", got.Cookies)
				}
				if _, err := s.a.Verify(t.Context(), p.RefreshToken, authx.Refresh); err != nil {
					t.Errorf("new refresh token: %v", err)
				}
				newAccess = p.AccessToken
			case wantCookies:
				var names []string
				for _, c := range got.Cookies {
					names = append(names, c.Name)
				}
				if diff := cmp.Diff([]string{"access_token_cookie", "csrf_access_token", "refresh_token_cookie", "csrf_refresh_token"}, names); diff != "" {
					t.Errorf("cookies set (-want +got):\n%s", diff)
				}
				if got.Body != "" {
					t.Errorf("cookie refresh answered a body: %s", got.Body)
				}
				if c := got.cookie("access_token_cookie"); c != nil {
					newAccess = c.Value
				}
			default:
				if len(got.Cookies) != 0 || strings.Contains(got.Body, "eyJ") {
					t.Errorf("a refused refresh issued something: cookies %v, body %s", got.Cookies, got.Body)
				}
				return
			}
			if cc := got.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if x := s.do(t, nil, bearer("GET", "/reports", newAccess)); x.Status != 200 {
				t.Errorf("the new access token at a scoped guard: %d %s", x.Status, x.Body)
			}
		})
	}
}

// TestRefreshKeepsClaims: the new access token is not fresh and keeps the
// scopes, custom data, audience, session and family of the refresh token;
// the new refresh token keeps the login's expiry.
func TestRefreshKeepsClaims(t *testing.T) {
	t.Parallel()
	const age = time.Hour
	tests := []struct {
		name   string
		python bool // a refresh token minted without a family, as Python AuthX does
		cookie bool
		reason string
	}{
		{"header", false, false, "OAuth-shaped answer"},
		{"cookie", false, true, "new cookies"},
		{"Python AuthX token", true, false, "a family-less token gets a family; scopes and data carry over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s *site
			var oldTok string
			var wantAud []string
			var wantSID string
			if tt.python {
				s = newSite(t)
				oldTok = pythonRefresh(t, "py-keep")
			} else {
				s = newSite(t, authx.WithAudience("api"), withLiveSession(t, "s1", "alice"))
				wantAud, wantSID = []string{"api"}, "s1"
				l := s.login(t, authx.FreshLogin(), authx.Grant("reports:read"), authx.Claim("tenant", "acme"), authx.Session("s1"))
				oldTok = l.pair.RefreshToken
			}
			old, err := s.a.Verify(t.Context(), oldTok, authx.Refresh)
			if err != nil {
				t.Fatal(err)
			}
			s.clock.Advance(age)
			var access, refresh string
			if tt.cookie {
				x := s.do(t, nil, cookieRefresh(oldTok, old.CSRF))
				if x.Status != 204 {
					t.Fatalf("refresh: %d %s", x.Status, x.Body)
				}
				access, refresh = x.cookie("access_token_cookie").Value, x.cookie("refresh_token_cookie").Value
				life := int(old.ExpiresAt.Sub(s.clock.Now()) / time.Second)
				if got := x.cookie("refresh_token_cookie").MaxAge; got != life {
					t.Errorf("new refresh cookie Max-Age %d, want the login's remaining %d", got, life)
				}
				if got := x.cookie("access_token_cookie").MaxAge; got != 900 {
					t.Errorf("new access cookie Max-Age %d, want 900", got)
				}
			} else {
				x := s.do(t, nil, bearerRefresh(oldTok))
				if x.Status != 200 {
					t.Fatalf("refresh: %d %s", x.Status, x.Body)
				}
				p := tokenResponse(t, x)
				access, refresh = p.AccessToken, p.RefreshToken
			}
			ac, err := s.a.Verify(t.Context(), access)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := s.a.Verify(t.Context(), refresh, authx.Refresh)
			if err != nil {
				t.Fatal(err)
			}
			now := s.clock.Now()
			data := map[string]any{"tenant": "acme"}
			scopes := []string{"reports:read"}
			if diff := cmp.Diff(renewed{"alice", authx.Access, false, scopes, data, wantSID, wantAud, now.Add(15 * time.Minute)}, renewedView(ac)); diff != "" {
				t.Errorf("new access token (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(renewed{"alice", authx.Refresh, false, scopes, data, wantSID, wantAud, old.ExpiresAt}, renewedView(rc)); diff != "" {
				t.Errorf("new refresh token (-want +got):\n%s", diff)
			}
			wantFam := old.FamilyID
			if tt.python {
				wantFam = rc.FamilyID
				if wantFam == "" {
					t.Errorf("a family-less refresh token was rotated into a family-less one")
				}
			}
			if ac.FamilyID != wantFam || rc.FamilyID != wantFam {
				t.Errorf("families %q, %q, want %q", ac.FamilyID, rc.FamilyID, wantFam)
			}
			if rc.ID == old.ID || rc.CSRF == old.CSRF || ac.CSRF == "" || ac.CSRF == rc.CSRF {
				t.Errorf("new tokens must have new jti and csrf values: old %q/%q, new %q/%q, access csrf %q", old.ID, old.CSRF, rc.ID, rc.CSRF, ac.CSRF)
			}
			if x := s.do(t, nil, bearer("GET", "/reports", access)); x.Status != 200 {
				t.Errorf("new access token at a scoped guard: %d %s", x.Status, x.Body)
			}
		})
	}
}

// TestRefreshReuse: a spent refresh token is refused; past the grace window
// its use revokes the whole family — every access and refresh token of that
// login, on every guard — while other logins are unaffected.
func TestRefreshReuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []authx.Option
		python      bool // the login's refresh token has no family, as Python AuthX mints them
		after       time.Duration
		wantRevoked bool
		reason      string
	}{
		{"at once, default grace", nil, false, 0, false, "a client's parallel requests"},
		{"within the default grace", nil, false, 4 * time.Second, false, "still taken for a race"},
		{"past the default grace", nil, false, 6 * time.Second, true, "a copy of the token was used: revoke the login"},
		{"within a 1m grace", []authx.Option{authx.WithRefreshReuseGrace(time.Minute)}, false, 30 * time.Second, false, "configured grace"},
		{"past a 1m grace", []authx.Option{authx.WithRefreshReuseGrace(time.Minute)}, false, 61 * time.Second, true, "configured grace"},
		{"grace 0, a second later", []authx.Option{authx.WithRefreshReuseGrace(0)}, false, time.Second, true, "no grace"},
		{"grace 0, at the same instant", []authx.Option{authx.WithRefreshReuseGrace(0)}, false, 0, true, `WithRefreshReuseGrace documents "0 revokes on any reuse"`},
		{"family-less token, past the grace", nil, true, 6 * time.Second, true, "every token descending from the spent one must be revoked, whether or not it was minted with a family"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, tt.opts...)
			var access0, refresh0 string
			if tt.python {
				refresh0 = pythonRefresh(t, "py-reuse")
			} else {
				l := s.login(t)
				access0, refresh0 = l.pair.AccessToken, l.pair.RefreshToken
			}
			bystander := s.login(t)
			first := s.do(t, nil, bearerRefresh(refresh0))
			if first.Status != 200 {
				t.Fatalf("first refresh: %d %s", first.Status, first.Body)
			}
			p1 := tokenResponse(t, first)
			s.clock.Advance(tt.after)

			got := map[string]outcome{}
			want := map[string]outcome{}
			gone, alive := outcome{401, authx.ErrRevoked}, outcome{Status: 200}
			if !tt.wantRevoked {
				gone = alive
			}
			got["reuse"] = s.do(t, nil, bearerRefresh(refresh0)).outcome()
			want["reuse"] = outcome{401, authx.ErrRefreshReused}
			for name, tok := range map[string]string{"login access": access0, "refreshed access": p1.AccessToken} {
				if tok == "" {
					continue
				}
				for _, path := range []string{"/me", "/reports"} {
					got[name+" at "+path] = s.do(t, nil, bearer("GET", path, tok)).outcome()
					want[name+" at "+path] = gone
				}
			}
			got["bystander at /me"] = s.do(t, nil, bearer("GET", "/me", bystander.pair.AccessToken)).outcome()
			want["bystander at /me"] = alive
			got["refreshed refresh"] = s.do(t, nil, bearerRefresh(p1.RefreshToken)).outcome()
			want["refreshed refresh"] = gone
			got["bystander refresh"] = s.do(t, nil, bearerRefresh(bystander.pair.RefreshToken)).outcome()
			want["bystander refresh"] = alive
			if diff := cmp.Diff(want, got, equateErrors); diff != "" {
				t.Errorf("after reusing the spent token (-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}

// TestFamilyRevocationLifetime: a revoked family stays revoked as long as
// any of its tokens is valid, whatever lifetime the login was given.
func TestFamilyRevocationLifetime(t *testing.T) {
	t.Parallel()
	// A family member may not outlive the family's revocation: longer
	// logins raise WithRefreshTTL rather than a per-token lifetime.
	a, _ := newAuth(t)
	for name, opt := range map[string]authx.TokenOption{
		"RefreshExpiresIn beyond the refresh TTL": authx.RefreshExpiresIn(60 * day),
		"ExpiresAt beyond the refresh TTL":        authx.ExpiresAt(testNow.Add(60 * day)),
	} {
		if _, err := a.CreateTokenPair("alice", opt); !errors.Is(err, authx.ErrTokenOption) {
			t.Errorf("%s: CreateTokenPair error = %v, want ErrTokenOption", name, err)
		}
	}
	tests := []struct {
		name   string
		site   []authx.Option
		login  []authx.TokenOption
		revoke func(t *testing.T, s *site, l login, p1 *authx.TokenPair) // p1: the pair of the first refresh
		later  time.Duration
		reason string
	}{
		{
			name: "reuse detected, default lifetimes", login: loginOpts, later: 19 * day,
			revoke: func(t *testing.T, s *site, l login, p1 *authx.TokenPair) {
				s.clock.Advance(6 * time.Second)
				s.do(t, nil, bearerRefresh(l.pair.RefreshToken))
			},
			reason: "the family outlives none of its tokens",
		},
		{
			name: "reuse detected, 60-day login", site: []authx.Option{authx.WithRefreshTTL(60 * day)}, login: loginOpts, later: 21 * day,
			revoke: func(t *testing.T, s *site, l login, p1 *authx.TokenPair) {
				s.clock.Advance(6 * time.Second)
				s.do(t, nil, bearerRefresh(l.pair.RefreshToken))
			},
			reason: "the stolen family's refresh token lives 60 days; its revocation must too",
		},
		{
			name: "logout, 60-day login", site: []authx.Option{authx.WithRefreshTTL(60 * day)}, login: loginOpts, later: 21 * day,
			revoke: func(t *testing.T, s *site, l login, p1 *authx.TokenPair) {
				if x := s.do(t, nil, bearer("POST", "/auth/logout", p1.AccessToken)); x.Status != 204 {
					t.Fatalf("logout: %d %s", x.Status, x.Body)
				}
			},
			reason: "logging out ends the login for as long as it would have lasted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, tt.site...)
			l := s.login(t, tt.login...)
			first := s.do(t, nil, bearerRefresh(l.pair.RefreshToken))
			if first.Status != 200 {
				t.Fatalf("first refresh: %d %s", first.Status, first.Body)
			}
			p1 := tokenResponse(t, first)
			tt.revoke(t, s, l, p1)
			s.clock.Advance(tt.later)
			got := s.do(t, nil, bearerRefresh(p1.RefreshToken))
			if diff := cmp.Diff(outcome{401, authx.ErrRevoked}, got.outcome(), equateErrors); diff != "" {
				t.Errorf("the family's refresh token %v later (-want +got):\n%s\n%s", tt.later, diff, tt.reason)
			}
		})
	}
}

// TestRefreshConcurrent: of 32 concurrent refreshes with one token, over a
// real server, exactly one succeeds; the others are refused as reuse
// (within the grace window, so the winner's tokens stay good).
func TestRefreshConcurrent(t *testing.T) {
	t.Parallel()
	const n = 32
	tests := []struct {
		name   string
		req    func(l login) call
		winner outcome
	}{
		{"header", func(l login) call { return bearerRefresh(l.pair.RefreshToken) }, outcome{Status: 200}},
		{"body", func(l login) call { return bodyRefresh(l.pair.RefreshToken) }, outcome{Status: 200}},
		{"cookie", func(l login) call { return cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF) }, outcome{Status: 204}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t)
			l := s.login(t)
			results := make([]exchange, n)
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					results[i], errs[i] = s.roundTrip(nil, tt.req(l))
				})
			}
			close(start)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			var won exchange
			for _, x := range results {
				count[fmt.Sprintf("%d %v", x.Status, x.Err)]++
				if x.Err == nil {
					won = x
				}
			}
			want := map[string]int{
				fmt.Sprintf("%d <nil>", tt.winner.Status):     1,
				fmt.Sprintf("401 %v", authx.ErrRefreshReused): n - 1,
			}
			if diff := cmp.Diff(want, count); diff != "" {
				t.Fatalf("outcomes of %d concurrent refreshes (-want +got):\n%s", n, diff)
			}
			var next string
			if tt.winner.Status == 200 {
				next = tokenResponse(t, won).RefreshToken
			} else if c := won.cookie("refresh_token_cookie"); c != nil {
				next = c.Value
			}
			if x := s.do(t, nil, bearerRefresh(next)); x.Status != 200 {
				t.Errorf("the winner's refresh token: %d %s", x.Status, x.Body)
			}
		})
	}
}

// TestMemoryRefreshStoreAtomic: Spend reports first exactly once.
func TestMemoryRefreshStoreAtomic(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(testNow)
	st := authx.NewMemoryRefreshStore(clock.Now)
	const n = 32
	var firsts atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			first, _, err := st.Spend(context.Background(), "jti-1", testNow.Add(time.Hour))
			if err == nil && first {
				firsts.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := firsts.Load(); got != 1 {
		t.Errorf("%d of %d concurrent Spend calls reported first, want 1", got, n)
	}
	first, at, err := st.Spend(t.Context(), "jti-1", testNow.Add(time.Hour))
	if diff := cmp.Diff([]any{false, testNow, nil}, []any{first, at, err}, equateErrors); diff != "" {
		t.Errorf("Spend again (-want +got):\n%s", diff)
	}
	if _, _, err := st.Spend(t.Context(), "", testNow.Add(time.Hour)); err == nil {
		t.Errorf("Spend with an empty id: nil error")
	}
}

// countingStore counts Spend calls, delegating to a MemoryRefreshStore, or
// failing when err is set.
type countingStore struct {
	calls atomic.Int32
	mem   *authx.MemoryRefreshStore
	err   error
}

func (s *countingStore) Spend(ctx context.Context, id string, until time.Time) (bool, time.Time, error) {
	s.calls.Add(1)
	if s.err != nil {
		return false, time.Time{}, s.err
	}
	return s.mem.Spend(ctx, id, until)
}

// revokeFailsBlocklist answers IsRevoked but cannot record revocations.
type revokeFailsBlocklist struct{ *authx.MemoryBlocklist }

func (revokeFailsBlocklist) Revoke(context.Context, string, time.Time) error {
	return errors.New("store down")
}

// TestRefreshNoRotation: InsecureNoRefreshRotation keeps the old refresh
// token usable and never spends it.
func TestRefreshNoRotation(t *testing.T) {
	t.Parallel()
	store := &countingStore{mem: authx.NewMemoryRefreshStore(nil)}
	s := newSite(t, authx.InsecureNoRefreshRotation(), authx.WithRefreshStore(store))
	l := s.login(t)
	seen := map[string]bool{}
	for i := range 3 {
		s.clock.Advance(time.Minute) // past any grace window
		x := s.do(t, nil, bearerRefresh(l.pair.RefreshToken))
		if x.Status != 200 {
			t.Fatalf("refresh %d: %d %s", i, x.Status, x.Body)
		}
		p := tokenResponse(t, x)
		if p.RefreshToken != "" {
			t.Errorf("refresh %d issued a refresh token; without rotation the client keeps its own", i)
		}
		if seen[p.AccessToken] {
			t.Errorf("refresh %d repeated an access token", i)
		}
		seen[p.AccessToken] = true
	}
	x := s.do(t, nil, cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF))
	var names []string
	for _, c := range x.Cookies {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"access_token_cookie", "csrf_access_token"}, names); x.Status != 204 || diff != "" {
		t.Errorf("cookie refresh: %d, cookies (-want +got):\n%s", x.Status, diff)
	}
	if got := store.calls.Load(); got != 0 {
		t.Errorf("the refresh store was asked %d times, want 0", got)
	}
	if x := s.do(t, nil, bearer("GET", "/me", l.pair.AccessToken)); x.Status != 200 {
		t.Errorf("the login's access token: %d %s", x.Status, x.Body)
	}
}

// TestRefreshStoreFailures: a store that cannot answer fails closed with
// 503, issues nothing and shows no internal text.
func TestRefreshStoreFailures(t *testing.T) {
	t.Parallel()
	down := errors.New("store down")
	tests := []struct {
		name      string
		opts      func() ([]authx.Option, *countingStore)
		prep      func(t *testing.T, s *site, l login)
		req       func(l login) call
		wantCalls int32 // Spend calls, when a countingStore is used
		reason    string
	}{
		{
			name: "Spend fails, header",
			opts: func() ([]authx.Option, *countingStore) {
				st := &countingStore{err: down}
				return []authx.Option{authx.WithRefreshStore(st)}, st
			},
			req: func(l login) call { return bearerRefresh(l.pair.RefreshToken) }, wantCalls: 1,
			reason: "no proof the token was unspent: issue nothing",
		},
		{
			name: "Spend fails, cookie",
			opts: func() ([]authx.Option, *countingStore) {
				st := &countingStore{err: down}
				return []authx.Option{authx.WithRefreshStore(st)}, st
			},
			req: func(l login) call { return cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF) }, wantCalls: 1,
			reason: "no cookies either",
		},
		{
			name: "blocklist down, header",
			opts: func() ([]authx.Option, *countingStore) {
				st := &countingStore{mem: authx.NewMemoryRefreshStore(nil)}
				return []authx.Option{authx.WithBlocklist(failingBlocklist{}), authx.WithRefreshStore(st)}, st
			},
			req: func(l login) call { return bearerRefresh(l.pair.RefreshToken) }, wantCalls: 0,
			reason: "revocation unknown: refuse before spending",
		},
		{
			name: "blocklist down, cookie",
			opts: func() ([]authx.Option, *countingStore) {
				st := &countingStore{mem: authx.NewMemoryRefreshStore(nil)}
				return []authx.Option{authx.WithBlocklist(failingBlocklist{}), authx.WithRefreshStore(st)}, st
			},
			req: func(l login) call { return cookieRefresh(l.pair.RefreshToken, l.refresh.CSRF) }, wantCalls: 0,
			reason: "revocation unknown",
		},
		{
			name: "family revocation cannot be recorded",
			opts: func() ([]authx.Option, *countingStore) {
				st := &countingStore{mem: authx.NewMemoryRefreshStore(nil)}
				return []authx.Option{authx.WithBlocklist(revokeFailsBlocklist{authx.NewMemoryBlocklist(nil)}), authx.WithRefreshStore(st)}, st
			},
			prep: func(t *testing.T, s *site, l login) {
				if x := s.do(t, nil, bearerRefresh(l.pair.RefreshToken)); x.Status != 200 {
					t.Fatalf("first refresh: %d %s", x.Status, x.Body)
				}
				s.clock.Advance(time.Minute)
			},
			req: func(l login) call { return bearerRefresh(l.pair.RefreshToken) }, wantCalls: 2,
			reason: "a reuse whose family cannot be revoked is not shrugged off",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, st := tt.opts()
			s := newSite(t, opts...)
			l := s.login(t)
			if tt.prep != nil {
				tt.prep(t, s, l)
			}
			got := s.do(t, nil, tt.req(l))
			if diff := cmp.Diff(outcome{503, authx.ErrUnavailable}, got.outcome(), equateErrors); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, tt.reason)
			}
			if len(got.Cookies) != 0 || strings.Contains(got.Body, "eyJ") || strings.Contains(got.Body, "down") {
				t.Errorf("a failed refresh leaked tokens or internals: cookies %v, body %s", got.Cookies, got.Body)
			}
			if c := st.calls.Load(); c != tt.wantCalls {
				t.Errorf("Spend called %d times, want %d", c, tt.wantCalls)
			}
		})
	}
}

// TestImplicitRefresh: the middleware renews cookie access tokens close to
// expiry, before the handler writes, and only where its rules say so.
func TestImplicitRefresh(t *testing.T) {
	t.Parallel()
	type req = func(t *testing.T, s *site, l login) call
	get := func(path string) req {
		return func(t *testing.T, s *site, l login) call { return call{path: path, cookies: l.accessCookies()} }
	}
	post := func(path string, extra ...string) req {
		return func(t *testing.T, s *site, l login) call {
			h := hdr(append([]string{"X-CSRF-TOKEN", l.access.CSRF}, extra...)...)
			return call{method: "POST", path: path, header: h, cookies: l.accessCookies()}
		}
	}
	ok := outcome{Status: 200}
	const soon = 6 * time.Minute // 9 minutes left of 15: within the default 10
	tests := []struct {
		name          string
		ic            authx.ImplicitRefreshConfig
		opts          []authx.Option
		age           time.Duration
		prep          func(t *testing.T, s *site, l login)
		req           req
		want          outcome
		wantRefreshed bool
		reason        string
	}{
		{name: "11 minutes left", age: 4 * time.Minute, req: get("/me"), want: ok, reason: "not within the default 10 minutes"},
		{name: "exactly Delta left", age: 5 * time.Minute, req: get("/me"), want: ok, reason: "within means less than"},
		{name: "9 minutes left", age: soon, req: get("/me"), want: ok, wantRefreshed: true, reason: "within the default 10 minutes"},
		{name: "custom Delta, 5 minutes left", ic: authx.ImplicitRefreshConfig{Delta: 2 * time.Minute}, age: 10 * time.Minute, req: get("/me"), want: ok, reason: "not within 2 minutes"},
		{name: "custom Delta, 1 minute left", ic: authx.ImplicitRefreshConfig{Delta: 2 * time.Minute}, age: 14 * time.Minute, req: get("/me"), want: ok, wantRefreshed: true, reason: "within 2 minutes"},
		{name: "expired", age: 16 * time.Minute, req: get("/me"), want: outcome{401, authx.ErrExpired}, reason: "an expired token renews nothing"},
		{
			name: "revoked token", age: soon, req: get("/me"), want: outcome{401, authx.ErrRevoked},
			prep: func(t *testing.T, s *site, l login) {
				if err := s.a.Revoke(t.Context(), l.access); err != nil {
					t.Fatal(err)
				}
			},
			reason: "AuthX skips the blocklist here; we must not",
		},
		{
			name: "revoked family", age: soon, req: get("/me"), want: outcome{401, authx.ErrRevoked},
			prep: func(t *testing.T, s *site, l login) {
				if err := s.a.RevokeFamily(t.Context(), l.access.FamilyID); err != nil {
					t.Fatal(err)
				}
			},
			reason: "a logged-out login stays out",
		},
		{
			name: "refresh token in the access cookie", want: outcome{401, authx.ErrAccessRequired},
			req: func(t *testing.T, s *site, l login) call {
				tok := authtest.RefreshToken(t, s.a, "alice", authx.ExpiresIn(time.Minute))
				return call{cookies: []*http.Cookie{{Name: "access_token_cookie", Value: tok}}}
			},
			reason: "only access tokens are renewed",
		},
		{
			name: "token in the Authorization header", age: soon, want: ok,
			req:    func(t *testing.T, s *site, l login) call { return bearer("GET", "/me", l.pair.AccessToken) },
			reason: "only cookie sessions are renewed",
		},
		{
			name: "tampered cookie", age: soon, want: outcome{401, authx.ErrSignature},
			req: func(t *testing.T, s *site, l login) call {
				return call{cookies: []*http.Cookie{{Name: "access_token_cookie", Value: tamper(t, l.pair.AccessToken)}}}
			},
			reason: "unverified tokens renew nothing",
		},
		{
			name: "POST without CSRF", age: soon, want: outcome{403, authx.ErrCSRFMissing},
			req:    func(t *testing.T, s *site, l login) call { return call{method: "POST", cookies: l.accessCookies()} },
			reason: "a forged request must not renew the session",
		},
		{name: "POST with CSRF", age: soon, req: post("/me"), want: ok, wantRefreshed: true, reason: "the double submit passed"},
		{name: "POST cross-site", age: soon, req: post("/me", "Sec-Fetch-Site", "cross-site"), want: outcome{403, authx.ErrCrossOrigin}, reason: "the origin layer applies"},
		{name: "ExcludePaths", ic: authx.ImplicitRefreshConfig{ExcludePaths: []string{"/me"}}, age: soon, req: get("/me"), want: ok, reason: "excluded"},
		{name: "ExcludePaths, another path", ic: authx.ImplicitRefreshConfig{ExcludePaths: []string{"/me"}}, age: soon, req: get("/other"), want: ok, wantRefreshed: true, reason: "not excluded"},
		{name: "ExcludePaths match exactly", ic: authx.ImplicitRefreshConfig{ExcludePaths: []string{"/m"}}, age: soon, req: get("/me"), want: ok, wantRefreshed: true, reason: "no prefix matching"},
		{name: "IncludePaths, another path", ic: authx.ImplicitRefreshConfig{IncludePaths: []string{"/other"}}, age: soon, req: get("/me"), want: ok, reason: "not included"},
		{name: "IncludePaths, listed path", ic: authx.ImplicitRefreshConfig{IncludePaths: []string{"/other"}}, age: soon, req: get("/other"), want: ok, wantRefreshed: true, reason: "included"},
		{name: "path included and excluded", ic: authx.ImplicitRefreshConfig{IncludePaths: []string{"/me"}, ExcludePaths: []string{"/me"}}, age: soon, req: get("/me"), want: ok, reason: "exclusion wins"},
		{name: "IncludeMethods GET, GET", ic: authx.ImplicitRefreshConfig{IncludeMethods: []string{"GET"}}, age: soon, req: get("/me"), want: ok, wantRefreshed: true, reason: "included (AuthX inverts this)"},
		{name: "IncludeMethods GET, POST", ic: authx.ImplicitRefreshConfig{IncludeMethods: []string{"GET"}}, age: soon, req: post("/me"), want: ok, reason: "not included (AuthX inverts this)"},
		{name: "ExcludeMethods POST, POST", ic: authx.ImplicitRefreshConfig{ExcludeMethods: []string{"POST"}}, age: soon, req: post("/me"), want: ok, reason: "excluded"},
		{name: "ExcludeMethods POST, GET", ic: authx.ImplicitRefreshConfig{ExcludeMethods: []string{"POST"}}, age: soon, req: get("/me"), want: ok, wantRefreshed: true, reason: "not excluded"},
		{name: "handler writes at once", age: soon, req: get("/open"), want: outcome{Status: 201}, wantRefreshed: true, reason: "the cookie is set before the handler writes"},
		{name: "blocklist down", opts: []authx.Option{authx.WithBlocklist(failingBlocklist{})}, age: soon, req: get("/me"), want: outcome{503, authx.ErrUnavailable}, reason: "revocation unknown: renew nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ic := tt.ic
			s := startSite(t, &ic, append(tt.opts, withLiveSession(t, "s1", "alice"))...)
			l := s.login(t, authx.FreshLogin(), authx.Grant("reports:read"), authx.Claim("tenant", "acme"), authx.Session("s1"))
			if tt.prep != nil {
				tt.prep(t, s, l)
			}
			s.clock.Advance(tt.age)
			got := s.do(t, nil, tt.req(t, s, l))
			if diff := cmp.Diff(tt.want, got.outcome(), equateErrors); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s; body %s", diff, tt.reason, got.Body)
			}
			c := got.cookie("access_token_cookie")
			if (c != nil) != tt.wantRefreshed {
				t.Fatalf("refreshed = %v, want %v: %s", c != nil, tt.wantRefreshed, tt.reason)
			}
			if c == nil {
				if len(got.Cookies) != 0 {
					t.Errorf("cookies set without a refresh: %v", got.Cookies)
				}
				return
			}
			nc, err := s.a.Verify(t.Context(), c.Value)
			if err != nil {
				t.Fatalf("renewed token: %v", err)
			}
			now := s.clock.Now()
			want := renewed{"alice", authx.Access, false, []string{"reports:read"}, map[string]any{"tenant": "acme"}, "s1", nil, now.Add(15 * time.Minute)}
			if diff := cmp.Diff(want, renewedView(nc)); diff != "" {
				t.Errorf("renewed token (-want +got):\n%s", diff)
			}
			if nc.FamilyID != l.access.FamilyID || nc.ID == l.access.ID {
				t.Errorf("renewed token: family %q (want %q), jti %q (old %q)", nc.FamilyID, l.access.FamilyID, nc.ID, l.access.ID)
			}
			csrf := got.cookie("csrf_access_token")
			type attrs struct {
				MaxAge         int
				HttpOnly       bool
				CSRF, CSRFFrom string
			}
			gotAttrs := attrs{MaxAge: c.MaxAge, HttpOnly: c.HttpOnly, CSRFFrom: nc.CSRF}
			if csrf != nil {
				gotAttrs.CSRF = csrf.Value
			}
			if diff := cmp.Diff(attrs{900, true, nc.CSRF, nc.CSRF}, gotAttrs); diff != "" || nc.CSRF == l.access.CSRF {
				t.Errorf("renewed cookies (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLogoutHandler: logout revokes the presented access token and its
// whole family, and clears the four cookies; no or invalid token still
// clears them; a cookie token without CSRF is refused.
func TestLogoutHandler(t *testing.T) {
	t.Parallel()
	type req = func(t *testing.T, s *site, l login) call
	logout := func(extra ...string) call { return call{method: "POST", path: "/auth/logout", header: hdr(extra...)} }
	alive, gone := outcome{Status: 200}, outcome{401, authx.ErrRevoked}
	tests := []struct {
		name                    string
		opts                    []authx.Option
		age                     time.Duration
		req                     req
		want                    outcome
		wantCleared             bool
		wantAccess, wantRefresh outcome // the login's tokens afterwards
		reason                  string
	}{
		{
			name: "bearer access token", want: outcome{Status: 204}, wantCleared: true, wantAccess: gone, wantRefresh: gone,
			req: func(t *testing.T, s *site, l login) call {
				return logout("Authorization", "Bearer "+l.pair.AccessToken)
			},
			reason: "the access token and its family",
		},
		{
			name: "access cookie with CSRF", want: outcome{Status: 204}, wantCleared: true, wantAccess: gone, wantRefresh: gone,
			req: func(t *testing.T, s *site, l login) call {
				c := logout("X-CSRF-TOKEN", l.access.CSRF)
				c.cookies = l.accessCookies()
				return c
			},
			reason: "the access token and its family",
		},
		{
			name: "access cookie without CSRF", want: outcome{403, authx.ErrCSRFMissing}, wantAccess: alive, wantRefresh: alive,
			req: func(t *testing.T, s *site, l login) call {
				c := logout()
				c.cookies = l.accessCookies()
				return c
			},
			reason: "a forged logout is refused",
		},
		{
			name: "access cookie, cross-site", want: outcome{403, authx.ErrCrossOrigin}, wantAccess: alive, wantRefresh: alive,
			req: func(t *testing.T, s *site, l login) call {
				c := logout("X-CSRF-TOKEN", l.access.CSRF, "Sec-Fetch-Site", "cross-site")
				c.cookies = l.accessCookies()
				return c
			},
			reason: "the origin layer applies",
		},
		{
			name: "no token", want: outcome{Status: 204}, wantCleared: true, wantAccess: alive, wantRefresh: alive,
			req:    func(t *testing.T, s *site, l login) call { return logout() },
			reason: "logging out twice is no error",
		},
		{
			name: "tampered token", want: outcome{Status: 204}, wantCleared: true, wantAccess: alive, wantRefresh: alive,
			req: func(t *testing.T, s *site, l login) call {
				return logout("Authorization", "Bearer "+tamper(t, l.pair.AccessToken))
			},
			reason: "an invalid token revokes nothing",
		},
		{
			name: "refresh token as the bearer token", want: outcome{Status: 204}, wantCleared: true, wantAccess: gone, wantRefresh: gone,
			req: func(t *testing.T, s *site, l login) call {
				return logout("Authorization", "Bearer "+l.pair.RefreshToken)
			},
			reason: "the refresh endpoint reads refresh tokens from the header, so logout does too: the login ends",
		},
		{
			name: "expired access token", age: 16 * time.Minute, want: outcome{Status: 204}, wantCleared: true,
			wantAccess: outcome{401, authx.ErrExpired}, wantRefresh: gone,
			req: func(t *testing.T, s *site, l login) call {
				return logout("Authorization", "Bearer "+l.pair.AccessToken)
			},
			reason: "an expired token of ours still names a login whose family must end (signature and type are checked)",
		},
		{
			name: "refresh token in the body", want: outcome{Status: 204}, wantCleared: true, wantAccess: gone, wantRefresh: gone,
			req: func(t *testing.T, s *site, l login) call {
				return call{method: "POST", path: "/auth/logout", ctype: "application/json", body: `{"refresh_token":"` + l.pair.RefreshToken + `"}`}
			},
			reason: "the refresh token and its family",
		},
		{
			name: "refresh cookie with its CSRF", want: outcome{Status: 204}, wantCleared: true, wantAccess: gone, wantRefresh: gone,
			req: func(t *testing.T, s *site, l login) call {
				c := logout("X-CSRF-TOKEN", l.refresh.CSRF)
				c.cookies = l.refreshCookies()
				return c
			},
			reason: "the refresh token and its family",
		},
		{
			name: "refresh cookie without CSRF", want: outcome{403, authx.ErrCSRFMissing}, wantAccess: alive, wantRefresh: alive,
			req: func(t *testing.T, s *site, l login) call {
				c := logout()
				c.cookies = l.refreshCookies()
				return c
			},
			reason: "a forged logout is refused",
		},
		{
			name: "browser with all four cookies", want: outcome{Status: 204}, wantCleared: true, wantAccess: gone, wantRefresh: gone,
			req: func(t *testing.T, s *site, l login) call {
				// With the default paths a browser sends all four cookies to
				// the logout endpoint; its script sends the access CSRF
				// cookie in the header, as for any other unsafe request.
				c := logout("X-CSRF-TOKEN", l.access.CSRF)
				c.cookies = append(l.accessCookies(), l.refreshCookies()...)
				return c
			},
			reason: "the documented browser flow must be able to log out",
		},
		{
			name: "blocklist down", opts: []authx.Option{authx.WithBlocklist(failingBlocklist{})},
			want: outcome{503, authx.ErrUnavailable}, wantCleared: true,
			wantAccess: outcome{503, authx.ErrUnavailable}, wantRefresh: outcome{503, authx.ErrUnavailable},
			req: func(t *testing.T, s *site, l login) call {
				return logout("Authorization", "Bearer "+l.pair.AccessToken)
			},
			reason: "the revocation could not be recorded: say so, but clear the cookies",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, tt.opts...)
			l := s.login(t)
			bystander := s.login(t)
			s.clock.Advance(tt.age)
			got := s.do(t, nil, tt.req(t, s, l))
			if diff := cmp.Diff(tt.want, got.outcome(), equateErrors); diff != "" {
				t.Errorf("logout (-want +got):\n%s\n%s; body %s", diff, tt.reason, got.Body)
			}
			var wantCookies []cookieView
			if tt.wantCleared {
				for _, name := range []string{"access_token_cookie", "csrf_access_token", "refresh_token_cookie", "csrf_refresh_token"} {
					wantCookies = append(wantCookies, cookieView{Name: name, Path: "/", MaxAge: -1, Expires: epoch, HttpOnly: !strings.HasPrefix(name, "csrf"), SameSite: http.SameSiteLaxMode})
				}
			}
			if diff := cmp.Diff(wantCookies, viewCookies(got.Cookies), cmpEmpty); diff != "" {
				t.Errorf("cookies (-want +got):\n%s", diff)
			}
			after := map[string]outcome{
				"access":           s.do(t, nil, bearer("GET", "/me", l.pair.AccessToken)).outcome(),
				"access elsewhere": s.do(t, nil, bearer("GET", "/reports", l.pair.AccessToken)).outcome(),
				"refresh":          s.do(t, nil, bearerRefresh(l.pair.RefreshToken)).outcome(),
			}
			want := map[string]outcome{"access": tt.wantAccess, "access elsewhere": tt.wantAccess, "refresh": tt.wantRefresh}
			if tt.wantAccess == alive {
				after["bystander"] = s.do(t, nil, bearer("GET", "/me", bystander.pair.AccessToken)).outcome()
				want["bystander"] = alive
			}
			if diff := cmp.Diff(want, after, equateErrors); diff != "" {
				t.Errorf("the login's tokens after logout (-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = cmp.Comparer(func(a, b []cookieView) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return cmp.Equal(a, b)
})

// TestRevokeAPI: Revoke and RevokeFamily directly, and nil-Auth endpoints.
func TestRevokeAPI(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	l := s.login(t)
	bystander := s.login(t)
	sibling := s.login(t) // revoked by jti only
	if err := s.a.Revoke(t.Context(), sibling.access); err != nil {
		t.Fatal(err)
	}
	if err := s.a.RevokeFamily(t.Context(), l.access.FamilyID); err != nil {
		t.Fatal(err)
	}
	gone, alive := outcome{401, authx.ErrRevoked}, outcome{Status: 200}
	got := map[string]outcome{
		"family access":               s.do(t, nil, bearer("GET", "/me", l.pair.AccessToken)).outcome(),
		"family access, scoped guard": s.do(t, nil, bearer("GET", "/reports", l.pair.AccessToken)).outcome(),
		"family refresh":              s.do(t, nil, bearerRefresh(l.pair.RefreshToken)).outcome(),
		"revoked access":              s.do(t, nil, bearer("GET", "/me", sibling.pair.AccessToken)).outcome(),
		"its refresh":                 s.do(t, nil, bearerRefresh(sibling.pair.RefreshToken)).outcome(),
		"bystander access":            s.do(t, nil, bearer("GET", "/me", bystander.pair.AccessToken)).outcome(),
	}
	want := map[string]outcome{
		"family access": gone, "family access, scoped guard": gone, "family refresh": gone,
		"revoked access": gone, "its refresh": alive, "bystander access": alive,
	}
	if diff := cmp.Diff(want, got, equateErrors); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	var nilAuth *authx.Auth[string]
	down, _ := newAuth(t, authx.WithBlocklist(failingBlocklist{}))
	errs := []struct {
		name    string
		err     error
		wantErr error
	}{
		{"RevokeFamily empty id", s.a.RevokeFamily(t.Context(), ""), authx.ErrTokenOption},
		{"Revoke nil claims", s.a.Revoke(t.Context(), nil), authx.ErrTokenOption},
		{"nil Auth RevokeFamily", nilAuth.RevokeFamily(t.Context(), "f"), authx.ErrNotConfigured},
		{"nil Auth Revoke", nilAuth.Revoke(t.Context(), l.access), authx.ErrNotConfigured},
		{"RevokeFamily, blocklist down", down.RevokeFamily(t.Context(), "f"), authx.ErrUnavailable},
	}
	for _, e := range errs {
		if diff := cmp.Diff(e.wantErr, e.err, equateErrors); diff != "" {
			t.Errorf("%s (-want +got):\n%s", e.name, diff)
		}
	}

	// A nil Auth's endpoints fail closed and its middleware passes through.
	mux := http.NewServeMux()
	mux.Handle("/auth/refresh", nilAuth.RefreshHandler())
	mux.Handle("/auth/logout", nilAuth.LogoutHandler())
	mux.Handle("/open", nilAuth.ImplicitRefresh(authx.ImplicitRefreshConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})))
	srv := httptest.NewServer(noPanic(mux))
	t.Cleanup(srv.Close)
	ns := &site{srv: srv}
	statuses := map[string]int{}
	for _, c := range []call{bearerRefresh(l.pair.RefreshToken), bearer("POST", "/auth/logout", l.pair.AccessToken), {path: "/open", cookies: l.accessCookies()}} {
		statuses[c.path] = ns.do(t, nil, c).Status
	}
	if diff := cmp.Diff(map[string]int{"/auth/refresh": 500, "/auth/logout": 500, "/open": http.StatusTeapot}, statuses); diff != "" {
		t.Errorf("nil Auth (-want +got):\n%s", diff)
	}
}

// TestBrowserSession follows one browser tab through a whole session with a
// real cookie jar: login, CSRF, expiry, cookie refresh, and a thief
// reusing the old refresh cookie, which ends the session everywhere.
func TestBrowserSession(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tab := s.browser(t)
	withCSRF := func(c call, name string) call {
		c.header = hdr("X-CSRF-TOKEN", s.jarCookie(tab, c.path, name))
		return c
	}
	type step struct {
		name    string
		advance time.Duration
		client  *http.Client
		req     func() call
		want    outcome
	}
	var stolen string
	steps := []step{
		{"login", 0, tab, func() call { return call{method: "POST", path: "/login"} }, outcome{Status: 204}},
		{"read", 0, tab, func() call { return call{path: "/me"} }, outcome{Status: 200}},
		{"write with CSRF", 0, tab, func() call { return withCSRF(call{method: "POST", path: "/me"}, "csrf_access_token") }, outcome{Status: 200}},
		{"forged write", 0, tab, func() call { return call{method: "POST", path: "/me"} }, outcome{403, authx.ErrCSRFMissing}},
		{"access expired", 16 * time.Minute, tab, func() call { return call{path: "/me"} }, outcome{401, authx.ErrExpired}},
		{"refresh without CSRF", 0, tab, func() call {
			stolen = s.jarCookie(tab, "/auth/refresh", "refresh_token_cookie")
			return call{method: "POST", path: "/auth/refresh"}
		}, outcome{403, authx.ErrCSRFMissing}},
		{"refresh", 0, tab, func() call { return withCSRF(call{method: "POST", path: "/auth/refresh"}, "csrf_refresh_token") }, outcome{Status: 204}},
		{"read again", 0, tab, func() call { return call{path: "/reports"} }, outcome{Status: 200}},
		{"thief reuses the old refresh token", 10 * time.Second, nil, func() call { return bearerRefresh(stolen) }, outcome{401, authx.ErrRefreshReused}},
		{"the session is over", 0, tab, func() call { return call{path: "/me"} }, outcome{401, authx.ErrRevoked}},
		{"its refresh token too", 0, tab, func() call { return withCSRF(call{method: "POST", path: "/auth/refresh"}, "csrf_refresh_token") }, outcome{401, authx.ErrRevoked}},
	}
	var got, want []string
	for _, st := range steps {
		s.clock.Advance(st.advance)
		x := s.do(t, st.client, st.req())
		got = append(got, fmt.Sprintf("%s: %d %v", st.name, x.Status, x.Err))
		want = append(want, fmt.Sprintf("%s: %d %v", st.name, st.want.Status, st.want.Err))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	if stolen == "" || stolen == s.jarCookie(tab, "/", "refresh_token_cookie") {
		t.Errorf("the cookie refresh did not rotate the refresh cookie")
	}
}

// TestSessionEndpointsRefuseSafeMethods: the refresh and logout endpoints
// change state, so a cookie-borne token must not reach them without the
// CSRF checks, whatever the method. A cross-site top-level navigation is a
// GET that carries SameSite=Lax cookies and skips both CSRF layers; served
// as usual it would rotate or end the victim's session from any site.
func TestSessionEndpointsRefuseSafeMethods(t *testing.T) {
	t.Parallel()
	navigation := hdr("Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate")
	tests := []struct {
		name   string
		req    func(l login) call
		reason string
	}{
		{
			name: "refresh by a cross-site GET",
			req: func(l login) call {
				return call{path: "/auth/refresh", header: navigation, cookies: l.refreshCookies()}
			},
			reason: "an attacker's link must not spend the victim's refresh token",
		},
		{
			name: "logout by a cross-site GET",
			req: func(l login) call {
				return call{path: "/auth/logout", header: navigation, cookies: append(l.accessCookies(), l.refreshCookies()...)}
			},
			reason: "an attacker's link must not end the victim's session (logout CSRF)",
		},
		{
			name:   "refresh by HEAD",
			req:    func(l login) call { return call{method: "HEAD", path: "/auth/refresh", cookies: l.refreshCookies()} },
			reason: "HEAD is as safe as GET",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t)
			l := s.login(t)
			got := s.do(t, nil, tt.req(l))
			type view struct {
				Refused bool // a 4xx answer: 403 for CSRF or 405 for the method
				Cookies []string
			}
			var names []string
			for _, c := range got.Cookies {
				names = append(names, c.Name)
			}
			if diff := cmp.Diff(view{Refused: true}, view{got.Status >= 400 && got.Status < 500, names}); diff != "" {
				t.Errorf("%d %v (-want +got):\n%s\n%s", got.Status, got.Err, diff, tt.reason)
			}
			after := map[string]outcome{
				"access":  s.do(t, nil, bearer("GET", "/me", l.pair.AccessToken)).outcome(),
				"refresh": s.do(t, nil, bearerRefresh(l.pair.RefreshToken)).outcome(),
			}
			if diff := cmp.Diff(map[string]outcome{"access": {Status: 200}, "refresh": {Status: 200}}, after, equateErrors); diff != "" {
				t.Errorf("the login after the request (-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}
