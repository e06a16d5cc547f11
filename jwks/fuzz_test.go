package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The fuzz targets run in package jwks, on the parsers of what the network
// sends: a JWK Set, a discovery document, the cache headers.

// maxErrorBytes bounds errors of the parsers, whatever the input: strings
// from it are cut to 512 bytes, which %q may write as up to 4 times that.
const maxErrorBytes = 4096

var fuzzPins = []string{"", "RS256", "PS512", "ES256", "ES512", "EdDSA"}

// FuzzParseJWKS: parseJWKS never panics, fails only with ErrInvalid and a
// bounded error, and every key it returns is a public key of an accepted
// asymmetric algorithm that fits it — never HMAC, "none", a private or a
// weak key.
func FuzzParseJWKS(f *testing.F) {
	pub := func(name string, extra map[string]any) string { return jwkOf(f, name, false, extra) }
	seeds := [][]byte{
		set(pub("rsa", nil), pub("p256", nil), pub("p384", nil), pub("ed", nil)),
		set(pub("rsa", map[string]any{"alg": nil}), pub("p256", map[string]any{"use": "enc"})),
		set(pub("rsa", map[string]any{"alg": "HS256"}), pub("ed", map[string]any{"alg": "none"})),
		set(jwkOf(f, "rsa", true, nil), jwkOf(f, "p256", true, nil), jwkOf(f, "ed", true, nil)),
		set(`{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}`, `{"kty":"RSA","n":"AQAB","e":"AQAB"}`),
		set(pub("ed", map[string]any{"x5c": []string{"MIIB"}, "key_ops": []string{"verify"}})),
		[]byte(`{"keys":[],"keys":[]}`),
		[]byte(`[[[[{"keys":1}]]]]`),
	}
	for _, s := range seeds {
		for pin := range fuzzPins {
			f.Add(s, uint8(pin))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, pin uint8) {
		const maxKeys = 20
		defaultAlg := fuzzPins[int(pin)%len(fuzzPins)]
		keys, skipped, err := parseJWKS(body, maxKeys, defaultAlg)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || keys != nil {
				t.Fatalf("error %v with %d keys, want ErrInvalid and none", err, len(keys))
			}
			if len(err.Error()) > maxErrorBytes {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if len(keys)+len(skipped) > maxKeys {
			t.Fatalf("%d keys and %d skipped, more than %d entries", len(keys), len(skipped), maxKeys)
		}
		for _, s := range skipped {
			if len(s.reason) > maxErrorBytes {
				t.Fatalf("a skip reason of %d bytes", len(s.reason))
			}
		}
		for _, k := range keys {
			if len(k.KID) > maxKIDBytes {
				t.Fatalf("a kid of %d bytes", len(k.KID))
			}
			typ, ok := algKeyType[k.Alg]
			if !ok {
				t.Fatalf("a key for alg %q", k.Alg)
			}
			switch key := k.Key.(type) {
			case *rsa.PublicKey:
				if typ != "RSA" || key.N.BitLen() < minRSABits || key.N.BitLen() > maxRSABits || key.E < 3 || key.E%2 == 0 {
					t.Fatalf("an RSA key of %d bits, e %d, for %s", key.N.BitLen(), key.E, k.Alg)
				}
			case *ecdsa.PublicKey:
				if typ != "EC" || key.Curve != ecdsaCurves[k.Alg] {
					t.Fatalf("an EC key on %s for %s", key.Curve.Params().Name, k.Alg)
				}
				if _, err := key.ECDH(); err != nil {
					t.Fatalf("an invalid EC key: %v", err)
				}
			case ed25519.PublicKey:
				if typ != "OKP" || len(key) != ed25519.PublicKeySize {
					t.Fatalf("an Ed25519 key of %d bytes for %s", len(key), k.Alg)
				}
			default:
				t.Fatalf("a key of type %T for %s", k.Key, k.Alg)
			}
		}
	})
}

// FuzzDiscovery: reading a discovery document never panics, fails with
// ErrInvalid or ErrIssuerMismatch and a bounded error, and what it accepts
// names exactly the issuer asked for and an https jwks_uri with a host.
func FuzzDiscovery(f *testing.F) {
	const iss = "https://issuer.example"
	for _, s := range []string{
		`{"issuer":"https://issuer.example","jwks_uri":"https://keys.example/jwks"}`,
		`{"issuer":"https://issuer.example/","jwks_uri":"https://keys.example/jwks"}`,
		`{"issuer":"https://issuer.example","jwks_uri":"http://keys.example/jwks"}`,
		`{"issuer":"https://issuer.example","jwks_uri":"https://keys.example/jwks#f","issuer":"x"}`,
		`{"issuer":"https://issuer.example","jwks_uri":"//keys.example/jwks","response_types_supported":["code"]}`,
		`{"issuer":null,"jwks_uri":{}}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := discoveryFrom(body, iss)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrIssuerMismatch) {
				t.Fatalf("error %v, want ErrInvalid or ErrIssuerMismatch", err)
			}
			if len(err.Error()) > maxErrorBytes+len(iss) {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		doc, _ := parseDiscovery(body)
		if doc.Issuer != iss {
			t.Fatalf("accepted issuer %q, want %q", doc.Issuer, iss)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Fragment != "" || len(got) > maxURLBytes {
			t.Fatalf("accepted jwks_uri %q (%v)", got, err)
		}
	})
}

// FuzzCacheLifetime: any Cache-Control, Age, Expires and Date headers give
// a lifetime within the bounds, without panicking.
func FuzzCacheLifetime(f *testing.F) {
	for _, s := range [][4]string{
		{"public, max-age=600", "", "", ""},
		{"max-age=1500", "600", "", ""},
		{`max-age="9999999999999999999999"`, "-1", "", ""},
		{"no-cache, max-age=60", "", "", ""},
		{"", "", "Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:20:00 GMT"},
		{"", "", "0", ""},
		{"max-age=1, max-age=2", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	const lo, hi = time.Minute, time.Hour
	f.Fuzz(func(t *testing.T, cc, age, expires, date string) {
		h := http.Header{}
		for k, v := range map[string]string{"Cache-Control": cc, "Age": age, "Expires": expires, "Date": date} {
			if v != "" {
				h.Set(k, v)
			}
		}
		life, source := cacheLifetime(h, now, lo, hi)
		if life < lo || life > hi || source == "" {
			t.Fatalf("lifetime %v (%s), want %v to %v", life, source, lo, hi)
		}
	})
}
