package authx_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authx-go/authx"
	"github.com/google/go-cmp/cmp"
)

// JWKSHandler publishes the public halves of every signing and
// verification key, never an HMAC secret or a private part; the discovery
// metadata points at it.
func TestJWKSHandler(t *testing.T) {
	t.Parallel()
	k := testKeys()
	ec := k["p256"].(*ecdsa.PrivateKey)
	rk := k["rsa"].(*rsa.PrivateKey)
	ed := k["ed"].(ed25519.PrivateKey)
	a, err := authx.New[string](authx.WithSigningKey("ES256", ec), authx.WithKeyID("new"), authx.WithIssuer("https://auth.example.com"),
		authx.WithVerificationKey("old", "RS256", &rk.PublicKey), authx.WithVerificationKey("", "EdDSA", ed.Public()))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/.well-known/jwks.json", a.JWKSHandler())
	mux.Handle("/.well-known/openid-configuration", a.DiscoveryHandler("https://auth.example.com/.well-known/jwks.json"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/jwk-set+json" || cc != "public, max-age=300" {
		t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	b := func(s string) []byte {
		v, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var got []string
	for _, j := range set.Keys {
		if _, private := j["d"]; private {
			t.Errorf("key %s publishes a private part", j["kid"])
		}
		got = append(got, j["kty"]+" "+j["alg"]+" "+j["kid"]+" "+j["use"])
		switch j["kty"] {
		case "EC":
			point, _ := ec.PublicKey.Bytes()
			if j["crv"] != "P-256" || string(point) != "\x04"+string(b(j["x"]))+string(b(j["y"])) {
				t.Errorf("EC key %v is not the signing key's public half", j)
			}
		case "RSA":
			if new(big.Int).SetBytes(b(j["n"])).Cmp(rk.N) != 0 || new(big.Int).SetBytes(b(j["e"])).Int64() != int64(rk.E) {
				t.Errorf("RSA key %v is not the verification key", j)
			}
		case "OKP":
			if j["crv"] != "Ed25519" || string(b(j["x"])) != string(ed.Public().(ed25519.PublicKey)) {
				t.Errorf("OKP key %v is not the Ed25519 key", j)
			}
		}
	}
	want := []string{"EC ES256 new sig", "OKP EdDSA  sig", "RSA RS256 old sig"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys (-want +got)\n%s", diff)
	}

	resp2, err := http.Get(srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var meta map[string]any
	if err := json.NewDecoder(resp2.Body).Decode(&meta); err != nil {
		t.Fatal(err)
	}
	if meta["issuer"] != "https://auth.example.com" || meta["jwks_uri"] != "https://auth.example.com/.well-known/jwks.json" {
		t.Errorf("discovery metadata %v", meta)
	}
	if diff := cmp.Diff([]any{"ES256", "EdDSA", "RS256"}, meta["id_token_signing_alg_values_supported"]); diff != "" {
		t.Errorf("algorithms (-want +got)\n%s", diff)
	}
	if got := doRequest(t, "POST", srv.URL+"/.well-known/jwks.json", nil); got.Status != 405 {
		t.Errorf("POST: %d, want 405", got.Status)
	}
}

// An HMAC secret is never published; the discovery handler refuses to
// start without an issuer or with a relative jwks_uri.
func TestJWKSHandlerNeverPublishesSecrets(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithIssuer("https://auth.example.com"))
	rec := httptest.NewRecorder()
	a.JWKSHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/jwks", nil))
	if body := strings.TrimSpace(rec.Body.String()); body != `{"keys":[]}` {
		t.Errorf("JWKS of an HMAC Auth: %s", body)
	}
	if msg := panicMessage(func() { a.DiscoveryHandler("/jwks") }); !strings.Contains(msg, "absolute") {
		t.Errorf("relative jwks_uri: panic %q", msg)
	}
	b, _ := newAuth(t)
	if msg := panicMessage(func() { b.DiscoveryHandler("https://x/jwks") }); !strings.Contains(msg, "WithIssuer") {
		t.Errorf("no issuer: panic %q", msg)
	}
}
