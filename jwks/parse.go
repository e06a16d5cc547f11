package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	stdjson "encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/authx-go/authx"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/json"
)

// The algorithms a key of a Set may verify, with the key type each needs
// (HMAC and "none" are never accepted: a public document cannot hold a
// secret). These are authx's asymmetric algorithms.
var algKeyType = map[string]string{
	"RS256": "RSA", "RS384": "RSA", "RS512": "RSA",
	"PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
	"ES256": "EC", "ES384": "EC", "ES512": "EC",
	"EdDSA": "OKP",
}

const acceptedAlgs = "RS256/384/512, PS256/384/512, ES256/384/512, EdDSA"

// ecdsaCurves are the curves of the ES* algorithms (RFC 7518 §3.4).
var ecdsaCurves = map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}

// RSA moduli accepted, as by authx (NIST SP 800-131A; a verifier reads
// signatures up to 8192 bits). go-jose itself refuses moduli over 4096
// bits (jose.MaxRSAModulusBits), so larger keys are skipped as unsupported.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// maxKIDBytes bounds a kid: a JWK with a longer one is skipped, and a
// token's longer kid is answered "no key" without a fetch.
const maxKIDBytes = 1024

// privateMembers are the JWK members of private or secret key material
// (RFC 7518 §6.2.2, §6.3.2, §6.4; "priv" of RFC 9964's AKP keys).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// skipped is a JWK the parser left out, and why.
type skipped struct {
	kid     string // as the JWK spells it, "" if it has none or it is not a string
	reason  string
	private bool // the JWK holds private or secret key material
}

// parseJWKS reads a JWK Set (RFC 7517 §5) from body and returns the keys a
// Set may use, in document order, and the JWKs it skipped. defaultAlg is
// the algorithm of JWKs without alg ("" skips them). The document fails as
// a whole (ErrInvalid) if it is not valid JSON (duplicate members
// included), not an object with a "keys" array, or has more than maxKeys
// entries; each entry is then judged alone, and one that is not a usable
// public verification key is skipped:
//
//   - a symmetric key (kty "oct") or any private member (d, p, q, …): a
//     JWK Set is public, so such a key is never used, and the IdP that
//     publishes it is misconfigured (reported with private set);
//   - use other than "sig", or key_ops without "verify";
//   - a JWK go-jose refuses (unknown kty, missing or invalid members,
//     points off the curve, an x5c whose key differs);
//   - no alg and no defaultAlg, or an alg outside algKeyType ("none",
//     HS256, RSA-OAEP, …), or a key whose type or curve does not fit it;
//   - an RSA modulus outside 2048–8192 bits, a bad exponent;
//   - a kid longer than maxKIDBytes.
//
// An entry equal to an earlier one (kid, alg and key) is dropped; entries
// that share a kid but differ are all kept, in order.
func parseJWKS(body []byte, maxKeys int, defaultAlg string) ([]authx.PublicKey, []skipped, error) {
	// encoding/json bounds nesting depth (10 000); go-jose's decoder, used
	// below for its strictness (case-sensitive, no duplicate members),
	// recurses without bound.
	if !stdjson.Valid(body) {
		return nil, nil, fmt.Errorf("%w: JWK Set is not valid JSON", ErrInvalid)
	}
	var doc struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: JWK Set: %s", ErrInvalid, cutURL(err.Error())) // it may quote a member name
	}
	if doc.Keys == nil {
		return nil, nil, fmt.Errorf(`%w: JWK Set has no "keys" array`, ErrInvalid)
	}
	if n := len(*doc.Keys); n > maxKeys {
		return nil, nil, fmt.Errorf("%w: JWK Set has %d keys, more than WithMaxKeys(%d)", ErrInvalid, n, maxKeys)
	}
	var (
		keys []authx.PublicKey
		skip []skipped
	)
	for _, raw := range *doc.Keys {
		k, sk := parseJWK(raw, defaultAlg)
		if sk != nil {
			skip = append(skip, *sk)
			continue
		}
		if slices.ContainsFunc(keys, func(o authx.PublicKey) bool { return sameKey(o, k) }) {
			continue
		}
		keys = append(keys, k)
	}
	return keys, skip, nil
}

