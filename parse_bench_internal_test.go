package authx

import (
	"strings"
	"testing"
)

// BenchmarkParseParts: the parts of keyring.parse for an HS256 access
// token with one scope, each alone, to see where a verification's time
// goes.
func BenchmarkParseParts(b *testing.B) {
	a, err := New[string](WithSecret([]byte("0123456789abcdef0123456789abcdef")))
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
