package authx

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
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
// given for verification is accepted and its public half used.
func newKeySpec(kid, alg string, key any, signing bool) (*keySpec, error) {
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
		if len(secret) < size {
			return nil, fmt.Errorf("%s secret is %d bytes, need at least %d (RFC 7518 §3.2)", alg, len(secret), size)
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
	var pub crypto.PublicKey
	switch priv := key.(type) {
	case *rsa.PrivateKey:
		pub = &priv.PublicKey
	case *ecdsa.PrivateKey:
		pub = &priv.PublicKey
	case ed25519.PrivateKey:
		pub = priv.Public()
	default:
		if signing {
			return nil, fmt.Errorf("%s signing needs a private key (*rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or PEM), got %T", alg, key)
		}
		pub = key
	}
	if err := checkPublicKey(alg, pub); err != nil {
		return nil, err
	}
	k.verify = pub
	if signing {
		k.sign = key
	}
	return k, nil
}

func checkPublicKey(alg string, pub crypto.PublicKey) error {
	switch alg[:2] {
	case "RS", "PS":
		p, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an RSA key, got %T", alg, pub)
		}
		if p.N.BitLen() < minRSABits {
			return fmt.Errorf("%s key has %d bits, need at least %d", alg, p.N.BitLen(), minRSABits)
		}
	case "ES":
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an ECDSA key, got %T", alg, pub)
		}
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if p.Curve != want {
			return fmt.Errorf("%s needs curve %s, key is on %s", alg, want.Params().Name, p.Curve.Params().Name)
		}
	case "Ed":
		p, ok := pub.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an Ed25519 key, got %T", alg, pub)
		}
		if len(p) != ed25519.PublicKeySize {
			return errors.New("EdDSA public key has the wrong length")
		}
	}
	return nil
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

// verifySignature checks sig over input. For HMAC it runs without allocating.
func (k *keySpec) verifySignature(input string, sig []byte) bool {
	if k.hmacPool != nil {
		st := k.hmacPool.Get().(*hmacState)
		st.h.Reset()
		st.buf = append(st.buf[:0], input...)
		st.h.Write(st.buf)
		st.buf = st.h.Sum(st.buf[:0])
		ok := hmac.Equal(st.buf, sig)
		k.hmacPool.Put(st)
		return ok
	}
	// The copy keeps sig (on the caller's stack) from escaping through the
	// interface call.
	return k.method.Verify(input, bytes.Clone(sig), k.verify) == nil
}

// keyring selects the verification key for a token.
type keyring struct {
	signing *keySpec
	byKID   map[string]*keySpec
	noKID   []*keySpec // keys without a kid, the signing key first
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
