package pgstore_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// These tests run two replicas of a service: two Auths with the same
// secret, each with its own pgxpool.Pool and Store on one schema, as two
// processes behind a load balancer would be. What one replica does, the
// other sees on the very next request.

// replicas returns the two sites, on one clock.
func replicas(t *testing.T, opts ...authx.Option) (a, b *site, clock *authtest.Clock) {
	t.Helper()
	schema := testSchema(t)
	sa := storeOn(t, newPool(t, "authxtest-replica-a"), schema)
	sb := storeOn(t, newPool(t, "authxtest-replica-b"), schema)
	// The clock starts after Migrate wrote the store's epoch: a token
	// issued in an earlier second would count as issued before the
	// store's data began, and be refused.
	clock = authtest.NewClock(time.Now())
	a = newSite(t, sa, clock, opts...)
	b = newSite(t, sb, clock, opts...)
	return a, b, clock
}

// status returns the status of h's answer to a request carrying tok in the
// Authorization header.
func status(t *testing.T, h http.Handler, a *authx.Auth[string], method, path, tok string) int {
	t.Helper()
	return serve(h, authtest.Request(t, a, authx.InHeader, method, path, tok)).StatusCode
}

func TestReplicasRevokedToken(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t)
	tok := authtest.Token(t, a.a, "alice")
	if got := status(t, b.guarded, b.a, "GET", "/", tok); got != http.StatusOK {
		t.Fatalf("B before revocation: %d, want 200", got)
	}
	c, err := a.a.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.a.Revoke(t.Context(), c); err != nil {
		t.Fatalf("A revokes: %v", err)
	}
	got := map[string]int{
		"A": status(t, a.guarded, a.a, "GET", "/", tok),
		"B": status(t, b.guarded, b.a, "GET", "/", tok),
	}
	if diff := cmp.Diff(map[string]int{"A": 401, "B": 401}, got); diff != "" {
		t.Errorf("a token revoked on A (-want +got):\n%s", diff)
	}
}

