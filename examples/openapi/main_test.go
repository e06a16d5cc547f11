package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authx-go/authx"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newAuth(t *testing.T, opts ...authx.Option) *authx.Auth[string] {
	t.Helper()
	a, err := authx.New[string](append([]authx.Option{authx.WithSecret(secret)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// document returns an OpenAPI 3.1 document with one operation per guard,
// its security from the guard, and components.securitySchemes from
// a.SecuritySchemes(schemesOf...).
func document(t *testing.T, a *authx.Auth[string], guards []*authx.Guard, schemesOf []*authx.Guard) []byte {
	t.Helper()
	paths := map[string]any{}
	for i, g := range guards {
		paths["/op"+string(rune('a'+i))] = map[string]any{"get": map[string]any{
			"security":  g.Security(),
			"responses": map[string]any{"200": map[string]any{"description": "ok"}},
		}}
	}
	doc, err := json.Marshal(map[string]any{
		"openapi":    "3.1.0",
		"info":       map[string]any{"title": "t", "version": "1"},
		"paths":      paths,
		"components": map[string]any{"securitySchemes": a.SecuritySchemes(schemesOf...)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// validate loads doc with kin-openapi and validates it (OpenAPI 3.1 rules
// for a 3.1 document: every security requirement must name a scheme of
// components.securitySchemes, each scheme valid for its type).
func validate(t *testing.T, doc []byte) error {
	t.Helper()
	loader := openapi3.NewLoader() // external references off: no network
	d, err := loader.LoadFromData(doc)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, doc)
	}
	if !d.IsOpenAPI31OrLater() {
		t.Fatalf("kin-openapi reads %q as another version than 3.1", d.OpenAPI)
	}
	return d.Validate(t.Context())
}

// A document embedding SecuritySchemes and guard requirements validates.
func TestDocumentValidates(t *testing.T) {
	t.Parallel()
	every := authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery, authx.InJSON)
	tests := []struct {
		name   string
		opts   []authx.Option
		guards func(a *authx.Auth[string]) []*authx.Guard
	}{
		{"default", nil, func(a *authx.Auth[string]) []*authx.Guard {
			return []*authx.Guard{a.Require(), a.Require(authx.Scopes("a", "b")), a.Optional()}
		}},
		{"custom header", []authx.Option{authx.WithHeader("X-Auth-Token", "Token")}, func(a *authx.Auth[string]) []*authx.Guard {
			return []*authx.Guard{a.Require(authx.Any(authx.Scopes("a"), authx.Scopes("b")))}
		}},
		{"raw header", []authx.Option{authx.WithHeader("X-Auth-Token", "")}, func(a *authx.Auth[string]) []*authx.Guard {
			return []*authx.Guard{a.Require()}
		}},
		{"every location", []authx.Option{every}, func(a *authx.Auth[string]) []*authx.Guard {
			return []*authx.Guard{
				a.Require(authx.Scopes("admin:*")),
				a.Require(authx.Refresh),
				a.Require(authx.Any(authx.Access, authx.Refresh)),
				a.Require().From(authx.InCookie).InsecureWithoutCSRF(),
				a.Optional(authx.Any(authx.Scopes("a"), authx.All(authx.Scopes("b"), authx.Fresh))),
			}
		}},
		{"custom names, CSRF settings", []authx.Option{
			authx.WithTokenLocations(authx.InCookie, authx.InQuery),
			authx.WithQueryParam("access"),
			authx.WithCookies(authx.CookieConfig{AccessName: "__Host-at", RefreshName: "rt", NoCSRFCookies: true}),
			authx.WithCSRF(authx.CSRFConfig{Header: "X-XSRF", FormField: "csrf", Methods: []string{"POST"}}),
		}, func(a *authx.Auth[string]) []*authx.Guard {
			return []*authx.Guard{a.Require(), a.Require(authx.Refresh).From(authx.InCookie, authx.InHeader)}
		}},
		{"narrowed beyond the configuration", nil, func(a *authx.Auth[string]) []*authx.Guard {
			return []*authx.Guard{a.Require().From(authx.InQuery, authx.InCookie)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAuth(t, tt.opts...)
			guards := tt.guards(a)
			if err := validate(t, document(t, a, guards, guards)); err != nil {
				t.Errorf("Validate: %v\n%s", err, document(t, a, guards, guards))
			}
		})
	}
}

// The validation has teeth: a guard narrowed to a location not configured
// names a scheme that SecuritySchemes() alone leaves out, and kin-openapi
// says so; passing the guard fixes it.
func TestDocumentMissingScheme(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	g := a.Require().From(authx.InQuery)
	err := validate(t, document(t, a, []*authx.Guard{g}, nil))
	var undefined *openapi3.SecurityRequirementSchemeUndefinedError
	if !errors.As(err, &undefined) || undefined.Scheme != "AuthXQuery" {
		t.Errorf("Validate = %v, want the undefined scheme AuthXQuery", err)
	}
	if err := validate(t, document(t, a, []*authx.Guard{g}, []*authx.Guard{g})); err != nil {
		t.Errorf("with the guard passed: %v", err)
	}
}

// The huma app serves a valid 3.1 document whose security schemes and
// operation security are authx's, and its guarded operations answer as
// documented.
func TestHumaApp(t *testing.T) {
	t.Parallel()
	a := newAuth(t, authx.WithTokenLocations(authx.InHeader, authx.InQuery))
	h := newAPI(a)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	status, body := send(t, "GET", srv.URL+"/openapi.json", "", nil)
	if status != 200 {
		t.Fatalf("GET /openapi.json: %d %s", status, body)
	}
	if err := validate(t, body); err != nil {
		t.Errorf("the served document: %v", err)
	}
	var doc struct {
		Components struct {
			SecuritySchemes any `json:"securitySchemes"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			Security any `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	me, reports := a.Require(), a.Require(authx.Any(authx.Scopes("reports:read"), authx.Scopes("admin:*")))
	if diff := cmp.Diff(roundTrip(t, a.SecuritySchemes(me, reports)), doc.Components.SecuritySchemes); diff != "" {
		t.Errorf("components.securitySchemes: (-want +got)\n%s", diff)
	}
	for path, g := range map[string]*authx.Guard{"/me": me, "/reports": reports} {
		if diff := cmp.Diff(roundTrip(t, g.Security()), doc.Paths[path]["get"].Security); diff != "" {
			t.Errorf("GET %s security: (-want +got)\n%s", path, diff)
		}
	}
	if got := doc.Paths["/login"]["post"].Security; got != nil {
		t.Errorf("POST /login security = %v, want none", got)
	}

	tokenOf := func(user string) string {
		t.Helper()
		status, body := send(t, "POST", srv.URL+"/login", "", []byte(`{"username":"`+user+`","password":"`+user+`-password"}`))
		var pair authx.TokenPair
		if err := json.Unmarshal(body, &pair); status != 200 || err != nil || pair.AccessToken == "" {
			t.Fatalf("login %s: %d %s", user, status, body)
		}
		return pair.AccessToken
	}
	alice, bob := tokenOf("alice"), tokenOf("bob")
	tests := []struct {
		name, target, bearer string
		want                 int
		wantBody             string
	}{
		{"me without a token", "/me", "", 401, ""},
		{"me", "/me", alice, 200, `{"$schema":"` + srv.URL + `/schemas/Identity.json","sub":"alice","scopes":["reports:read"]}`},
		{"reports without a token", "/reports", "", 401, ""},
		{"reports", "/reports", alice, 200, `["2030-Q1","2030-Q2"]`},
		{"reports in the query", "/reports?token=" + url.QueryEscape(alice), "", 200, `["2030-Q1","2030-Q2"]`},
		{"reports without the scope", "/reports", bob, 403, ""},
		{"a bad token", "/reports", alice + "x", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := send(t, "GET", srv.URL+tt.target, tt.bearer, nil)
			if status != tt.want {
				t.Errorf("GET %s: %d %s, want %d", tt.target, status, body, tt.want)
			}
			if tt.wantBody != "" && strings.TrimSpace(string(body)) != tt.wantBody {
				t.Errorf("GET %s: body %s, want %s", tt.target, body, tt.wantBody)
			}
		})
	}
}

// roundTrip returns v as JSON decodes it into any.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// send sends one request, with a bearer token if given, and returns the
// status and body.
func send(t *testing.T, method, target, bearer string, body []byte) (int, []byte) {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
