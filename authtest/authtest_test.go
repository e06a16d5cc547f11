package authtest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type user struct{ Name string }

func newAuth(t *testing.T, opts ...authx.Option) (*authx.Auth[user], *authtest.Clock) {
	t.Helper()
	clock := authtest.NewClock(now)
	a, err := authx.New[user](append([]authx.Option{
		authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")),
		authx.WithClock(clock.Now),
		authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery, authx.InJSON),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (user, error) { return user{Name: c.Subject}, nil }),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a, clock
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	tests := []struct {
		name string
		tok  func(testing.TB) string
		want error
	}{
		{"valid", func(tb testing.TB) string { return authtest.Token(tb, a, "alice") }, nil},
		{"expired", func(tb testing.TB) string { return authtest.ExpiredToken(tb, a, "alice") }, authx.ErrExpired},
		{"not yet valid", func(tb testing.TB) string { return authtest.NotYetValidToken(tb, a, "alice") }, authx.ErrNotYetValid},
		{"forged", func(tb testing.TB) string { return authtest.ForgedToken(tb, a, "alice") }, authx.ErrSignature},
		{"wrong type", func(tb testing.TB) string { return authtest.WrongTypeToken(tb, a, "alice") }, authx.ErrAccessRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := a.Verify(t.Context(), tt.tok(t))
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Errorf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRequestEveryLocation(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	access := authtest.Token(t, a, "alice")
	refresh := authtest.RefreshToken(t, a, "alice")
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := authx.ClaimsFrom(r.Context())
		io.WriteString(w, string(c.Type))
	})
	for _, loc := range []authx.Location{authx.InHeader, authx.InCookie, authx.InQuery, authx.InJSON} {
		for _, tc := range []struct {
			tok   string
			guard *authx.Guard
			want  string
		}{
			{access, a.Require(), "access"},
			{refresh, a.Require(authx.Refresh), "refresh"},
		} {
			t.Run(loc.String()+"/"+tc.want, func(t *testing.T) {
				t.Parallel()
				w := httptest.NewRecorder()
				method := http.MethodGet
				if loc == authx.InJSON {
					method = http.MethodPost // bodies of GET requests are not read for tokens
				}
				tc.guard.Wrap(echo).ServeHTTP(w, authtest.Request(t, a, loc, method, "/", tc.tok))
				if w.Code != 200 || w.Body.String() != tc.want {
					t.Errorf("got %d %q, want 200 %q", w.Code, w.Body.String(), tc.want)
				}
			})
		}
	}
}

func TestContextWithoutToken(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	c := &authx.Claims{Subject: "alice", Scopes: []string{"admin:*"}, Type: authx.Access}
	ctx := authtest.Context(t, c, user{Name: "Alice"})
	got, ok := authx.ClaimsFrom(ctx)
	if !ok || got != c {
		t.Errorf("ClaimsFrom = %v, %v", got, ok)
	}
	u, ok := authx.SubjectFrom[user](ctx)
	if diff := cmp.Diff(user{Name: "Alice"}, u); diff != "" || !ok {
		t.Errorf("SubjectFrom (-want +got):\n%s", diff)
	}
	s, err := a.Subject(ctx)
	if err != nil || s.Name != "Alice" {
		t.Errorf("a.Subject = %v, %v", s, err)
	}
	if c, _ := authx.ClaimsFrom(authtest.Context(t, nil, user{})); c == nil || c.Subject != "test" {
		t.Errorf("default claims = %+v", c)
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(now)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { clock.Advance(time.Second); _ = clock.Now() })
	}
	wg.Wait()
	if got := clock.Now(); !got.Equal(now.Add(8 * time.Second)) {
		t.Errorf("after 8 concurrent advances: %v", got)
	}
	clock.Set(now)
	if !clock.Now().Equal(now) {
		t.Errorf("Set did not set")
	}
}

func TestClockExpiresTokens(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t, authx.WithAccessTTL(time.Minute))
	tok := authtest.Token(t, a, "alice")
	if _, err := a.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := a.Verify(t.Context(), tok); !errors.Is(err, authx.ErrExpired) {
		t.Errorf("after the TTL: %v, want ErrExpired", err)
	}
}

