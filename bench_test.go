package authx_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/golang-jwt/jwt/v5"
)

// The guard benchmarks run a protected handler for a request carrying a
// token in the Authorization header. The floors, measured in the same run:
//
//   - Floor/golang-jwt-typed-<alg>: golang-jwt's ParseWithClaims into a
//     typed struct with the same checks (pinned algorithm, exp required,
//     iat checked), the fastest a Go peer gets;
//   - Floor/bare-handler: the handler with no authentication at all.
//
// Compare with benchstat, or read ns/op and allocs/op side by side:
//
//	go test -run '^$' -bench 'Guard|Floor' -benchmem -count 6 .
//
// BenchmarkCryptoFloor is the signature check alone, and
// Guard/<alg>/cache-hit a guard with WithVerificationCache. The README's
// "Speed" table is made from one such run by internal/benchtable.

var benchNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type benchKey struct {
	alg  string
	sign any
	ver  any
}

func benchKeys(b *testing.B) []benchKey {
	b.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	return []benchKey{
		{"HS256", []byte("0123456789abcdef0123456789abcdef"), []byte("0123456789abcdef0123456789abcdef")},
		{"ES256", ec, &ec.PublicKey},
		{"EdDSA", ed, ed.Public()},
		{"RS256", rk, &rk.PublicKey},
	}
}

// nopWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the guard rather than a recorder.
type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

func BenchmarkGuard(b *testing.B) {
	for _, k := range benchKeys(b) {
		clock := authtest.NewClock(benchNow)
		a, err := authx.New[string](authx.WithSigningKey(k.alg, k.sign), authx.WithClock(clock.Now))
		if err != nil {
			b.Fatal(err)
		}
		guard := a.Require().Wrap(okHandler)
		valid := authtest.Token(b, a, "alice", authx.Grant("reports:read"))
		expired := authtest.ExpiredToken(b, a, "alice")
		cached := cachedGuard(b, k)
		for _, tc := range []struct {
			name, tok string
			guard     http.Handler
			want      int
		}{
			{"valid", valid, guard, http.StatusOK},
			{"expired", expired, guard, http.StatusUnauthorized},
			{"no-token", "", guard, http.StatusUnauthorized},
			{"cache-hit", cached.tok, cached.guard, http.StatusOK},
		} {
			b.Run(k.alg+"/"+tc.name, func(b *testing.B) {
				r, err := http.NewRequest(http.MethodGet, "/", nil)
				if err != nil {
					b.Fatal(err)
				}
				if tc.tok != "" {
					r.Header.Set("Authorization", "Bearer "+tc.tok)
				}
				w := &nopWriter{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					tc.guard.ServeHTTP(w, r)
				}
				if w.code != tc.want {
					b.Fatalf("status %d, want %d", w.code, tc.want)
				}
			})
		}
	}
}

// cachedGuard returns a guard of an Auth with WithVerificationCache(10000)
// whose cache holds 1000 other tokens, and a token it holds too.
func cachedGuard(b *testing.B, k benchKey) (out struct {
	guard http.Handler
	tok   string
}) {
	b.Helper()
	clock := authtest.NewClock(benchNow)
	a, err := authx.New[string](authx.WithSigningKey(k.alg, k.sign), authx.WithClock(clock.Now), authx.WithVerificationCache(10000))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 1000 {
		if _, err := a.Verify(ctx, authtest.Token(b, a, "user-"+strconv.Itoa(i), authx.Grant("reports:read"))); err != nil {
			b.Fatal(err)
		}
	}
	out.tok = authtest.Token(b, a, "alice", authx.Grant("reports:read"))
	if _, err := a.Verify(ctx, out.tok); err != nil {
		b.Fatal(err)
	}
	out.guard = a.Require().Wrap(okHandler)
	return out
}

