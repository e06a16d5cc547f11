package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseKeys are the keys of the parser's tests, made once.
var parseKeys = sync.OnceValues(func() (map[string]any, error) {
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return map[string]any{"rsa": r, "p256": p256, "p384": p384, "ed": ed}, nil
})

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// oddNumber returns an odd number of exactly bits bits: a modulus for
// tests that only parse.
func oddNumber(bits int) *big.Int {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return n.Or(n, big.NewInt(1))
}

// jwkOf returns the members of the JWK of one of parseKeys, public or
// private, with extra members merged in (nil deletes).
func jwkOf(tb testing.TB, name string, private bool, extra map[string]any) string {
	tb.Helper()
	all, err := parseKeys()
	if err != nil {
		tb.Fatal(err)
	}
	m := map[string]any{}
	switch k := all[name].(type) {
	case *rsa.PrivateKey:
		m = map[string]any{"kty": "RSA", "n": b64(k.N.Bytes()), "e": "AQAB", "alg": "RS256", "kid": name}
		if private {
			m["d"], m["p"], m["q"] = b64(k.D.Bytes()), b64(k.Primes[0].Bytes()), b64(k.Primes[1].Bytes())
		}
	case *ecdsa.PrivateKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		crv, alg := "P-256", "ES256"
		if size == 48 {
			crv, alg = "P-384", "ES384"
		}
		pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			tb.Fatal(err)
		}
		m = map[string]any{"kty": "EC", "crv": crv, "x": b64(pub[1 : 1+size]), "y": b64(pub[1+size:]), "alg": alg, "kid": name}
		if private {
			d, err := k.Bytes()
			if err != nil {
				tb.Fatal(err)
			}
			m["d"] = b64(d)
		}
	case ed25519.PrivateKey:
		m = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(k.Public().(ed25519.PublicKey)), "alg": "EdDSA", "kid": name}
		if private {
			m["d"] = b64(k.Seed())
		}
	default:
		tb.Fatalf("no key %q", name)
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func set(jwks ...string) []byte { return []byte(`{"keys":[` + strings.Join(jwks, ",") + `]}`) }

