package authx_test

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
)

// An Auth never mints a token it cannot verify: what the decoder bounds
// (jws.go, claims.go: 32 audiences, 1024-byte strings, 128 custom claims,
// 16 extra header fields, a 2048-byte header, a 1024-byte signature,
// nesting 32 deep, WithMaxTokenSize, valid UTF-8 names and strings) is
// refused where it is given: by New (ErrConfig) or when issuing
// (ErrTokenOption). These tests check both sides of every bound.

// nested returns a JSON value nested depth arrays deep.
func nested(depth int) any {
	var v any = 1
	for range depth {
		v = []any{v}
	}
	return v
}

// hugeRSAKey is an RSA public key of 8200 bits: its signatures (1025
// bytes) are longer than a verifier reads.
func hugeRSAKey() *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), 8199)
	n.Add(n, big.NewInt(1)) // odd, 8200 bits
	return &rsa.PublicKey{N: n, E: 65537}
}

// tooMany returns n distinct non-empty strings of size bytes.
func tooMany(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		s := fmt.Sprintf("a%d-", i)
		out[i] = s + strings.Repeat("x", max(0, size-len(s)))
	}
	return out
}

func TestNewRefusesUnverifiableTokens(t *testing.T) {
	t.Parallel()
	k := testKeys()
	long := strings.Repeat("k", 2100)
	tests := []struct {
		name   string
		opts   []authx.Option
		reason string
	}{
		{name: "33 audiences", opts: []authx.Option{authx.WithSecret(secret32), authx.WithAudience(tooMany(33, 3)...)}, reason: "a verifier reads at most 32"},
		{name: "1025-byte issuer", opts: []authx.Option{authx.WithSecret(secret32), authx.WithIssuer(strings.Repeat("i", 1025))}, reason: "claim strings are at most 1024 bytes"},
		{name: "issuer not UTF-8", opts: []authx.Option{authx.WithSecret(secret32), authx.WithIssuer("iss\xff")}, reason: "written as U+FFFD, it would never match itself"},
		{name: "audience not UTF-8", opts: []authx.Option{authx.WithSecret(secret32), authx.WithAudience("api\xff")}, reason: "written as U+FFFD, it would never match itself"},
		{name: "key id too long", opts: []authx.Option{authx.WithSecret(secret32), authx.WithKeyID(long)}, reason: "the header would pass 2048 bytes"},
		{name: "key id not UTF-8", opts: []authx.Option{authx.WithSecret(secret32), authx.WithKeyID("k\xff")}, reason: "written as U+FFFD, it would select no key"},
		{name: "verification key id too long", opts: []authx.Option{authx.WithVerificationKey(long, "HS256", secret32)}, reason: "no header can carry it: the key could verify nothing"},
		{name: "verification key id not UTF-8", opts: []authx.Option{authx.WithVerificationKey("k\xfe", "HS256", secret32)}, reason: "no header can carry it"},
		{name: "RSA key past 8192 bits", opts: []authx.Option{authx.WithVerificationKey("", "RS256", hugeRSAKey())}, reason: "a verifier reads signatures of at most 1024 bytes"},
		{name: "max token size below an RS256 token", opts: []authx.Option{authx.WithSigningKey("RS256", k["rsa"]), authx.WithMaxTokenSize(256)}, reason: "the signature alone is 342 bytes of base64"},
		{name: "max token size below the audiences", opts: []authx.Option{authx.WithSecret(secret32), authx.WithAudience(tooMany(32, 20)...), authx.WithMaxTokenSize(512)}, reason: "every token carries 32 × 20 bytes of audience"},
		{name: "max token size below the issuer", opts: []authx.Option{authx.WithSecret(secret32), authx.WithIssuer(strings.Repeat("i", 1024)), authx.WithMaxTokenSize(1024)}, reason: "every token carries the issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := authx.New[string](tt.opts...); !errors.Is(err, authx.ErrConfig) {
				t.Errorf("New error = %v, want ErrConfig: %s", err, tt.reason)
			}
		})
	}
}

