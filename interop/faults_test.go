package interop_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/jwks"
)

// Guarded requests through a real authx guard, whose keys come from a jwks
// Set, keep being answered correctly and promptly while the issuer's JWKS
// endpoint is down, slow, or answers garbage or 10 MB.
func TestGuardWhileTheJWKSEndpointFails(t *testing.T) {
	t.Parallel()
	idp := authtest.NewIssuer(t)
	var mode atomic.Int32 // 0 ok, 1 down, 2 slow, 3 garbage, 4 huge
	var hits atomic.Int64
	stop := make(chan struct{})
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch mode.Load() {
		case 1:
			http.Error(w, "down", http.StatusInternalServerError)
		case 2:
			select { // hangs past the fetch timeout
			case <-stop:
			case <-time.After(5 * time.Second):
			}
		case 3:
			w.Write([]byte("<html>not a JWK Set</html>"))
		case 4:
			w.Write([]byte(`{"keys":[`))
			chunk := make([]byte, 1<<20)
			for i := range chunk {
				chunk[i] = ' '
			}
			for range 10 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		default:
			resp, err := idp.Client().Get(idp.JWKSURL())
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Cache-Control", "max-age=1") // refresh often: the faults are met
			var buf [64 << 10]byte
			n, _ := resp.Body.Read(buf[:])
			w.Write(buf[:n])
		}
	}))
	t.Cleanup(func() { close(stop); endpoint.Close() })

	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	set, err := jwks.New(ctx, endpoint.URL, jwks.WithIssuer(idp.URL), jwks.InsecureAllowHTTP(),
		jwks.WithLifetimeBounds(time.Second, time.Minute), jwks.WithFetchTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	a, err := authx.New[string](authx.WithKeySet(set, authx.Audience("api")))
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(a.Require(authx.Scopes("read")).Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	t.Cleanup(api.Close)
	good := idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read"})
	forged := authtest.Resign(t, good)

	for _, fault := range []struct {
		name string
		mode int32
	}{{"up", 0}, {"down", 1}, {"slow", 2}, {"garbage", 3}, {"10 MB", 4}} {
		mode.Store(fault.mode)
		before := hits.Load()
		var took []time.Duration
		deadline := time.Now().Add(2500 * time.Millisecond) // past the keys' 1 s lifetime and refresh attempts
		for time.Now().Before(deadline) {
			for _, tt := range []struct {
				tok  string
				want int
			}{{good, 200}, {forged, 401}} {
				r, _ := http.NewRequestWithContext(t.Context(), "GET", api.URL, nil)
				r.Header.Set("Authorization", "Bearer "+tt.tok)
				start := time.Now()
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				took = append(took, time.Since(start))
				if resp.StatusCode != tt.want {
					t.Fatalf("%s: a request got %d, want %d", fault.name, resp.StatusCode, tt.want)
				}
			}
		}
		slices.Sort(took)
		p50, p99 := took[len(took)/2], took[len(took)*99/100]
		fetched := hits.Load() - before
		t.Logf("endpoint %s: %d guarded requests, p50 %v, p99 %v, max %v; %d fetches", fault.name, len(took), p50, p99, took[len(took)-1], fetched)
		if fetched == 0 {
			t.Errorf("endpoint %s: not fetched while the fault lasted: it was not exercised", fault.name)
		}
		if p99 > 200*time.Millisecond { // waiting on the endpoint would take the 1 s fetch timeout
			t.Errorf("endpoint %s: p99 %v, want the guard to answer without waiting on the endpoint", fault.name, p99)
		}
	}
}
