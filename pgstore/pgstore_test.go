package pgstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/pgstore"
	"github.com/authx-go/authx/storetest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// These tests run against a real PostgreSQL: AUTHX_POSTGRES_DSN, default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Without one
// they skip, except under CI=true, where they fail. Each test migrates a
// fresh schema of its own and drops it when it ends.

func dsn() string {
	if d := os.Getenv("AUTHX_POSTGRES_DSN"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// pgDown is nil when PostgreSQL answered, once per test binary.
var pgDown = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn())
	if err != nil {
		return err
	}
	defer pool.Close()
	return pool.Ping(ctx)
})

// requirePG skips tb when PostgreSQL does not answer, or fails it under
// CI=true, where PostgreSQL is part of the environment.
func requirePG(tb testing.TB) {
	tb.Helper()
	if err := pgDown(); err != nil {
		msg := fmt.Sprintf("no PostgreSQL at %s (%v): start it or set AUTHX_POSTGRES_DSN", dsn(), err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
}

// newPool returns a pool of the test database, closed when tb ends, whose
// connections carry appName as their application_name (so that a test
// can find and end them).
func newPool(tb testing.TB, appName string) *pgxpool.Pool {
	tb.Helper()
	requirePG(tb)
	cfg, err := pgxpool.ParseConfig(dsn())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = appName
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// testSchema returns a fresh schema name, the schema dropped (if it was
// created) when tb ends.
func testSchema(tb testing.TB) string {
	tb.Helper()
	requirePG(tb)
	name := "authxtest_" + strings.ToLower(rand.Text()[:12])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pool, err := pgxpool.New(ctx, dsn())
		if err != nil {
			tb.Errorf("dropping schema %s: %v", name, err)
			return
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// storeOn returns a migrated Store on pool in schema.
func storeOn(tb testing.TB, pool *pgxpool.Pool, schema string, opts ...pgstore.Option) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.New(pool, append([]pgstore.Option{pgstore.WithSchema(schema)}, opts...)...)
	if err != nil {
		tb.Fatalf("pgstore.New: %v", err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// newStore returns a migrated Store in a fresh schema, on a pool of its own.
func newStore(tb testing.TB) *pgstore.Store {
	tb.Helper()
	return storeOn(tb, newPool(tb, "authxtest"), testSchema(tb))
}

func TestConformance(t *testing.T) {
	pool := newPool(t, "authxtest-conformance")
	fresh := func(t *testing.T) *pgstore.Store { return storeOn(t, pool, testSchema(t)) }
	storetest.Run(t, storetest.Harness{
		NewBlocklist:    func(t *testing.T) authx.Blocklist { return fresh(t) },
		NewRefreshStore: func(t *testing.T) authx.RefreshStore { return fresh(t) },
		NewSessionStore: func(t *testing.T) authx.SessionStore { return fresh(t).Sessions() },
		NewRateLimiter:  func(t *testing.T) authx.RateLimiter { return fresh(t) },
		Now:             time.Now,
		Advance:         func(t *testing.T, d time.Duration) { time.Sleep(d) },
	})
}

// TestConformanceTablePrefix runs the suite on a Store with another table
// prefix beside a default one in the same schema: they share nothing.
func TestConformanceTablePrefix(t *testing.T) {
	pool := newPool(t, "authxtest-prefix")
	fresh := func(t *testing.T) *pgstore.Store {
		schema := testSchema(t)
		other := storeOn(t, pool, schema)
		if err := other.Revoke(t.Context(), "jti-1", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return storeOn(t, pool, schema, pgstore.WithTablePrefix("Other_"))
	}
	storetest.Run(t, storetest.Harness{
		NewBlocklist: func(t *testing.T) authx.Blocklist { return fresh(t) },
		Now:          time.Now,
		Advance:      func(t *testing.T, d time.Duration) { time.Sleep(d) },
	})
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "authxtest-config")
	tests := []struct {
		name    string
		pool    *pgxpool.Pool
		opts    []pgstore.Option
		wantErr bool
		reason  string
	}{
		{name: "defaults", pool: pool, reason: "the defaults are valid"},
		{name: "nil pool", pool: nil, wantErr: true, reason: "a store needs a pool"},
		{name: "nil option", pool: pool, opts: []pgstore.Option{nil}, wantErr: true, reason: "a nil option is a mistake"},
		{name: "schema with a quote", pool: pool, opts: []pgstore.Option{pgstore.WithSchema(`a"; DROP TABLE x; --`)}, wantErr: true, reason: "identifiers are validated"},
		{name: "empty schema", pool: pool, opts: []pgstore.Option{pgstore.WithSchema("")}, wantErr: true, reason: "a schema has a name"},
		{name: "schema starting with a digit", pool: pool, opts: []pgstore.Option{pgstore.WithSchema("1a")}, wantErr: true, reason: "not an identifier"},
		{name: "schema of 64 bytes", pool: pool, opts: []pgstore.Option{pgstore.WithSchema(strings.Repeat("a", 64))}, wantErr: true, reason: "PostgreSQL keeps 63"},
		{name: "mixed-case schema", pool: pool, opts: []pgstore.Option{pgstore.WithSchema("Auth_X")}, reason: "quoted, so case is kept"},
		{name: "empty prefix", pool: pool, opts: []pgstore.Option{pgstore.WithTablePrefix("")}, reason: "tables named blocklist, …"},
		{name: "prefix with a dot", pool: pool, opts: []pgstore.Option{pgstore.WithTablePrefix("a.b")}, wantErr: true, reason: "identifiers are validated"},
		{name: "prefix too long", pool: pool, opts: []pgstore.Option{pgstore.WithTablePrefix(strings.Repeat("p", 41))}, wantErr: true, reason: "names must fit 63 bytes"},
		{name: "timeout 500ns", pool: pool, opts: []pgstore.Option{pgstore.WithTimeout(500)}, wantErr: true, reason: "below MinTimeout"},
		{name: "nil logger", pool: pool, opts: []pgstore.Option{pgstore.WithLogger(nil)}, wantErr: true, reason: "a nil logger"},
		{name: "sweep every 1ms", pool: pool, opts: []pgstore.Option{pgstore.WithSweepEvery(time.Millisecond)}, wantErr: true, reason: "at least a second"},
		{name: "sweep batch 0", pool: pool, opts: []pgstore.Option{pgstore.WithSweepBatch(0)}, wantErr: true, reason: "a batch deletes something"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := pgstore.New(tt.pool, tt.opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New: error %v, want error %v (%s)", err, tt.wantErr, tt.reason)
			}
			if err != nil {
				if !errors.Is(err, pgstore.ErrConfig) || s != nil {
					t.Errorf("New: %v, %v; want nil and an error matching ErrConfig", s, err)
				}
				return
			}
			s.Close()
		})
	}
}

// TestNilStore: a nil Store denies, never allows.
func TestNilStore(t *testing.T) {
	t.Parallel()
	var s *pgstore.Store
	if _, err := s.IsTokenRevoked(t.Context(), authx.TokenCheck{IDs: []string{"x"}}); !errors.Is(err, pgstore.ErrConfig) {
		t.Errorf("IsTokenRevoked on a nil Store: %v, want ErrConfig", err)
	}
	if ok, _, err := s.Allow(t.Context(), "k", authx.PerMinute(1)); ok || !errors.Is(err, pgstore.ErrConfig) {
		t.Errorf("Allow on a nil Store: %v, %v; want false, ErrConfig", ok, err)
	}
	if _, _, err := s.Sessions().Get(t.Context(), "x"); !errors.Is(err, pgstore.ErrConfig) {
		t.Errorf("Sessions().Get on a nil Store: %v, want ErrConfig", err)
	}
	s.Close()
}

// TestMigrateIdempotent: Migrate runs again (and concurrently) without
// error, keeps the data and the epoch.
func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "authxtest-migrate")
	schema := testSchema(t)
	s := storeOn(t, pool, schema)
	epoch, err := s.Epoch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(t.Context(), "jti-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.Migrate(t.Context()); err != nil {
				t.Errorf("Migrate again: %v", err)
			}
		})
	}
	wg.Wait()
	if got, err := s.IsRevoked(t.Context(), "jti-1"); err != nil || !got {
		t.Errorf("IsRevoked(jti-1) after Migrate again = %v, %v; want true", got, err)
	}
	if got, err := s.Epoch(t.Context()); err != nil || !got.Equal(epoch) {
		t.Errorf("Epoch after Migrate again = %v, %v; want %v", got, err, epoch)
	}
}

// TestMissingSchema: a Store whose tables do not exist (never migrated, or
// dropped) fails every call with ErrSchema, and a guard answers 503.
func TestMissingSchema(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "authxtest-missing")
	s, err := pgstore.New(pool, pgstore.WithSchema(testSchema(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	checks := map[string]error{}
	_, checks["IsTokenRevoked"] = s.IsTokenRevoked(ctx, authx.TokenCheck{IDs: []string{"x"}, Subject: "alice", IssuedAt: time.Now()})
	_, checks["IsRevoked"] = s.IsRevoked(ctx, "x")
	checks["Revoke"] = s.Revoke(ctx, "x", time.Now().Add(time.Hour))
	_, _, checks["Spend"] = s.Spend(ctx, "x", time.Now().Add(time.Hour))
	_, _, checks["Allow"] = s.Allow(ctx, "x", authx.PerMinute(1))
	_, _, checks["Sessions.Get"] = s.Sessions().Get(ctx, "x")
	_, checks["Sweep"] = s.Sweep(ctx)
	for name, err := range checks {
		if !errors.Is(err, pgstore.ErrSchema) {
			t.Errorf("%s without the schema: error %v, want ErrSchema", name, err)
		}
	}
	st := newSite(t, s, nil)
	tok := authtest.Token(t, st.a, "alice")
	if got := serve(st.guarded, authtest.Request(t, st.a, authx.InHeader, "GET", "/", tok)).StatusCode; got != http.StatusServiceUnavailable {
		t.Errorf("guarded request without the schema: %d, want 503", got)
	}
}

// TestEpoch: a token issued before the store's data began (before a
// dropped schema was migrated anew) is revoked.
func TestEpoch(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	epoch, err := s.Epoch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		iat  time.Time
		want bool
	}{
		{"issued a second before the epoch", epoch.Add(-time.Second), true},
		{"issued in the epoch's second", epoch, false},
		{"no iat", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := s.IsTokenRevoked(t.Context(), authx.TokenCheck{IDs: []string{"jti"}, Subject: "alice", IssuedAt: tt.iat})
		if err != nil || got != tt.want {
			t.Errorf("%s: IsTokenRevoked = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

// TestSweep: Sweep deletes exactly the expired rows, in batches, and
// expired rows read as absent before it runs.
func TestSweep(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "authxtest-sweep")
	schema := testSchema(t)
	s := storeOn(t, pool, schema, pgstore.WithSweepBatch(3))
	ctx := t.Context()
	soon, later := time.Now().Add(200*time.Millisecond), time.Now().Add(time.Hour)
	for i := range 10 {
		if err := s.Revoke(ctx, fmt.Sprint("short-", i), soon); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Spend(ctx, fmt.Sprint("short-", i), soon); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Revoke(ctx, "long", later); err != nil {
		t.Fatal(err)
	}
	info := authx.SessionInfo{ID: "s", Subject: "alice", CreatedAt: time.Now(), LastActive: time.Now(), ExpiresAt: soon, Active: true}
	if err := s.Sessions().Create(ctx, info); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // real time: the database's clock
	if got, err := s.IsRevoked(ctx, "short-0"); err != nil || got {
		t.Errorf("IsRevoked(short-0) past its until, before Sweep = %v, %v; want false", got, err)
	}
	n, err := s.Sweep(ctx)
	if err != nil || n != 21 {
		t.Errorf("Sweep = %d, %v; want 21 (10 revocations, 10 refresh tokens, 1 session)", n, err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("Sweep again = %d, %v; want 0", n, err)
	}
	if got, err := s.IsRevoked(ctx, "long"); err != nil || !got {
		t.Errorf("IsRevoked(long) after Sweep = %v, %v; want true", got, err)
	}
}

// TestSweepEvery: the background sweep deletes expired rows, and Close
// stops it.
func TestSweepEvery(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "authxtest-sweepevery")
	schema := testSchema(t)
	s := storeOn(t, pool, schema, pgstore.WithSweepEvery(time.Second))
	ctx := t.Context()
	if err := s.Revoke(ctx, "short", time.Now().Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".authx_blocklist").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background sweep did not delete the expired row within 10s")
		}
		time.Sleep(100 * time.Millisecond) // polling the table: nothing to wait on
	}
	s.Close()
	s.Close() // again: harmless
}

// site is a service using a Store: a guarded route, the refresh endpoint
// and a rate-limited route.
type site struct {
	a       *authx.Auth[string]
	guarded http.Handler
	refresh http.Handler
}

var secret = []byte("pgstore-test-secret-of-32-bytes-or-more!")

// newSite builds the site on clock (nil: a fixed clock reading now).
func newSite(tb testing.TB, s *pgstore.Store, clock *authtest.Clock, opts ...authx.Option) *site {
	tb.Helper()
	if clock == nil {
		clock = authtest.NewClock(time.Now())
	}
	a, err := authx.New[string](append([]authx.Option{authx.WithSecret(secret), authx.WithClock(clock.Now), s.Option()}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	return &site{a: a, guarded: a.Require().Wrap(ok), refresh: a.RefreshHandler()}
}

// serve returns h's response to r.
func serve(h http.Handler, r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}
