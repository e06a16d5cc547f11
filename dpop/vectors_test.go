package dpop_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx/dpop"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// TestThumbprintVectors: the RFC 7638 §3.1 example key's thumbprint, and
// that of the RFC 9449 §4.2 example proof's jwk, as §6.1's cnf.jkt says;
// the RFC 9449 §7.1 example ath.
func TestThumbprintVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, jwk, want string
	}{
		{"RFC 7638 §3.1", `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`,
			"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
		{"RFC 9449 §4.2 jwk", `{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}`,
			"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
	}
	for _, tt := range tests {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON([]byte(tt.jwk)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if got := base64.RawURLEncoding.EncodeToString(tp); got != tt.want {
			t.Errorf("%s: thumbprint %s, want %s", tt.name, got, tt.want)
		}
	}
	if got, want := dpop.AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"; got != want {
		t.Errorf("AccessTokenHash(RFC 9449 §7.1 token) = %s, want %s", got, want)
	}
}

// TestRFCExampleProof: a proof with the structure and claims of RFC 9449
// §4.2's example (POST https://server.example.com/token, its jti and iat)
// is accepted by a login (/token) at that URI at that time. (The example's own
// signature cannot be checked with a fresh jti store and our clock: we
// sign its claims with our key.)
func TestRFCExampleProof(t *testing.T) {
	t.Parallel()
	iat := time.Unix(1562262616, 0)
	f := newFixture(t, nil, dpop.WithPublicURL("https://server.example.com"))
	f.Clock.Set(iat)
	claims := map[string]any{"jti": "-BwC3ESc6acc2lTc", "htm": "POST", "htu": "https://server.example.com/token", "iat": 1562262616}
	if got := do(t, "POST", f.URL+"/token", "", "DPoP", proofSpec{claims: claims}.build(t)); got.Status != 200 || !strings.Contains(got.Body, `"token_type":"DPoP"`) {
		t.Errorf("the example proof's structure = %+v, want a bound login", got)
	}
}

// TestInterop: proofs built by an independent implementation
// (lestrrat-go/jwx v3) with each default algorithm are accepted.
func TestInterop(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		alg jwa.SignatureAlgorithm
		key crypto.Signer
	}{
		{jwa.ES256(), ecKey(t, 0)}, {jwa.EdDSA(), ed}, {jwa.RS256(), rk}, {jwa.PS256(), rk},
	} {
		t.Run(tt.alg.String(), func(t *testing.T) {
			t.Parallel()
			pub, err := jwk.Import(tt.key.Public())
			if err != nil {
				t.Fatal(err)
			}
			tp, err := pub.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			jkt := base64.RawURLEncoding.EncodeToString(tp)
			tok := f.boundToken(t, jkt)
			res := f.URL + "/api/res"
			hdr := jws.NewHeaders()
			_ = hdr.Set(jws.TypeKey, "dpop+jwt")
			_ = hdr.Set(jws.JWKKey, pub)
			payload, _ := json.Marshal(claimsFor("GET", res, tok, t0))
			proof, err := jws.Sign(payload, jws.WithKey(tt.alg, tt.key, jws.WithProtectedHeaders(hdr)))
			if err != nil {
				t.Fatal(err)
			}
			if got := do(t, "GET", res, "", "Authorization", "DPoP "+tok, "DPoP", string(proof)); got.Status != 200 {
				t.Errorf("jwx %s proof = %+v, want 200", tt.alg, got)
			}
		})
	}
}
