package jwks_test

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/jwks"
	"github.com/google/go-cmp/cmp"
)

var allKids = []string{"rsa-a", "rsa-ps", "ec-256", "ec-384", "ec-521", "ed"}

// A Set serves the RSA, EC and Ed25519 keys of a JWK Set; a token signed
// with each verifies, one with an unknown key does not.
func TestKeysHappyPath(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, jwksBody(t, allKids...))
	s := newSet(t, is, jwks.WithIssuer("https://issuer.example"))
	if got := s.Issuer(); got != "https://issuer.example" {
		t.Errorf("Issuer() = %q, want https://issuer.example", got)
	}
	for _, kid := range allKids {
		t.Run(kid, func(t *testing.T) {
			got, err := s.Keys(t.Context(), kid)
			if err != nil {
				t.Fatal(err)
			}
			want := key(t, kid)
			if len(got) != 1 || got[0].KID != kid || got[0].Alg != want.alg {
				t.Fatalf("Keys(%q) = %v, want one %s key", kid, kids(got), want.alg)
			}
			if eq, ok := got[0].Key.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(want.priv.Public()) {
				t.Errorf("Keys(%q): the key is not the issuer's public key", kid)
			}
			if code := verify(t.Context(), s, token(t, kid)); code != http.StatusOK {
				t.Errorf("a token signed with %s: %d, want 200", kid, code)
			}
		})
	}
	all, err := s.Keys(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(allKids, kids(all)); diff != "" {
		t.Errorf(`Keys("") (-want +got):\n%s`, diff)
	}
	if code := verify(t.Context(), s, token(t, "rsa-b")); code != http.StatusUnauthorized {
		t.Errorf("a token signed with a key the issuer does not publish: %d, want 401", code)
	}
	forged := tokenWith(t, key(t, "rsa-b").priv, "RS256", "rsa-a") // the right kid, another key
	if code := verify(t.Context(), s, forged); code != http.StatusUnauthorized {
		t.Errorf("a token with a known kid signed by another key: %d, want 401", code)
	}
	if hits := is.hits.Load(); hits != 2 {
		t.Errorf("the issuer was asked %d times, want 2 (New, then the unknown kid rsa-b once)", hits)
	}
}

// Keys returns copies: a consumer that changes them changes nothing.
func TestKeysReturnsCopies(t *testing.T) {
	t.Parallel()
	s := newSet(t, newIssuer(t, jwksBody(t, "ec-256")))
	got, _ := s.Keys(t.Context(), "ec-256")
	got[0] = authx.PublicKey{KID: "changed"}
	again, _ := s.Keys(t.Context(), "ec-256")
	if diff := cmp.Diff([]string{"ec-256"}, kids(again)); diff != "" {
		t.Errorf("Keys after the caller changed its result (-want +got):\n%s", diff)
	}
}

