package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/pgstore"
	"github.com/authx-go/authx/redisstore"
	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

//go:embed static
var static embed.FS

// config is what the flags set.
type config struct {
	AccessTTL      time.Duration // access token lifetime
	RefreshTTL     time.Duration // refresh token lifetime (a login's length)
	RefreshDelta   time.Duration // implicit refresh when the access token expires within it; 0: authx's default
	LoginLimit     int           // logins per minute per client IP
	RedisAddr      string        // "" = in-memory stores (unless PostgresDSN)
	PostgresDSN    string        // "" = in-memory stores (unless RedisAddr)
	PostgresSchema string        // the schema of authx's tables; "" = authx_demo
	Secret         []byte        // HMAC key, ≥ 32 bytes
}

func defaultConfig() config {
	return config{
		AccessTTL:  15 * time.Minute,
		RefreshTTL: 24 * time.Hour,
		LoginLimit: 5, // RefreshDelta 0: authx's default (10 min, or half a shorter access TTL)
	}
}

// user is the demo's own user type, which authx resolves for handlers.
type user struct {
	Name         string
	PasswordHash []byte
	Scopes       []string
}

// newUsers hashes the two built-in users' passwords with bcrypt.
func newUsers() (map[string]user, error) {
	users := map[string]user{}
	for name, u := range map[string]struct {
		display, password string
		scopes            []string
	}{
		"alice": {"Alice", "alice-password", []string{"admin:*"}},
		"bob":   {"Bob", "bob-password", []string{"reports:read"}},
	} {
		hash, err := bcrypt.GenerateFromPassword([]byte(u.password), bcrypt.DefaultCost)
		if err != nil {
			return nil, err
		}
		users[name] = user{Name: u.display, PasswordHash: hash, Scopes: u.scopes}
	}
	return users, nil
}

// dummyHash is compared against when the username is unknown, so that a
// wrong username costs as much time as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)

type server struct {
	a     *authx.Auth[user]
	users map[string]user
	log   *slog.Logger
	delta time.Duration // the implicit refresh window, as ImplicitRefresh uses it
}

// renewDelta is the implicit refresh window the demo runs with:
// cfg.RefreshDelta, or authx's default for it (10 minutes, or half an
// access TTL of 10 minutes or less). The demo passes it to ImplicitRefresh
// explicitly, so that the window /api/me reports is the one in force.
func (cfg config) renewDelta() time.Duration {
	switch {
	case cfg.RefreshDelta != 0:
		return cfg.RefreshDelta
	case cfg.AccessTTL > 10*time.Minute:
		return 10 * time.Minute
	default:
		return cfg.AccessTTL / 2
	}
}

// newServer builds the demo's handler: the authx API, the WebSocket echo and
// the web page.
func newServer(cfg config, log *slog.Logger) (http.Handler, error) {
	if cfg.RefreshDelta < 0 || (cfg.RefreshDelta != 0 && cfg.RefreshDelta >= cfg.AccessTTL) {
		return nil, fmt.Errorf("-refresh-delta %v must be shorter than -access-ttl %v (or 0 for the default)", cfg.RefreshDelta, cfg.AccessTTL)
	}
	users, err := newUsers()
	if err != nil {
		return nil, err
	}
	opts := []authx.Option{
		authx.WithSecret(cfg.Secret),
		authx.WithAccessTTL(cfg.AccessTTL),
		authx.WithRefreshTTL(cfg.RefreshTTL),
		authx.WithTokenLocations(authx.InHeader, authx.InCookie),
		authx.WithLogger(log),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (user, error) {
			u, ok := users[c.Subject]
			if !ok {
				return user{}, authx.ErrSubjectNotFound
			}
			return u, nil
		}),
	}
	if cfg.RedisAddr != "" && cfg.PostgresDSN != "" {
		return nil, errors.New("-redis and -postgres: choose one store")
	}
	if cfg.PostgresDSN != "" {
		opt, err := postgresStore(cfg.PostgresDSN, cfg.PostgresSchema)
		if err != nil {
			return nil, err
		}
		opts = append(opts, opt)
	}
	if cfg.RedisAddr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, ContextTimeoutEnabled: true})
		if err := rdb.Ping(context.Background()).Err(); err != nil {
			return nil, err
		}
		store := redisstore.New(rdb, redisstore.WithPrefix("authx-demo:"))
		if _, err := store.Init(context.Background()); err != nil {
			return nil, err
		}
		opts = append(opts, store.Option())
	}
	a, err := authx.New[user](opts...)
	if err != nil {
		return nil, err
	}
	s := &server{a: a, users: users, log: log, delta: cfg.renewDelta()}

	mux := http.NewServeMux()
	loginLimit := a.RateLimit(authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(cfg.LoginLimit)})
	mux.Handle("POST /auth/login", loginLimit(http.HandlerFunc(s.loginJSON)))
	mux.Handle("POST /auth/login/cookie", loginLimit(http.HandlerFunc(s.loginCookie)))
	mux.Handle("POST /auth/refresh", a.RefreshHandler())
	mux.Handle("POST /auth/logout", a.LogoutHandler())

	mux.Handle("GET /api/me", a.Require(a.KnownSubject()).WrapFunc(s.me))
	mux.Handle("POST /api/me/password", a.Require(authx.Fresh).WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // a real service would change the password here
	}))
	mux.Handle("GET /api/admin", a.Require(authx.Scopes("admin:*")).WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"message": "welcome, admin"})
	}))
	mux.Handle("GET /api/reports", a.Require(authx.Any(authx.Scopes("reports:read"), authx.Scopes("admin:*"))).WrapFunc(
		func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"reports": []string{"q1", "q2"}})
		}))
	mux.Handle("GET /api/sessions", a.Require().WrapFunc(s.sessions))
	mux.Handle("DELETE /api/sessions/{id}", a.Require().WrapFunc(s.revokeSession))

	mux.Handle("POST /ws/ticket", a.TicketHandler())
	echo := a.Require()
	mux.HandleFunc("GET /ws/echo", func(w http.ResponseWriter, r *http.Request) { s.echo(echo, w, r) })

	page, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /", http.FileServerFS(page))

	implicit := a.ImplicitRefresh(authx.ImplicitRefreshConfig{
		Delta:        s.delta,
		ExcludePaths: []string{"/auth/refresh", "/auth/logout"}, // they end or replace the token anyway
	})
	return securityHeaders(implicit(mux)), nil
}

