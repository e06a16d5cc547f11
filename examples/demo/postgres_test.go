package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Two demo replicas on one PostgreSQL (-postgres): a logout on one is a
// revocation on the other, and a refresh token is spent once between them.
// The database is AUTHX_POSTGRES_DSN, default the machine's; with CI=true
// the test fails rather than skips without one.
func TestDemoPostgres(t *testing.T) {
	dsn := os.Getenv("AUTHX_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL at %s: %v", dsn, err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	t.Cleanup(pool.Close) // after the schema is dropped (cleanups run last first)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "authx_demo_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
	})
	replica := func(c *config) { c.PostgresDSN, c.PostgresSchema = dsn, schema }
	a, b2 := newDemo(t, replica), newDemo(t, replica)
	access, refresh := login(t, a, "alice", "alice-password")
	if r := do(t, b2, "GET", "/api/me", access, ""); r.code != 200 {
		t.Fatalf("the other replica: %d %s", r.code, r.raw)
	}
	if r := do(t, a, "POST", "/auth/refresh", refresh, ""); r.code != 200 {
		t.Fatalf("refresh on one replica: %d %s", r.code, r.raw)
	}
	if r := do(t, b2, "POST", "/auth/refresh", refresh, ""); r.code != 401 {
		t.Errorf("the same refresh token on the other replica: %d, want 401", r.code)
	}
	access2, _ := login(t, a, "bob", "bob-password")
	if r := do(t, a, "POST", "/auth/logout", access2, ""); r.code != 204 {
		t.Fatalf("logout: %d %s", r.code, r.raw)
	}
	if r := do(t, b2, "GET", "/api/me", access2, ""); r.code != 401 {
		t.Errorf("a token logged out on one replica, on the other: %d, want 401", r.code)
	}
}
