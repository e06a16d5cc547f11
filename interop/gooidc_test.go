package interop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
)

// go-oidc (github.com/coreos/go-oidc/v3), the verifier most Go services
// use, checks tokens minted by authx knowing nothing but our issuer URL: it
// reads our discovery document (DiscoveryHandler), fetches our JWKS
// (JWKSHandler) and verifies signature, iss, aud and exp — for RSA and
// ECDSA keys, and across a key rotation.
func TestGoOIDCVerifiesOurTokens(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		alg    string
		newKey func(testing.TB) any
	}{
		{"RS256", rsaKey},
		{"ES256", ecKey},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			t.Parallel()
			pub := newPublisher(t)
			oldKey, newKey := tt.newKey(t), tt.newKey(t)
			a := pub.serve(t, authx.WithSigningKey(tt.alg, oldKey), authx.WithKeyID("key-1"))

			ctx := oidc.ClientContext(t.Context(), pub.srv.Client())
			provider, err := oidc.NewProvider(ctx, pub.srv.URL)
			if err != nil {
				t.Fatalf("discovery of our issuer: %v", err)
			}
			verifier := provider.Verifier(&oidc.Config{ClientID: "api"})

			stranger, err := authx.New[string](authx.WithSigningKey(tt.alg, tt.newKey(t)), authx.WithKeyID("key-9"),
				authx.WithIssuer(pub.srv.URL), authx.WithAudience("api"))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name    string
				tok     string
				wantSub string // "" when go-oidc must refuse
				wantErr string // in go-oidc's error
				reason  string
			}{
				{"ours", authtest.Token(t, a, "alice", authx.Grant("read")), "alice", "", ""},
				{"re-signed by another key, same kid", authtest.ForgedToken(t, a, "alice"), "", "failed to verify", "the kid names our key, the signature is not its"},
				{"another key, unknown kid", authtest.Token(t, stranger, "alice"), "", "failed to verify", "go-oidc refetches our JWKS for the kid and still finds no such key"},
				{"expired", authtest.ExpiredToken(t, a, "alice"), "", "token is expired", ""},
				{"for another audience", authtest.Token(t, a, "alice", authx.ForAudience("billing")), "", `expected audience "api"`, "WithAudience writes the aud go-oidc's ClientID checks"},
			} {
				t.Run(c.name, func(t *testing.T) {
					tok, err := verifier.Verify(t.Context(), c.tok)
					switch {
					case c.wantSub != "":
						if err != nil {
							t.Fatalf("go-oidc refused: %v\n%s", err, c.reason)
						}
						if diff := cmp.Diff(c.wantSub, tok.Subject); diff != "" {
							t.Errorf("subject (-want +got)\n%s", diff)
						}
					case err == nil:
						t.Errorf("go-oidc accepted it (sub %q)\n%s", tok.Subject, c.reason)
					case !strings.Contains(err.Error(), c.wantErr):
						t.Errorf("go-oidc refused with %q, want it to say %q\n%s", err, c.wantErr, c.reason)
					}
				})
			}
			if _, err := verifier.Verify(t.Context(), authtest.ExpiredToken(t, a, "alice")); !errors.As(err, new(*oidc.TokenExpiredError)) {
				t.Errorf("expired: %v is not an *oidc.TokenExpiredError", err)
			}
			scoped := ours(t, verifier, authtest.Token(t, a, "alice", authx.Grant("read", "write")))
			var claims struct {
				Scopes []string `json:"scopes"`
			}
			if err := scoped.Claims(&claims); err != nil || !cmp.Equal(claims.Scopes, []string{"read", "write"}) {
				t.Errorf("scopes read by go-oidc: %v, %v", claims.Scopes, err)
			}

			// Rotation: a new signing key with a new kid; the old one only
			// verifies, and is still published until its tokens expire.
			oldTok := authtest.Token(t, a, "alice")
			fetches := pub.fetches.Load()
			rotated := pub.serve(t, authx.WithSigningKey(tt.alg, newKey), authx.WithKeyID("key-2"),
				authx.WithVerificationKey("key-1", tt.alg, publicHalf(oldKey)))
			newTok := authtest.Token(t, rotated, "bob")
			if got := ours(t, verifier, newTok).Subject; got != "bob" {
				t.Errorf("token of the new key: subject %q, want bob", got)
			}
			if got := pub.fetches.Load() - fetches; got != 1 {
				t.Errorf("go-oidc fetched our JWKS %d times for the new kid, want 1", got)
			}
			if got := ours(t, verifier, oldTok).Subject; got != "alice" {
				t.Errorf("token of the old key after the rotation: subject %q, want alice", got)
			}
			// And a verifier that first meets us after the rotation.
			late, err := oidc.NewProvider(ctx, pub.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range []string{oldTok, newTok} {
				ours(t, late.Verifier(&oidc.Config{ClientID: "api"}), tok)
			}
		})
	}
}

// ours verifies tok with v, failing the test if go-oidc refuses it.
func ours(tb testing.TB, v *oidc.IDTokenVerifier, tok string) *oidc.IDToken {
	tb.Helper()
	t, err := v.Verify(tb.Context(), tok)
	if err != nil {
		tb.Fatalf("go-oidc refused our token: %v", err)
	}
	return t
}

// publisher is an issuer URL on loopback serving the discovery document
// and JWKS of an Auth, which a rotation replaces.
type publisher struct {
	srv     *httptest.Server
	mux     atomic.Pointer[http.ServeMux]
	fetches atomic.Int64 // JWKS responses served
}

func newPublisher(tb testing.TB) *publisher {
	tb.Helper()
	p := &publisher{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mux := p.mux.Load(); mux != nil {
			mux.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	tb.Cleanup(p.srv.Close)
	return p
}

// serve builds an Auth of issuer p.srv.URL and audience "api" with opts,
// and publishes its keys from now on.
func (p *publisher) serve(tb testing.TB, opts ...authx.Option) *authx.Auth[string] {
	tb.Helper()
	a, err := authx.New[string](append(opts, authx.WithIssuer(p.srv.URL), authx.WithAudience("api"))...)
	if err != nil {
		tb.Fatal(err)
	}
	jwks := a.JWKSHandler()
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/openid-configuration", a.DiscoveryHandler(p.srv.URL+"/jwks"))
	mux.Handle("GET /jwks", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		jwks.ServeHTTP(w, r)
	}))
	p.mux.Store(mux)
	return a
}

func rsaKey(tb testing.TB) any {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func ecKey(tb testing.TB) any {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func publicHalf(k any) any {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	}
	return nil
}
