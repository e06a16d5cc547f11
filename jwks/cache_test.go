package jwks_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx/jwks"
)

// The keys' lifetime is the response's Cache-Control max-age or Expires,
// clamped into WithLifetimeBounds: on a test clock, with no staleness
// allowed, the keys are served up to it and refused after.
func TestLifetimeFromHeaders(t *testing.T) {
	t.Parallel()
	const lo, hi = 5 * time.Minute, time.Hour
	inReal := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
		reason string
	}{
		{name: "no headers", header: http.Header{}, want: time.Hour, reason: "DefaultLifetime, 1 h"},
		{name: "max-age", header: http.Header{"Cache-Control": {"public, max-age=600"}}, want: 10 * time.Minute},
		{name: "max-age among others", header: http.Header{"Cache-Control": {"public, must-revalidate, max-age=900"}}, want: 15 * time.Minute},
		{name: "quoted max-age", header: http.Header{"Cache-Control": {`max-age="900"`}}, want: 15 * time.Minute},
		{name: "max-age less Age", header: http.Header{"Cache-Control": {"max-age=1500"}, "Age": {"600"}}, want: 15 * time.Minute},
		{name: "short max-age clamped", header: http.Header{"Cache-Control": {"max-age=1"}}, want: lo, reason: "WithLifetimeBounds' min"},
		{name: "long max-age clamped", header: http.Header{"Cache-Control": {"max-age=99999999999999999999"}}, want: hi, reason: "WithLifetimeBounds' max"},
		{name: "no-cache", header: http.Header{"Cache-Control": {"no-cache"}}, want: lo},
		{name: "no-store", header: http.Header{"Cache-Control": {"max-age=900, no-store"}}, want: lo},
		{name: "invalid max-age", header: http.Header{"Cache-Control": {"max-age=ten"}}, want: lo, reason: "RFC 9111: invalid is stale"},
		{name: "two max-age", header: http.Header{"Cache-Control": {"max-age=900", "max-age=1200"}}, want: lo},
		{name: "Expires", header: http.Header{"Expires": {inReal(20 * time.Minute)}}, want: 20 * time.Minute, reason: "less the server's Date"},
		{name: "invalid Expires", header: http.Header{"Expires": {"0"}}, want: lo},
		{name: "max-age wins over Expires", header: http.Header{"Cache-Control": {"max-age=600"}, "Expires": {inReal(50 * time.Minute)}}, want: 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			is := newIssuer(t, jwksBody(t, "ec-256"))
			is.set(modeOK, nil, tt.header)
			clk := newClock()
			s := newSet(t, is, jwks.WithClock(clk.Now), jwks.WithLifetimeBounds(lo, hi), jwks.WithMaxStale(0))
			const slack = 2 * time.Second // Date and Expires are whole seconds
			clk.Advance(tt.want - slack)
			if _, err := s.Keys(t.Context(), "ec-256"); err != nil {
				t.Fatalf("Keys %v after the fetch: %v, want the key (lifetime %v: %s)", tt.want-slack, err, tt.want, tt.reason)
			}
			clk.Advance(2 * slack)
			if _, err := s.Keys(t.Context(), "ec-256"); !errors.Is(err, jwks.ErrStale) {
				t.Fatalf("Keys %v after the fetch: %v, want ErrStale (lifetime %v: %s)", tt.want+slack, err, tt.want, tt.reason)
			}
		})
	}
}

// While the endpoint fails, the keys held are served, past their expiry
// for WithMaxStale more; then Keys fails (503) until a fetch succeeds.
func TestStaleWhileDown(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, jwksBody(t, "rsa-a"))
	is.set(modeOK, nil, http.Header{"Cache-Control": {"max-age=600"}})
	clk := newClock()
	logger, logs := newLogger()
	s := newSet(t, is, jwks.WithClock(clk.Now), jwks.WithMaxStale(30*time.Minute), jwks.WithLogger(logger))
	tok := token(t, "rsa-a")

	is.set(mode500, nil, nil)
	clk.Advance(11 * time.Minute) // expired a minute ago
	if err := s.Refresh(t.Context()); !errors.Is(err, jwks.ErrFetch) || !strings.Contains(err.Error(), "status 500") {
		t.Fatalf("Refresh with the endpoint answering 500: %v, want ErrFetch naming status 500", err)
	}
	if code := verify(t.Context(), s, tok); code != http.StatusOK {
		t.Errorf("expired 1 min ago, endpoint down: %d, want 200 (stale keys served)", code)
	}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"jwks: fetch failed; serving the keys held"`) {
		t.Errorf("the failure is not logged at Warn:\n%s", logs)
	}

	clk.Advance(30 * time.Minute) // expired 31 min ago
	_, err := s.Keys(t.Context(), "rsa-a")
	if !errors.Is(err, jwks.ErrStale) || !errors.Is(err, jwks.ErrFetch) {
		t.Errorf("expired 31 min ago, WithMaxStale(30m): %v, want ErrStale wrapping the fetch's ErrFetch", err)
	}
	if code := verify(t.Context(), s, tok); code != http.StatusServiceUnavailable {
		t.Errorf("past WithMaxStale: %d, want 503", code)
	}
	s.Refresh(t.Context())
	if !strings.Contains(logs.String(), `"level":"ERROR","msg":"jwks: fetch failed; the keys held expired longer than WithMaxStale ago`) {
		t.Errorf("refusing requests is not logged at Error:\n%s", logs)
	}

	is.set(modeOK, nil, nil)
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh with the endpoint back: %v", err)
	}
	if code := verify(t.Context(), s, tok); code != http.StatusOK {
		t.Errorf("endpoint back: %d, want 200", code)
	}
	if !strings.Contains(logs.String(), `"msg":"jwks: fetch succeeded again"`) {
		t.Errorf("the recovery is not logged:\n%s", logs)
	}
}

// The Set refreshes by itself before the keys expire: a key the issuer
// rotated in is there without any request asking for it.
func TestBackgroundRefresh(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, jwksBody(t, "rsa-a"))
	fetched := make(chan error, 10)
	s := newSet(t, is, jwks.WithLifetimeBounds(time.Second, time.Second), jwks.WithFetchHook(func(err error) { fetched <- err }))
	<-fetched // New's
	is.set(modeOK, jwksBody(t, "rsa-b"), nil)
	start := time.Now()
	select {
	case err := <-fetched:
		if err != nil {
			t.Fatalf("background fetch: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no background fetch within 10 s of a 1 s lifetime")
	}
	t.Logf("background fetch %v after the first (lifetime 1 s: due at 750 ms)", time.Since(start).Round(time.Millisecond))
	hits := is.hits.Load()
	got, err := s.Keys(t.Context(), "rsa-b")
	if err != nil || len(got) != 1 {
		t.Fatalf("Keys(rsa-b) after the background refresh: %v, %v", kids(got), err)
	}
	if is.hits.Load() != hits {
		t.Errorf("Keys(rsa-b) fetched; the background refresh should have brought it")
	}
}
