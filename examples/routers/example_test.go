package routers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/authx-go/authx"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
)

// secret is a fixed 32-byte HMAC key. Real services read theirs from a
// secret store.
var secret = []byte("example-secret-of-at-least-32-bytes!")

// User is the application's user type.
type User struct{ ID, Name, Tenant string }

// newAuth returns an Auth on a fixed clock whose getter knows alice.
func newAuth() (*authx.Auth[User], error) {
	return authx.New[User](
		authx.WithSecret(secret),
		authx.WithClock(func() time.Time { return time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC) }),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (User, error) {
			if c.Subject != "alice" {
				return User{}, authx.ErrSubjectNotFound
			}
			return User{ID: "alice", Name: "Alice", Tenant: "acme"}, nil
		}),
	)
}

// call sends method path to h with token (if any) and prints the status
// and the body.
func call(h http.Handler, method, path, token string) {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	fmt.Println(method, path, w.Code, strings.TrimSpace(w.Body.String()))
}

// hello greets the guarded request's user.
func hello(w http.ResponseWriter, r *http.Request) {
	u, ok := authx.SubjectFrom[User](r.Context())
	if !ok {
		fmt.Fprintln(w, "hello, stranger")
		return
	}
	fmt.Fprintln(w, "hello", u.Name)
}

func Example_chi() {
	a, err := newAuth()
	if err != nil {
		fmt.Println(err)
		return
	}
	r := chi.NewRouter()
	r.Get("/", hello) // public
	r.Route("/api", func(r chi.Router) {
		r.Use(a.Require().Wrap) // every route below needs a valid access token
		r.Get("/me", hello)
		r.With(a.Require(authx.Scopes("admin:*")).Wrap).Get("/admin", hello) // and this one a scope
	})
	r.With(a.Optional().Wrap).Get("/welcome", hello) // a token if there is one

	user, _ := a.CreateAccessToken("alice")
	admin, _ := a.CreateAccessToken("alice", authx.Grant("admin:*"))
	call(r, "GET", "/api/me", "")
	call(r, "GET", "/api/me", user)
	call(r, "GET", "/api/admin", user)
	call(r, "GET", "/api/admin", admin)
	call(r, "GET", "/welcome", "")
	call(r, "GET", "/welcome", user)
	// Output:
	// GET /api/me 401 {"code":"missing_token","message":"No token was found in the request."}
	// GET /api/me 200 hello Alice
	// GET /api/admin 403 {"code":"insufficient_scope","message":"The token lacks a required scope."}
	// GET /api/admin 200 hello Alice
	// GET /welcome 200 hello, stranger
	// GET /welcome 200 hello Alice
}

// A policy reading the route's path values needs a route-level guard on
// chi: r.Use middleware runs before chi has routed.
func Example_chiPathValue() {
	a, err := newAuth()
	if err != nil {
		fmt.Println(err)
		return
	}
	sameTenant := authx.PolicyFunc(func(ctx context.Context, c *authx.Claims) error {
		r, _ := authx.RequestFrom(ctx)
		if t, _ := c.Get("tenant"); r == nil || t != r.PathValue("tenant") { // chi.URLParam(r, "tenant") alike
			return authx.ErrForbidden
		}
		return nil
	})
	r := chi.NewRouter()
	r.With(a.Require(sameTenant).Wrap).Get("/t/{tenant}/invoices", hello)

	tok, _ := a.CreateAccessToken("alice", authx.Claim("tenant", "acme"))
	call(r, "GET", "/t/acme/invoices", tok)
	call(r, "GET", "/t/globex/invoices", tok)
	// Output:
	// GET /t/acme/invoices 200 hello Alice
	// GET /t/globex/invoices 403 {"code":"forbidden","message":"Access denied."}
}

func Example_gorillaMux() {
	a, err := newAuth()
	if err != nil {
		fmt.Println(err)
		return
	}
	sameTenant := authx.PolicyFunc(func(ctx context.Context, c *authx.Claims) error {
		r, _ := authx.RequestFrom(ctx)
		if t, _ := c.Get("tenant"); r == nil || t != mux.Vars(r)["tenant"] {
			return authx.ErrForbidden
		}
		return nil
	})
	router := mux.NewRouter()
	router.HandleFunc("/", hello) // public
	api := router.PathPrefix("/api").Subrouter()
	api.Use(mux.MiddlewareFunc(a.Require().Wrap)) // every route of api needs a valid access token
	api.HandleFunc("/me", hello).Methods("GET")
	api.Handle("/admin", a.Require(authx.Scopes("admin:*")).WrapFunc(hello)).Methods("GET") // and this one a scope
	// router.Use middleware runs after matching: mux.Vars is set for policies.
	router.Handle("/t/{tenant}/invoices", a.Require(sameTenant).WrapFunc(hello)).Methods("GET")

	user, _ := a.CreateAccessToken("alice", authx.Claim("tenant", "acme"))
	admin, _ := a.CreateAccessToken("alice", authx.Grant("admin:*"))
	call(router, "GET", "/", "")
	call(router, "GET", "/api/me", "")
	call(router, "GET", "/api/me", user)
	call(router, "GET", "/api/admin", user)
	call(router, "GET", "/api/admin", admin)
	call(router, "GET", "/t/acme/invoices", user)
	call(router, "GET", "/t/globex/invoices", user)
	// Output:
	// GET / 200 hello, stranger
	// GET /api/me 401 {"code":"missing_token","message":"No token was found in the request."}
	// GET /api/me 200 hello Alice
	// GET /api/admin 403 {"code":"insufficient_scope","message":"The token lacks a required scope."}
	// GET /api/admin 200 hello Alice
	// GET /t/acme/invoices 200 hello Alice
	// GET /t/globex/invoices 403 {"code":"forbidden","message":"Access denied."}
}
