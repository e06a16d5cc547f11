package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// DPoPKey is a client's DPoP key (RFC 9449) for tests: an ES256 key that
// makes proofs for requests, built with the standard library alone (an
// implementation independent of the one that checks them). Bind tokens to
// it with authx.BoundToKey(k.Thumbprint()).
//
//	k := authtest.NewDPoPKey(t)
//	tok := authtest.Token(t, a, "alice", authx.BoundToKey(k.Thumbprint()))
//	req := httptest.NewRequest("GET", "https://api.example.com/orders", nil)
//	k.Sign(t, req, tok) // Authorization: DPoP <tok>, and a DPoP proof
type DPoPKey struct {
	key *ecdsa.PrivateKey
	jwk map[string]string
	jkt string
	// Now is the clock of the proofs' iat; time.Now when nil.
	Now func() time.Time
}

// NewDPoPKey returns a new P-256 DPoP key.
func NewDPoPKey(tb testing.TB) *DPoPKey {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		tb.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	k := &DPoPKey{key: key, jwk: map[string]string{"kty": "EC", "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:])}}
	// RFC 7638: the required members, in lexicographic order, no spaces.
	canon := `{"crv":"P-256","kty":"EC","x":"` + k.jwk["x"] + `","y":"` + k.jwk["y"] + `"}`
	sum := sha256.Sum256([]byte(canon))
	k.jkt = b64(sum[:])
	return k
}

// Thumbprint returns the key's RFC 7638 SHA-256 thumbprint, base64url:
// what a bound token's cnf.jkt holds.
func (k *DPoPKey) Thumbprint() string { return k.jkt }

// Proof returns a DPoP proof for a request of method to rawURL (its query
// and fragment are left out of htu, as RFC 9449 §4.2 says), with ath for
// accessToken when it is not "" and the server's nonce when it is not "".
func (k *DPoPKey) Proof(tb testing.TB, method, rawURL, accessToken, nonce string) string {
	tb.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = "", "", "", false
	now := time.Now
	if k.Now != nil {
		now = k.Now
	}
	claims := map[string]any{"jti": randomID(tb), "htm": method, "htu": u.String(), "iat": now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return k.SignProof(tb, map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk}, claims)
}

// SignProof signs any header and claims as an ES256 JWS with the key, for
// tests of proofs that break a rule (a wrong typ, a missing claim).
func (k *DPoPKey) SignProof(tb testing.TB, header, claims map[string]any) string {
	tb.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.key, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Sign sets r's Authorization to "DPoP accessToken" and its DPoP header
// to a fresh proof for r's method and URL, with the ath of accessToken.
func (k *DPoPKey) Sign(tb testing.TB, r *http.Request, accessToken string) {
	tb.Helper()
	r.Header.Set("Authorization", "DPoP "+accessToken)
	r.Header.Set("DPoP", k.Proof(tb, r.Method, r.URL.String(), accessToken, ""))
}