func TestIssueRefusesUnverifiableTokens(t *testing.T) {
	t.Parallel()
	claims := func(n int) authx.TokenOption {
		m := map[string]any{}
		for i := range n {
			m[fmt.Sprintf("c%03d", i)] = i
		}
		return authx.Data(m)
	}
	headers := func(n int) []authx.TokenOption {
		var out []authx.TokenOption
		for i := range n {
			out = append(out, authx.ExtraHeader(fmt.Sprintf("h%02d", i), i))
		}
		return out
	}
	a, _ := newAuth(t, withLiveSession(t, "s1", "alice"))
	tests := []struct {
		name   string
		sub    string // "" is alice
		opts   []authx.TokenOption
		reason string
	}{
		{name: "33 audiences", opts: []authx.TokenOption{authx.ForAudience(tooMany(33, 3)...)}, reason: "a verifier reads at most 32"},
		{name: "audience not UTF-8", opts: []authx.TokenOption{authx.ForAudience("api\xff")}, reason: "written as U+FFFD, not as given"},
		{name: "17 extra headers", opts: headers(17), reason: "a verifier reads at most 16 fields besides alg, kid and typ"},
		{name: "header past 2048 bytes", opts: []authx.TokenOption{authx.ExtraHeader("x", strings.Repeat("v", 2048))}, reason: "a verifier reads headers of at most 2048 bytes"},
		{name: "header nested 33 deep", opts: []authx.TokenOption{authx.ExtraHeader("x", nested(33))}, reason: "a verifier reads values nested at most 32 deep"},
		{name: "header names not UTF-8", opts: []authx.TokenOption{authx.ExtraHeader("h\xff", 1), authx.ExtraHeader("h\xfe", 2)}, reason: "both written as h U+FFFD: a duplicate"},
		{name: "129 custom claims", opts: []authx.TokenOption{claims(129)}, reason: "a verifier reads at most 128"},
		{name: "claim nested 33 deep", opts: []authx.TokenOption{authx.Claim("x", nested(33))}, reason: "a verifier reads values nested at most 32 deep"},
		{name: "claim names not UTF-8", opts: []authx.TokenOption{authx.Claim("c\xff", 1), authx.Claim("c\xfe", 2)}, reason: "both written as c U+FFFD: a duplicate"},
		{name: "claim past WithMaxTokenSize", opts: []authx.TokenOption{authx.Claim("blob", strings.Repeat("b", 8<<10))}, reason: "the token would be longer than the 8 KiB a guard reads"},
		{name: "subject not UTF-8", sub: "al\xffice", reason: "written as al U+FFFD ice: another subject"},
		{name: "1025-byte subject", sub: strings.Repeat("s", 1025), reason: "claim strings are at most 1024 bytes"},
		{name: "token id not UTF-8", opts: []authx.TokenOption{authx.TokenID("j\xff")}, reason: "written as U+FFFD: revoking the id would miss it"},
		{name: "session id not UTF-8", opts: []authx.TokenOption{authx.Session("s\xff")}, reason: "written as U+FFFD: another session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sub := tt.sub
			if sub == "" {
				sub = "alice"
			}
			for _, create := range []struct {
				name string
				f    func() error
			}{
				{"CreateAccessToken", func() error { _, err := a.CreateAccessToken(sub, tt.opts...); return err }},
				{"CreateRefreshToken", func() error { _, err := a.CreateRefreshToken(sub, tt.opts...); return err }},
				{"CreateTokenPair", func() error { _, err := a.CreateTokenPair(sub, tt.opts...); return err }},
			} {
				if err := create.f(); !errors.Is(err, authx.ErrTokenOption) {
					t.Errorf("%s error = %v, want ErrTokenOption: %s", create.name, err, tt.reason)
				}
			}
		})
	}
}