// TestNotYetValidTokenBecomesValid: a not-yet-valid token is one that
// will be valid: refused before its nbf (an hour ahead), valid from it for
// its usual lifetime, then expired. Its exp used to come before its nbf,
// so that it was never valid at all.
func TestNotYetValidTokenBecomesValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   []authx.Option
		tokOpt []authx.TokenOption
		leeway time.Duration
		life   time.Duration // from nbf to exp
		reason string
	}{
		{name: "default TTL", life: 15 * time.Minute, reason: "the access TTL, counted from nbf"},
		{name: "WithAccessTTL", opts: []authx.Option{authx.WithAccessTTL(2 * time.Hour)}, life: 2 * time.Hour, reason: "the configured TTL"},
		{name: "ExpiresIn", tokOpt: []authx.TokenOption{authx.ExpiresIn(time.Minute)}, life: time.Minute, reason: "a lifetime asked for"},
		{name: "with a leeway", leeway: time.Minute, life: 15 * time.Minute, reason: "an hour ahead is beyond any leeway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, clock := newAuth(t, append(tt.opts, authx.WithLeeway(tt.leeway))...)
			tok := authtest.NotYetValidToken(t, a, "alice", tt.tokOpt...)
			leeway := tt.leeway
			steps := []struct {
				at   time.Duration // after issue
				want error
			}{
				{0, authx.ErrNotYetValid},
				{time.Hour - leeway - time.Second, authx.ErrNotYetValid},
				{time.Hour, nil},
				{time.Hour + tt.life - time.Second, nil},
				{time.Hour + tt.life + leeway, authx.ErrExpired},
			}
			for _, st := range steps {
				clock.Set(now.Add(st.at))
				_, err := a.Verify(t.Context(), tok)
				if diff := cmp.Diff(st.want, err, cmpopts.EquateErrors()); diff != "" {
					t.Errorf("Verify %v after issue (-want +got): %s\n%s", st.at, tt.reason, diff)
				}
			}
		})
	}
}

// DPoPKey's thumbprint is RFC 7638's over its JWK, and its proofs carry
// the claims RFC 9449 §4.2 lists, signed by the key.
func TestDPoPKey(t *testing.T) {
	k := authtest.NewDPoPKey(t)
	if len(k.Thumbprint()) != 43 {
		t.Fatalf("thumbprint %q", k.Thumbprint())
	}
	proof := k.Proof(t, "GET", "https://api.example.com/orders?page=2#top", "tok", "n-1")
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("proof %q", proof)
	}
	var hdr struct {
		Typ, Alg string
		JWK      map[string]string
	}
	var claims map[string]any
	for i, v := range []any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + hdr.JWK["x"] + `","y":"` + hdr.JWK["y"] + `"}`))
	if hdr.Typ != "dpop+jwt" || hdr.Alg != "ES256" || base64.RawURLEncoding.EncodeToString(sum[:]) != k.Thumbprint() {
		t.Errorf("header %+v", hdr)
	}
	ath := sha256.Sum256([]byte("tok"))
	if claims["htm"] != "GET" || claims["htu"] != "https://api.example.com/orders" || claims["nonce"] != "n-1" ||
		claims["ath"] != base64.RawURLEncoding.EncodeToString(ath[:]) || claims["jti"] == "" || claims["iat"] == nil {
		t.Errorf("claims %v", claims)
	}
	x, _ := base64.RawURLEncoding.DecodeString(hdr.JWK["x"])
	y, _ := base64.RawURLEncoding.DecodeString(hdr.JWK["y"])
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Error("the proof's signature does not verify with its jwk")
	}
}
