package authx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
)

// The descriptions of the default schemes.
const (
	bearerDesc = "A JWT issued by this API, sent as `Authorization: Bearer <token>`."
	queryDesc  = "A JWT issued by this API, sent as the query parameter `token`. The parameter is removed from the URL " +
		"before the handler runs, and the response carries `Cache-Control: no-store` and `Referrer-Policy: no-referrer`. " +
		"URLs reach logs: prefer another scheme."
	accessCookieDesc = "The access token, in the cookie `access_token_cookie` that this API sets. Requests of any method " +
		"but GET, HEAD, OPTIONS and TRACE must also send the header `X-Csrf-Token` equal to the value of the cookie " +
		"`csrf_access_token`, and a browser's request must be same-origin."
)

// q returns s as a JSON string, to build expected documents.
func q(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// jsonDiff compares the JSON encoding of got with the JSON text want, both
// decoded to any, and returns the differences (-want +got).
func jsonDiff(tb testing.TB, want string, got any) string {
	tb.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		tb.Fatal(err)
	}
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("expected JSON: %v\n%s", err, want)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		tb.Fatal(err)
	}
	return cmp.Diff(w, g)
}

// SecuritySchemes describes the configured locations with Python AuthX's
// scheme names, in JSON an OpenAPI 3.1 document embeds as is.
func TestSecuritySchemes(t *testing.T) {
	t.Parallel()
	everywhere := authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery, authx.InJSON)
	tests := []struct {
		name   string
		opts   []authx.Option
		guards func(t *testing.T, a *authx.Auth[string]) []*authx.Guard
		want   string
		reason string
	}{
		{
			name: "default",
			want: `{"AuthXBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ` + q(bearerDesc) + `}}`,
		},
		{
			name:   "Authorization and Bearer in other letter cases",
			opts:   []authx.Option{authx.WithHeader("authorization", "bearer")},
			want:   `{"AuthXBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ` + q(bearerDesc) + `}}`,
			reason: "header names and schemes are case-insensitive: still HTTP bearer",
		},
		{
			name: "custom header and scheme",
			opts: []authx.Option{authx.WithHeader("X-Auth-Token", "Token")},
			want: `{"AuthXHeader": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
				"description": "A JWT issued by this API, sent as ` + "`X-Auth-Token: Token <token>`" + ` (the scheme in any letter case)."}}`,
		},
		{
			name: "another scheme in Authorization",
			opts: []authx.Option{authx.WithHeader("Authorization", "JWT")},
			want: `{"AuthXHeader": {"type": "apiKey", "in": "header", "name": "Authorization",
				"description": "A JWT issued by this API, sent as ` + "`Authorization: JWT <token>`" + ` (the scheme in any letter case)."}}`,
			reason: "an http scheme other than bearer is no registered scheme: an apiKey header, as Python AuthX",
		},
		{
			name: "header without a scheme",
			opts: []authx.Option{authx.WithHeader("x-api-token", "")},
			want: `{"AuthXHeader": {"type": "apiKey", "in": "header", "name": "X-Api-Token",
				"description": "A JWT issued by this API, sent as ` + "`X-Api-Token: <token>`" + ` (the whole header value)."}}`,
		},
		{
			name: "header, cookie, query and JSON",
			opts: []authx.Option{everywhere},
			want: `{
				"AuthXBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ` + q(bearerDesc) + `},
				"AuthXAccessCookie": {"type": "apiKey", "in": "cookie", "name": "access_token_cookie", "description": ` + q(accessCookieDesc) + `},
				"AuthXQuery": {"type": "apiKey", "in": "query", "name": "token", "description": ` + q(queryDesc) + `}}`,
			reason: "three schemes, as Python AuthX; a JSON body has no OpenAPI scheme",
		},
		{
			name: "only JSON",
			opts: []authx.Option{authx.WithTokenLocations(authx.InJSON)},
			want: `{}`,
		},
		{
			name: "CSRF off",
			opts: []authx.Option{authx.WithTokenLocations(authx.InCookie), authx.WithCSRF(authx.CSRFConfig{InsecureDisable: true})},
			want: `{"AuthXAccessCookie": {"type": "apiKey", "in": "cookie", "name": "access_token_cookie",
				"description": "The access token, in the cookie ` + "`access_token_cookie`" + ` that this API sets."}}`,
		},
		{
			name: "custom cookie names and CSRF",
			opts: []authx.Option{
				authx.WithTokenLocations(authx.InCookie),
				authx.WithCookies(authx.CookieConfig{AccessName: "__Host-at", AccessCSRFName: "at_csrf"}),
				authx.WithCSRF(authx.CSRFConfig{Header: "X-XSRF-TOKEN", FormField: "csrf", Methods: []string{"POST", "PUT", "DELETE"},
					TrustedOrigins: []string{"https://app.example.com"}}),
			},
			want: `{"AuthXAccessCookie": {"type": "apiKey", "in": "cookie", "name": "__Host-at",
				"description": ` + q("The access token, in the cookie `__Host-at` that this API sets. POST, PUT and DELETE requests "+
				"must also send the header `X-Xsrf-Token` (or the form field `csrf` of an application/x-www-form-urlencoded body) "+
				"equal to the value of the cookie `at_csrf`, and a browser's request must be same-origin or from a trusted origin.") + `}}`,
		},
		{
			name: "no CSRF cookies, no origin check",
			opts: []authx.Option{
				authx.WithTokenLocations(authx.InCookie),
				authx.WithCookies(authx.CookieConfig{NoCSRFCookies: true}),
				authx.WithCSRF(authx.CSRFConfig{Methods: []string{"POST"}, InsecureNoOriginCheck: true}),
			},
			want: `{"AuthXAccessCookie": {"type": "apiKey", "in": "cookie", "name": "access_token_cookie",
				"description": ` + q("The access token, in the cookie `access_token_cookie` that this API sets. POST requests "+
				"must also send the header `X-Csrf-Token` equal to the token's csrf claim.") + `}}`,
			reason: "without CSRF cookies the client has the value from elsewhere",
		},
		{
			name: "custom query parameter",
			opts: []authx.Option{authx.WithTokenLocations(authx.InQuery), authx.WithQueryParam("access")},
			want: `{"AuthXQuery": {"type": "apiKey", "in": "query", "name": "access",
				"description": ` + q(strings.ReplaceAll(queryDesc, "`token`", "`access`")) + `}}`,
		},
		{
			name: "a refresh guard reading the cookie",
			opts: []authx.Option{
				authx.WithTokenLocations(authx.InHeader, authx.InCookie),
				authx.WithCSRF(authx.CSRFConfig{RefreshHeader: "X-Refresh-CSRF"}),
			},
			guards: func(_ *testing.T, a *authx.Auth[string]) []*authx.Guard {
				return []*authx.Guard{a.Require(authx.Refresh)}
			},
			want: `{
				"AuthXBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ` + q(bearerDesc) + `},
				"AuthXAccessCookie": {"type": "apiKey", "in": "cookie", "name": "access_token_cookie", "description": ` + q(accessCookieDesc) + `},
				"AuthXRefreshCookie": {"type": "apiKey", "in": "cookie", "name": "refresh_token_cookie",
					"description": ` + q("The refresh token, in the cookie `refresh_token_cookie` that this API sets. Requests of any method "+
				"but GET, HEAD, OPTIONS and TRACE must also send the header `X-Refresh-Csrf` equal to the value of the cookie "+
				"`csrf_refresh_token`, and a browser's request must be same-origin.") + `}}`,
			reason: "the refresh cookie and its own CSRF header",
		},
		{
			name: "a guard narrowed to a location not configured",
			guards: func(_ *testing.T, a *authx.Auth[string]) []*authx.Guard {
				return []*authx.Guard{a.Require().From(authx.InQuery)}
			},
			want: `{"AuthXBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ` + q(bearerDesc) + `},
				"AuthXQuery": {"type": "apiKey", "in": "query", "name": "token", "description": ` + q(queryDesc) + `}}`,
		},
		{
			name: "guards that add nothing",
			guards: func(t *testing.T, a *authx.Auth[string]) []*authx.Guard {
				other, _ := newAuth(t, authx.WithTokenLocations(authx.InQuery))
				return []*authx.Guard{nil, other.Require(), a.Require().From(authx.InJSON)}
			},
			want:   `{"AuthXBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ` + q(bearerDesc) + `}}`,
			reason: "nil, another Auth's, and JSON-only guards",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newAuth(t, tt.opts...)
			var guards []*authx.Guard
			if tt.guards != nil {
				guards = tt.guards(t, a)
			}
			if diff := jsonDiff(t, tt.want, a.SecuritySchemes(guards...)); diff != "" {
				t.Errorf("SecuritySchemes: (-want +got)\n%s\n%s", diff, tt.reason)
			}
		})
	}
	t.Run("nil Auth", func(t *testing.T) {
		t.Parallel()
		var a *authx.Auth[string]
		if got := a.SecuritySchemes(); got != nil {
			t.Errorf("SecuritySchemes of a nil Auth = %v, want nil", got)
		}
	})
	t.Run("a new map each call", func(t *testing.T) {
		t.Parallel()
		a, _ := newAuth(t)
		m := a.SecuritySchemes()
		delete(m, "AuthXBearer")
		if _, ok := a.SecuritySchemes()["AuthXBearer"]; !ok {
			t.Error("a caller's change reached the next call")
		}
	})
}

