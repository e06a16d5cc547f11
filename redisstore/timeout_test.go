//go:build unix

package redisstore_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/redisstore"
	"github.com/redis/go-redis/v9"
)

// TestTimeoutPausedRedis stops a Redis of its own (SIGSTOP): it accepts
// connections and commands and answers nothing. A guarded request whose
// context has no deadline is still answered 503 within the Store's
// timeout, and once Redis is resumed the next request is served at once.
func TestTimeoutPausedRedis(t *testing.T) {
	t.Parallel()
	// Generous: a loaded 2-core machine (CI beside other work) schedules
	// late; still well under go-redis's own 3 s read timeout, so a Store
	// that did not bound the call fails.
	const slack = 2 * time.Second
	tests := []struct {
		name    string
		client  func(tb testing.TB, addr string) redis.UniversalClient
		timeout time.Duration // 0: the default
	}{
		{name: "default timeout", client: func(tb testing.TB, addr string) redis.UniversalClient { return newClient(tb, addr) }},
		{name: "WithTimeout(100ms)", client: func(tb testing.TB, addr string) redis.UniversalClient { return newClient(tb, addr) }, timeout: 100 * time.Millisecond},
		{name: "client ignoring deadlines", client: ignoresDeadlines, timeout: 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rp := startRedis(t)
			opts := []redisstore.Option{redisstore.WithPrefix("authxtest:")}
			timeout := redisstore.DefaultTimeout
			if tt.timeout != 0 {
				timeout = tt.timeout
				opts = append(opts, redisstore.WithTimeout(tt.timeout))
			}
			s := redisstore.New(tt.client(t, rp.Addr()), opts...)
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Init(t.Context()); err != nil { // as at start-up: the epoch predates the token
				t.Fatal(err)
			}
			st := newSite(t, s, nil)
			tok := authtest.Token(t, st.a, "alice")
			guarded := func() (int, time.Duration) {
				r := authtest.Request(t, st.a, authx.InHeader, "GET", "/", tok)
				if _, ok := r.Context().Deadline(); ok {
					t.Fatal("the request has a deadline; this test needs one without")
				}
				start := time.Now()
				got := serve(st.guarded, r).StatusCode
				return got, time.Since(start)
			}
			if got, took := guarded(); got != http.StatusOK {
				t.Fatalf("guarded request with Redis up: %d after %v, want 200", got, took)
			}

			rp.Pause(t)
			got, took := guarded()
			t.Logf("guarded request, no deadline, Redis paused, timeout %v: %d after %v", timeout, got, took.Round(time.Millisecond))
			if got != http.StatusServiceUnavailable {
				t.Errorf("guarded request with Redis paused: status %d, want 503", got)
			}
			if took > timeout+slack {
				t.Errorf("guarded request with Redis paused answered after %v, want within %v + %v", took, timeout, slack)
			}
			start := time.Now()
			_, err := s.IsRevoked(context.Background(), "jti-1")
			took = time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "WithTimeout") {
				t.Errorf("IsRevoked with Redis paused: error %v, want context.DeadlineExceeded naming WithTimeout", err)
			}
			if took > timeout+slack {
				t.Errorf("IsRevoked with Redis paused returned after %v, want within %v + %v", took, timeout, slack)
			}

			rp.Resume(t)
			got, took = guarded()
			t.Logf("guarded request after Resume: %d after %v", got, took.Round(time.Microsecond))
			if got != http.StatusOK {
				t.Errorf("guarded request after Resume: status %d, want 200", got)
			}
			if took > timeout {
				t.Errorf("guarded request after Resume answered after %v, want within the timeout, %v", took, timeout)
			}
		})
	}
}

// TestTimeoutEarlierDeadline: a context whose deadline comes before the
// Store's timeout keeps it, and its error is the context's own.
func TestTimeoutEarlierDeadline(t *testing.T) {
	t.Parallel()
	rp := startRedis(t)
	s := redisstore.New(newClient(t, rp.Addr()), redisstore.WithTimeout(time.Minute))
	rp.Pause(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.IsRevoked(ctx, "jti-1")
	took := time.Since(start)
	t.Logf("IsRevoked with a 50ms deadline, Redis paused: %v after %v", err, took.Round(time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "WithTimeout") {
		t.Errorf("IsRevoked: error %v, want the context's DeadlineExceeded, not the Store's timeout", err)
	}
	if took > time.Second {
		t.Errorf("IsRevoked returned after %v, want about 50ms", took)
	}
}
