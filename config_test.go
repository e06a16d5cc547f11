package authx_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
)

var (
	secret32 = []byte("0123456789abcdef0123456789abcdef")
	testNow  = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
)

// keys are generated once per test binary: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]any {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	return map[string]any{"rsa": rk, "rsa1024": small, "p256": p256, "p384": p384, "p521": p521, "ed": ed}
})

type userT struct{ Name string }

// New[T] without a subject getter is a mistake unless the subject itself
// is an honest T: a forgotten getter would hand handlers a zero user.
func TestNewNeedsSubjectGetter(t *testing.T) {
	t.Parallel()
	_, err := authx.New[userT](authx.WithSecret(secret32))
	want := "authx: invalid configuration: New[authx_test.userT] needs WithSubjectGetter to turn a token's subject into a authx_test.userT (only New[string] works without one: the subject is that string)"
	if !errors.Is(err, authx.ErrConfig) || err.Error() != want {
		t.Errorf("New[userT] without a getter: %v, want %q", err, want)
	}
	if _, err := authx.New[*userT](authx.WithSecret(secret32)); !errors.Is(err, authx.ErrConfig) {
		t.Errorf("New[*userT] without a getter: %v, want ErrConfig", err)
	}
	if _, err := authx.New[string](authx.WithSecret(secret32)); err != nil {
		t.Errorf("New[string] without a getter: %v", err)
	}
	a, err := authx.New[any](authx.WithSecret(secret32))
	if err != nil {
		t.Fatalf("New[any] without a getter: %v", err)
	}
	srv := httptest.NewServer(a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub, ok := authx.SubjectFrom[any](r.Context())
		fmt.Fprintln(w, sub, ok)
	})))
	t.Cleanup(srv.Close)
	if got := doRequest(t, "GET", srv.URL, []string{"Authorization", "Bearer " + authtest.Token(t, a, "alice")}); got.Body != "alice true\n" {
		t.Errorf("New[any]'s subject: %+v, want alice true", got)
	}
}

