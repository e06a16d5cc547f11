package jwks_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/jwks"
	jose "github.com/go-jose/go-jose/v4"
)

// testKey is a private key of a test issuer, with the kid and alg it signs
// with.
type testKey struct {
	kid  string
	alg  string
	priv crypto.Signer
}

// jwk returns k's public JWK.
func (k testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: k.alg, Use: "sig"}
}

// keys are generated once per test binary: RSA is slow to make.
var keys = sync.OnceValues(func() (map[string]testKey, error) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	out := map[string]testKey{"ed": {kid: "ed", alg: "EdDSA", priv: ed}}
	for _, k := range []struct {
		kid, alg string
		gen      func() (crypto.Signer, error)
	}{
		{"rsa-a", "RS256", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }},
		{"rsa-b", "RS256", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }},
		{"ec-256", "ES256", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }},
		{"ec-384", "ES384", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) }},
		{"ec-521", "ES512", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) }},
	} {
		priv, err := k.gen()
		if err != nil {
			return nil, err
		}
		out[k.kid] = testKey{kid: k.kid, alg: k.alg, priv: priv}
	}
	out["rsa-ps"] = testKey{kid: "rsa-ps", alg: "PS256", priv: out["rsa-a"].priv} // one key, two algorithms
	return out, nil
})

// key returns the test key named kid.
func key(tb testing.TB, kid string) testKey {
	tb.Helper()
	all, err := keys()
	if err != nil {
		tb.Fatalf("generating test keys: %v", err)
	}
	k, ok := all[kid]
	if !ok {
		tb.Fatalf("no test key %q", kid)
	}
	return k
}

// jwksBody returns the JWK Set of the public halves of the named keys.
func jwksBody(tb testing.TB, kids ...string) []byte {
	tb.Helper()
	var set jose.JSONWebKeySet
	for _, kid := range kids {
		set.Keys = append(set.Keys, key(tb, kid).jwk())
	}
	b, err := json.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// rawJWKS returns a JWK Set of the given JWK objects, as written.
func rawJWKS(jwks ...string) []byte {
	return []byte(`{"keys":[` + strings.Join(jwks, ",") + `]}`)
}

// jwkJSON returns the JSON of one JWK, with extra members merged in (a nil
// value deletes a member).
func jwkJSON(tb testing.TB, jwk jose.JSONWebKey, extra map[string]any) string {
	tb.Helper()
	b, err := json.Marshal(jwk)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err = json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// token signs a JWS with the named key, its kid in the header.
func token(tb testing.TB, kid string) string {
	tb.Helper()
	k := key(tb, kid)
	return tokenWith(tb, k.priv, k.alg, k.kid)
}

func tokenWith(tb testing.TB, priv crypto.Signer, alg, kid string) string {
	tb.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: priv},
		(&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	obj, err := s.Sign([]byte(`{"sub":"alice"}`))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

var allAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.HS256,
}

// verify is a tiny consumer of a KeySet, as authx's core is: the HTTP
// status a guarded request with tok would get (200, 401 or 503).
func verify(ctx context.Context, ks authx.KeySet, tok string) int {
	obj, err := jose.ParseSignedCompact(tok, allAlgs)
	if err != nil || len(obj.Signatures) != 1 {
		return http.StatusUnauthorized
	}
	h := obj.Signatures[0].Header
	keys, err := ks.Keys(ctx, h.KeyID)
	if err != nil {
		return http.StatusServiceUnavailable
	}
	for _, k := range keys {
		if k.Alg != h.Algorithm {
			continue
		}
		if _, err := obj.Verify(k.Key); err == nil {
			return http.StatusOK
		}
	}
	return http.StatusUnauthorized
}

// mode is how a test issuer answers.
type mode int

const (
	modeOK      mode = iota // the JWK Set, with the configured headers
	mode500                 // 500 Internal Server Error
	modeReset               // the connection closed without an answer
	modeSlow                // no answer until the client gives up
	modeGarbage             // 200 with a body that is not JSON
	modeHuge                // 200 with 10 MB of a JWK Set that never ends
	modeGate                // the JWK Set, once the test opens the gate
)

// issuer is a test JWKS endpoint: an httptest TLS server on loopback whose
// answers a test switches, counting the requests it gets.
type issuer struct {
	srv  *httptest.Server
	hits atomic.Int64
	stop chan struct{} // closed at cleanup: slow answers end

	mu     sync.Mutex
	mode   mode
	body   []byte
	header http.Header
	served chan struct{}    // receives after each answer, if not full
	custom http.HandlerFunc // answers instead of mode, if set
	gate   chan struct{}    // modeGate: closed by the test to let answers go
	held   chan struct{}    // modeGate, modeSlow: receives when a request waits
}

// newIssuer starts an issuer serving body at /jwks (and whatever routes
// adds), closed at the end of the test.
func newIssuer(tb testing.TB, body []byte, routes ...func(*http.ServeMux)) *issuer {
	tb.Helper()
	is := &issuer{stop: make(chan struct{}), body: body, header: http.Header{}, served: make(chan struct{}, 1000),
		gate: make(chan struct{}), held: make(chan struct{}, 1000)}
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks", is.serve)
	for _, r := range routes {
		r(mux)
	}
	is.srv = httptest.NewUnstartedServer(mux)
	is.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients that hang up are the point
	is.srv.StartTLS()
	tb.Cleanup(func() {
		close(is.stop)
		is.srv.Close()
	})
	return is
}

func (is *issuer) url() string { return is.srv.URL + "/jwks" }

// set switches the issuer's answers.
func (is *issuer) set(m mode, body []byte, header http.Header) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.mode = m
	if body != nil {
		is.body = body
	}
	if header != nil {
		is.header = header
	}
}

// setHandler makes h answer instead of the mode (nil: the mode again).
func (is *issuer) setHandler(h http.HandlerFunc) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.custom = h
}

func (is *issuer) serve(w http.ResponseWriter, r *http.Request) {
	is.hits.Add(1)
	is.mu.Lock()
	m, body, header, custom := is.mode, is.body, is.header.Clone(), is.custom
	is.mu.Unlock()
	defer func() {
		select {
		case is.served <- struct{}{}:
		default:
		}
	}()
	if custom != nil {
		custom(w, r)
		return
	}
	switch m {
	case modeGate:
		is.held <- struct{}{}
		select {
		case <-is.gate:
		case <-is.stop:
			return
		}
		w.Write(body)
	case mode500:
		http.Error(w, "down", http.StatusInternalServerError)
	case modeReset:
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	case modeSlow:
		is.held <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-is.stop:
		}
	case modeGarbage:
		w.Write([]byte(`{"keys":[{"kty":"RSA","n":` + "\x00garbage<html>"))
	case modeHuge:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[`))
		chunk := bytes.Repeat([]byte(`{"kty":"oct","k":"AAAA"},`), 64<<10/25)
		for n := 0; n < 10<<20; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the client stopped reading
			}
		}
	default:
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(body)
	}
}

// newSet builds a Set on is, closed at the end of the test.
func newSet(tb testing.TB, is *issuer, opts ...jwks.Option) *jwks.Set {
	tb.Helper()
	s, err := jwks.New(tb.Context(), is.url(), append([]jwks.Option{jwks.WithHTTPClient(is.srv.Client())}, opts...)...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects a logger's JSON lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLogger returns a logger of every level into a buffer the test reads.
func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// kids returns the kids of keys, in order.
func kids(keys []authx.PublicKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.KID)
	}
	return out
}

// newPlainServer starts a plain http server on loopback, closed at the end
// of the test.
func newPlainServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}