// Guard.Security is the operation's security: one alternative per location
// the guard reads, times each way its policies can be met.
func TestGuardSecurity(t *testing.T) {
	t.Parallel()
	three := authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery)
	// seven Any of two: 128 ways, past the bound of 64.
	var wide []authx.Policy
	for i := range 7 {
		n := strconv.Itoa(i)
		wide = append(wide, authx.Any(authx.Scopes("x", "a"+n), authx.Scopes("x", "b"+n)))
	}
	tests := []struct {
		name   string
		opts   []authx.Option
		guard  func(a *authx.Auth[string]) *authx.Guard
		want   string
		reason string
	}{
		{
			name:  "Require()",
			guard: func(a *authx.Auth[string]) *authx.Guard { return a.Require() },
			want:  `[{"AuthXBearer": []}]`,
		},
		{
			name:  "Scopes",
			guard: func(a *authx.Auth[string]) *authx.Guard { return a.Require(authx.Scopes("a", "b")) },
			want:  `[{"AuthXBearer": ["a", "b"]}]`,
		},
		{
			name: "Any of Scopes",
			guard: func(a *authx.Auth[string]) *authx.Guard {
				return a.Require(authx.Any(authx.Scopes("a"), authx.Scopes("b")))
			},
			want: `[{"AuthXBearer": ["a"]}, {"AuthXBearer": ["b"]}]`,
		},
		{
			name: "All of Any multiplies out",
			guard: func(a *authx.Auth[string]) *authx.Guard {
				return a.Require(authx.Scopes("a"), authx.Any(authx.Scopes("b"), authx.Scopes("c", "a")), authx.Fresh)
			},
			want:   `[{"AuthXBearer": ["a", "b"]}, {"AuthXBearer": ["a", "c"]}]`,
			reason: "each pattern once, in the order written; Fresh adds no scope",
		},
		{
			name: "ways implied by smaller ones are dropped",
			guard: func(a *authx.Auth[string]) *authx.Guard {
				return a.Require(authx.Any(authx.Scopes("a", "b"), authx.Scopes("a"), authx.Scopes("b", "a"), authx.Scopes("c")))
			},
			want: `[{"AuthXBearer": ["a"]}, {"AuthXBearer": ["c"]}]`,
		},
		{
			name: "Any with a policy of no scope",
			guard: func(a *authx.Auth[string]) *authx.Guard {
				return a.Require(authx.Any(authx.Scopes("a"), authx.PolicyFunc(func(context.Context, *authx.Claims) error { return nil })))
			},
			want:   `[{"AuthXBearer": []}]`,
			reason: "the function may admit a token without the scope",
		},
		{
			name:  "Any() denies, and adds no scope",
			guard: func(a *authx.Auth[string]) *authx.Guard { return a.Require(authx.Scopes("a"), authx.Any()) },
			want:  `[{"AuthXBearer": ["a"]}]`,
		},
		{
			name:   "past the bound: what every way needs",
			guard:  func(a *authx.Auth[string]) *authx.Guard { return a.Require(wide...) },
			want:   `[{"AuthXBearer": ["x"]}]`,
			reason: "128 ways; x is in all of them",
		},
		{
			name:  "Optional()",
			guard: func(a *authx.Auth[string]) *authx.Guard { return a.Optional() },
			want:  `[{"AuthXBearer": []}, {}]`,
		},
		{
			name:  "Optional with scopes",
			guard: func(a *authx.Auth[string]) *authx.Guard { return a.Optional(authx.Scopes("a")) },
			want:  `[{"AuthXBearer": ["a"]}, {}]`,
		},
		{
			name: "three locations, in order",
			opts: []authx.Option{authx.WithTokenLocations(authx.InQuery, authx.InJSON, authx.InHeader, authx.InCookie)},
			guard: func(a *authx.Auth[string]) *authx.Guard {
				return a.Require(authx.Any(authx.Scopes("a"), authx.Scopes("b")))
			},
			want: `[{"AuthXQuery": ["a"]}, {"AuthXQuery": ["b"]}, {"AuthXBearer": ["a"]}, {"AuthXBearer": ["b"]},
				{"AuthXAccessCookie": ["a"]}, {"AuthXAccessCookie": ["b"]}]`,
			reason: "the configured order; JSON left out",
		},
		{
			name:  "From(InCookie)",
			opts:  []authx.Option{three},
			guard: func(a *authx.Auth[string]) *authx.Guard { return a.Require().From(authx.InCookie) },
			want:  `[{"AuthXAccessCookie": []}]`,
		},
		{
			name:   "From in its own order",
			opts:   []authx.Option{three},
			guard:  func(a *authx.Auth[string]) *authx.Guard { return a.Require().From(authx.InCookie, authx.InHeader) },
			want:   `[{"AuthXAccessCookie": []}, {"AuthXBearer": []}]`,
			reason: "the guard's order, not the Auth's",
		},
		{
			name: "InsecureWithoutCSRF",
			opts: []authx.Option{three},
			guard: func(a *authx.Auth[string]) *authx.Guard {
				return a.Require().From(authx.InCookie).InsecureWithoutCSRF()
			},
			want: `[{"AuthXAccessCookie": []}]`,
		},
		{
			name:   "refresh guard",
			opts:   []authx.Option{three},
			guard:  func(a *authx.Auth[string]) *authx.Guard { return a.Require(authx.Refresh) },
			want:   `[{"AuthXBearer": []}, {"AuthXRefreshCookie": []}, {"AuthXQuery": []}]`,
			reason: "a refresh guard reads the refresh cookie",
		},
		{
			name:   "access or refresh",
			opts:   []authx.Option{three},
			guard:  func(a *authx.Auth[string]) *authx.Guard { return a.Require(authx.Any(authx.Access, authx.Refresh)) },
			want:   `[{"AuthXBearer": []}, {"AuthXAccessCookie": []}, {"AuthXRefreshCookie": []}, {"AuthXQuery": []}]`,
			reason: "both cookies, the access cookie first, as the lookup",
		},
		{
			name:  "custom header",
			opts:  []authx.Option{authx.WithHeader("X-Auth-Token", "Token")},
			guard: func(a *authx.Auth[string]) *authx.Guard { return a.Require(authx.Scopes("a")) },
			want:  `[{"AuthXHeader": ["a"]}]`,
		},
		{
			name:   "only JSON",
			guard:  func(a *authx.Auth[string]) *authx.Guard { return a.Require().From(authx.InJSON) },
			want:   `null`,
			reason: "nothing OpenAPI can describe",
		},
		{
			name:  "only JSON, optional",
			guard: func(a *authx.Auth[string]) *authx.Guard { return a.Optional().From(authx.InJSON) },
			want:  `[{}]`,
		},
		{
			name:  "nil Auth",
			guard: func(*authx.Auth[string]) *authx.Guard { return (*authx.Auth[string])(nil).Require() },
			want:  `null`,
		},
		{
			name:  "nil guard",
			guard: func(*authx.Auth[string]) *authx.Guard { return nil },
			want:  `null`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newAuth(t, tt.opts...)
			g := tt.guard(a)
			got := g.Security()
			if diff := jsonDiff(t, tt.want, got); diff != "" {
				t.Errorf("%v.Security(): (-want +got)\n%s\n%s", g, diff, tt.reason)
			}
			schemes := a.SecuritySchemes(g)
			for _, req := range got {
				for name := range req {
					if _, ok := schemes[name]; !ok {
						t.Errorf("%v.Security() names %s, which SecuritySchemes(g) does not define", g, name)
					}
				}
			}
		})
	}
	t.Run("each requirement its own", func(t *testing.T) {
		t.Parallel()
		a, _ := newAuth(t, three)
		g := a.Require(authx.Scopes("a"))
		sec := g.Security()
		sec[0]["AuthXBearer"][0] = "changed"
		if diff := jsonDiff(t, `[{"AuthXBearer": ["changed"]}, {"AuthXAccessCookie": ["a"]}, {"AuthXQuery": ["a"]}]`, sec); diff != "" {
			t.Errorf("the lists share memory: (-want +got)\n%s", diff)
		}
		if diff := jsonDiff(t, `[{"AuthXBearer": ["a"]}, {"AuthXAccessCookie": ["a"]}, {"AuthXQuery": ["a"]}]`, g.Security()); diff != "" {
			t.Errorf("a caller's change reached the guard: (-want +got)\n%s", diff)
		}
	})
}

