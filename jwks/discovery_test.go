package jwks_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authx-go/authx/jwks"
)

// discoveryIssuer is a test issuer that also serves metadata documents:
// at each path in docs, the document docs[path] returns, given the
// server's URL.
func discoveryIssuer(tb testing.TB, docs map[string]func(base string) any) (*issuer, *atomic.Int64) {
	tb.Helper()
	var hits atomic.Int64
	var is *issuer
	is = newIssuer(tb, jwksBody(tb, "ec-256"), func(m *http.ServeMux) {
		for path, doc := range docs {
			m.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(doc(is.srv.URL))
			})
		}
	})
	return is, &hits
}

func oidc(issuer func(base string) string, jwksURI func(base string) string) func(string) any {
	return func(base string) any {
		return map[string]any{"issuer": issuer(base), "jwks_uri": jwksURI(base), "id_token_signing_alg_values_supported": []string{"ES256"}}
	}
}

func same(base string) string    { return base }
func jwksAt(base string) string  { return base + "/jwks" }
func slashed(base string) string { return base + "/" }

func TestDiscover(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		docs    map[string]func(base string) any
		issuer  func(base string) string // what Discover is given
		opts    []jwks.Option
		wantErr error
		wantMsg string
		reason  string
	}{
		{
			name:   "OpenID Connect",
			docs:   map[string]func(string) any{"/.well-known/openid-configuration": oidc(same, jwksAt)},
			issuer: same,
		},
		{
			name:   "issuer with a trailing slash",
			docs:   map[string]func(string) any{"/.well-known/openid-configuration": oidc(slashed, jwksAt)},
			issuer: slashed,
			reason: "the slash is dropped before /.well-known, and kept in the comparison",
		},
		{
			name:   "issuer with a path",
			docs:   map[string]func(string) any{"/tenant/v2/.well-known/openid-configuration": oidc(func(b string) string { return b + "/tenant/v2" }, jwksAt)},
			issuer: func(b string) string { return b + "/tenant/v2" },
		},
		{
			name:   "RFC 8414 where OpenID Connect's is missing",
			docs:   map[string]func(string) any{"/.well-known/oauth-authorization-server/tenant": oidc(func(b string) string { return b + "/tenant" }, jwksAt)},
			issuer: func(b string) string { return b + "/tenant" },
		},
		{
			name:    "another issuer",
			docs:    map[string]func(string) any{"/.well-known/openid-configuration": oidc(func(string) string { return "https://evil.example" }, jwksAt)},
			issuer:  same,
			wantErr: jwks.ErrIssuerMismatch,
			wantMsg: `names issuer "https://evil.example", want "https://127.0.0.1:`,
			reason:  "OpenID Connect Discovery §4.3: the issuer must be exactly the one asked for",
		},
		{
			name:    "trailing slash differs",
			docs:    map[string]func(string) any{"/.well-known/openid-configuration": oidc(same, jwksAt)},
			issuer:  slashed,
			wantErr: jwks.ErrIssuerMismatch,
			reason:  "compared byte for byte: tokens' iss would differ too",
		},
		{
			name:    "jwks_uri over http",
			docs:    map[string]func(string) any{"/.well-known/openid-configuration": oidc(same, func(b string) string { return "http://" + strings.TrimPrefix(b, "https://") + "/jwks" })},
			issuer:  same,
			wantErr: jwks.ErrInvalid,
			wantMsg: "jwks_uri",
		},
		{
			name:    "no jwks_uri",
			docs:    map[string]func(string) any{"/.well-known/openid-configuration": func(b string) any { return map[string]any{"issuer": b} }},
			issuer:  same,
			wantErr: jwks.ErrInvalid,
			wantMsg: "no jwks_uri",
		},
		{
			name:    "no document",
			docs:    map[string]func(string) any{},
			issuer:  same,
			wantErr: jwks.ErrFetch,
			wantMsg: "status 404",
		},
		{
			name:    "a conflicting WithIssuer",
			docs:    map[string]func(string) any{"/.well-known/openid-configuration": oidc(same, jwksAt)},
			issuer:  same,
			opts:    []jwks.Option{jwks.WithIssuer("https://other.example")},
			wantErr: jwks.ErrConfig,
		},
		{
			name:    "an issuer with a query",
			docs:    map[string]func(string) any{},
			issuer:  func(b string) string { return b + "?tenant=1" },
			wantErr: jwks.ErrConfig,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			is, _ := discoveryIssuer(t, tt.docs)
			iss := tt.issuer(is.srv.URL)
			s, err := jwks.Discover(t.Context(), iss, append([]jwks.Option{jwks.WithHTTPClient(is.srv.Client())}, tt.opts...)...)
			if s != nil {
				t.Cleanup(func() { s.Close() })
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("Discover(%q): %v, want %v saying %q (%s)", iss, err, tt.wantErr, tt.wantMsg, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover(%q): %v (%s)", iss, err, tt.reason)
			}
			if got := s.Issuer(); got != iss {
				t.Errorf("Issuer() = %q, want %q", got, iss)
			}
			if code := verify(t.Context(), s, token(t, "ec-256")); code != http.StatusOK {
				t.Errorf("a token of the discovered keys: %d, want 200", code)
			}
		})
	}
}

// InsecureAllowHTTP allows a plain http issuer and jwks_uri; without it
// Discover refuses the issuer.
func TestDiscoverInsecureHTTP(t *testing.T) {
	t.Parallel()
	var base string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": base, "jwks_uri": base + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) { w.Write(jwksBody(t, "ed")) })
	srv := newPlainServer(t, mux)
	base = srv.URL
	if _, err := jwks.Discover(t.Context(), base); !errors.Is(err, jwks.ErrConfig) || !strings.Contains(err.Error(), "InsecureAllowHTTP") {
		t.Errorf("Discover over http: %v, want ErrConfig naming InsecureAllowHTTP", err)
	}
	s, err := jwks.Discover(t.Context(), base, jwks.InsecureAllowHTTP())
	if err != nil {
		t.Fatalf("Discover over http with InsecureAllowHTTP: %v", err)
	}
	defer s.Close()
	if code := verify(t.Context(), s, token(t, "ed")); code != http.StatusOK {
		t.Errorf("a token: %d, want 200", code)
	}
}

// With WithTolerantStart, a discovery that fails is retried in the
// background with the keys.
func TestDiscoverTolerantStart(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	var is *issuer
	is = newIssuer(t, jwksBody(t, "ed"), func(m *http.ServeMux) {
		m.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
			if !up.Load() {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.url()})
		})
	})
	fetched := make(chan error, 10)
	s, err := jwks.Discover(t.Context(), is.srv.URL, jwks.WithHTTPClient(is.srv.Client()), jwks.WithTolerantStart(),
		jwks.WithFetchHook(func(err error) { fetched <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := <-fetched; !errors.Is(err, jwks.ErrFetch) {
		t.Fatalf("the first discovery: %v, want ErrFetch", err)
	}
	if _, err := s.Keys(t.Context(), "ed"); !errors.Is(err, jwks.ErrNotReady) {
		t.Errorf("Keys before discovery succeeded: %v, want ErrNotReady", err)
	}
	up.Store(true)
	for err := range fetched {
		if err == nil {
			break
		}
	}
	if code := verify(t.Context(), s, token(t, "ed")); code != http.StatusOK {
		t.Errorf("after discovery succeeded: %d, want 200", code)
	}
}
