package dpop_test

import (
	"net/netip"
	"testing"

	"github.com/authx-go/authx/dpop"
	"github.com/google/go-cmp/cmp"
)

// TestRequestURI: the URI htu is checked against comes from WithPublicURL
// (default port removed, case folded), or from a trusted proxy's
// X-Forwarded-Proto and X-Forwarded-Host, never from an untrusted peer's.
func TestRequestURI(t *testing.T) {
	t.Parallel()
	public := newFixture(t, nil, dpop.WithPublicURL("HTTPS://API.example.com:443"))
	trusted := newFixture(t, nil, dpop.WithTrustedProxies(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")))
	untrusted := newFixture(t, nil, dpop.WithTrustedProxies(netip.MustParsePrefix("10.0.0.0/8")))
	fwd := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "spoofed.example, api.example.com"}
	tests := []struct {
		name    string
		f       *fixture
		htu     string
		headers []string
		want    int
		reason  string
	}{
		{"public URL", public, "https://api.example.com/api/res", nil, 200, "scheme and host from WithPublicURL"},
		{"public URL, explicit default port", public, "https://api.example.com:443/api/res", nil, 200, "default port removed from both"},
		{"public URL, not the connection's", public, public.URL + "/api/res", nil, 401, "the connection's host is not the public one"},
		{"trusted proxy", trusted, "https://api.example.com/api/res", fwd, 200, "the nearest proxy's values (the last)"},
		{"trusted proxy, first value", trusted, "https://spoofed.example/api/res", fwd, 401, "an earlier value was written by whoever"},
		{"untrusted peer's headers", untrusted, "https://api.example.com/api/res", fwd, 401, "ignored from a peer not in the prefixes"},
		{"untrusted peer, own URI", untrusted, untrusted.URL + "/api/res", fwd, 200, "the connection's scheme and Host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := tt.f.prover(t, 0)
			tok := tt.f.boundToken(t, p.Thumbprint())
			proof := proofSpec{claims: claimsFor("GET", tt.htu, tok, t0)}.build(t)
			got := do(t, "GET", tt.f.URL+"/api/res", "", append([]string{"Authorization", "DPoP " + tok, "DPoP", proof}, tt.headers...)...)
			if diff := cmp.Diff(tt.want, got.Status); diff != "" {
				t.Errorf("status (-want +got):\n%s\n%s (%s)", diff, tt.reason, got.Desc)
			}
		})
	}
}

// TestNewRefuses: construction mistakes fail New.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]dpop.Option{
		"alg none":          dpop.WithAlgorithms("none"),
		"alg HS256":         dpop.WithAlgorithms("HS256"),
		"no alg":            dpop.WithAlgorithms(),
		"public URL path":   dpop.WithPublicURL("https://api.example.com/v1"),
		"public URL query":  dpop.WithPublicURL("https://api.example.com?x"),
		"public URL scheme": dpop.WithPublicURL("ftp://api.example.com"),
		"window 0":          dpop.WithWindow(0),
		"nil nonces":        dpop.WithNonces(nil),
		"nil clock":         dpop.WithClock(nil),
	} {
		if _, err := dpop.New(opt); err == nil {
			t.Errorf("New(%s) succeeded", name)
		}
	}
}