// New's errors say what to do, and only what is wrong.
func TestNewErrorText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts []authx.Option
		want string
	}{
		{"short secret", []authx.Option{authx.WithSecret([]byte("short"))},
			"authx: invalid configuration: signing key: HS256 secret is 5 bytes, need at least 32 random bytes (RFC 7518 §3.2): make one with `openssl rand -base64 32` or crypto/rand.Read"},
		{"no key", nil, "authx: invalid configuration: no key: use WithSecret, WithSigningKey, WithVerificationKey or WithKeySet"},
		{"nil option", []authx.Option{authx.WithSecret(secret32), nil}, "authx: invalid configuration: New: option 1 (counting from 0) is nil"},
		{"nil option in a bundle", []authx.Option{authx.WithOptions(nil, authx.WithSecret(secret32))}, "authx: invalid configuration: WithOptions: option 0 (counting from 0) is nil"},
	} {
		_, err := authx.New[string](tt.opts...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: New error\n%v\nwant\n%s", tt.name, err, tt.want)
		}
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	k := testKeys()
	getUser := func(context.Context, *authx.Claims) (userT, error) { return userT{}, nil }
	getString := func(context.Context, *authx.Claims) (string, error) { return "", nil }
	tests := []struct {
		name    string
		opts    []authx.Option
		wantErr string // substring of the error; "" means New succeeds
	}{
		{"no key", nil, "no key"},
		{"short HS256 secret", []authx.Option{authx.WithSecret(secret32[:31])}, "need at least 32"},
		{"short HS512 secret", []authx.Option{authx.WithSigningKey("HS512", secret32)}, "need at least 64"},
		{"unknown algorithm", []authx.Option{authx.WithSigningKey("HS1", secret32)}, "unknown algorithm"},
		{"alg none", []authx.Option{authx.WithSigningKey("none", secret32)}, "unknown algorithm"},
		{"getter of another type", []authx.Option{authx.WithSecret(secret32), authx.WithSubjectGetter(getString)}, "want authx_test.userT"},
		{"nil getter", []authx.Option{authx.WithSecret(secret32), authx.WithSubjectGetter[userT](nil)}, "nil subject getter"},
		{"negative leeway", []authx.Option{authx.WithSecret(secret32), authx.WithLeeway(-time.Second)}, "negative leeway"},
		{"leeway past 5 minutes", []authx.Option{authx.WithSecret(secret32), authx.WithLeeway(5*time.Minute + time.Nanosecond)}, "leeway 5m0.000000001s out of range [0, 5m]"},
		{"leeway of a day", []authx.Option{authx.WithSecret(secret32), authx.WithLeeway(24 * time.Hour)}, "out of range [0, 5m]"},
		{"ok: leeway of 5 minutes", []authx.Option{authx.WithSecret(secret32), authx.WithLeeway(5 * time.Minute)}, ""},
		{"nil clock", []authx.Option{authx.WithSecret(secret32), authx.WithClock(nil)}, "nil clock"},
		{"zero access TTL", []authx.Option{authx.WithSecret(secret32), authx.WithAccessTTL(0)}, "access TTL"},
		{"negative refresh TTL", []authx.Option{authx.WithSecret(secret32), authx.WithRefreshTTL(-time.Hour)}, "refresh TTL"},
		{"no location", []authx.Option{authx.WithSecret(secret32), authx.WithTokenLocations()}, "at least one location"},
		{"location twice", []authx.Option{authx.WithSecret(secret32), authx.WithTokenLocations(authx.InHeader, authx.InHeader)}, "listed twice"},
		{"unknown location", []authx.Option{authx.WithSecret(secret32), authx.WithTokenLocations(authx.Location(9))}, "unknown token location"},
		{"bad header name", []authx.Option{authx.WithSecret(secret32), authx.WithHeader("X Auth", "Bearer")}, "invalid header name"},
		{"bad scheme", []authx.Option{authx.WithSecret(secret32), authx.WithHeader("Authorization", "Bea rer")}, "invalid authentication scheme"},
		{"same JSON keys", []authx.Option{authx.WithSecret(secret32), authx.WithJSONKeys("t", "t")}, "distinct"},
		{"RSA 1024 bits", []authx.Option{authx.WithSigningKey("RS256", k["rsa1024"])}, "need at least 2048"},
		{"ES256 on P-384", []authx.Option{authx.WithSigningKey("ES256", k["p384"])}, "needs curve P-256"},
		{"RSA key for ES256", []authx.Option{authx.WithSigningKey("ES256", k["rsa"])}, "needs an ECDSA key"},
		{"public key for signing", []authx.Option{authx.WithSigningKey("RS256", &k["rsa"].(*rsa.PrivateKey).PublicKey)}, "needs a private key"},
		{"secret string for RS256", []authx.Option{authx.WithSigningKey("RS256", "not a key")}, "needs a private key"},
		{"garbage PEM", []authx.Option{authx.WithSigningKey("RS256", []byte("-----BEGIN NOTHING-----"))}, "private key PEM"},
		{"two signing keys", []authx.Option{authx.WithSecret(secret32), authx.WithSecret(secret32)}, "more than one signing key"},
		{"key id without signing key", []authx.Option{authx.WithVerificationKey("", "HS256", secret32), authx.WithKeyID("k")}, "WithKeyID without a signing key"},
		{"duplicate kid", []authx.Option{authx.WithSecret(secret32), authx.WithKeyID("k"), authx.WithVerificationKey("k", "HS256", secret32)}, `two keys have kid "k"`},
		{"nil option", []authx.Option{authx.WithSecret(secret32), nil}, "New: option 1 (counting from 0) is nil"},
		{"token size too small", []authx.Option{authx.WithSecret(secret32), authx.WithMaxTokenSize(10)}, "max token size"},
		{"realm with quote", []authx.Option{authx.WithSecret(secret32), authx.WithRealm(`a"b`)}, "realm"},
		{"realm with a control byte", []authx.Option{authx.WithSecret(secret32), authx.WithRealm("a\x01b")}, "realm"},
		{"realm with DEL", []authx.Option{authx.WithSecret(secret32), authx.WithRealm("a\x7fb")}, "realm"},
		{"ok: realm with a tab and Unicode", []authx.Option{authx.WithSecret(secret32), authx.WithRealm("my\tcafé \u2028")}, ""},
		{"empty audience", []authx.Option{authx.WithSecret(secret32), authx.WithAudience("")}, "empty audience"},
		{"nil blocklist", []authx.Option{authx.WithSecret(secret32), authx.WithBlocklist(nil)}, "nil blocklist"},
		{"nil logger", []authx.Option{authx.WithSecret(secret32), authx.WithLogger(nil)}, "nil logger"},
		{"ok: secret", []authx.Option{authx.WithSecret(secret32)}, ""},
		{"ok: getter of T", []authx.Option{authx.WithSecret(secret32), authx.WithSubjectGetter(getUser)}, ""},
		{"ok: verification only", []authx.Option{authx.WithVerificationKey("", "ES256", &k["p256"].(*ecdsa.PrivateKey).PublicKey)}, ""},
		{"ok: bundle", []authx.Option{authx.WithOptions(authx.WithSecret(secret32), authx.WithLeeway(time.Second))}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			if !strings.Contains(tt.name, "getter") { // the rows about getters bring their own
				opts = append(slices.Clone(tt.opts), authx.WithSubjectGetter(getUser)) // New[userT] needs one
			}
			a, err := authx.New[userT](opts...)
			if tt.wantErr == "" {
				if err != nil || a == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if !errors.Is(err, authx.ErrConfig) {
				t.Fatalf("New error = %v, want one wrapping ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func pemOf(t *testing.T, key any, public bool) []byte {
	t.Helper()
	var der []byte
	var err error
	typ := "PRIVATE KEY"
	if public {
		typ = "PUBLIC KEY"
		der, err = x509.MarshalPKIXPublicKey(key)
	} else {
		der, err = x509.MarshalPKCS8PrivateKey(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestAlgorithms(t *testing.T) {
	t.Parallel()
	k := testKeys()
	rk := k["rsa"].(*rsa.PrivateKey)
	ed := k["ed"].(ed25519.PrivateKey)
	tests := []struct {
		alg       string
		sign, pub any
	}{
		{"HS256", secret32, secret32},
		{"HS384", []byte(strings.Repeat("k", 48)), []byte(strings.Repeat("k", 48))},
		{"HS512", []byte(strings.Repeat("k", 64)), []byte(strings.Repeat("k", 64))},
		{"RS256", rk, &rk.PublicKey},
		{"RS384", rk, &rk.PublicKey},
		{"RS512", rk, &rk.PublicKey},
		{"PS256", rk, &rk.PublicKey},
		{"PS384", rk, &rk.PublicKey},
		{"PS512", rk, &rk.PublicKey},
		{"ES256", k["p256"], &k["p256"].(*ecdsa.PrivateKey).PublicKey},
		{"ES384", k["p384"], &k["p384"].(*ecdsa.PrivateKey).PublicKey},
		{"ES512", k["p521"], &k["p521"].(*ecdsa.PrivateKey).PublicKey},
		{"EdDSA", ed, ed.Public()},
		{"RS256 PEM", pemOf(t, rk, false), pemOf(t, &rk.PublicKey, true)},
		{"ES256 PEM", pemOf(t, k["p256"], false), pemOf(t, &k["p256"].(*ecdsa.PrivateKey).PublicKey, true)},
		{"EdDSA PEM", pemOf(t, ed, false), pemOf(t, ed.Public(), true)},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			t.Parallel()
			alg, _, _ := strings.Cut(tt.alg, " ")
			clock := authtest.NewClock(testNow)
			issuer, err := authx.New[string](authx.WithSigningKey(alg, tt.sign), authx.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			// A service holding only the public key verifies, and cannot issue.
			verifier, err := authx.New[string](authx.WithVerificationKey("", alg, tt.pub), authx.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			tok := authtest.Token(t, issuer, "alice", authx.Grant("a:b"))
			for name, a := range map[string]*authx.Auth[string]{"issuer": issuer, "verifier": verifier} {
				c, err := a.Verify(t.Context(), tok)
				if err != nil {
					t.Fatalf("%s: Verify: %v", name, err)
				}
				if diff := cmp.Diff([]string{"a:b"}, c.Scopes); diff != "" {
					t.Errorf("%s: scopes (-want +got):\n%s", name, diff)
				}
			}
			if _, err := verifier.CreateAccessToken("alice"); !errors.Is(err, authx.ErrNoSigningKey) {
				t.Errorf("verification-only CreateAccessToken error = %v, want ErrNoSigningKey", err)
			}
			forged := authtest.Resign(t, tok)
			if _, err := verifier.Verify(t.Context(), forged); !errors.Is(err, authx.ErrSignature) {
				t.Errorf("forged token error = %v, want ErrSignature", err)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey := []byte(strings.Repeat("o", 32))
	newKey := []byte(strings.Repeat("n", 32))
	clock := authtest.NewClock(testNow)
	opts := func(o ...authx.Option) []authx.Option {
		return append([]authx.Option{authx.WithClock(clock.Now)}, o...)
	}
	mustNew := func(o ...authx.Option) *authx.Auth[string] {
		t.Helper()
		a, err := authx.New[string](opts(o...)...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Without kid (Python AuthX's rotation): old tokens verify with the old
	// key configured as a verification key.
	before := mustNew(authx.WithSecret(oldKey))
	oldTok := authtest.Token(t, before, "alice")
	// With kid: tokens say which key signed them.
	beforeKID := mustNew(authx.WithSecret(oldKey), authx.WithKeyID("2029"))
	oldKIDTok := authtest.Token(t, beforeKID, "alice")

	during := mustNew(authx.WithSecret(newKey), authx.WithKeyID("2030"),
		authx.WithVerificationKey("", "HS256", oldKey),
		authx.WithVerificationKey("2029", "HS256", oldKey))
	after := mustNew(authx.WithSecret(newKey), authx.WithKeyID("2030"))
	newTok := authtest.Token(t, during, "alice")

	tests := []struct {
		name string
		a    *authx.Auth[string]
		tok  string
		want error
	}{
		{"new token, during", during, newTok, nil},
		{"old token without kid, during", during, oldTok, nil},
		{"old token with kid, during", during, oldKIDTok, nil},
		{"new token, after", after, newTok, nil},
		{"old token with kid, after", after, oldKIDTok, authx.ErrUnknownKey},
		{"old token without kid, after", after, oldTok, authx.ErrUnknownKey},
		{"new token at an Auth without the new key", before, newTok, authx.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.a.Verify(t.Context(), tt.tok)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNilAuthFailsClosed(t *testing.T) {
	t.Parallel()
	var a *authx.Auth[string]
	if _, err := a.Verify(t.Context(), "x.y.z"); !errors.Is(err, authx.ErrNotConfigured) {
		t.Errorf("Verify on nil Auth: %v", err)
	}
	if _, err := a.CreateAccessToken("alice"); !errors.Is(err, authx.ErrNotConfigured) {
		t.Errorf("CreateAccessToken on nil Auth: %v", err)
	}
	g := a.Require()
	if !errors.Is(g.Err(), authx.ErrNotConfigured) {
		t.Errorf("Guard.Err = %v", g.Err())
	}
	var nilGuard *authx.Guard
	if _, err := nilGuard.Check(authtestRequest(t)); !errors.Is(err, authx.ErrNotConfigured) {
		t.Errorf("nil Guard Check: %v", err)
	}
}