// The document tells the truth: for every requirement of a guard, a request
// built only from what its scheme says (type, in, name, and the value's
// form and the CSRF header as the description gives them), with a token
// granted the listed scopes, passes the guard on GET and POST; without the
// credential, without the CSRF header, or without the scopes it does not.
func TestSecurityTellsTheTruth(t *testing.T) {
	t.Parallel()
	everywhere := authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery, authx.InJSON)
	tests := []struct {
		name  string
		opts  []authx.Option
		guard func(a *authx.Auth[string]) *authx.Guard
		typ   authx.TokenType // the token the guard takes
	}{
		{"default", nil, func(a *authx.Auth[string]) *authx.Guard { return a.Require() }, authx.Access},
		{"custom header and scheme", []authx.Option{authx.WithHeader("X-Auth-Token", "Token")},
			func(a *authx.Auth[string]) *authx.Guard { return a.Require(authx.Scopes("a")) }, authx.Access},
		{"header without a scheme", []authx.Option{authx.WithHeader("X-Api-Token", "")},
			func(a *authx.Auth[string]) *authx.Guard { return a.Require() }, authx.Access},
		{"every location, default names", []authx.Option{everywhere},
			func(a *authx.Auth[string]) *authx.Guard {
				return a.Require(authx.Any(authx.Scopes("reports:read"), authx.All(authx.Scopes("a"), authx.Scopes("b"))))
			}, authx.Access},
		{"every location, custom names", []authx.Option{
			everywhere,
			authx.WithHeader("X-Auth", "JWT"),
			authx.WithQueryParam("access"),
			authx.WithCookies(authx.CookieConfig{AccessName: "at", AccessCSRFName: "at_csrf"}),
			authx.WithCSRF(authx.CSRFConfig{Header: "X-XSRF-TOKEN", Methods: []string{"POST", "PUT"}}),
		}, func(a *authx.Auth[string]) *authx.Guard { return a.Require(authx.Scopes("admin:*")) }, authx.Access},
		{"CSRF off", []authx.Option{authx.WithTokenLocations(authx.InCookie), authx.WithCSRF(authx.CSRFConfig{InsecureDisable: true})},
			func(a *authx.Auth[string]) *authx.Guard { return a.Require() }, authx.Access},
		{"refresh guard", []authx.Option{
			authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery),
			authx.WithCSRF(authx.CSRFConfig{RefreshHeader: "X-Refresh-CSRF"}),
		}, func(a *authx.Auth[string]) *authx.Guard { return a.Require(authx.Refresh) }, authx.Refresh},
		{"narrowed", []authx.Option{authx.WithTokenLocations(authx.InHeader), authx.WithCookies(authx.CookieConfig{})}, // csrf claims for the cookie
			func(a *authx.Auth[string]) *authx.Guard { return a.Require().From(authx.InQuery, authx.InCookie) }, authx.Access},
		{"optional", []authx.Option{authx.WithTokenLocations(authx.InHeader, authx.InCookie)},
			func(a *authx.Auth[string]) *authx.Guard { return a.Optional(authx.Scopes("a")) }, authx.Access},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newAuth(t, tt.opts...)
			g := tt.guard(a)
			srv := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sub := "anonymous"
				if c, ok := authx.ClaimsFrom(r.Context()); ok {
					sub = c.Subject
				}
				fmt.Fprintf(w, "%s %s", sub, r.URL.RawQuery)
			})))
			t.Cleanup(srv.Close)
			schemes := a.SecuritySchemes(g)
			sec := g.Security()
			if len(sec) == 0 {
				t.Fatalf("%v.Security() is empty", g)
			}
			optional := slices.ContainsFunc(sec, func(r map[string][]string) bool { return len(r) == 0 })
			for _, req := range sec {
				if len(req) == 0 { // security optional: nothing sent passes
					for _, method := range []string{"GET", "POST"} {
						if got := sendScheme(t, a, srv.URL, method, nil, "", false); got.Status != 200 || got.Body != "anonymous x=1" {
							t.Errorf("{}: %s without a token = %+v, want 200 anonymous", method, got)
						}
					}
					continue
				}
				for name, scopes := range req {
					s, ok := schemes[name]
					if !ok {
						t.Fatalf("%s is not in SecuritySchemes(g): %v", name, schemes)
					}
					tok := mint(t, a, tt.typ, scopes)
					for _, method := range []string{"GET", "POST"} {
						got := sendScheme(t, a, srv.URL, method, &s, tok, true)
						if got.Status != 200 || !strings.HasPrefix(got.Body, "alice ") {
							t.Errorf("%s %s (%s): %s = %+v, want 200 for alice", name, scopes, s.Description, method, got)
						}
						if s.In == "query" {
							if got.Body != "alice x=1" {
								t.Errorf("%s: the handler saw the query %q, want the parameter removed", name, got.Body)
							}
							if got.CacheControl != "no-store" || got.Referrer != "no-referrer" {
								t.Errorf("%s: Cache-Control %q, Referrer-Policy %q; want no-store, no-referrer", name, got.CacheControl, got.Referrer)
							}
						}
						if !optional {
							if got := sendScheme(t, a, srv.URL, method, nil, "", false); got.Status != 401 {
								t.Errorf("%s: %s without a token = %d, want 401", name, method, got.Status)
							}
						}
						if len(scopes) > 0 {
							if got := sendScheme(t, a, srv.URL, method, &s, mint(t, a, tt.typ, nil), true); got.Status != 403 {
								t.Errorf("%s: %s without the scopes %s = %d, want 403", name, method, scopes, got.Status)
							}
						}
					}
					if csrfHeader.MatchString(s.Description) {
						if got := sendScheme(t, a, srv.URL, "POST", &s, tok, false); got.Status != 403 {
							t.Errorf("%s: POST without the documented CSRF header = %d, want 403", name, got.Status)
						}
					}
				}
			}
		})
	}
}

