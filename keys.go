package authx

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// Supported algorithms. The algorithm is fixed per key when the Auth is
// built; a token's alg header must equal it ("none" is never accepted).
var algorithms = map[string]jwt.SigningMethod{
	"HS256": jwt.SigningMethodHS256,
	"HS384": jwt.SigningMethodHS384,
	"HS512": jwt.SigningMethodHS512,
	"RS256": jwt.SigningMethodRS256,
	"RS384": jwt.SigningMethodRS384,
	"RS512": jwt.SigningMethodRS512,
	"PS256": jwt.SigningMethodPS256,
	"PS384": jwt.SigningMethodPS384,
	"PS512": jwt.SigningMethodPS512,
	"ES256": jwt.SigningMethodES256,
	"ES384": jwt.SigningMethodES384,
	"ES512": jwt.SigningMethodES512,
	"EdDSA": jwt.SigningMethodEdDSA,
}

// minRSABits is the smallest RSA modulus accepted (NIST SP 800-131A).
const minRSABits = 2048

// keySpec is one configured key: its id, algorithm, and material.
type keySpec struct {
	kid    string
	alg    string
	method jwt.SigningMethod
	sign   any // private key or HMAC secret; nil for verification-only keys
	verify any // public key or HMAC secret

	hmacPool *sync.Pool // of *hmacState keyed with the secret (HS* only)
}

// hmacState is a keyed HMAC and a scratch buffer, pooled so that verifying
// an HS* token allocates nothing.
type hmacState struct {
	h   hash.Hash
	buf []byte
}

func hmacHash(alg string) (func() hash.Hash, int) {
	switch alg {
	case "HS256":
		return sha256.New, 32
	case "HS384":
		return sha512.New384, 48
	case "HS512":
		return sha512.New, 64
	}
	return nil, 0
}

// newKeySpec validates key for alg. signing says whether the key must be
// able to sign. A public key given for signing is an error; a private key
// given for verification is accepted and its public half used. Asymmetric
// keys, given as values or PEM, are checked in full by rsaKey, ecdsaKey or
// ed25519Key: whatever newKeySpec accepts signs and verifies without error.
func newKeySpec(kid, alg string, key any, signing bool) (*keySpec, error) {
	return newKeySpecWith(kid, alg, key, signing, false)
}

// newKeySpecWith is newKeySpec; allowShort accepts an HMAC secret shorter
// than its hash (InsecureShortSecret).
func newKeySpecWith(kid, alg string, key any, signing, allowShort bool) (*keySpec, error) {
	method, ok := algorithms[alg]
	if !ok {
		return nil, fmt.Errorf("unknown algorithm %q (want one of HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA)", alg)
	}
	k := &keySpec{kid: kid, alg: alg, method: method}
	if newHash, size := hmacHash(alg); newHash != nil {
		secret, ok := key.([]byte)
		if !ok {
			if s, isStr := key.(string); isStr {
				secret = []byte(s)
			} else {
				return nil, fmt.Errorf("%s needs a []byte secret, got %T", alg, key)
			}
		}
		if len(secret) == 0 || (len(secret) < size && !allowShort) {
			return nil, fmt.Errorf("%s secret is %d bytes, need at least %d random bytes (RFC 7518 §3.2): make one with `openssl rand -base64 %d` or crypto/rand.Read", alg, len(secret), size, size)
		}
		secret = append([]byte(nil), secret...)
		k.verify = secret
		if signing {
			k.sign = secret
		}
		k.hmacPool = &sync.Pool{New: func() any { return &hmacState{h: hmac.New(newHash, secret)} }}
		return k, nil
	}
	if pemBytes, ok := key.([]byte); ok {
		parsed, err := parsePEM(alg, pemBytes, signing)
		if err != nil {
			return nil, err
		}
		key = parsed
	}
	if signing {
		switch key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		default:
			return nil, fmt.Errorf("%s signing needs a private key (*rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or PEM), got %T", alg, key)
		}
	}
	var (
		priv crypto.Signer
		pub  crypto.PublicKey
		err  error
	)
	switch alg[:2] {
	case "RS", "PS":
		priv, pub, err = rsaKey(alg, key)
	case "ES":
		priv, pub, err = ecdsaKey(alg, key)
	default:
		priv, pub, err = ed25519Key(alg, key)
	}
	if err != nil {
		return nil, err
	}
	k.verify = pub
	if signing {
		k.sign = priv
	}
	return k, nil
}

// The key checks below validate everything signing and verifying will rely
// on, so that a key New accepts can neither fail nor panic at request time:
// nil pointers, missing fields, values out of range, points off the curve
// and private halves inconsistent with their public halves are refused.
// Each returns the private key to sign with (nil for a public key) and the
// public key to verify with. A private key is checked in full even when
// given for verification only: a broken one is a configuration mistake.

