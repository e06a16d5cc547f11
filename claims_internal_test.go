package authx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestExactReserved: the switch of exactReserved agrees with reservedClaims,
// and reservedIndex's ASCII shortcut finds every case variant the
// EqualFold loop finds.
func TestExactReserved(t *testing.T) {
	for i, name := range reservedClaims {
		if got := exactReserved(name); got != i {
			t.Errorf("exactReserved(%q) = %d, want %d", name, got, i)
		}
		if idx, folded := reservedIndex(name); idx != i || folded {
			t.Errorf("reservedIndex(%q) = %d, %v; want %d, false", name, idx, folded, i)
		}
		for _, v := range []string{strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:],
			strings.ReplaceAll(name, "s", "\u017f"), strings.ReplaceAll(name, "k", "\u212a")} {
			if v == name {
				continue
			}
			if idx, folded := reservedIndex(v); idx != i || !folded {
				t.Errorf("reservedIndex(%q) = %d, %v; want %d, true", v, idx, folded, i)
			}
		}
	}
	for _, name := range []string{"role", "subject", "sub_", "org", "tenant_id", "x", "EXPIRY", "scope"} {
		if idx, _ := reservedIndex(name); idx >= 0 {
			t.Errorf("reservedIndex(%q) = %d, want -1", name, idx)
		}
	}
}

// TestVerifyECDSAAgreesWithGolangJWT: authx's own ECDSA check accepts
// exactly the signatures golang-jwt's accepts, for every curve, including
// signatures whose r or s has leading zero bytes or a high bit, and
// tampered, zero and out-of-range ones.
func TestVerifyECDSAAgreesWithGolangJWT(t *testing.T) {
	for _, tc := range []struct {
		alg    string
		curve  elliptic.Curve
		method *jwt.SigningMethodECDSA
	}{
		{"ES256", elliptic.P256(), jwt.SigningMethodES256},
		{"ES384", elliptic.P384(), jwt.SigningMethodES384},
		{"ES512", elliptic.P521(), jwt.SigningMethodES512},
	} {
		key, err := ecdsa.GenerateKey(tc.curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		size := (tc.curve.Params().BitSize + 7) / 8
		n := tc.curve.Params().N.FillBytes(make([]byte, size))
		var leadingZero, highBit int
		for i := 0; i < 50 || (leadingZero == 0 || (highBit == 0 && tc.alg != "ES512")) && i < 5000; i++ {
			input := "header.payload" + strings.Repeat("x", i)
			sig, err := tc.method.Sign(input, key)
			if err != nil {
				t.Fatal(err)
			}
			if sig[0] == 0 || sig[size] == 0 {
				leadingZero++
			}
			if sig[0]&0x80 != 0 || sig[size]&0x80 != 0 {
				highBit++
			}
			cases := [][]byte{sig}
			bad := append([]byte(nil), sig...)
			bad[i%len(bad)] ^= 1
			cases = append(cases, bad, sig[:len(sig)-1], append(append([]byte(nil), sig...), 0))
			if i < 4 {
				zeroR := append(make([]byte, size), sig[size:]...)
				zeroS := append(append([]byte(nil), sig[:size]...), make([]byte, size)...)
				bigR := append(append([]byte(nil), n...), sig[size:]...)
				ones := []byte(strings.Repeat("\xff", 2*size))
				cases = append(cases, zeroR, zeroS, bigR, ones, make([]byte, 2*size))
			}
			for j, s := range cases {
				want := tc.method.Verify(input, s, &key.PublicKey) == nil
				if got := verifyECDSA(tc.alg, &key.PublicKey, []byte(input), s); got != want {
					t.Fatalf("%s input %d case %d: authx %v, golang-jwt %v", tc.alg, i, j, got, want)
				}
				if j == 0 && !want {
					t.Fatalf("%s: golang-jwt refuses its own signature", tc.alg)
				}
			}
		}
		// P-521's top byte holds one bit: no high bit to see there.
		if leadingZero == 0 || (highBit == 0 && tc.alg != "ES512") {
			t.Fatalf("%s: the signatures never had a leading zero (%d) or a high bit (%d)", tc.alg, leadingZero, highBit)
		}
	}
}

// TestKnownHeaders: the header segment of each configured key's tokens is
// answered from memory, with what decodeHeader answers.
func TestKnownHeaders(t *testing.T) {
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New[string](WithSecret([]byte("0123456789abcdef0123456789abcdef")), WithKeyID("k1"),
		WithVerificationKey("k2", "ES256", &other.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.e.keys.known) != 2 {
		t.Fatalf("%d known headers, want 2", len(a.e.keys.known))
	}
	tok, err := a.CreateAccessToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	seg := tok[:strings.IndexByte(tok, '.')]
	hit := false
	for _, k := range a.e.keys.known {
		hit = hit || k.seg == seg
		h, err := a.e.keys.decodeHeader(k.seg, nil)
		if err != nil || h != k.h {
			t.Errorf("known header %q: %+v, decodeHeader says %+v, %v", k.seg, k.h, h, err)
		}
	}
	if !hit {
		t.Errorf("the token's header %q is not known", seg)
	}
}