func TestReplicasRevokedSession(t *testing.T) {
	t.Parallel()
	a, b, clock := replicas(t)
	ctx := t.Context()
	info, err := a.a.StartSession(ctx, httptest.NewRequest("POST", "/login", nil), "alice", map[string]string{"name": "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	tok := authtest.Token(t, a.a, "alice", authx.Session(info.ID))
	clock.Advance(time.Minute)
	if got := status(t, b.guarded, b.a, "GET", "/", tok); got != http.StatusOK {
		t.Fatalf("B before the session ends: %d, want 200", got)
	}
	listed, err := b.a.Sessions(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := info
	want.LastActive = clock.Now() // B's request was activity in A's session
	if diff := cmp.Diff([]authx.SessionInfo{want}, listed, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Errorf("B lists alice's sessions (-want +got):\n%s", diff)
	}
	if err := a.a.RevokeSession(ctx, "alice", info.ID); err != nil {
		t.Fatalf("A revokes the session: %v", err)
	}
	if got := status(t, b.guarded, b.a, "GET", "/", tok); got != http.StatusUnauthorized {
		t.Errorf("B after A ended the session: %d, want 401", got)
	}
	listed, err = b.a.Sessions(ctx, "alice")
	if err != nil || len(listed) != 0 {
		t.Errorf("B lists %d sessions of alice (%v), want none", len(listed), err)
	}
}

// TestReplicasRevokeAllSessions: "log out everywhere" on A ends, on B,
// every token alice held, through the subject's cut-off.
func TestReplicasRevokeAllSessions(t *testing.T) {
	t.Parallel()
	a, b, clock := replicas(t)
	ctx := t.Context()
	info, err := a.a.StartSession(ctx, httptest.NewRequest("POST", "/login", nil), "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	withSession := authtest.Token(t, a.a, "alice", authx.Session(info.ID))
	bare := authtest.Token(t, a.a, "alice")
	bobs := authtest.Token(t, a.a, "bob")
	clock.Advance(2 * time.Second) // the cut-off is in a later second than the tokens' iat
	if err := a.a.RevokeAllSessions(ctx, "alice"); err != nil {
		t.Fatalf("A revokes all of alice's sessions: %v", err)
	}
	got := map[string]int{
		"session token": status(t, b.guarded, b.a, "GET", "/", withSession),
		"bare token":    status(t, b.guarded, b.a, "GET", "/", bare),
		"bob's token":   status(t, b.guarded, b.a, "GET", "/", bobs),
	}
	if diff := cmp.Diff(map[string]int{"session token": 401, "bare token": 401, "bob's token": 200}, got); diff != "" {
		t.Errorf("on B after A logged alice out everywhere (-want +got):\n%s", diff)
	}
}

func TestReplicasRefreshReuse(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t, authx.WithRefreshReuseGrace(0))
	pair := authtest.Pair(t, a.a, "alice")
	resp := serve(a.refresh, authtest.Request(t, a.a, authx.InHeader, "POST", "/auth/refresh", pair.RefreshToken))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh on A: %d, want 200", resp.StatusCode)
	}
	var next authx.TokenPair
	if err := json.NewDecoder(resp.Body).Decode(&next); err != nil {
		t.Fatal(err)
	}
	if got := status(t, b.guarded, b.a, "GET", "/", next.AccessToken); got != http.StatusOK {
		t.Fatalf("B with the access token A's refresh issued: %d, want 200", got)
	}
	// The spent refresh token, replayed on B: refused, and — past the grace
	// window, which is 0 here — the whole login ends on both replicas.
	if got := status(t, b.refresh, b.a, "POST", "/auth/refresh", pair.RefreshToken); got != http.StatusUnauthorized {
		t.Errorf("spent refresh token on B: %d, want 401", got)
	}
	got := map[string]int{
		"A access":  status(t, a.guarded, a.a, "GET", "/", next.AccessToken),
		"B access":  status(t, b.guarded, b.a, "GET", "/", next.AccessToken),
		"A refresh": status(t, a.refresh, a.a, "POST", "/auth/refresh", next.RefreshToken),
		"B refresh": status(t, b.refresh, b.a, "POST", "/auth/refresh", next.RefreshToken),
		"A first":   status(t, a.guarded, a.a, "GET", "/", pair.AccessToken),
	}
	want := map[string]int{"A access": 401, "B access": 401, "A refresh": 401, "B refresh": 401, "A first": 401}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the family's tokens after reuse on B (-want +got):\n%s", diff)
	}
}

func TestReplicasRateLimit(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t)
	mw := func(s *site) http.Handler {
		return s.a.RateLimit(authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(3)})(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	}
	ha, hb := mw(a), mw(b)
	var got []int
	var retryAfter string
	for _, h := range []http.Handler{ha, ha, hb, hb} {
		resp := serve(h, httptest.NewRequest("POST", "/login", nil))
		got = append(got, resp.StatusCode)
		retryAfter = resp.Header.Get("Retry-After")
	}
	if diff := cmp.Diff([]int{200, 200, 200, 429}, got); diff != "" {
		t.Errorf("2 requests on A, 2 on B under 3 a minute (-want +got):\n%s", diff)
	}
	if retryAfter != "20" {
		t.Errorf("Retry-After = %q, want %q (a token every 20 s)", retryAfter, "20")
	}
}

// TestReplicasConcurrentRefresh: 32 refreshes with one token, split across
// both replicas (two pools), at once: exactly one succeeds.
func TestReplicasConcurrentRefresh(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t)
	tok := authtest.RefreshToken(t, a.a, "alice")
	var (
		mu    sync.Mutex
		codes = map[int]int{}
		wg    sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range 32 {
		s := []*site{a, b}[i%2]
		r := authtest.Request(t, s.a, authx.InHeader, "POST", "/auth/refresh", tok)
		wg.Go(func() {
			<-start
			w := httptest.NewRecorder()
			s.refresh.ServeHTTP(w, r)
			mu.Lock()
			codes[w.Code]++
			mu.Unlock()
		})
	}
	begin := time.Now()
	close(start)
	wg.Wait()
	t.Logf("32 concurrent refreshes through two pools in %v", time.Since(begin).Round(time.Millisecond))
	if diff := cmp.Diff(map[int]int{200: 1, 401: 31}, codes); diff != "" {
		t.Errorf("statuses of 32 concurrent refreshes with one token (-want +got):\n%s", diff)
	}
}