// Each entry of a JWK Set is judged alone: the keys kept, and why the others
// were skipped.
func TestParseJWK(t *testing.T) {
	t.Parallel()
	pub := func(name string, extra map[string]any) string { return jwkOf(t, name, false, extra) }
	tests := []struct {
		name       string
		jwk        string
		defaultAlg string
		wantAlg    string // kept with this alg, or
		wantSkip   string // skipped, the reason holding this
		private    bool
	}{
		{name: "RSA", jwk: pub("rsa", nil), wantAlg: "RS256"},
		{name: "RSA PS512", jwk: pub("rsa", map[string]any{"alg": "PS512"}), wantAlg: "PS512"},
		{name: "EC P-256", jwk: pub("p256", nil), wantAlg: "ES256"},
		{name: "EC P-384", jwk: pub("p384", nil), wantAlg: "ES384"},
		{name: "Ed25519", jwk: pub("ed", nil), wantAlg: "EdDSA"},
		{name: "use sig", jwk: pub("ed", map[string]any{"use": "sig"}), wantAlg: "EdDSA"},
		{name: "key_ops verify", jwk: pub("ed", map[string]any{"key_ops": []string{"verify"}}), wantAlg: "EdDSA"},
		{name: "no alg, pinned", jwk: pub("rsa", map[string]any{"alg": nil}), defaultAlg: "RS384", wantAlg: "RS384"},
		{name: "own alg over the pin", jwk: pub("rsa", nil), defaultAlg: "PS256", wantAlg: "RS256"},

		{name: "no alg", jwk: pub("rsa", map[string]any{"alg": nil}), wantSkip: "no alg, and no WithDefaultAlg"},
		{name: "no alg, pin of another type", jwk: pub("rsa", map[string]any{"alg": nil}), defaultAlg: "ES256", wantSkip: "alg ES256 needs an EC key, the JWK holds a RSA key"},
		{name: "alg none", jwk: pub("p256", map[string]any{"alg": "none"}), wantSkip: `alg "none" is not accepted`},
		{name: "alg HS256", jwk: pub("rsa", map[string]any{"alg": "HS256"}), wantSkip: `alg "HS256" is not accepted`},
		{name: "alg RSA-OAEP", jwk: pub("rsa", map[string]any{"alg": "RSA-OAEP"}), wantSkip: `alg "RSA-OAEP" is not accepted`},
		{name: "alg of another type", jwk: pub("ed", map[string]any{"alg": "ES256"}), wantSkip: "alg ES256 needs an EC key, the JWK holds a Ed25519 key"},
		{name: "curve not alg's", jwk: pub("p384", map[string]any{"alg": "ES256"}), wantSkip: "ES256 needs curve P-256, key is on P-384"},
		{name: "use enc", jwk: pub("rsa", map[string]any{"use": "enc"}), wantSkip: `use "enc"`},
		{name: "key_ops encrypt", jwk: pub("rsa", map[string]any{"key_ops": []string{"encrypt"}}), wantSkip: `key_ops without "verify"`},
		{name: "key_ops a string", jwk: pub("rsa", map[string]any{"key_ops": "verify"}), wantSkip: `key_ops without "verify"`},
		{name: "RSA 1024", jwk: pub("rsa", map[string]any{"n": b64(oddNumber(1024).Bytes())}), wantSkip: "1024 bits, want 2048 to 8192"},
		{name: "RSA 5000", jwk: pub("rsa", map[string]any{"n": b64(oddNumber(5000).Bytes())}), wantSkip: "unsupported key type"},
		{name: "RSA even modulus", jwk: pub("rsa", map[string]any{"n": b64(new(big.Int).Lsh(big.NewInt(1), 2048).Bytes())}), wantSkip: "no positive odd modulus"},
		{name: "RSA exponent 2", jwk: pub("rsa", map[string]any{"e": "Ag"}), wantSkip: "public exponent 2"},
		{name: "RSA exponent 1", jwk: pub("rsa", map[string]any{"e": "AQ"}), wantSkip: "bad e value"},
		{name: "EC off the curve", jwk: pub("p256", map[string]any{"y": b64(make([]byte, 32))}), wantSkip: "not on declared curve"},
		{name: "Ed25519 low order", jwk: pub("ed", map[string]any{"x": b64(append([]byte{1}, make([]byte, 31)...))}), wantSkip: "low-order point"},
		{name: "X25519", jwk: pub("ed", map[string]any{"crv": "X25519"}), wantSkip: "unsupported key type"},
		{name: "no kty", jwk: pub("ed", map[string]any{"kty": nil}), wantSkip: "missing json web key type"},
		{name: "kty in capitals", jwk: `{"KTY":"OKP","crv":"Ed25519","x":"AAAA"}`, wantSkip: "missing json web key type"},
		{name: "duplicate member", jwk: `{"kty":"OKP","kty":"EC"}`, wantSkip: "not a JSON object"},
		{name: "not an object", jwk: `"a key"`, wantSkip: "not a JSON object"},
		{name: "null", jwk: `null`, wantSkip: "not a JSON object"},
		{name: "long kid", jwk: pub("ed", map[string]any{"kid": strings.Repeat("k", 1025)}), wantSkip: "kid of 1025 bytes"},
		{name: "x5c of another key", jwk: pub("ed", map[string]any{"x5c": []string{"AAAA"}}), wantSkip: "x5c"},

		{name: "oct", jwk: `{"kty":"oct","k":"c2VjcmV0","alg":"HS256","kid":"s"}`, wantSkip: `symmetric key (kty "oct")`, private: true},
		{name: "oct without k", jwk: `{"kty":"oct","alg":"HS256"}`, wantSkip: `symmetric key`, private: true},
		{name: "k in another kty", jwk: pub("ed", map[string]any{"k": "c2VjcmV0"}), wantSkip: `member "k"`, private: true},
		{name: "RSA private", jwk: jwkOf(t, "rsa", true, nil), wantSkip: `private key material (member "d")`, private: true},
		{name: "RSA prime only", jwk: pub("rsa", map[string]any{"q": "AQAB"}), wantSkip: `member "q"`, private: true},
		{name: "EC private", jwk: jwkOf(t, "p256", true, nil), wantSkip: `member "d"`, private: true},
		{name: "Ed25519 private", jwk: jwkOf(t, "ed", true, nil), wantSkip: `member "d"`, private: true},
		{name: "d null", jwk: pub("ed", map[string]any{"d": json.RawMessage("null")}), wantSkip: `member "d"`, private: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys, skipped, err := parseJWKS(set(tt.jwk), 10, tt.defaultAlg)
			if err != nil {
				t.Fatalf("parseJWKS: %v", err)
			}
			if tt.wantAlg != "" {
				if len(keys) != 1 || keys[0].Alg != tt.wantAlg || len(skipped) != 0 {
					t.Fatalf("keys %v, skipped %v; want one %s key", keys, skipped, tt.wantAlg)
				}
				return
			}
			if len(keys) != 0 || len(skipped) != 1 {
				t.Fatalf("keys %v, skipped %v; want the JWK skipped", keys, skipped)
			}
			if !strings.Contains(skipped[0].reason, tt.wantSkip) || skipped[0].private != tt.private {
				t.Errorf("skipped: %q (private %v), want a reason with %q (private %v)", skipped[0].reason, skipped[0].private, tt.wantSkip, tt.private)
			}
		})
	}
}

