package authx

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"slices"
	"strconv"
)

// publishMaxAge is how long verifiers may cache our JWKS and discovery
// metadata: long enough to spare us, short enough that a key added for a
// rotation reaches them well before it signs (see the README's runbook).
const publishMaxAge = 5 * 60

// jwk is the public JWK of one key (RFC 7517, 7518 §6, 8037).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	// RSA
	N string `json:"n,omitempty"`
	E string `json:"e,omitempty"`
	// EC and OKP
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// publicJWK returns the public JWK of k, or false for an HMAC key (a
// secret, never published).
func publicJWK(k *keySpec) (jwk, bool) {
	enc := base64.RawURLEncoding.EncodeToString
	j := jwk{Use: "sig", Alg: k.alg, Kid: k.kid}
	switch pub := k.verify.(type) {
	case *rsa.PublicKey:
		j.Kty, j.N, j.E = "RSA", enc(pub.N.Bytes()), enc(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		point, err := pub.Bytes() // 0x04 || X || Y, each of the curve's size
		if err != nil || len(point)%2 != 1 {
			return jwk{}, false
		}
		size := len(point) / 2
		j.Kty, j.Crv = "EC", pub.Curve.Params().Name
		j.X, j.Y = enc(point[1:1+size]), enc(point[1+size:])
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", enc(pub)
	default:
		return jwk{}, false
	}
	return j, true
}

// publishedKeys returns the public JWKs of the signing key and every
// verification key, the signing key first.
func (e *engine) publishedKeys() []jwk {
	var specs []*keySpec
	if e.keys.signing != nil {
		specs = append(specs, e.keys.signing)
	}
	for _, k := range e.keys.noKID {
		if k != e.keys.signing {
			specs = append(specs, k)
		}
	}
	kids := make([]string, 0, len(e.keys.byKID))
	for kid := range e.keys.byKID {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	for _, kid := range kids {
		if k := e.keys.byKID[kid]; k != e.keys.signing {
			specs = append(specs, k)
		}
	}
	keys := make([]jwk, 0, len(specs))
	for _, k := range specs {
		if j, ok := publicJWK(k); ok {
			keys = append(keys, j)
		}
	}
	return keys
}

// JWKSHandler serves the public halves of the Auth's signing and
// verification keys as a JSON Web Key Set (RFC 7517), so that standard
// verifiers (go-oidc, jwx, a gateway, another authx with
// package jwks) check our tokens: each key with its kid, alg and use
// "sig". An HMAC secret is never published (an Auth signing with
// WithSecret serves an empty set). Responses may be cached for five
// minutes (Cache-Control: public, max-age=300): publish a new key at least
// that long before it signs. Mount it where [Auth.DiscoveryHandler]'s
// jwks_uri points, e.g. mux.Handle("GET /.well-known/jwks.json", a.JWKSHandler()).
func (a *Auth[T]) JWKSHandler() http.Handler {
	if err := a.configured(); err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { WriteError(w, "", err) })
	}
	body, _ := json.Marshal(map[string][]jwk{"keys": a.e.publishedKeys()}) // cannot fail: strings only
	return staticJSON(body, "application/jwk-set+json")
}

// DiscoveryHandler serves the metadata that points standard verifiers at
// our keys (OpenID Connect Discovery 1.0 / RFC 8414): issuer (the
// [WithIssuer] value, which our tokens carry as iss), jwks_uri (where the
// application mounts [Auth.JWKSHandler]: an absolute URL) and the signing
// algorithms. Mount it at the issuer URL's /.well-known/openid-configuration.
// It panics at start-up without WithIssuer or with a jwksURI that is not
// absolute — a verifier could not match or fetch anything.
func (a *Auth[T]) DiscoveryHandler(jwksURI string) http.Handler {
	if err := a.configured(); err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { WriteError(w, "", err) })
	}
	if a.e.cfg.issuer == "" {
		panic("authx: DiscoveryHandler needs WithIssuer: verifiers match the issuer against the tokens' iss")
	}
	if !absoluteURL(jwksURI) {
		panic("authx: DiscoveryHandler(" + strconv.Quote(jwksURI) + "): the jwks_uri must be an absolute http(s) URL")
	}
	var algs []string
	for _, k := range a.e.publishedKeys() {
		if !slices.Contains(algs, k.Alg) {
			algs = append(algs, k.Alg)
		}
	}
	body, _ := json.Marshal(map[string]any{
		"issuer":                                a.e.cfg.issuer,
		"jwks_uri":                              jwksURI,
		"id_token_signing_alg_values_supported": algs,
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
	})
	return staticJSON(body, "application/json")
}

func absoluteURL(s string) bool {
	for _, p := range []string{"https://", "http://"} {
		if len(s) > len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

// staticJSON answers GET and HEAD with body.
func staticJSON(body []byte, contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			WriteError(w, "", newError(ErrMethodNotAllowed, nil))
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(publishMaxAge))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}
