//lint:file-ignore SA1019 degenerate ECDSA keys are built from their raw fields on purpose

package authx_test

// Degenerate keys: every nil, zero, truncated, inconsistent or garbage
// value of every Go type New accepts as key material, fed to every key
// option for every algorithm. New must refuse each with an error wrapping
// ErrConfig — never panic, and never build an Auth whose key would fail or
// panic later, when signing or verifying.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
)

// keyAlgs are every supported algorithm.
var keyAlgs = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// hmacMinLen is the shortest secret each HS* algorithm takes.
var hmacMinLen = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// nilSigner is a crypto.Signer of a type authx does not know.
type nilSigner struct{}

func (*nilSigner) Public() crypto.PublicKey { return nil }
func (*nilSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("nilSigner")
}

// degenerateKey is one value that is no usable key for any algorithm.
type degenerateKey struct {
	name string
	key  any
}

// bigPlus returns x+d as a new big.Int.
func bigPlus(x *big.Int, d int64) *big.Int { return new(big.Int).Add(x, big.NewInt(d)) }

// degenerateKeys lists the degenerate values of every accepted Go type.
func degenerateKeys(tb testing.TB) []degenerateKey {
	tb.Helper()
	k := testKeys()
	rk := k["rsa"].(*rsa.PrivateKey)
	small := k["rsa1024"].(*rsa.PrivateKey)
	ed := k["ed"].(ed25519.PrivateKey)

	pemBlock := func(typ string, der []byte) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	out := []degenerateKey{
		{"untyped nil", nil},
		{"nil crypto.Signer of an unknown type", (*nilSigner)(nil)},
		{"unknown crypto.Signer", &nilSigner{}},
		{"nil *[]byte", (*[]byte)(nil)},
		{"nil *ed25519.PrivateKey", (*ed25519.PrivateKey)(nil)},
		{"nil []byte", []byte(nil)},
		{"empty []byte", []byte{}},
		{"empty string", ""},
		{"short garbage bytes", []byte("not a key")},
		{"short garbage string", "not a key"},
		{"PEM armour only", []byte("-----BEGIN")},
		{"garbage PEM", []byte("-----BEGIN NOTHING-----")},
		{"truncated PEM", pemBlock("PRIVATE KEY", []byte{0x30, 0x82})[:40]},
	}
	for _, typ := range []string{"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"} {
		out = append(out,
			degenerateKey{"empty " + typ + " PEM", pemBlock(typ, nil)},
			degenerateKey{"garbage DER in " + typ + " PEM", pemBlock(typ, []byte("garbage DER, not ASN.1 at all"))},
		)
	}
	for _, n := range []int{31, 47, 63} {
		out = append(out,
			degenerateKey{fmt.Sprintf("%d-byte secret", n), []byte(strings.Repeat("k", n))},
			degenerateKey{fmt.Sprintf("%d-byte string secret", n), strings.Repeat("k", n)},
		)
	}

	// RSA private keys.
	withRSA := func(f func(p *rsa.PrivateKey)) *rsa.PrivateKey {
		p := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: new(big.Int).Set(rk.N), E: rk.E},
			D:         new(big.Int).Set(rk.D),
			Primes:    []*big.Int{new(big.Int).Set(rk.Primes[0]), new(big.Int).Set(rk.Primes[1])},
		}
		f(p)
		return p
	}
	otherPrecomputed := *rk
	otherPrecomputed.Precomputed = small.Precomputed
	out = append(out,
		degenerateKey{"nil *rsa.PrivateKey", (*rsa.PrivateKey)(nil)},
		degenerateKey{"zero rsa.PrivateKey", &rsa.PrivateKey{}},
		degenerateKey{"rsa.PrivateKey with only the public half", &rsa.PrivateKey{PublicKey: rk.PublicKey}},
		degenerateKey{"rsa.PrivateKey without D", withRSA(func(p *rsa.PrivateKey) { p.D = nil })},
		degenerateKey{"rsa.PrivateKey without primes", withRSA(func(p *rsa.PrivateKey) { p.Primes = nil })},
		degenerateKey{"rsa.PrivateKey with a nil prime", withRSA(func(p *rsa.PrivateKey) { p.Primes[0] = nil })},
		degenerateKey{"rsa.PrivateKey with a wrong prime", withRSA(func(p *rsa.PrivateKey) { p.Primes[0] = bigPlus(p.Primes[0], 2) })},
		degenerateKey{"rsa.PrivateKey with a wrong D", withRSA(func(p *rsa.PrivateKey) { p.D = bigPlus(p.D, 2) })},
		degenerateKey{"rsa.PrivateKey with a nil N", withRSA(func(p *rsa.PrivateKey) { p.N = nil })},
		degenerateKey{"rsa.PrivateKey with E 0", withRSA(func(p *rsa.PrivateKey) { p.E = 0 })},
		degenerateKey{"rsa.PrivateKey with E 1", withRSA(func(p *rsa.PrivateKey) { p.E = 1 })},
		degenerateKey{"rsa.PrivateKey with another key's precomputed values", &otherPrecomputed},
		degenerateKey{"1024-bit rsa.PrivateKey", small},
	)
	// RSA public keys.
	out = append(out,
		degenerateKey{"nil *rsa.PublicKey", (*rsa.PublicKey)(nil)},
		degenerateKey{"zero rsa.PublicKey", &rsa.PublicKey{}},
		degenerateKey{"rsa.PublicKey with a nil N", &rsa.PublicKey{E: 65537}},
		degenerateKey{"rsa.PublicKey with E 0", &rsa.PublicKey{N: rk.N}},
		degenerateKey{"rsa.PublicKey with E 1", &rsa.PublicKey{N: rk.N, E: 1}},
		degenerateKey{"rsa.PublicKey with a negative E", &rsa.PublicKey{N: rk.N, E: -65537}},
		degenerateKey{"rsa.PublicKey with an even E", &rsa.PublicKey{N: rk.N, E: 65536}},
		degenerateKey{"rsa.PublicKey with E of 2^31", &rsa.PublicKey{N: rk.N, E: 1 << 31}},
		degenerateKey{"rsa.PublicKey with an even N", &rsa.PublicKey{N: bigPlus(rk.N, 1), E: rk.E}},
		degenerateKey{"rsa.PublicKey with a negative N", &rsa.PublicKey{N: new(big.Int).Neg(rk.N), E: rk.E}},
		degenerateKey{"rsa.PublicKey with N 0", &rsa.PublicKey{N: new(big.Int), E: rk.E}},
		degenerateKey{"1024-bit rsa.PublicKey", &small.PublicKey},
	)

	// ECDSA keys, built on each curve so that the checks past the curve's
	// are reached for the matching algorithm.
	out = append(out,
		degenerateKey{"nil *ecdsa.PrivateKey", (*ecdsa.PrivateKey)(nil)},
		degenerateKey{"zero ecdsa.PrivateKey", &ecdsa.PrivateKey{}},
		degenerateKey{"nil *ecdsa.PublicKey", (*ecdsa.PublicKey)(nil)},
		degenerateKey{"zero ecdsa.PublicKey", &ecdsa.PublicKey{}},
	)
	for _, name := range []string{"p256", "p384", "p521"} {
		good := k[name].(*ecdsa.PrivateKey)
		other, err := ecdsa.GenerateKey(good.Curve, rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		params := good.Curve.Params()
		curve := params.Name
		withEC := func(f func(p *ecdsa.PrivateKey)) *ecdsa.PrivateKey {
			p := &ecdsa.PrivateKey{
				PublicKey: ecdsa.PublicKey{Curve: good.Curve, X: new(big.Int).Set(good.X), Y: new(big.Int).Set(good.Y)},
				D:         new(big.Int).Set(good.D),
			}
			f(p)
			return p
		}
		withPub := func(f func(p *ecdsa.PublicKey)) *ecdsa.PublicKey {
			p := &ecdsa.PublicKey{Curve: good.Curve, X: new(big.Int).Set(good.X), Y: new(big.Int).Set(good.Y)}
			f(p)
			return p
		}
		out = append(out,
			degenerateKey{curve + " ecdsa.PrivateKey without D", withEC(func(p *ecdsa.PrivateKey) { p.D = nil })},
			degenerateKey{curve + " ecdsa.PrivateKey with D 0", withEC(func(p *ecdsa.PrivateKey) { p.D = new(big.Int) })},
			degenerateKey{curve + " ecdsa.PrivateKey with a negative D", withEC(func(p *ecdsa.PrivateKey) { p.D.Neg(p.D) })},
			degenerateKey{curve + " ecdsa.PrivateKey with D = the order", withEC(func(p *ecdsa.PrivateKey) { p.D = new(big.Int).Set(params.N) })},
			degenerateKey{curve + " ecdsa.PrivateKey with an oversized D", withEC(func(p *ecdsa.PrivateKey) { p.D = new(big.Int).Lsh(params.N, 64) })},
			degenerateKey{curve + " ecdsa.PrivateKey with another key's D", withEC(func(p *ecdsa.PrivateKey) { p.D = new(big.Int).Set(other.D) })},
			degenerateKey{curve + " ecdsa.PrivateKey without a curve", withEC(func(p *ecdsa.PrivateKey) { p.Curve = nil })},
			degenerateKey{curve + " ecdsa.PrivateKey on generic curve params", withEC(func(p *ecdsa.PrivateKey) { p.Curve = params })},
			degenerateKey{curve + " ecdsa.PrivateKey without X", withEC(func(p *ecdsa.PrivateKey) { p.X = nil })},
			degenerateKey{curve + " ecdsa.PrivateKey without Y", withEC(func(p *ecdsa.PrivateKey) { p.Y = nil })},
			degenerateKey{curve + " ecdsa.PrivateKey off the curve", withEC(func(p *ecdsa.PrivateKey) { p.Y = bigPlus(p.Y, 1) })},
			degenerateKey{curve + " ecdsa.PrivateKey with only a curve", &ecdsa.PrivateKey{PublicKey: ecdsa.PublicKey{Curve: good.Curve}}},
			degenerateKey{curve + " ecdsa.PublicKey with only a curve", &ecdsa.PublicKey{Curve: good.Curve}},
			degenerateKey{curve + " ecdsa.PublicKey without a curve", withPub(func(p *ecdsa.PublicKey) { p.Curve = nil })},
			degenerateKey{curve + " ecdsa.PublicKey on generic curve params", withPub(func(p *ecdsa.PublicKey) { p.Curve = params })},
			degenerateKey{curve + " ecdsa.PublicKey without X", withPub(func(p *ecdsa.PublicKey) { p.X = nil })},
			degenerateKey{curve + " ecdsa.PublicKey without Y", withPub(func(p *ecdsa.PublicKey) { p.Y = nil })},
			degenerateKey{curve + " ecdsa.PublicKey off the curve", withPub(func(p *ecdsa.PublicKey) { p.Y = bigPlus(p.Y, 1) })},
			degenerateKey{curve + " ecdsa.PublicKey at (0, 0)", withPub(func(p *ecdsa.PublicKey) { p.X, p.Y = new(big.Int), new(big.Int) })},
			degenerateKey{curve + " ecdsa.PublicKey with a negative X", withPub(func(p *ecdsa.PublicKey) { p.X.Neg(p.X) })},
			degenerateKey{curve + " ecdsa.PublicKey with unreduced X", withPub(func(p *ecdsa.PublicKey) { p.X.Add(p.X, params.P) })},
		)
	}

	// Ed25519 keys.
	mismatched := append(ed25519.PrivateKey(nil), ed...)
	mismatched[40] ^= 1
	out = append(out,
		degenerateKey{"nil ed25519.PrivateKey", ed25519.PrivateKey(nil)},
		degenerateKey{"empty ed25519.PrivateKey", ed25519.PrivateKey{}},
		degenerateKey{"ed25519.PrivateKey of the seed only", ed25519.PrivateKey(ed.Seed())},
		degenerateKey{"63-byte ed25519.PrivateKey", ed[:63]},
		degenerateKey{"65-byte ed25519.PrivateKey", append(append(ed25519.PrivateKey(nil), ed...), 0)},
		degenerateKey{"ed25519.PrivateKey with another public half", mismatched},
		degenerateKey{"zero ed25519.PrivateKey", make(ed25519.PrivateKey, ed25519.PrivateKeySize)},
		degenerateKey{"nil ed25519.PublicKey", ed25519.PublicKey(nil)},
		degenerateKey{"empty ed25519.PublicKey", ed25519.PublicKey{}},
		degenerateKey{"31-byte ed25519.PublicKey", ed25519.PublicKey(ed[32:63])},
		degenerateKey{"33-byte ed25519.PublicKey", ed25519.PublicKey(append(append([]byte(nil), ed[32:]...), 0))},
		degenerateKey{"64-byte ed25519.PublicKey", ed25519.PublicKey(ed)},
	)
	return out
}

