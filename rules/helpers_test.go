package rules_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/rules"
)

// key is a fixed 32-byte HMAC key.
var key = []byte("rules-test-secret-of-at-least-32-bytes")

// now is the fixed time the tests run at.
var now = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// User is the application's user type in the tests.
type User struct {
	Name      string
	Tenant    string
	Suspended bool
}

// errDBDown is the failure of the test user store.
var errDBDown = errors.New("db down")

// users is the test user store: "outage" makes it fail, unknown names are
// not found.
func users(_ context.Context, c *authx.Claims) (*User, error) {
	switch c.Subject {
	case "alice":
		return &User{Name: "alice", Tenant: "acme"}, nil
	case "bob":
		return &User{Name: "bob", Tenant: "globex"}, nil
	case "mallory":
		return &User{Name: "mallory", Tenant: "acme", Suspended: true}, nil
	case "outage":
		return nil, errDBDown
	}
	return nil, fmt.Errorf("user %q: %w", c.Subject, authx.ErrSubjectNotFound)
}

// newAuth returns an Auth of *User on the fixed key and clock, with the
// test user store.
func newAuth(tb testing.TB, opts ...authx.Option) *authx.Auth[*User] {
	tb.Helper()
	clock := authtest.NewClock(now)
	a, err := authx.New[*User](append([]authx.Option{authx.WithSecret(key), authx.WithClock(clock.Now),
		authx.WithSubjectGetter(users)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// request returns a server request (method, target) carrying a bearer
// token for sub minted with opts.
func request[T any](tb testing.TB, a *authx.Auth[T], method, target, sub string, opts ...authx.TokenOption) *http.Request {
	tb.Helper()
	return authtest.Request(tb, a, authx.InHeader, method, target, authtest.Token(tb, a, sub, opts...))
}

// decide returns the decision of set on r, a request that passes a's
// guard: Decide runs inside a real guard, as Check does.
func decide[T any](tb testing.TB, a *authx.Auth[T], set rules.SetPolicy, r *http.Request) (rules.Decision, error) {
	tb.Helper()
	var (
		d      rules.Decision
		err    error
		called bool
	)
	g := a.Require(authx.PolicyFunc(func(ctx context.Context, c *authx.Claims) error {
		called = true
		d, err = set.Decide(ctx, c)
		return nil
	}))
	if _, gerr := g.Check(r); gerr != nil {
		tb.Fatalf("guard: %v", gerr)
	}
	if !called {
		tb.Fatal("the guard did not run the policy")
	}
	return d, err
}

// do sends method path to srv with a bearer token (none if "") and returns
// the status and body.
func do(tb testing.TB, srv *httptest.Server, method, path, token string) (int, string) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Transport: srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a redirect is an answer too
	}}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}
