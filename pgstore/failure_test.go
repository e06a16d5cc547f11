package pgstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/pgstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// These tests take the database away from a service, or slow it down, and
// check that the service fails closed: 503, never 200, within the
// request's deadline.

// adminPool is a pool of the test database for what the tests do to it
// from outside the service.
func adminPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return newPool(tb, "authxtest-admin")
}

// ownRole creates a login role of its own (dropped when tb ends), allowed
// to create schemas in the test database, and returns its name. A test
// that can forbid its role to log in can take the database away from a
// pool without touching any other test's connections.
func ownRole(tb testing.TB, admin *pgxpool.Pool) string {
	tb.Helper()
	role := "authxtest_" + strings.ToLower(rand.Text()[:12])
	ctx := context.Background()
	if _, err := admin.Exec(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
		if _, err := admin.Exec(ctx, "DROP OWNED BY "+role+" CASCADE"); err != nil {
			tb.Errorf("dropping what %s owns: %v", role, err)
		}
		if _, err := admin.Exec(ctx, "DROP ROLE "+role); err != nil {
			tb.Errorf("dropping role %s: %v", role, err)
		}
	})
	if _, err := admin.Exec(ctx, "GRANT CREATE ON DATABASE "+currentDB(tb, admin)+" TO "+role); err != nil {
		tb.Fatal(err)
	}
	return role
}

func currentDB(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	var db string
	if err := pool.QueryRow(context.Background(), "SELECT quote_ident(current_database())").Scan(&db); err != nil {
		tb.Fatal(err)
	}
	return db
}

