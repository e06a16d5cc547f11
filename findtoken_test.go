package authx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
)

// FindToken returns the token a guard would read, unverified, with its
// location, and the guard's errors for requests without one or with two.
func TestFindToken(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery))
	access := authtest.Token(t, a, "alice")
	refresh := authtest.RefreshToken(t, a, "alice")
	forged := authtest.ForgedToken(t, a, "alice")
	type found struct {
		Token    string
		Location authx.Location
		Err      error
	}
	tests := []struct {
		name string
		typ  authx.TokenType
		req  func() *http.Request
		want found
	}{
		{"header", authx.Access, func() *http.Request { return authtest.Request(t, a, authx.InHeader, "GET", "/", access) }, found{access, authx.InHeader, nil}},
		{"cookie", authx.Access, func() *http.Request { return authtest.Request(t, a, authx.InCookie, "GET", "/", access) }, found{access, authx.InCookie, nil}},
		{"refresh cookie", authx.Refresh, func() *http.Request { return authtest.Request(t, a, authx.InCookie, "GET", "/", refresh) }, found{refresh, authx.InCookie, nil}},
		{"query", authx.Access, func() *http.Request { return authtest.Request(t, a, authx.InQuery, "GET", "/", access) }, found{access, authx.InQuery, nil}},
		{"forged, not verified", authx.Access, func() *http.Request { return authtest.Request(t, a, authx.InHeader, "GET", "/", forged) }, found{forged, authx.InHeader, nil}},
		{"none", authx.Access, func() *http.Request { return httptest.NewRequest("GET", "/", nil) }, found{Err: authx.ErrNoToken}},
		{"two cookies", authx.Access, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", "access_token_cookie="+access+"; access_token_cookie="+forged)
			return r
		}, found{Err: authx.ErrInvalidRequest}},
		{"two headers", authx.Access, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Add("Authorization", "Bearer "+access)
			r.Header.Add("Authorization", "Bearer "+forged)
			return r
		}, found{Err: authx.ErrInvalidRequest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt, err := a.FindToken(tt.req(), tt.typ)
			got := found{rt.Token, rt.Location, err}
			if diff := cmp.Diff(tt.want, got, equateErrors); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var e *authx.Error
			if err != nil && !errors.As(err, &e) {
				t.Errorf("error %T is not an *authx.Error", err)
			}
		})
	}
}