// securityHeaders sets the page's hardening headers.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login checks the credentials, starts a session and issues a fresh pair.
func (s *server) login(w http.ResponseWriter, r *http.Request) (*authx.TokenPair, bool) {
	var in credentials
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.Username == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalid_request", "message": `send {"username","password"}`})
		return nil, false
	}
	u, ok := s.users[in.Username]
	hash := dummyHash
	if ok {
		hash = u.PasswordHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) != nil || !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "invalid_credentials", "message": "Wrong username or password."})
		return nil, false
	}
	info, err := s.a.StartSession(r.Context(), r, in.Username, nil)
	if err != nil {
		s.a.WriteError(w, r, err)
		return nil, false
	}
	pair, err := s.a.CreateTokenPair(in.Username, authx.FreshLogin(), authx.Grant(u.Scopes...), authx.Session(info.ID))
	if err != nil {
		s.a.WriteError(w, r, errors.Join(authx.ErrMisconfigured, err))
		return nil, false
	}
	return pair, true
}

func (s *server) loginJSON(w http.ResponseWriter, r *http.Request) {
	if pair, ok := s.login(w, r); ok {
		writeJSON(w, http.StatusOK, pair)
	}
}

func (s *server) loginCookie(w http.ResponseWriter, r *http.Request) {
	pair, ok := s.login(w, r)
	if !ok {
		return
	}
	if err := s.a.SetTokenCookies(w, pair); err != nil {
		s.a.WriteError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// meView is what GET /api/me answers: the claims of the access token the
// request carried (never the token itself), the user's display name, and
// when the implicit refresh window of that token opens.
type meView struct {
	Subject   string    `json:"sub"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	Fresh     bool      `json:"fresh"`
	ID        string    `json:"jti"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
	SessionID string    `json:"sid"`
	// RenewFrom is exp − the refresh delta: the first request after it
	// (with the cookie, passing the CSRF check) gets a new access token.
	RenewFrom time.Time `json:"renew_from"`
}

func (s *server) me(w http.ResponseWriter, r *http.Request) {
	c, _ := authx.ClaimsFrom(r.Context())
	u, _ := authx.SubjectFrom[user](r.Context())
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	writeJSON(w, http.StatusOK, meView{
		Subject: c.Subject, Name: u.Name, Scopes: scopes, Fresh: c.Fresh,
		ID: c.ID, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, SessionID: c.SessionID,
		RenewFrom: c.ExpiresAt.Add(-s.delta),
	})
}

type sessionView struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastActive time.Time `json:"last_active"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"`
}

func (s *server) sessions(w http.ResponseWriter, r *http.Request) {
	c, _ := authx.ClaimsFrom(r.Context())
	list, err := s.a.Sessions(r.Context(), c.Subject)
	if err != nil {
		s.a.WriteError(w, r, err)
		return
	}
	out := make([]sessionView, 0, len(list))
	for _, si := range list {
		out = append(out, sessionView{si.ID, si.CreatedAt, si.LastActive, si.IP, si.UserAgent, si.ID == c.SessionID})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) revokeSession(w http.ResponseWriter, r *http.Request) {
	c, _ := authx.ClaimsFrom(r.Context())
	if err := s.a.RevokeSession(r.Context(), c.Subject, r.PathValue("id")); err != nil {
		s.a.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// echo answers each text message m with "<sub>: m" until the token that
// opened the connection expires (1008) or the client leaves.
func (s *server) echo(guard *authx.Guard, w http.ResponseWriter, r *http.Request) {
	conn, claims, err := guard.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(4096)
	ctx := guard.NewContext(r.Context(), claims)
	for {
		typ, msg, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if tok, ok := authx.ParseReauth(msg); ok {
			if claims, err = guard.Reauthenticate(ctx, conn, tok); err != nil {
				return
			}
			continue
		}
		if typ != websocket.MessageText {
			continue
		}
		if err := conn.Write(ctx, websocket.MessageText, []byte(claims.Subject+": "+string(msg))); err != nil {
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// postgresStore connects to the PostgreSQL at dsn, creates authx's tables
// in schema (authx_demo when "") with Migrate (explicit, idempotent) and
// returns the option that keeps every store there. The pool lives as long
// as the demo.
func postgresStore(dsn, schema string) (authx.Option, error) {
	if schema == "" {
		schema = "authx_demo"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s, err := pgstore.New(pool, pgstore.WithSchema(schema), pgstore.WithSweepEvery(time.Minute))
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s.Option(), nil
}