// TestEveryIssuedTokenVerifies: at every bound, and past it, an Auth
// either refuses to issue or issues a token that it verifies.
func TestEveryIssuedTokenVerifies(t *testing.T) {
	t.Parallel()
	k := testKeys()
	headers := make([]authx.TokenOption, 0, 16)
	for i := range 16 {
		headers = append(headers, authx.ExtraHeader(fmt.Sprintf("h%02d", i), i))
	}
	data := map[string]any{}
	for i := range 128 {
		data[fmt.Sprintf("c%03d", i)] = i
	}
	scopes := make([]string, 256)
	for i := range scopes {
		scopes[i] = fmt.Sprintf("s%03d:%s", i, strings.Repeat("x", 251))
	}
	tests := []struct {
		name string
		key  authx.Option // nil: WithSecret
		opts []authx.Option
		sub  string // "" is alice
		tok  []authx.TokenOption
	}{
		{name: "32 audiences", opts: []authx.Option{authx.WithAudience(tooMany(32, 20)...)}},
		{name: "1024-byte issuer", opts: []authx.Option{authx.WithIssuer(strings.Repeat("i", 1024))}},
		{name: "key id near the header bound", opts: []authx.Option{authx.WithKeyID(strings.Repeat("k", 1900))}},
		{name: "Unicode everywhere", opts: []authx.Option{authx.WithIssuer("ïss ☃"), authx.WithAudience("äpi\u2028"), authx.WithKeyID("kïd")},
			tok: []authx.TokenOption{authx.Claim("ünï\u2028\"\\", "☃"), authx.ExtraHeader("hëader", "☃")}},
		{name: "16 extra headers", tok: headers},
		{name: "128 custom claims", tok: []authx.TokenOption{authx.Data(data)}},
		{name: "values nested 32 deep", tok: []authx.TokenOption{authx.Claim("x", nested(32)), authx.ExtraHeader("x", nested(32))}},
		{name: "1024-byte subject, ids and audience", opts: []authx.Option{authx.WithAudience(strings.Repeat("a", 1024))},
			sub: strings.Repeat("s", 1024), tok: []authx.TokenOption{authx.ForAudience(strings.Repeat("a", 1024), "b")}},
		{name: "256 scopes of 256 bytes", opts: []authx.Option{authx.WithMaxTokenSize(1 << 20)}, tok: []authx.TokenOption{authx.Grant(scopes...)}},
		{name: "RS256 at a small max token size", key: authx.WithSigningKey("RS256", k["rsa"]), opts: []authx.Option{authx.WithMaxTokenSize(700)}},
		{name: "ES512 with cookies", key: authx.WithSigningKey("ES512", k["p521"]), opts: []authx.Option{authx.WithTokenLocations(authx.InHeader, authx.InCookie)}},
		{name: "HS256 at a small max token size", opts: []authx.Option{authx.WithMaxTokenSize(320)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := tt.key
			if key == nil {
				key = authx.WithSecret(secret32)
			}
			a, err := authx.New[string](append([]authx.Option{key}, tt.opts...)...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			sub := tt.sub
			if sub == "" {
				sub = "alice"
			}
			checkIssued(t, a, sub, tt.tok...)
		})
	}
	// Growing one claim a byte at a time across the size bound: every
	// token issued verifies; past the bound issuing fails.
	a, _ := newAuth(t)
	issued, refused := 0, 0
	for n := 5900; n < 6300; n++ { // base64 makes 6 KB of claims 8 KB
		tok, err := a.CreateAccessToken("alice", authx.Claim("blob", strings.Repeat("b", n)))
		if err != nil {
			if !errors.Is(err, authx.ErrTokenOption) {
				t.Fatalf("claim of %d bytes: error %v, want ErrTokenOption", n, err)
			}
			refused++
			continue
		}
		issued++
		if _, err := a.Verify(t.Context(), tok); err != nil {
			t.Fatalf("claim of %d bytes: token of %d bytes issued, Verify: %v", n, len(tok), err)
		}
	}
	if issued == 0 || refused == 0 {
		t.Errorf("%d tokens issued, %d refused: the sweep should cross the bound", issued, refused)
	}
	// At the smallest WithMaxTokenSize New accepts, tokens issue or are
	// refused; none is issued that does not verify.
	for _, key := range []authx.Option{authx.WithSecret(secret32), authx.WithSigningKey("RS256", k["rsa"]), authx.WithSigningKey("EdDSA", k["ed"])} {
		for size := 256; size <= 1024; size += 4 {
			a, err := authx.New[string](key, authx.WithMaxTokenSize(size))
			if err != nil {
				continue // even the smallest token would not fit
			}
			tok, err := a.CreateAccessToken("alice")
			if err != nil {
				if !errors.Is(err, authx.ErrTokenOption) {
					t.Fatalf("WithMaxTokenSize(%d): CreateAccessToken error %v, want ErrTokenOption", size, err)
				}
				continue
			}
			if _, err := a.Verify(t.Context(), tok); err != nil {
				t.Fatalf("WithMaxTokenSize(%d): token of %d bytes issued, Verify: %v", size, len(tok), err)
			}
		}
	}
}

// checkIssued issues every kind of token for sub with opts and verifies
// each: a token the Auth issues, it verifies.
func checkIssued(t *testing.T, a *authx.Auth[string], sub string, opts ...authx.TokenOption) {
	t.Helper()
	access, err := a.CreateAccessToken(sub, opts...)
	if err != nil {
		t.Fatalf("CreateAccessToken: %v", err)
	}
	refresh, err := a.CreateRefreshToken(sub, opts...)
	if err != nil {
		t.Fatalf("CreateRefreshToken: %v", err)
	}
	pair := authtest.Pair(t, a, sub, opts...)
	for _, tok := range []struct {
		name     string
		tok      string
		policies []authx.Policy
	}{
		{"access", access, nil}, {"refresh", refresh, []authx.Policy{authx.Refresh}},
		{"pair access", pair.AccessToken, nil}, {"pair refresh", pair.RefreshToken, []authx.Policy{authx.Refresh}},
	} {
		if _, err := a.Verify(t.Context(), tok.tok, tok.policies...); err != nil {
			t.Errorf("%s token of %d bytes does not verify: %v", tok.name, len(tok.tok), err)
		}
	}
}
