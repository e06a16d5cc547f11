package jwks_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx/jwks"
)

// With WithTolerantStart, a Set whose endpoint is down at start answers
// "cannot answer" (503) and retries by itself until a fetch succeeds;
// without it New fails.
func TestTolerantStart(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, jwksBody(t, "ed"))
	is.set(mode500, nil, nil)
	if _, err := jwks.New(t.Context(), is.url(), jwks.WithHTTPClient(is.srv.Client())); !errors.Is(err, jwks.ErrFetch) {
		t.Fatalf("New with the endpoint down: %v, want ErrFetch", err)
	}
	fetched := make(chan error, 10)
	logger, logs := newLogger()
	s := newSet(t, is, jwks.WithTolerantStart(), jwks.WithLogger(logger), jwks.WithFetchHook(func(err error) { fetched <- err }))
	if err := <-fetched; err == nil {
		t.Fatal("the first fetch succeeded; the endpoint is down")
	}
	_, err := s.Keys(t.Context(), "ed")
	if !errors.Is(err, jwks.ErrNotReady) || !errors.Is(err, jwks.ErrFetch) {
		t.Errorf("Keys before any fetch succeeded: %v, want ErrNotReady wrapping ErrFetch", err)
	}
	if code := verify(t.Context(), s, token(t, "ed")); code != http.StatusServiceUnavailable {
		t.Errorf("a request before any fetch succeeded: %d, want 503", code)
	}
	if !strings.Contains(logs.String(), `"msg":"jwks: first fetch failed; requests are refused (503) until one succeeds"`) {
		t.Errorf("the failed start is not logged:\n%s", logs)
	}
	is.set(modeOK, nil, nil)
	for err := range fetched { // the background retries: after 1 s, 2 s, …
		if err == nil {
			break
		}
	}
	if code := verify(t.Context(), s, token(t, "ed")); code != http.StatusOK {
		t.Errorf("after the endpoint came up: %d, want 200", code)
	}
}

// Ending New's context ends the Set's goroutine (no leak), and the Set
// then fails closed. Alone (not parallel): it counts goroutines.
func TestContextEndsGoroutine(t *testing.T) {
	is := newIssuer(t, jwksBody(t, "ed"))
	ctx, cancel := context.WithCancel(t.Context())
	s, err := jwks.New(ctx, is.url(), jwks.WithHTTPClient(is.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if jwksGoroutines() == "" {
		t.Fatal("no goroutine of jwks is running; the check below would prove nothing")
	}
	cancel()
	if leaked := waitForLeaks(5 * time.Second); leaked != "" {
		t.Fatalf("the Set's goroutine outlived its context:\n%s", leaked)
	}
	if _, err := s.Keys(t.Context(), "ed"); !errors.Is(err, jwks.ErrClosed) {
		t.Errorf("Keys after the context ended: %v, want ErrClosed", err)
	}
	if err := s.Refresh(t.Context()); !errors.Is(err, jwks.ErrClosed) {
		t.Errorf("Refresh after the context ended: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
}

// Close ends the goroutine at once, even during a fetch that hangs, and
// releases the callers waiting for it.
func TestCloseDuringFetch(t *testing.T) {
	is := newIssuer(t, jwksBody(t, "ed"))
	s, err := jwks.New(t.Context(), is.url(), jwks.WithHTTPClient(is.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	is.set(modeSlow, nil, nil)
	under := make(chan error, 1)
	go func() { under <- s.Refresh(t.Context()) }()
	<-is.held // its fetch is under way
	next := make(chan error, 1)
	go func() { next <- s.Refresh(t.Context()) }() // waits for the fetch after
	waitBlocked(t, s, "Refresh", 2)
	start := time.Now()
	s.Close()
	took := time.Since(start)
	if err := <-under; err == nil {
		t.Errorf("Refresh during Close: nil, want the cancelled fetch's error")
	}
	if err := <-next; !errors.Is(err, jwks.ErrClosed) {
		t.Errorf("Refresh waiting for the next fetch: %v, want ErrClosed", err)
	}
	if took > time.Second {
		t.Errorf("Close took %v during a fetch that hangs (WithFetchTimeout 10 s), want it at once", took)
	}
	if leaked := waitForLeaks(5 * time.Second); leaked != "" {
		t.Fatalf("the Set's goroutine outlived Close:\n%s", leaked)
	}
	if _, err := s.Keys(t.Context(), "ed"); !errors.Is(err, jwks.ErrClosed) {
		t.Errorf("Keys after Close: %v, want ErrClosed", err)
	}
}
