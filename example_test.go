package authx_test

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
)

// exampleSecret is a fixed 32-byte HMAC key. Real services read theirs from
// a secret store.
var exampleSecret = []byte("example-secret-of-at-least-32-bytes!")

// exampleNow is the fixed time the examples run at.
var exampleNow = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// get sends a GET with an optional bearer token to url and returns the
// status and the body (trimmed).
func get(url, token string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func ExampleNew() {
	a, err := authx.New[string](
		authx.WithSecret(exampleSecret),
		authx.WithIssuer("https://auth.example.com"),
		authx.WithAccessTTL(10*time.Minute),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, _ := a.CreateAccessToken("alice", authx.FreshLogin())
	claims, err := a.Verify(context.Background(), tok)
	fmt.Println(claims.Subject, claims.Type, claims.Fresh, claims.Issuer, err)

	// Misconfiguration is caught at construction, with a clear error.
	_, err = authx.New[string](authx.WithSecret([]byte("short")))
	fmt.Println(errors.Is(err, authx.ErrConfig))
	// Output:
	// alice access true https://auth.example.com <nil>
	// true
}

func ExampleAuth_Require() {
	a, _ := authx.New[string](authx.WithSecret(exampleSecret))

	mux := http.NewServeMux()
	admin := a.Require(authx.Scopes("admin:*"))
	mux.Handle("GET /admin/users", admin.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := authx.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "hello admin %s", c.Subject)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	alice, _ := a.CreateAccessToken("alice", authx.Grant("admin:*"))
	bob, _ := a.CreateAccessToken("bob", authx.Grant("reports:read"))

	fmt.Println(admin)
	fmt.Println(get(srv.URL+"/admin/users", alice))
	fmt.Println(get(srv.URL+"/admin/users", bob))
	fmt.Println(get(srv.URL+"/admin/users", ""))
	// Output:
	// All(Access, Scopes("admin:*"))
	// 200 hello admin alice
	// 403 {"code":"insufficient_scope","message":"The token lacks a required scope."}
	// 401 {"code":"missing_token","message":"No token was found in the request."}
}

func ExampleAny() {
	a, _ := authx.New[string](authx.WithSecret(exampleSecret))
	reports := a.Require(authx.Any(authx.Scopes("reports:read"), authx.Scopes("admin:*")))
	sensitive := a.Require(authx.All(authx.Fresh, authx.Scopes("admin:*")))

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux := http.NewServeMux()
	mux.Handle("GET /reports", reports.Wrap(h))
	mux.Handle("GET /settings", sensitive.Wrap(h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	bob, _ := a.CreateAccessToken("bob", authx.Grant("reports:read"))
	admin, _ := a.CreateAccessToken("alice", authx.Grant("admin:*"))
	freshAdmin, _ := a.CreateAccessToken("alice", authx.Grant("admin:*"), authx.FreshLogin())

	fmt.Println(reports)
	fmt.Println(get(srv.URL+"/reports", bob))
	fmt.Println(get(srv.URL+"/reports", admin))
	fmt.Println(sensitive)
	fmt.Println(get(srv.URL+"/settings", admin))
	fmt.Println(get(srv.URL+"/settings", freshAdmin))
	// Output:
	// All(Access, Any(Scopes("reports:read"), Scopes("admin:*")))
	// 200 ok
	// 200 ok
	// All(Access, All(Fresh, Scopes("admin:*")))
	// 401 {"code":"fresh_token_required","message":"A fresh token is required."}
	// 200 ok
}

// User is the application's own user type.
type User struct {
	ID   string
	Name string
}

func ExampleWithSubjectGetter() {
	users := map[string]User{"u1": {ID: "u1", Name: "Alice"}}
	loadUser := func(ctx context.Context, c *authx.Claims) (User, error) {
		u, ok := users[c.Subject]
		if !ok {
			return User{}, authx.ErrSubjectNotFound // 401
		}
		return u, nil // any other error would answer 503
	}
	a, _ := authx.New[User](authx.WithSecret(exampleSecret), authx.WithSubjectGetter(loadUser))

	me := a.Require(a.KnownSubject()).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := authx.SubjectFrom[User](r.Context())
		fmt.Fprintf(w, "hello %s", u.Name)
	}))
	srv := httptest.NewServer(me)
	defer srv.Close()

	known, _ := a.CreateAccessToken("u1")
	gone, _ := a.CreateAccessToken("u2")
	fmt.Println(get(srv.URL, known))
	fmt.Println(get(srv.URL, gone))
	// Output:
	// 200 hello Alice
	// 401 {"code":"subject_not_found","message":"The token's subject is unknown."}
}

func ExampleClaims_Get() {
	a, _ := authx.New[string](authx.WithSecret(exampleSecret))
	tok, _ := a.CreateAccessToken("alice", authx.Claim("tenant", "acme"), authx.Claim("level", 3))
	c, _ := a.Verify(context.Background(), tok)
	tenant, _ := c.Get("tenant")
	var d struct {
		Tenant string `json:"tenant"`
		Level  int    `json:"level"`
	}
	_ = c.DecodeData(&d)
	fmt.Println(tenant, d.Tenant, d.Level)

	// Registered names are refused as custom data.
	_, err := a.CreateAccessToken("alice", authx.Claim("exp", 0))
	fmt.Println(errors.Is(err, authx.ErrTokenOption))
	// Output:
	// acme acme 3
	// true
}

// exampleT stands in for the *testing.T of a user's test, which an
// Example function does not have.
type exampleT struct{ testing.TB }

func newExampleT() exampleT                        { return exampleT{} }
func (exampleT) Helper()                           {}
func (exampleT) Fatalf(format string, args ...any) { fmt.Printf("FATAL: "+format+"\n", args...) }

func ExampleAuth_CreateTokenPair() {
	a, _ := authx.New[string](authx.WithSecret(exampleSecret), authx.WithAccessTTL(5*time.Minute))
	pair, _ := a.CreateTokenPair("alice", authx.Grant("reports:read"))
	fmt.Println(pair.TokenType, pair.ExpiresIn)

	// A refresh token never passes an access guard, and vice versa.
	_, err := a.Verify(context.Background(), pair.RefreshToken)
	fmt.Println(errors.Is(err, authx.ErrAccessRequired))
	c, err := a.Verify(context.Background(), pair.RefreshToken, authx.Refresh)
	fmt.Println(c.Type, c.Scopes, err)
	// Output:
	// bearer 300
	// true
	// refresh [reports:read] <nil>
}

// Example_authtest shows the helpers a user's test reaches for: a fixed
// clock, a token, a request carrying it, and an expired token.
func Example_authtest() {
	t := newExampleT() // in a real test: the *testing.T
	clock := authtest.NewClock(exampleNow)
	a, _ := authx.New[string](authx.WithSecret(exampleSecret), authx.WithClock(clock.Now))
	h := a.Require(authx.Scopes("reports:read")).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "report")
	}))

	tok := authtest.Token(t, a, "alice", authx.Grant("reports:read"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, authtest.Request(t, a, authx.InHeader, "GET", "/reports", tok))
	fmt.Println(w.Code, w.Body.String())

	clock.Advance(16 * time.Minute) // past the 15-minute default TTL
	w = httptest.NewRecorder()
	h.ServeHTTP(w, authtest.Request(t, a, authx.InHeader, "GET", "/reports", tok))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 report
	// 401 Bearer realm="api", error="invalid_token"
}