// BenchmarkGuardParallel: valid tokens through one shared guard from every
// core (-cpu 1,2,…), uncached and cached, so that shared state contends.
func BenchmarkGuardParallel(b *testing.B) {
	for _, k := range benchKeys(b)[:2] { // HS256, ES256
		clock := authtest.NewClock(benchNow)
		a, err := authx.New[string](authx.WithSigningKey(k.alg, k.sign), authx.WithClock(clock.Now))
		if err != nil {
			b.Fatal(err)
		}
		cached := cachedGuard(b, k)
		for _, tc := range []struct {
			name, tok string
			guard     http.Handler
		}{
			{"valid", authtest.Token(b, a, "alice", authx.Grant("reports:read")), a.Require().Wrap(okHandler)},
			{"cache-hit", cached.tok, cached.guard},
		} {
			b.Run(k.alg+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					r, err := http.NewRequest(http.MethodGet, "/", nil)
					if err != nil {
						b.Error(err)
						return
					}
					r.Header.Set("Authorization", "Bearer "+tc.tok)
					w := &nopWriter{h: make(http.Header)}
					ran := false
					for pb.Next() {
						tc.guard.ServeHTTP(w, r)
						ran = true
					}
					if ran && w.code != http.StatusOK {
						b.Errorf("status %d", w.code)
					}
				})
			})
		}
	}
}

// BenchmarkGuardEvents: a guard with a WithEvents hook that does nothing,
// HS256: what emitting EventVerified (and, expired, EventDenied) costs over
// Guard/HS256, which has no hook and so builds no event at all.
func BenchmarkGuardEvents(b *testing.B) {
	clock := authtest.NewClock(benchNow)
	a, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")), authx.WithClock(clock.Now),
		authx.WithEvents(func(context.Context, authx.Event) {}))
	if err != nil {
		b.Fatal(err)
	}
	guard := a.Require().Wrap(okHandler)
	for _, tc := range []struct {
		name, tok string
		want      int
	}{
		{"valid", authtest.Token(b, a, "alice", authx.Grant("reports:read")), http.StatusOK},
		{"expired", authtest.ExpiredToken(b, a, "alice"), http.StatusUnauthorized},
	} {
		b.Run("HS256/"+tc.name, func(b *testing.B) {
			r, err := http.NewRequest(http.MethodGet, "/", nil)
			if err != nil {
				b.Fatal(err)
			}
			r.RemoteAddr = "192.0.2.1:1234"
			r.Header.Set("Authorization", "Bearer "+tc.tok)
			w := &nopWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				guard.ServeHTTP(w, r)
			}
			if w.code != tc.want {
				b.Fatalf("status %d, want %d", w.code, tc.want)
			}
		})
	}
}

// typedClaims is what a golang-jwt user declares to read AuthX tokens.
type typedClaims struct {
	jwt.RegisteredClaims
	Type   string   `json:"type"`
	Fresh  bool     `json:"fresh"`
	CSRF   string   `json:"csrf"`
	Scopes []string `json:"scopes"`
}

func BenchmarkFloor(b *testing.B) {
	for _, k := range benchKeys(b) {
		clock := authtest.NewClock(benchNow)
		a, err := authx.New[string](authx.WithSigningKey(k.alg, k.sign), authx.WithClock(clock.Now))
		if err != nil {
			b.Fatal(err)
		}
		valid := authtest.Token(b, a, "alice", authx.Grant("reports:read"))
		b.Run("golang-jwt-typed-"+k.alg, func(b *testing.B) {
			p := jwt.NewParser(
				jwt.WithValidMethods([]string{k.alg}),
				jwt.WithExpirationRequired(),
				jwt.WithIssuedAt(),
				jwt.WithTimeFunc(clock.Now),
			)
			keyFunc := func(*jwt.Token) (any, error) { return k.ver, nil }
			b.ReportAllocs()
			for b.Loop() {
				var c typedClaims
				tok, err := p.ParseWithClaims(valid, &c, keyFunc)
				if err != nil || !tok.Valid || c.Type != "access" {
					b.Fatalf("parse: %v", err)
				}
			}
		})
	}
	b.Run("bare-handler", func(b *testing.B) {
		r, err := http.NewRequest(http.MethodGet, "/", nil)
		if err != nil {
			b.Fatal(err)
		}
		w := &nopWriter{h: make(http.Header)}
		b.ReportAllocs()
		for b.Loop() {
			okHandler.ServeHTTP(w, r)
		}
	})
}