// Entries that share a kid are kept, in order; an exact duplicate is not.
func TestParseDuplicateKIDs(t *testing.T) {
	t.Parallel()
	rs := jwkOf(t, "rsa", false, map[string]any{"kid": "k"})
	ps := jwkOf(t, "rsa", false, map[string]any{"kid": "k", "alg": "PS256"})
	ec := jwkOf(t, "p256", false, map[string]any{"kid": "k"})
	keys, _, err := parseJWKS(set(rs, ps, rs, ec, ps), 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.KID+" "+k.Alg)
	}
	if diff := cmp.Diff([]string{"k RS256", "k PS256", "k ES256"}, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

// A document that is not a JWK Set fails as a whole.
func TestParseJWKSDocument(t *testing.T) {
	t.Parallel()
	ten := make([]string, 11)
	for i := range ten {
		ten[i] = jwkOf(t, "ed", false, map[string]any{"kid": string(rune('a' + i))})
	}
	tests := []struct {
		name    string
		body    string
		wantMsg string
	}{
		{name: "empty", body: "", wantMsg: "not valid JSON"},
		{name: "garbage", body: "<html>", wantMsg: "not valid JSON"},
		{name: "truncated", body: `{"keys":[{"kty":`, wantMsg: "not valid JSON"},
		{name: "deep", body: strings.Repeat("[", 100000) + strings.Repeat("]", 100000), wantMsg: "not valid JSON"},
		{name: "array", body: `[]`, wantMsg: "JWK Set: json: cannot unmarshal array"},
		{name: "no keys", body: `{}`, wantMsg: `no "keys" array`},
		{name: "keys null", body: `{"keys":null}`, wantMsg: `no "keys" array`},
		{name: "keys an object", body: `{"keys":{}}`, wantMsg: "cannot unmarshal object"},
		{name: "Keys", body: `{"Keys":[]}`, wantMsg: `no "keys" array`},
		{name: "duplicate keys", body: `{"keys":[],"keys":[]}`, wantMsg: "duplicate key 'keys'"},
		{name: "too many", body: string(set(ten...)), wantMsg: "11 keys, more than WithMaxKeys(10)"},
		{name: "long member name", body: `{"` + strings.Repeat("x", 10000) + `":1,"` + strings.Repeat("x", 10000) + `":1}`, wantMsg: "…(10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys, _, err := parseJWKS([]byte(tt.body), 10, "")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantMsg) || keys != nil {
				t.Errorf("parseJWKS: %v, %v; want ErrInvalid saying %q", keys, err, tt.wantMsg)
			}
			if err != nil && len(err.Error()) > 1000 {
				t.Errorf("the error is %d bytes: strings from the document must be bounded", len(err.Error()))
			}
		})
	}
}