// rsaKey checks an *rsa.PrivateKey or *rsa.PublicKey for alg. A private key
// is validated and used through a precomputed copy, so that the caller's
// key is never written to.
func rsaKey(alg string, key any) (crypto.Signer, crypto.PublicKey, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k == nil {
			return nil, nil, fmt.Errorf("%s key is a nil *rsa.PrivateKey", alg)
		}
		if err := checkRSAPublicKey(alg, &k.PublicKey); err != nil {
			return nil, nil, err
		}
		if err := k.Validate(); err != nil {
			return nil, nil, fmt.Errorf("%s private key: %w", alg, err)
		}
		cp := *k
		cp.Precompute()
		return &cp, &cp.PublicKey, nil
	case *rsa.PublicKey:
		if k == nil {
			return nil, nil, fmt.Errorf("%s key is a nil *rsa.PublicKey", alg)
		}
		if err := checkRSAPublicKey(alg, k); err != nil {
			return nil, nil, err
		}
		return nil, k, nil
	}
	return nil, nil, fmt.Errorf("%s needs an RSA key, got %T", alg, key)
}

// maxRSABits is the largest RSA modulus accepted: its signatures are as
// long as the modulus, and a verifier reads at most maxSignatureBytes.
const maxRSABits = 8192

// checkRSAPublicKey requires what crypto/rsa requires of a public key (a
// positive odd modulus, an odd exponent from 3 to 2^31-1) and from
// minRSABits to maxRSABits bits.
func checkRSAPublicKey(alg string, p *rsa.PublicKey) error {
	switch {
	case p.N == nil || p.N.Sign() <= 0:
		return fmt.Errorf("%s key has no positive modulus N", alg)
	case p.N.Bit(0) == 0:
		return fmt.Errorf("%s key has an even modulus N", alg)
	case p.N.BitLen() < minRSABits:
		return fmt.Errorf("%s key has %d bits, need at least %d", alg, p.N.BitLen(), minRSABits)
	case p.N.BitLen() > maxRSABits:
		return fmt.Errorf("%s key has %d bits, more than %d: its signatures would be longer than a verifier reads", alg, p.N.BitLen(), maxRSABits)
	case p.E < 3 || p.E&1 == 0 || p.E > 1<<31-1:
		return fmt.Errorf("%s key has public exponent %d, want an odd number from 3 to 2^31-1", alg, p.E)
	}
	return nil
}

// ecdsaCurves are the curves of the ES* algorithms (RFC 7518 §3.4).
var ecdsaCurves = map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}

// ecdsaKey checks an *ecdsa.PrivateKey or *ecdsa.PublicKey for alg: the
// curve of alg, a point on it, and for a private key a scalar D in range
// whose public point is the key's.
func ecdsaKey(alg string, key any) (crypto.Signer, crypto.PublicKey, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, nil, fmt.Errorf("%s key is a nil *ecdsa.PrivateKey", alg)
		}
		pub, err := checkECDSAPublicKey(alg, &k.PublicKey)
		if err != nil {
			return nil, nil, err
		}
		//lint:ignore SA1019 a nil D is the invalid key the deprecation warns of; ECDH would panic on it
		if k.D == nil {
			return nil, nil, fmt.Errorf("%s private key has no scalar D", alg)
		}
		ek, err := k.ECDH()
		if err != nil {
			return nil, nil, fmt.Errorf("%s private key: %w", alg, err)
		}
		if !ek.PublicKey().Equal(pub) {
			return nil, nil, fmt.Errorf("%s private key: the scalar D does not match the public point", alg)
		}
		return k, &k.PublicKey, nil
	case *ecdsa.PublicKey:
		if k == nil {
			return nil, nil, fmt.Errorf("%s key is a nil *ecdsa.PublicKey", alg)
		}
		if _, err := checkECDSAPublicKey(alg, k); err != nil {
			return nil, nil, err
		}
		return nil, k, nil
	}
	return nil, nil, fmt.Errorf("%s needs an ECDSA key, got %T", alg, key)
}

// checkECDSAPublicKey requires alg's curve and a valid point on it, which
// it returns as an *ecdh.PublicKey.
func checkECDSAPublicKey(alg string, p *ecdsa.PublicKey) (*ecdh.PublicKey, error) {
	want := ecdsaCurves[alg]
	if p.Curve != want {
		return nil, fmt.Errorf("%s needs curve %s, key is on %s", alg, want.Params().Name, curveName(p.Curve))
	}
	//lint:ignore SA1019 nil coordinates are the invalid key the deprecation warns of; ECDH would panic on them
	if p.X == nil || p.Y == nil {
		return nil, fmt.Errorf("%s key has no public point", alg)
	}
	pub, err := p.ECDH()
	if err != nil {
		return nil, fmt.Errorf("%s public key: %w", alg, err)
	}
	return pub, nil
}

