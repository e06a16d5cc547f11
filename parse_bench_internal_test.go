package authx

import (
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
)

// BenchmarkParseParts: the parts of keyring.parse for an HS256 access
// token with one scope, each alone, to see where a verification's time
// goes.
func BenchmarkParseParts(b *testing.B) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []struct {
		alg string
		key any
	}{{"HS256", []byte("0123456789abcdef0123456789abcdef")}, {"RS256", rk}} {
		b.Run(k.alg, func(b *testing.B) { benchParseParts(b, k.alg, k.key) })
	}
}

func benchParseParts(b *testing.B, alg string, key any) {
	a, err := New[string](WithSigningKey(alg, key))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := a.CreateAccessToken("alice", Grant("reports:read"))
	if err != nil {
		b.Fatal(err)
	}
	kr := &a.e.keys
	d1 := strings.IndexByte(tok, '.')
	d2 := strings.LastIndexByte(tok, '.')
	payload, err := decodePayload(tok[d1+1 : d2])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c Claims
			if err := kr.parse(tok, 256, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("header", func(b *testing.B) {
		for b.Loop() {
			if _, err := kr.header(tok[:d1], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signature-b64", func(b *testing.B) {
		var sbuf [signatureScratch]byte
		for b.Loop() {
			if _, err := decodeSignature(tok[d2+1:], sbuf[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signature", func(b *testing.B) {
		var sbuf [signatureScratch]byte
		sig, _ := decodeSignature(tok[d2+1:], sbuf[:])
		for b.Loop() {
			if !kr.signing.verifySignature(tok[:d2], sig) {
				b.Fatal("bad signature")
			}
		}
	})
	b.Run("payload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodePayload(tok[d1+1 : d2]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("claims", func(b *testing.B) {
		c := new(Claims)
		for b.Loop() {
			*c = Claims{}
			if err := decodeClaimsInto(payload, 256, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
