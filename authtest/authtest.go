// Package authtest helps users of authx test their handlers: mint tokens
// (valid, expired, not yet valid, forged, of the wrong type), build requests
// carrying a token in any location, build a context that carries claims and
// a subject without any token, and control time.
//
//	func TestAdmin(t *testing.T) {
//		clock := authtest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
//		a, _ := authx.New[User](authx.WithSecret(key), authx.WithSubjectGetter(loadUser), authx.WithClock(clock.Now))
//		tok := authtest.Token(t, a, "alice", authx.Grant("admin:*"))
//		r := authtest.Request(t, a, authx.InHeader, "GET", "/admin", tok)
//		…
//	}
//
// Every helper takes a testing.TB first and fails the test (never panics)
// when it cannot do its job.
package authtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/golang-jwt/jwt/v5"
)

// Token issues an access token for sub with a, failing tb on error.
func Token[T any](tb testing.TB, a *authx.Auth[T], sub string, opts ...authx.TokenOption) string {
	tb.Helper()
	tok, err := a.CreateAccessToken(sub, opts...)
	if err != nil {
		tb.Fatalf("authtest.Token: %v", err)
	}
	return tok
}

// RefreshToken issues a refresh token for sub with a, failing tb on error.
func RefreshToken[T any](tb testing.TB, a *authx.Auth[T], sub string, opts ...authx.TokenOption) string {
	tb.Helper()
	tok, err := a.CreateRefreshToken(sub, opts...)
	if err != nil {
		tb.Fatalf("authtest.RefreshToken: %v", err)
	}
	return tok
}

// Pair issues an access and refresh token pair for sub, failing tb on error.
func Pair[T any](tb testing.TB, a *authx.Auth[T], sub string, opts ...authx.TokenOption) *authx.TokenPair {
	tb.Helper()
	p, err := a.CreateTokenPair(sub, opts...)
	if err != nil {
		tb.Fatalf("authtest.Pair: %v", err)
	}
	return p
}

// ExpiredToken issues an access token for sub that expired one minute ago
// by a's clock (beyond a leeway of up to a minute: pass ExpiresAt yourself
// for larger leeways).
func ExpiredToken[T any](tb testing.TB, a *authx.Auth[T], sub string, opts ...authx.TokenOption) string {
	tb.Helper()
	now := issuedAt(tb, Token(tb, a, sub))
	return Token(tb, a, sub, append(slices.Clip(opts), authx.ExpiresAt(now.Add(-time.Minute)))...)
}

// NotYetValidToken issues an access token for sub that becomes valid one
// hour after a's clock (its nbf, beyond any leeway) and is then valid for
// the lifetime opts give a token issued now (the access TTL unless
// ExpiresIn or ExpiresAt say otherwise): advance the clock past the hour
// and it verifies.
func NotYetValidToken[T any](tb testing.TB, a *authx.Auth[T], sub string, opts ...authx.TokenOption) string {
	tb.Helper()
	iat, exp := times(tb, Token(tb, a, sub, opts...))
	nbf := iat.Add(time.Hour)
	return Token(tb, a, sub, append(slices.Clip(opts), authx.ValidFrom(nbf), authx.ExpiresAt(nbf.Add(exp.Sub(iat))))...)
}

// WrongTypeToken issues a refresh token for sub: the wrong type for an
// access guard.
func WrongTypeToken[T any](tb testing.TB, a *authx.Auth[T], sub string, opts ...authx.TokenOption) string {
	tb.Helper()
	return RefreshToken(tb, a, sub, opts...)
}

// ForgedToken issues an access token for sub, then re-signs it with a fresh
// random key of the same algorithm: well-formed, unexpired, and with a
// signature a must reject.
func ForgedToken[T any](tb testing.TB, a *authx.Auth[T], sub string, opts ...authx.TokenOption) string {
	tb.Helper()
	return Resign(tb, Token(tb, a, sub, opts...))
}

// Resign re-signs tok with a fresh random key of the algorithm in its header.
func Resign(tb testing.TB, tok string) string {
	tb.Helper()
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		tb.Fatalf("authtest.Resign: not a JWT")
		return ""
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	decodeSegment(tb, tok[:strings.IndexByte(tok, '.')], &hdr)
	method := jwt.GetSigningMethod(hdr.Alg)
	if method == nil {
		tb.Fatalf("authtest.Resign: unknown alg %q", hdr.Alg)
		return ""
	}
	key, err := randomKey(hdr.Alg)
	if err != nil {
		tb.Fatalf("authtest.Resign: %v", err)
		return ""
	}
	sig, err := method.Sign(tok[:i], key)
	if err != nil {
		tb.Fatalf("authtest.Resign: %v", err)
		return ""
	}
	return tok[:i] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func randomKey(alg string) (any, error) {
	switch alg[:2] {
	case "HS":
		b := make([]byte, 64)
		_, err := rand.Read(b)
		return b, err
	case "RS", "PS":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ES":
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		return ecdsa.GenerateKey(curve, rand.Reader)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return priv, err
}

func decodeSegment(tb testing.TB, seg string, v any) {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		tb.Fatalf("authtest: token segment: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("authtest: token segment: %v", err)
	}
}

// issuedAt reads the iat of a token a just minted: a's clock, to the second.
func issuedAt(tb testing.TB, tok string) time.Time {
	tb.Helper()
	iat, _ := times(tb, tok)
	return iat
}

// times reads the iat and exp of a token a just minted.
func times(tb testing.TB, tok string) (iat, exp time.Time) {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("authtest: not a JWT")
	}
	var c struct {
		Iat int64 `json:"iat"`
		Exp int64 `json:"exp"`
	}
	decodeSegment(tb, parts[1], &c)
	return time.Unix(c.Iat, 0), time.Unix(c.Exp, 0)
}

// Request returns a new server request (httptest.NewRequest) for method and
// target carrying token at loc, under the names a's guards read (header and
// scheme, cookie, query parameter, JSON member). The token's own type claim
// picks the access or refresh names.
func Request[T any](tb testing.TB, a *authx.Auth[T], loc authx.Location, method, target, token string) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(method, target, nil)
	typ := authx.Access
	if parts := strings.Split(token, "."); len(parts) == 3 {
		var c struct {
			Type string `json:"type"`
		}
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(b, &c) == nil && c.Type == string(authx.Refresh) {
			typ = authx.Refresh
		}
	}
	if err := a.AttachToken(r, loc, typ, token); err != nil {
		tb.Fatalf("authtest.Request: %v", err)
	}
	return r
}

// Context returns a context carrying c and subject as a guarded request's
// would, without any token: handlers that read [authx.ClaimsFrom] and
// [authx.SubjectFrom] can be tested directly. A nil c gets claims for an
// access token with no scopes whose Subject is "test".
func Context[T any](tb testing.TB, c *authx.Claims, subject T) context.Context {
	tb.Helper()
	if c == nil {
		c = &authx.Claims{Subject: "test", ID: "test", Type: authx.Access, ExpiresAt: time.Now().Add(time.Hour)}
	}
	ctx := context.Background()
	if t, ok := tb.(interface{ Context() context.Context }); ok {
		ctx = t.Context()
	}
	return authx.NewContext(ctx, c, subject)
}

// Clock is a controllable clock for [authx.WithClock]: it stands still
// until told to move. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward for negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
