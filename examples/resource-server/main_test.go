package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authx-go/authx/jwks"
)

// The resource server admits the issuer's tokens by their scopes, through
// discovery and the issuer's JWKS, both served by authx.
func TestResourceServer(t *testing.T) {
	t.Parallel()
	var issuer http.Handler
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { issuer.ServeHTTP(w, r) }))
	t.Cleanup(idp.Close)
	h, err := newIssuer(idp.URL, "reports-api")
	if err != nil {
		t.Fatal(err)
	}
	issuer = h
	rs, err := newResourceServer(t.Context(), idp.URL, "reports-api", nil, jwks.InsecureAllowHTTP())
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(rs)
	t.Cleanup(api.Close)
	token := func(user string) string {
		resp, err := http.PostForm(idp.URL+"/token", url.Values{"user": {user}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	get := func(path, tok string) (int, string) {
		r, _ := http.NewRequestWithContext(t.Context(), "GET", api.URL+path, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	alice, bob := token("alice"), token("bob")
	for _, tt := range []struct {
		path, tok  string
		wantStatus int
		wantBody   string
	}{
		{"/reports", alice, 200, "q1 q2 q3"},
		{"/me", alice, 200, "alice from " + idp.URL + ", scopes [reports:read]"},
		{"/reports", bob, 403, ""},
		{"/reports", "", 401, ""},
		{"/reports", alice[:len(alice)-4] + "AAAA", 401, ""},
	} {
		status, body := get(tt.path, tt.tok)
		if status != tt.wantStatus || (tt.wantBody != "" && body != tt.wantBody) {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, status, body, tt.wantStatus, tt.wantBody)
		}
	}
}