// mint returns a token for alice of type typ granted scopes.
func mint(tb testing.TB, a *authx.Auth[string], typ authx.TokenType, scopes []string) string {
	tb.Helper()
	if typ == authx.Refresh {
		return authtest.RefreshToken(tb, a, "alice", authx.Grant(scopes...))
	}
	return authtest.Token(tb, a, "alice", authx.Grant(scopes...))
}

var (
	// headerValue finds the header value's form in an AuthXHeader
	// description: "sent as `X-Auth-Token: Token <token>`".
	headerValue = regexp.MustCompile("sent as `([^:`]+): ([^`]*)<token>`")
	// csrfHeader finds the CSRF header a cookie description asks for.
	csrfHeader = regexp.MustCompile("must also send the header `([^`]+)`")
)

// schemeResult is what a client sees of a request built from a scheme.
type schemeResult struct {
	Status                 int
	Body                   string
	CacheControl, Referrer string
}

// sendScheme sends method to base+"?x=1" carrying tok as scheme s says (no
// credential for a nil s), with the documented CSRF header when withCSRF.
func sendScheme(tb testing.TB, a *authx.Auth[string], base, method string, s *authx.SecurityScheme, tok string, withCSRF bool) schemeResult {
	tb.Helper()
	u, err := url.Parse(base + "/?x=1")
	if err != nil {
		tb.Fatal(err)
	}
	r, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	switch {
	case s == nil:
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		r.Header.Set("Authorization", "Bearer "+tok)
	case s.Type == "apiKey" && s.In == "header":
		m := headerValue.FindStringSubmatch(s.Description)
		if m == nil || m[1] != s.Name {
			tb.Fatalf("the description of header %s does not say the value's form: %q", s.Name, s.Description)
		}
		r.Header.Set(s.Name, m[2]+tok)
	case s.Type == "apiKey" && s.In == "cookie":
		r.AddCookie(&http.Cookie{Name: s.Name, Value: tok})
		if m := csrfHeader.FindStringSubmatch(s.Description); m != nil && withCSRF {
			c, err := a.Verify(tb.Context(), tok, authx.Any(authx.Access, authx.Refresh))
			if err != nil {
				tb.Fatal(err)
			}
			r.Header.Set(m[1], c.CSRF)
		}
	case s.Type == "apiKey" && s.In == "query":
		v := r.URL.Query()
		v.Set(s.Name, tok)
		r.URL.RawQuery = v.Encode()
	default:
		tb.Fatalf("a scheme no client can follow: %+v", s)
	}
	resp, err := http.DefaultClient.Do(r.WithContext(tb.Context()))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return schemeResult{resp.StatusCode, string(body), resp.Header.Get("Cache-Control"), resp.Header.Get("Referrer-Policy")}
}