// parseJWK judges one entry of a JWK Set: see parseJWKS.
func parseJWK(raw []byte, defaultAlg string) (authx.PublicKey, *skipped) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return authx.PublicKey{}, &skipped{reason: "not a JSON object"}
	}
	var kid, kty string
	_ = json.Unmarshal(members["kid"], &kid) // for the log only; go-jose judges it
	_ = json.Unmarshal(members["kty"], &kty)
	skip := func(format string, args ...any) (authx.PublicKey, *skipped) {
		return authx.PublicKey{}, &skipped{kid: kid, reason: cutURL(fmt.Sprintf(format, args...))}
	}
	if kty == "oct" {
		return authx.PublicKey{}, &skipped{kid: kid, reason: `symmetric key (kty "oct") in a public JWK Set`, private: true}
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return authx.PublicKey{}, &skipped{kid: kid, reason: fmt.Sprintf("private key material (member %q) in a public JWK Set", m), private: true}
		}
	}
	if len(kid) > maxKIDBytes {
		return skip("kid of %d bytes, more than %d", len(kid), maxKIDBytes)
	}
	if ops, ok := members["key_ops"]; ok {
		var list []string
		if err := json.Unmarshal(ops, &list); err != nil || !slices.Contains(list, "verify") {
			return skip(`key_ops without "verify"`)
		}
	}
	// With every private member refused above, this is go-jose's parse of a
	// public key, as it does itself for untrusted input.
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return skip("%v", err)
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return skip("use %q, not \"sig\"", cut(jwk.Use))
	}
	alg := jwk.Algorithm
	if alg == "" {
		if defaultAlg == "" {
			return skip("no alg, and no WithDefaultAlg")
		}
		alg = defaultAlg
	}
	pub, err := checkKey(alg, jwk.Key)
	if err != nil {
		return skip("%v", err)
	}
	return authx.PublicKey{KID: jwk.KeyID, Alg: alg, Key: pub}, nil
}

// checkKey requires key to be a public key that verifies alg, checked as
// authx checks its own keys.
func checkKey(alg string, key any) (crypto.PublicKey, error) {
	want, ok := algKeyType[alg]
	if !ok {
		return nil, fmt.Errorf("alg %q is not accepted (want one of %s)", cut(alg), acceptedAlgs)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if want != "RSA" {
			break
		}
		switch {
		case k.N == nil || k.N.Sign() <= 0 || k.N.Bit(0) == 0:
			return nil, fmt.Errorf("%s key has no positive odd modulus", alg)
		case k.N.BitLen() < minRSABits || k.N.BitLen() > maxRSABits:
			return nil, fmt.Errorf("%s key has %d bits, want %d to %d", alg, k.N.BitLen(), minRSABits, maxRSABits)
		case k.E < 3 || k.E&1 == 0 || k.E > 1<<31-1:
			return nil, fmt.Errorf("%s key has public exponent %d, want an odd number from 3 to 2^31-1", alg, k.E)
		}
		return k, nil
	case *ecdsa.PublicKey:
		if want != "EC" {
			break
		}
		if k.Curve != ecdsaCurves[alg] {
			return nil, fmt.Errorf("%s needs curve %s, key is on %s", alg, ecdsaCurves[alg].Params().Name, k.Curve.Params().Name)
		}
		if _, err := k.ECDH(); err != nil { // a point on the curve, not the identity
			return nil, fmt.Errorf("%s key: %w", alg, err)
		}
		return k, nil
	case ed25519.PublicKey:
		if want != "OKP" {
			break
		}
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s key is %d bytes, want %d", alg, len(k), ed25519.PublicKeySize)
		}
		return k, nil
	}
	return nil, fmt.Errorf("alg %s needs an %s key, the JWK holds a %s", alg, want, keyType(key))
}

func keyType(key any) string {
	switch key.(type) {
	case *rsa.PublicKey:
		return "RSA key"
	case *ecdsa.PublicKey:
		return "EC key"
	case ed25519.PublicKey:
		return "Ed25519 key"
	}
	return fmt.Sprintf("%T", key)
}

// sameKey reports whether a and b are one key: kid, alg and material.
func sameKey(a, b authx.PublicKey) bool {
	if a.KID != b.KID || a.Alg != b.Alg {
		return false
	}
	eq, ok := a.Key.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b.Key)
}

// Strings that come from the network are bounded in logs and errors: kids
// and other members to maxLogged bytes, URLs and issuers to maxLoggedURL
// (enough to show where two issuers differ).
const (
	maxLogged    = 64
	maxLoggedURL = 512
)

// cut returns s bounded to maxLogged bytes of valid UTF-8, marked when cut.
func cut(s string) string { return cutN(s, maxLogged) }

// cutURL is cut for URLs and issuers.
func cutURL(s string) string { return cutN(s, maxLoggedURL) }

func cutN(s string, n int) string {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return fmt.Sprintf("%s…(%d bytes)", strings.ToValidUTF8(s[:n], ""), len(s))
}