// isSecretFor reports whether key is a usable HMAC secret for alg: bytes
// or a string, long enough. Such a value is no degenerate key for HS*.
func isSecretFor(alg string, key any) bool {
	n, ok := hmacMinLen[alg]
	if !ok {
		return false
	}
	switch s := key.(type) {
	case []byte:
		return len(s) >= n
	case string:
		return len(s) >= n
	}
	return false
}

// newRecovering runs New and turns a panic into a test failure.
func newRecovering(tb testing.TB, opts ...authx.Option) (a *authx.Auth[string], err error) {
	tb.Helper()
	defer func() {
		if p := recover(); p != nil {
			tb.Errorf("New panicked: %v", p)
			a, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return authx.New[string](opts...)
}

func TestNewDegenerateKeys(t *testing.T) {
	t.Parallel()
	type keyOption struct {
		name string
		opt  func(alg string, key any) (authx.Option, bool) // false: not applicable
	}
	options := []keyOption{
		{"WithSecret", func(alg string, key any) (authx.Option, bool) {
			b, ok := key.([]byte)
			return authx.WithSecret(b), ok && alg == "HS256"
		}},
		{"WithSigningKey", func(alg string, key any) (authx.Option, bool) {
			return authx.WithSigningKey(alg, key), true
		}},
		{"WithVerificationKey", func(alg string, key any) (authx.Option, bool) {
			return authx.WithVerificationKey("", alg, key), true
		}},
		{"WithVerificationKey with kid", func(alg string, key any) (authx.Option, bool) {
			return authx.WithVerificationKey("k1", alg, key), true
		}},
	}
	keys := degenerateKeys(t)
	for _, alg := range keyAlgs {
		for _, o := range options {
			for _, k := range keys {
				if isSecretFor(alg, k.key) {
					continue // long enough bytes are an HMAC secret
				}
				opt, ok := o.opt(alg, k.key)
				if !ok {
					continue
				}
				t.Run(alg+"/"+o.name+"/"+k.name, func(t *testing.T) {
					t.Parallel()
					a, err := newRecovering(t, opt, authx.WithClock(func() time.Time { return testNow }))
					if !errors.Is(err, authx.ErrConfig) {
						t.Errorf("New error = %v, want one wrapping ErrConfig", err)
					}
					if a != nil {
						t.Errorf("New returned an Auth for a degenerate key")
					}
				})
			}
		}
	}
}

// keyPEMSeeds returns PEM encodings of valid and nearly valid keys, the
// seeds of FuzzNewKeyPEM.
func keyPEMSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	k := testKeys()
	rk := k["rsa"].(*rsa.PrivateKey)
	ed := k["ed"].(ed25519.PrivateKey)
	enc := func(typ string, der []byte, err error) []byte {
		if err != nil {
			tb.Fatalf("encoding %s: %v", typ, err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	pkcs8 := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		return enc("PRIVATE KEY", der, err)
	}
	pkixPub := func(key any) []byte {
		der, err := x509.MarshalPKIXPublicKey(key)
		return enc("PUBLIC KEY", der, err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authx"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rk.PublicKey, rk)
	seeds := [][]byte{
		nil, {}, []byte("-----BEGIN"), []byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"),
		pkcs8(rk), enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk), nil),
		pkixPub(&rk.PublicKey), enc("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rk.PublicKey), nil),
		enc("CERTIFICATE", cert, err),
		pkixPub(&rsa.PublicKey{N: rk.N, E: 1}),
		pkixPub(&rsa.PublicKey{N: rk.N, E: 65536}),
		pkcs8(ed), pkixPub(ed.Public()),
		[]byte(strings.Repeat("k", 64)),
	}
	for _, name := range []string{"p256", "p384", "p521"} {
		ek := k[name].(*ecdsa.PrivateKey)
		der, err := x509.MarshalECPrivateKey(ek)
		seeds = append(seeds, pkcs8(ek), enc("EC PRIVATE KEY", der, err), pkixPub(&ek.PublicKey))
	}
	return seeds
}

// FuzzNewKeyPEM feeds arbitrary bytes as key material to WithSigningKey and
// WithVerificationKey for every algorithm. New must not panic; it either
// refuses the bytes with ErrConfig or builds an Auth whose key works: a
// signing Auth issues a token that it, and a verifier built from the same
// bytes, verify.
func FuzzNewKeyPEM(f *testing.F) {
	for _, s := range keyPEMSeeds(f) {
		for i := range keyAlgs {
			f.Add(uint8(i), s)
		}
	}
	clock := func() time.Time { return testNow }
	// One algorithm per input keeps an execution cheap (RSA keys are slow
	// to check), so the fuzzer explores rather than waits.
	f.Fuzz(func(t *testing.T, algIndex uint8, material []byte) {
		for _, alg := range keyAlgs[int(algIndex)%len(keyAlgs):][:1] {
			signer, err := newRecovering(t, authx.WithSigningKey(alg, material), authx.WithClock(clock))
			if err != nil && !errors.Is(err, authx.ErrConfig) {
				t.Fatalf("%s: WithSigningKey: New error = %v, want one wrapping ErrConfig", alg, err)
			}
			verifier, verr := newRecovering(t, authx.WithVerificationKey("", alg, material), authx.WithClock(clock))
			if verr != nil && !errors.Is(verr, authx.ErrConfig) {
				t.Fatalf("%s: WithVerificationKey: New error = %v, want one wrapping ErrConfig", alg, verr)
			}
			if verifier != nil {
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("%s: Verify panicked: %v", alg, p)
						}
					}()
					_, _ = verifier.Verify(t.Context(), "eyJhbGciOiJIUzI1NiJ9.e30.c2ln")
				}()
			}
			if signer == nil {
				continue
			}
			tok, err := signer.CreateAccessToken("alice")
			if err != nil {
				t.Fatalf("%s: New accepted the key, CreateAccessToken: %v", alg, err)
			}
			if _, err := signer.Verify(t.Context(), tok); err != nil {
				t.Fatalf("%s: New accepted the key, Verify of its own token: %v", alg, err)
			}
			if verifier == nil {
				t.Fatalf("%s: a signing key refused for verification: %v", alg, verr)
			}
			if _, err := verifier.Verify(t.Context(), tok); err != nil {
				t.Fatalf("%s: verifier from the same bytes: %v", alg, err)
			}
		}
	})
}