// Discovery documents: issuer and jwks_uri, nothing else is read.
func TestParseDiscovery(t *testing.T) {
	t.Parallel()
	const iss = "https://issuer.example"
	tests := []struct {
		name    string
		body    string
		want    string // jwks_uri, or
		wantErr error
	}{
		{name: "good", body: `{"issuer":"https://issuer.example","jwks_uri":"https://keys.example/jwks","extra":{"a":[1,2]}}`, want: "https://keys.example/jwks"},
		{name: "issuer differs", body: `{"issuer":"https://issuer.example/","jwks_uri":"https://keys.example/jwks"}`, wantErr: ErrIssuerMismatch},
		{name: "issuer's case differs", body: `{"issuer":"https://ISSUER.example","jwks_uri":"https://keys.example/jwks"}`, wantErr: ErrIssuerMismatch},
		{name: "members in capitals", body: `{"Issuer":"https://issuer.example","JWKS_URI":"https://keys.example/jwks"}`, wantErr: ErrInvalid},
		{name: "duplicate issuer", body: `{"issuer":"https://evil.example","issuer":"https://issuer.example","jwks_uri":"https://keys.example/jwks"}`, wantErr: ErrInvalid},
		{name: "issuer a number", body: `{"issuer":1,"jwks_uri":"https://keys.example/jwks"}`, wantErr: ErrInvalid},
		{name: "jwks_uri http", body: `{"issuer":"https://issuer.example","jwks_uri":"http://keys.example/jwks"}`, wantErr: ErrInvalid},
		{name: "jwks_uri relative", body: `{"issuer":"https://issuer.example","jwks_uri":"/jwks"}`, wantErr: ErrInvalid},
		{name: "jwks_uri with a fragment", body: `{"issuer":"https://issuer.example","jwks_uri":"https://keys.example/jwks#x"}`, wantErr: ErrInvalid},
		{name: "jwks_uri javascript", body: `{"issuer":"https://issuer.example","jwks_uri":"javascript:alert(1)"}`, wantErr: ErrInvalid},
		{name: "not JSON", body: `issuer=x`, wantErr: ErrInvalid},
		{name: "an array", body: `[]`, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := discoveryFrom([]byte(tt.body), iss)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) || got != tt.want {
				t.Errorf("jwks_uri %q, error %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// discoveryFrom is the whole of reading a discovery document for issuer.
func discoveryFrom(body []byte, issuer string) (string, error) {
	doc, err := parseDiscovery(body)
	if err != nil {
		return "", err
	}
	return checkDiscovery(doc, issuer, false)
}

func TestDiscoveryURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://issuer.example", []string{"https://issuer.example/.well-known/openid-configuration", "https://issuer.example/.well-known/oauth-authorization-server"}},
		{"https://issuer.example/", []string{"https://issuer.example/.well-known/openid-configuration", "https://issuer.example/.well-known/oauth-authorization-server"}},
		{"https://issuer.example/t/v2", []string{"https://issuer.example/t/v2/.well-known/openid-configuration", "https://issuer.example/.well-known/oauth-authorization-server/t/v2"}},
		{"https://issuer.example:8443/t%2Fx/", []string{"https://issuer.example:8443/t%2Fx/.well-known/openid-configuration", "https://issuer.example:8443/.well-known/oauth-authorization-server/t%2Fx"}},
	}
	for _, tt := range tests {
		got, err := discoveryURLs(tt.issuer, false)
		if err != nil {
			t.Errorf("discoveryURLs(%q): %v", tt.issuer, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("discoveryURLs(%q) (-want +got):\n%s", tt.issuer, diff)
		}
	}
}

func TestCut(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"kid", "kid"},
		{strings.Repeat("é", 40), strings.Repeat("é", 32) + "…(80 bytes)"},
		{strings.Repeat("a", 63) + "é", strings.Repeat("a", 63) + "…(65 bytes)"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
	}
	for _, tt := range tests {
		if got := cut(tt.in); got != tt.want {
			t.Errorf("cut(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