// curveName names c for an error message, nil and custom curves included.
func curveName(c elliptic.Curve) string {
	if c == nil {
		return "no curve"
	}
	if p := c.Params(); p != nil && p.Name != "" {
		if _, generic := c.(*elliptic.CurveParams); generic {
			return p.Name + " as generic *elliptic.CurveParams"
		}
		return p.Name
	}
	return fmt.Sprintf("a curve of type %T", c)
}

// ed25519Key checks an ed25519.PrivateKey (64 bytes, its public half the
// one its seed derives) or ed25519.PublicKey (32 bytes) and returns copies,
// which the caller cannot change afterwards.
func ed25519Key(alg string, key any) (crypto.Signer, crypto.PublicKey, error) {
	switch k := key.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, nil, fmt.Errorf("%s private key is %d bytes, want %d", alg, len(k), ed25519.PrivateKeySize)
		}
		derived := ed25519.NewKeyFromSeed(k.Seed())
		if !bytes.Equal(derived[ed25519.SeedSize:], k[ed25519.SeedSize:]) {
			return nil, nil, fmt.Errorf("%s private key: the public half is not the one its seed derives", alg)
		}
		return derived, derived.Public(), nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, nil, fmt.Errorf("%s public key is %d bytes, want %d", alg, len(k), ed25519.PublicKeySize)
		}
		return nil, ed25519.PublicKey(bytes.Clone(k)), nil
	}
	return nil, nil, fmt.Errorf("%s needs an Ed25519 key, got %T", alg, key)
}

// parsePEM reads a PEM key for alg: a private key when signing, else a
// public key, a certificate or a private key (whose public half is used).
func parsePEM(alg string, b []byte, signing bool) (any, error) {
	var priv, pub func([]byte) (any, error)
	switch alg[:2] {
	case "RS", "PS":
		priv = func(b []byte) (any, error) { return jwt.ParseRSAPrivateKeyFromPEM(b) }
		pub = func(b []byte) (any, error) { return jwt.ParseRSAPublicKeyFromPEM(b) }
	case "ES":
		priv = func(b []byte) (any, error) { return jwt.ParseECPrivateKeyFromPEM(b) }
		pub = func(b []byte) (any, error) { return jwt.ParseECPublicKeyFromPEM(b) }
	default:
		priv = func(b []byte) (any, error) { return jwt.ParseEdPrivateKeyFromPEM(b) }
		pub = func(b []byte) (any, error) { return jwt.ParseEdPublicKeyFromPEM(b) }
	}
	if k, err := priv(b); err == nil {
		return k, nil
	} else if signing {
		return nil, fmt.Errorf("%s private key PEM: %w", alg, err)
	}
	k, err := pub(b)
	if err != nil {
		return nil, fmt.Errorf("%s public key PEM: %w", alg, err)
	}
	return k, nil
}

// signatureLen returns the length in bytes of k's signatures.
func (k *keySpec) signatureLen() int {
	if _, size := hmacHash(k.alg); size > 0 {
		return size
	}
	switch pub := k.verify.(type) {
	case *rsa.PublicKey:
		return (pub.N.BitLen() + 7) / 8
	case *ecdsa.PublicKey:
		return 2 * ((pub.Curve.Params().BitSize + 7) / 8)
	}
	return ed25519.SignatureSize
}

// signature computes the signature of input with k.
func (k *keySpec) signature(input []byte) ([]byte, error) {
	if k.hmacPool != nil {
		st := k.hmacPool.Get().(*hmacState)
		st.h.Reset()
		st.h.Write(input)
		sum := st.h.Sum(nil)
		k.hmacPool.Put(st)
		return sum, nil
	}
	return k.method.Sign(string(input), k.sign)
}

// keyring selects the verification key for a token.
type keyring struct {
	signing  *keySpec
	byKID    map[string]*keySpec
	noKID    []*keySpec // keys without a kid, the signing key first
	external bool       // key sets are configured (WithKeySet): headers keep their kid, at+jwt is read
	known    []knownHeader
}

// jwsHeader is what authx reads from a token header.
type jwsHeader struct {
	alg    string   // one of the supported algorithm names, interned
	hasKID bool     // the header names a kid
	key    *keySpec // the key with that kid, nil if none is configured
	kid    string   // the kid, kept only when key sets may be asked (keyring.external)
	atJWT  bool     // typ is at+jwt (RFC 9068), accepted only when keyring.external
}

// knownHeader is a header segment that decodeHeader has answered already:
// the one each configured key's tokens carry (learnHeaders).
type knownHeader struct {
	seg string
	h   jwsHeader
}

func (kr *keyring) add(k *keySpec) error {
	if k.kid == "" {
		kr.noKID = append(kr.noKID, k)
		return nil
	}
	if _, dup := kr.byKID[k.kid]; dup {
		return fmt.Errorf("two keys have kid %q", k.kid)
	}
	if kr.byKID == nil {
		kr.byKID = make(map[string]*keySpec)
	}
	kr.byKID[k.kid] = k
	return nil
}