// BenchmarkCryptoFloor is the signature check alone, on the same token as
// Guard/<alg>/valid: what no verifier can go below.
//
//	HS256: split at the dots, decode the signature, HMAC-SHA256 with reused
//	       state, hmac.Equal
//	ES256: SHA-256 and ecdsa.VerifyASN1 (the signature already DER)
//	EdDSA: ed25519.Verify
//	RS256: SHA-256 and rsa.VerifyPKCS1v15
func BenchmarkCryptoFloor(b *testing.B) {
	for _, k := range benchKeys(b) {
		clock := authtest.NewClock(benchNow)
		a, err := authx.New[string](authx.WithSigningKey(k.alg, k.sign), authx.WithClock(clock.Now))
		if err != nil {
			b.Fatal(err)
		}
		tok := authtest.Token(b, a, "alice", authx.Grant("reports:read"))
		d := strings.LastIndexByte(tok, '.')
		input := []byte(tok[:d])
		sig, err := base64.RawURLEncoding.DecodeString(tok[d+1:])
		if err != nil {
			b.Fatal(err)
		}
		var check func() bool
		switch k.alg {
		case "HS256":
			mac := hmac.New(sha256.New, k.ver.([]byte))
			sum := make([]byte, 0, sha256.Size)
			buf := make([]byte, 64)
			check = func() bool {
				d1 := strings.IndexByte(tok, '.')
				d2 := d1 + 1 + strings.IndexByte(tok[d1+1:], '.')
				n, err := base64.RawURLEncoding.Decode(buf, []byte(tok[d2+1:]))
				mac.Reset()
				mac.Write(input)
				sum = mac.Sum(sum[:0])
				return err == nil && hmac.Equal(sum, buf[:n])
			}
		case "ES256":
			der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
			if err != nil {
				b.Fatal(err)
			}
			pub := k.ver.(*ecdsa.PublicKey)
			check = func() bool {
				h := sha256.Sum256(input)
				return ecdsa.VerifyASN1(pub, h[:], der)
			}
		case "EdDSA":
			pub := k.ver.(ed25519.PublicKey)
			check = func() bool { return ed25519.Verify(pub, input, sig) }
		case "RS256":
			pub := k.ver.(*rsa.PublicKey)
			check = func() bool {
				h := sha256.Sum256(input)
				return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
			}
		}
		b.Run(k.alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !check() {
					b.Fatal("the signature does not verify")
				}
			}
		})
	}
}

// BenchmarkVerify measures a.Verify alone (no HTTP), HS256.
func BenchmarkVerify(b *testing.B) {
	clock := authtest.NewClock(benchNow)
	a, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")), authx.WithClock(clock.Now))
	if err != nil {
		b.Fatal(err)
	}
	tok := authtest.Token(b, a, "alice", authx.Grant("reports:read"))
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateAccessToken measures issuing, HS256.
func BenchmarkCreateAccessToken(b *testing.B) {
	a, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.CreateAccessToken("alice", authx.Grant("reports:read")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImplicitRefresh: the middleware's cost on a request that is not
// due for renewal, for a token with 2 KiB of custom data (ES256). It must
// peek exp, not verify a second signature (the guard verifies once):
// compare with Guard/ES256/valid.
//
//	go test -run '^$' -bench 'ImplicitRefresh|Guard/ES256/valid' -benchmem .
func BenchmarkImplicitRefresh(b *testing.B) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	clock := authtest.NewClock(benchNow)
	a, err := authx.New[string](authx.WithSigningKey("ES256", ec), authx.WithClock(clock.Now),
		authx.WithTokenLocations(authx.InCookie))
	if err != nil {
		b.Fatal(err)
	}
	mw := a.ImplicitRefresh(authx.ImplicitRefreshConfig{Delta: time.Minute})(okHandler)
	tok := authtest.Token(b, a, "alice", authx.Claim("profile", strings.Repeat("x", 2048)))
	r, err := http.NewRequest(http.MethodGet, "/", nil)
	if err != nil {
		b.Fatal(err)
	}
	r.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: tok})
	w := &nopWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		mw.ServeHTTP(w, r)
	}
}
