package authtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/golang-jwt/jwt/v5"
)

// Issuer is a stand-in OpenID Connect provider for tests of services that
// trust another issuer's tokens ([authx.WithKeySet]): it signs RS256 access
// tokens with its own key and serves its discovery document
// (/.well-known/openid-configuration) and JWKS (/jwks) from an
// httptest.Server on loopback, closed when the test ends.
//
//	idp := authtest.NewIssuer(t)
//	a, _ := authx.New[string](authx.WithKeySet(idp.KeySet(), authx.Audience("api")))
//	tok := idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read write"})
type Issuer struct {
	// URL is the issuer: the iss of its tokens and the base of its
	// discovery document.
	URL string
	// Now is the issuer's clock for iat and exp; time.Now if nil.
	Now func() time.Time
	// Typ is the header typ of its tokens; "at+jwt" (RFC 9068) if empty.
	Typ string

	srv *httptest.Server

	mu      sync.Mutex
	keys    []issuerKey // newest first; the first signs
	fetches int
}

type issuerKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// NewIssuer starts an Issuer with one RSA key (kid "key-1").
func NewIssuer(tb testing.TB) *Issuer {
	tb.Helper()
	iss := &Issuer{}
	iss.srv = httptest.NewServer(http.HandlerFunc(iss.serve))
	tb.Cleanup(iss.srv.Close)
	iss.URL = iss.srv.URL
	iss.Rotate(tb)
	return iss
}

// Rotate adds a new signing key (kid "key-2", "key-3", …); the JWKS then
// serves it beside the older keys, as an issuer does during a rotation.
func (iss *Issuer) Rotate(tb testing.TB) {
	tb.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("authtest.Issuer: %v", err)
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.keys = append([]issuerKey{{kid: "key-" + strconv.Itoa(len(iss.keys)+1), priv: priv}}, iss.keys...)
}

// Retire drops every key but the newest from the JWKS: tokens signed by
// them no longer verify once a verifier refreshes.
func (iss *Issuer) Retire() {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.keys = iss.keys[:1]
}

// Fetches returns how many times the JWKS was served.
func (iss *Issuer) Fetches() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.fetches
}

// JWKSURL is the address of the issuer's JWKS.
func (iss *Issuer) JWKSURL() string { return iss.URL + "/jwks" }

// Client is an HTTP client for the issuer's server.
func (iss *Issuer) Client() *http.Client { return iss.srv.Client() }

func (iss *Issuer) now() time.Time {
	if iss.Now != nil {
		return iss.Now()
	}
	return time.Now()
}

// Token returns an access token for sub signed with the newest key, typed
// at+jwt (RFC 9068), with iss, sub, iat, exp (five minutes on) and a jti;
// claims adds to them or replaces them (a nil value removes a claim), e.g.
// {"aud": "api", "scope": "read write"} or Keycloak's
// {"realm_access": map[string]any{"roles": []string{"admin"}}}.
func (iss *Issuer) Token(tb testing.TB, sub string, claims map[string]any) string {
	tb.Helper()
	now := iss.now()
	mc := jwt.MapClaims{"iss": iss.URL, "sub": sub, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": randomID(tb)}
	for k, v := range claims {
		if v == nil {
			delete(mc, k)
			continue
		}
		mc[k] = v
	}
	iss.mu.Lock()
	k := iss.keys[0]
	iss.mu.Unlock()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, mc)
	t.Header["kid"] = k.kid
	t.Header["typ"] = "at+jwt"
	if iss.Typ != "" {
		t.Header["typ"] = iss.Typ
	}
	s, err := t.SignedString(k.priv)
	if err != nil {
		tb.Fatalf("authtest.Issuer.Token: %v", err)
	}
	return s
}

func randomID(tb testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// KeySet returns the issuer's keys as a static [authx.KeySet], without its
// server: for tests of the verification alone. It sees rotations.
func (iss *Issuer) KeySet() authx.KeySet { return issuerKeySet{iss} }

type issuerKeySet struct{ iss *Issuer }

func (s issuerKeySet) Issuer() string { return s.iss.URL }

func (s issuerKeySet) Keys(_ context.Context, kid string) ([]authx.PublicKey, error) {
	s.iss.mu.Lock()
	defer s.iss.mu.Unlock()
	var out []authx.PublicKey
	for _, k := range s.iss.keys {
		if kid == "" || k.kid == kid {
			out = append(out, authx.PublicKey{KID: k.kid, Alg: "RS256", Key: &k.priv.PublicKey})
		}
	}
	return out, nil
}

// serve answers the discovery document and the JWKS.
func (iss *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.URL, "jwks_uri": iss.JWKSURL(),
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "/jwks":
		iss.mu.Lock()
		iss.fetches++
		keys := make([]map[string]string, 0, len(iss.keys))
		for _, k := range iss.keys {
			pub := k.priv.PublicKey
			keys = append(keys, map[string]string{
				"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
				"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			})
		}
		iss.mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=300")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	default:
		http.NotFound(w, r)
	}
}