// The keys a JWK Set must not give are skipped and logged; the private
// ones at Error; no key material reaches the log.
func TestSkippedKeysAreLogged(t *testing.T) {
	t.Parallel()
	ec := key(t, "ec-256").jwk()
	ec.Key = key(t, "ec-256").priv // its private half
	body := rawJWKS(
		jwkJSON(t, key(t, "rsa-a").jwk(), nil),
		jwkJSON(t, ec, map[string]any{"kid": "leaked"}),
		`{"kty":"oct","kid":"secret","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA","alg":"HS256"}`,
		jwkJSON(t, key(t, "ed").jwk(), map[string]any{"kid": "enc", "use": "enc"}),
		jwkJSON(t, key(t, "ec-384").jwk(), map[string]any{"kid": "none", "alg": "none"}),
		jwkJSON(t, key(t, "ec-521").jwk(), map[string]any{"kid": strings.Repeat("k", 200), "alg": nil}),
	)
	logger, logs := newLogger()
	s := newSet(t, newIssuer(t, body), jwks.WithLogger(logger))
	all, err := s.Keys(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"rsa-a"}, kids(all)); diff != "" {
		t.Errorf("keys used (-want +got):\n%s", diff)
	}
	out := logs.String()
	for _, want := range []string{
		`"level":"ERROR","msg":"jwks: the JWK Set publishes a private or secret key`,
		`"kid":"leaked"`, `"kid":"secret"`,
		`"kid":"enc","reason":"use \"enc\", not \"sig\""`,
		`"kid":"none","reason":"alg \"none\" is not accepted`,
		`"reason":"no alg, and no WithDefaultAlg"`,
		`"kid":"` + strings.Repeat("k", 64) + `…(200 bytes)"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{`"d":`, "c2VjcmV0", `"x":`, `"n":`} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds key material (%s):\n%s", secret, out)
		}
	}
}

// WithDefaultAlg gives JWKs without alg an algorithm, and only keys of
// its type.
func TestDefaultAlg(t *testing.T) {
	t.Parallel()
	body := rawJWKS(
		jwkJSON(t, key(t, "rsa-a").jwk(), map[string]any{"alg": nil}),
		jwkJSON(t, key(t, "ec-256").jwk(), map[string]any{"alg": nil}),
		jwkJSON(t, key(t, "rsa-b").jwk(), map[string]any{"alg": "PS384"}),
	)
	is := newIssuer(t, body)
	if _, err := jwks.New(t.Context(), is.url(), jwks.WithHTTPClient(is.srv.Client()), jwks.WithDefaultAlg("ES256")); err != nil {
		t.Fatalf("New with a key of the pinned type: %v", err)
	}
	s := newSet(t, is, jwks.WithDefaultAlg("RS256"))
	all, err := s.Keys(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range all {
		got = append(got, k.KID+" "+k.Alg)
	}
	if diff := cmp.Diff([]string{"rsa-a RS256", "rsa-b PS384"}, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

// New refuses what it cannot build, naming it.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	is := newIssuer(t, jwksBody(t, "ec-256"))
	client := jwks.WithHTTPClient(is.srv.Client())
	tests := []struct {
		name    string
		url     string
		opts    []jwks.Option
		wantErr error
		wantMsg string
		reason  string
	}{
		{name: "http", url: "http://127.0.0.1:1/jwks", wantErr: jwks.ErrConfig, wantMsg: "plain http", reason: "a JWKS over http is anyone's"},
		{name: "not a URL", url: "::", wantErr: jwks.ErrConfig, wantMsg: "JWKS URL"},
		{name: "relative", url: "/jwks", wantErr: jwks.ErrConfig, wantMsg: "not an https URL"},
		{name: "fragment", url: is.url() + "#x", wantErr: jwks.ErrConfig, wantMsg: "fragment"},
		{name: "nil option", url: is.url(), opts: []jwks.Option{nil}, wantErr: jwks.ErrConfig, wantMsg: "option 1 is nil"},
		{name: "nil client", url: is.url(), opts: []jwks.Option{jwks.WithHTTPClient(nil)}, wantErr: jwks.ErrConfig, wantMsg: "WithHTTPClient(nil)"},
		{name: "lifetime in ns", url: is.url(), opts: []jwks.Option{jwks.WithLifetimeBounds(300, 3600)}, wantErr: jwks.ErrConfig, wantMsg: "WithLifetimeBounds"},
		{name: "min over max", url: is.url(), opts: []jwks.Option{jwks.WithLifetimeBounds(time.Hour, time.Minute)}, wantErr: jwks.ErrConfig},
		{name: "interval in ns", url: is.url(), opts: []jwks.Option{jwks.WithUnknownKIDInterval(60)}, wantErr: jwks.ErrConfig},
		{name: "negative wait", url: is.url(), opts: []jwks.Option{jwks.WithUnknownKIDWait(-1)}, wantErr: jwks.ErrConfig},
		{name: "fetch timeout", url: is.url(), opts: []jwks.Option{jwks.WithFetchTimeout(time.Millisecond)}, wantErr: jwks.ErrConfig},
		{name: "max bytes", url: is.url(), opts: []jwks.Option{jwks.WithMaxResponseBytes(10)}, wantErr: jwks.ErrConfig},
		{name: "max keys", url: is.url(), opts: []jwks.Option{jwks.WithMaxKeys(0)}, wantErr: jwks.ErrConfig},
		{name: "negative stale", url: is.url(), opts: []jwks.Option{jwks.WithMaxStale(-time.Second)}, wantErr: jwks.ErrConfig},
		{name: "HMAC pin", url: is.url(), opts: []jwks.Option{jwks.WithDefaultAlg("HS256")}, wantErr: jwks.ErrConfig, wantMsg: `WithDefaultAlg("HS256")`, reason: "a public key is no HMAC secret"},
		{name: "none pin", url: is.url(), opts: []jwks.Option{jwks.WithDefaultAlg("none")}, wantErr: jwks.ErrConfig},
		{name: "nil logger", url: is.url(), opts: []jwks.Option{jwks.WithLogger(nil)}, wantErr: jwks.ErrConfig},
		{name: "nil clock", url: is.url(), opts: []jwks.Option{jwks.WithClock(nil)}, wantErr: jwks.ErrConfig},
		{name: "WithMaxKeys(1), one key", url: is.url(), opts: []jwks.Option{jwks.WithMaxKeys(1)}, wantErr: nil, reason: "control: the bound counts keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := jwks.New(t.Context(), tt.url, append([]jwks.Option{client}, tt.opts...)...)
			if s != nil {
				t.Cleanup(func() { s.Close() })
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("New: %v, want %v (%s)", err, tt.wantErr, tt.reason)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("New: %v, want it to say %q", err, tt.wantMsg)
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := jwks.New(ctx, is.url(), client); !errors.Is(err, context.Canceled) {
			t.Errorf("New with a cancelled context: %v, want context.Canceled", err)
		}
	})
}

// A nil Set fails closed.
func TestNilSet(t *testing.T) {
	t.Parallel()
	var s *jwks.Set
	if _, err := s.Keys(t.Context(), "k"); !errors.Is(err, jwks.ErrConfig) {
		t.Errorf("nil Set: Keys: %v, want ErrConfig", err)
	}
	if err := s.Refresh(t.Context()); !errors.Is(err, jwks.ErrConfig) {
		t.Errorf("nil Set: Refresh: %v, want ErrConfig", err)
	}
	if got := s.Issuer(); got != "" {
		t.Errorf("nil Set: Issuer() = %q", got)
	}
	if err := s.Close(); err != nil {
		t.Errorf("nil Set: Close: %v", err)
	}
	var zero jwks.Set
	if _, err := zero.Keys(t.Context(), "k"); !errors.Is(err, jwks.ErrConfig) {
		t.Errorf("zero Set: Keys: %v, want ErrConfig", err)
	}
}
