// Command demo is a small API guarded by authx, on in-memory defaults:
//
//	go run ./examples/demo            # from the repository root
//
// It listens on 127.0.0.1:8000 (flag -addr) and knows two users:
// alice / alice-password (scope admin:*) and bob / bob-password (scope
// reports:read). See README.md for a curl walkthrough.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/authx-go/authx"
)

// user is the demo's own user type, which authx resolves for handlers.
type user struct {
	Name     string
	Password string
	Scopes   []string
}

var users = map[string]user{
	"alice": {Name: "Alice", Password: "alice-password", Scopes: []string{"admin:*"}},
	"bob":   {Name: "Bob", Password: "bob-password", Scopes: []string{"reports:read"}},
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	accessTTL := flag.Duration("access-ttl", 15*time.Minute, "access token lifetime")
	refreshTTL := flag.Duration("refresh-ttl", 24*time.Hour, "refresh token lifetime")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	secret := []byte(os.Getenv("AUTHX_SECRET"))
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		log.Info("AUTHX_SECRET not set: generated a random secret; tokens end with this process")
	}
	a, err := authx.New[user](
		authx.WithSecret(secret),
		authx.WithAccessTTL(*accessTTL),
		authx.WithRefreshTTL(*refreshTTL),
		authx.WithLogger(log),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (user, error) {
			u, ok := users[c.Subject]
			if !ok {
				return user{}, authx.ErrSubjectNotFound
			}
			return u, nil
		}),
	)
	if err != nil {
		log.Error("configuring authx", "error", err)
		os.Exit(1)
	}
	log.Info("demo listening", "addr", "http://"+*addr)
	srv := &http.Server{Addr: *addr, Handler: routes(a), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

func routes(a *authx.Auth[user]) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"message": "authx demo: POST /auth/login, then GET /api/me"})
	})
	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) { login(a, w, r) })
	mux.Handle("POST /auth/refresh", a.RefreshHandler()) // rotation with reuse detection
	mux.Handle("POST /auth/logout", a.LogoutHandler())   // revokes the login, clears cookies
	mux.Handle("GET /api/me", a.Require(a.KnownSubject()).WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := authx.ClaimsFrom(r.Context())
		u, _ := authx.SubjectFrom[user](r.Context())
		writeJSON(w, http.StatusOK, map[string]any{"sub": c.Subject, "name": u.Name, "scopes": c.Scopes, "fresh": c.Fresh})
	}))
	mux.Handle("POST /api/me/password", a.Require(authx.Fresh).WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.Handle("GET /api/admin", a.Require(authx.Scopes("admin:*")).WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"message": "welcome, admin"})
	}))
	mux.Handle("GET /api/reports", a.Require(authx.Any(authx.Scopes("reports:read"), authx.Scopes("admin:*"))).WrapFunc(
		func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"reports": []string{"q1", "q2"}})
		}))
	return mux
}

func login(a *authx.Auth[user], w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalid_request", "message": "send {\"username\",\"password\"}"})
		return
	}
	u, ok := users[in.Username]
	if !ok || subtle.ConstantTimeCompare([]byte(in.Password), []byte(u.Password)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "invalid_credentials", "message": "wrong username or password"})
		return
	}
	pair, err := a.CreateTokenPair(in.Username, authx.FreshLogin(), authx.Grant(u.Scopes...))
	if err != nil {
		a.WriteError(w, r, errors.Join(authx.ErrUnavailable, err))
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