// The refresh endpoint is no guard; a refresh guard reading where it reads
// (the header, a JSON body, the refresh cookie) describes it truly.
func TestSecurityOfRefreshHandler(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithCookies(authx.CookieConfig{}))
	srv := httptest.NewServer(a.RefreshHandler())
	t.Cleanup(srv.Close)
	like := a.Require(authx.Refresh).From(authx.InHeader, authx.InJSON, authx.InCookie)
	if diff := jsonDiff(t, `[{"AuthXBearer": []}, {"AuthXRefreshCookie": []}]`, like.Security()); diff != "" {
		t.Errorf("Security: (-want +got)\n%s", diff)
	}
	schemes := a.SecuritySchemes(like)
	for _, req := range like.Security() {
		for name := range req {
			s := schemes[name]
			got := sendScheme(t, a, srv.URL, "POST", &s, mint(t, a, authx.Refresh, nil), true)
			if got.Status != 200 && got.Status != 204 {
				t.Errorf("%s: POST = %+v, want a new pair", name, got)
			}
			if s.In == "cookie" {
				if got := sendScheme(t, a, srv.URL, "POST", &s, mint(t, a, authx.Refresh, nil), false); got.Status != 403 {
					t.Errorf("%s: POST without the CSRF header = %d, want 403", name, got.Status)
				}
			}
		}
	}
	if got := sendScheme(t, a, srv.URL, "POST", nil, "", false); got.Status != 401 {
		t.Errorf("POST without a token = %d, want 401", got.Status)
	}
}
