package redisstore_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
)

// Regression tests of authx behaviour that matter most with a shared store.

// failingBlocklist is a Blocklist whose Revoke fails while down is set, as
// a blocklist on a Redis that blinked would.
type failingBlocklist struct {
	authx.Blocklist
	down atomic.Bool
}

var errBlink = errors.New("blocklist unreachable")

func (f *failingBlocklist) Revoke(ctx context.Context, id string, until time.Time) error {
	if f.down.Load() {
		return errBlink
	}
	return f.Blocklist.Revoke(ctx, id, until)
}

// TestRevokeAllSessionsRetry: "log out everywhere" survives a blocklist
// failure. RevokeAllSessions puts the sessions on the blocklist before it
// marks them in the store, so when the blocklist fails (503) the sessions
// are still active and the caller's retry revokes them; marking first would
// let the retry find nothing and report success while the tokens stayed
// valid on every replica.
func TestRevokeAllSessionsRetry(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	bl := &failingBlocklist{Blocklist: s}
	clock := authtest.NewClock(time.Now())
	a, err := authx.New[string](authx.WithSecret(secret), authx.WithClock(clock.Now), s.Option(), authx.WithBlocklist(bl))
	if err != nil {
		t.Fatal(err)
	}
	guarded := a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	ctx := t.Context()
	info, err := a.StartSession(ctx, httptest.NewRequest("POST", "/login", nil), "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := authtest.Token(t, a, "alice", authx.Session(info.ID))

	bl.down.Store(true)
	if err := a.RevokeAllSessions(ctx, "alice"); authx.StatusOf(err) != http.StatusServiceUnavailable {
		t.Fatalf("RevokeAllSessions with the blocklist down: %v, want 503", err)
	}
	bl.down.Store(false)
	if err := a.RevokeAllSessions(ctx, "alice"); err != nil {
		t.Fatalf("RevokeAllSessions retried: %v", err)
	}
	r := authtest.Request(t, a, authx.InHeader, "GET", "/", tok)
	if got := serve(guarded, r).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("a token of alice's session after a retried RevokeAllSessions succeeded: status %d, want 401 (the session was never put on the blocklist)", got)
	}
}
