// Command demo is a small service guarded by authx, with a web page that
// shows every feature: cookie login with CSRF protection, fresh tokens,
// scopes, implicit refresh, sessions, a WebSocket opened with a ticket,
// and logout.
//
//	go run ./examples/demo                      # from the repository root
//	go run ./examples/demo -redis 127.0.0.1:6379 -access-ttl 30s -refresh-delta 20s
//	go run ./examples/demo -postgres postgres://postgres@127.0.0.1:5432/test
//
// It listens on 127.0.0.1:8000 (-addr) with in-memory stores unless -redis or -postgres
// is given. Users: alice / alice-password (scope admin:*) and bob /
// bob-password (scope reports:read). The HMAC secret comes from
// AUTHX_SECRET, or is generated at start. See README.md for a curl
// walkthrough.
package main

import (
	"crypto/rand"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"
)

func main() {
	cfg := defaultConfig()
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	flag.DurationVar(&cfg.AccessTTL, "access-ttl", cfg.AccessTTL, "access token lifetime")
	flag.DurationVar(&cfg.RefreshTTL, "refresh-ttl", cfg.RefreshTTL, "refresh token lifetime (how long a login lasts)")
	flag.DurationVar(&cfg.RefreshDelta, "refresh-delta", cfg.RefreshDelta, "implicit refresh when the access token expires within this (0: 10 min, or half a shorter -access-ttl)")
	flag.IntVar(&cfg.LoginLimit, "login-limit", cfg.LoginLimit, "logins per minute per client IP")
	flag.StringVar(&cfg.RedisAddr, "redis", "", "Redis address for shared stores (default: in memory)")
	flag.StringVar(&cfg.PostgresDSN, "postgres", "", "PostgreSQL DSN for shared stores, e.g. postgres://user@127.0.0.1:5432/db (default: in memory)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	cfg.Secret = []byte(os.Getenv("AUTHX_SECRET"))
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		_, _ = rand.Read(cfg.Secret)
		log.Info("AUTHX_SECRET not set: generated a random secret; tokens end with this process")
	}
	h, err := newServer(cfg, log)
	if err != nil {
		log.Error("starting the demo", "error", err)
		os.Exit(1)
	}
	stores := "in memory"
	switch {
	case cfg.RedisAddr != "":
		stores = "redis " + cfg.RedisAddr
	case cfg.PostgresDSN != "":
		stores = "postgres" // the DSN may hold a password: not logged
	}
	log.Info("demo listening", "url", "http://"+*addr, "stores", stores,
		"access_ttl", cfg.AccessTTL, "refresh_ttl", cfg.RefreshTTL, "refresh_delta", cfg.renewDelta())
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("server stopped", "error", err)
		os.Exit(1)
	}
}