// poolAs returns a pool logged in as role, named appName.
func poolAs(tb testing.TB, role, appName string) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(dsn())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.User = role
	cfg.ConnConfig.RuntimeParams["application_name"] = appName
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// TestDatabaseGone: mid-test the service's connections are terminated
// (pg_terminate_backend on its application_name) and its role may no
// longer log in, as when the database goes away; every guarded request,
// refresh and rate-limited request through a real authx guard on an
// httptest.Server is 503, never 200. When the database is back, the next
// requests are served.
func TestDatabaseGone(t *testing.T) {
	t.Parallel()
	admin := adminPool(t)
	role := ownRole(t, admin)
	app := "authxtest-gone-" + role
	s := storeOn(t, poolAs(t, role, app), testSchema(t))
	st := newSite(t, s, nil)
	limited := st.a.RateLimit(authx.RateLimitConfig{Name: "api", Anonymous: authx.PerMinute(1000)})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	mux := http.NewServeMux()
	mux.Handle("GET /guarded", st.guarded)
	mux.Handle("POST /auth/refresh", st.refresh)
	mux.Handle("GET /limited", limited)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	access := authtest.Token(t, st.a, "alice")
	do := func(method, path, tok string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	kinds := map[string]func() int{
		"guarded":      func() int { return do("GET", "/guarded", access) },
		"refresh":      func() int { return do("POST", "/auth/refresh", authtest.RefreshToken(t, st.a, "alice")) },
		"rate limited": func() int { return do("GET", "/limited", "") },
	}
	for name, f := range kinds {
		if got := f(); got != http.StatusOK {
			t.Fatalf("%s with the database up: %d, want 200", name, got)
		}
	}

	ctx := t.Context()
	if _, err := admin.Exec(ctx, "ALTER ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	var killed int
	if err := admin.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	t.Logf("terminated %d backends of %s", killed, app)
	if killed == 0 {
		t.Fatal("no backend to terminate: the service held no connection")
	}
	for range 3 { // the broken pooled connections first, then failed dials
		for name, f := range kinds {
			if got := f(); got != http.StatusServiceUnavailable {
				t.Errorf("%s with the database gone: %d, want 503", name, got)
			}
		}
	}

	if _, err := admin.Exec(ctx, "ALTER ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	for name, f := range kinds {
		if got := f(); got != http.StatusOK {
			t.Errorf("%s with the database back: %d, want 200", name, got)
		}
	}
}

// TestClosedPool: a Store whose pool was closed denies.
func TestClosedPool(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "authxtest-closed")
	s := storeOn(t, pool, testSchema(t))
	st := newSite(t, s, nil)
	tok := authtest.Token(t, st.a, "alice")
	pool.Close()
	if got := serve(st.guarded, authtest.Request(t, st.a, authx.InHeader, "GET", "/", tok)).StatusCode; got != http.StatusServiceUnavailable {
		t.Errorf("guarded request on a closed pool: %d, want 503", got)
	}
	if _, err := s.IsTokenRevoked(t.Context(), authx.TokenCheck{IDs: []string{"x"}, Subject: "alice", IssuedAt: time.Now()}); err == nil {
		t.Error("IsTokenRevoked on a closed pool: no error")
	}
}

// TestSlowDatabase: another transaction holds an ACCESS EXCLUSIVE lock on
// the blocklist, so every lookup waits on it. A guarded request is
// answered 503 within its deadline (the request's own, or the Store's
// timeout when it has none), and once the lock is released, 200 again.
func TestSlowDatabase(t *testing.T) {
	t.Parallel()
	// Generous: a loaded machine schedules late; far below "forever",
	// which is how long the lookup would otherwise wait.
	const slack = 2 * time.Second
	tests := []struct {
		name     string
		timeout  time.Duration // the Store's; 0: the default
		deadline time.Duration // the request's; 0: none
		want     time.Duration
	}{
		{name: "default timeout, no request deadline", want: pgstore.DefaultTimeout},
		{name: "WithTimeout(100ms), no request deadline", timeout: 100 * time.Millisecond, want: 100 * time.Millisecond},
		{name: "request deadline 50ms", deadline: 50 * time.Millisecond, want: 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			schema := testSchema(t)
			var opts []pgstore.Option
			if tt.timeout != 0 {
				opts = append(opts, pgstore.WithTimeout(tt.timeout))
			}
			s := storeOn(t, newPool(t, "authxtest-slow"), schema, opts...)
			st := newSite(t, s, nil)
			tok := authtest.Token(t, st.a, "alice")
			guarded := func() (int, time.Duration) {
				r := authtest.Request(t, st.a, authx.InHeader, "GET", "/", tok)
				if tt.deadline != 0 {
					ctx, cancel := context.WithTimeout(r.Context(), tt.deadline)
					defer cancel()
					r = r.WithContext(ctx)
				}
				start := time.Now()
				got := serve(st.guarded, r).StatusCode
				return got, time.Since(start)
			}
			if got, took := guarded(); got != http.StatusOK {
				t.Fatalf("guarded request, database fast: %d after %v, want 200", got, took)
			}

			locker := newPool(t, "authxtest-locker")
			tx, err := locker.Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(context.Background()) }()
			if _, err := tx.Exec(t.Context(), "LOCK TABLE "+schema+".authx_blocklist IN ACCESS EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
			got, took := guarded()
			t.Logf("guarded request, blocklist locked, deadline %v: %d after %v", tt.want, got, took.Round(time.Millisecond))
			if got != http.StatusServiceUnavailable {
				t.Errorf("guarded request with the blocklist locked: %d, want 503", got)
			}
			if took > tt.want+slack {
				t.Errorf("guarded request with the blocklist locked answered after %v, want within %v + %v", took, tt.want, slack)
			}
			start := time.Now()
			_, err = s.IsRevoked(context.Background(), "jti-1")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("IsRevoked with the blocklist locked: %v after %v, want context.DeadlineExceeded", err, time.Since(start))
			}

			if err := tx.Rollback(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got, took := guarded(); got != http.StatusOK {
				t.Errorf("guarded request after the lock was released: %d after %v, want 200", got, took)
			}
		})
	}
}
