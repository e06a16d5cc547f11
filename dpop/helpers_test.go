package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/dpop"
	jose "github.com/go-jose/go-jose/v4"
)

// t0 is the fixed time every test starts at.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var testSecret = []byte("0123456789abcdef0123456789abcdef-dpop-tests")

// ecKeys are P-256 keys made once per test binary: the client's (0) and
// others (an attacker's).
var ecKeys = sync.OnceValue(func() []*ecdsa.PrivateKey {
	keys := make([]*ecdsa.PrivateKey, 3)
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err) // crypto/rand does not fail
		}
		keys[i] = k
	}
	return keys
})

// ecKey returns test key i.
func ecKey(tb testing.TB, i int) *ecdsa.PrivateKey {
	tb.Helper()
	return ecKeys()[i]
}

// fixture is a protected service on a real httptest.Server: an Auth with
// a Verifier, a login (POST /login, KeyProof), the refresh endpoint (POST
// /refresh) and a guarded resource (/api/res).
type fixture struct {
	URL   string
	Clock *authtest.Clock
	V     *dpop.Verifier
	Auth  *authx.Auth[string]
	Store authx.RefreshStore
}

// newFixture starts a fixture whose Verifier has opts; store, if not nil,
// is its refresh (and replay) store.
func newFixture(tb testing.TB, store authx.RefreshStore, opts ...dpop.Option) *fixture {
	tb.Helper()
	clock := authtest.NewClock(t0)
	if store == nil {
		store = authx.NewMemoryRefreshStore(clock.Now)
	}
	v, err := dpop.New(append([]dpop.Option{dpop.WithClock(clock.Now)}, opts...)...)
	if err != nil {
		tb.Fatalf("dpop.New: %v", err)
	}
	f := &fixture{Clock: clock, V: v, Store: store}
	f.Auth = newAuth(tb, v, clock, store)
	srv := httptest.NewServer(f.handler())
	tb.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// newAuth returns an Auth with key binding v.
func newAuth(tb testing.TB, v *dpop.Verifier, clock *authtest.Clock, store authx.RefreshStore) *authx.Auth[string] {
	tb.Helper()
	a, err := authx.New[string](authx.WithSecret(testSecret), authx.WithClock(clock.Now),
		authx.WithKeyBinding(v), authx.WithRefreshStore(store))
	if err != nil {
		tb.Fatalf("authx.New: %v", err)
	}
	return a
}

func (f *fixture) handler() http.Handler {
	return serviceHandler(f.Auth, f.V)
}

// serviceHandler is the service of a fixture, for a and v.
func serviceHandler(a *authx.Auth[string], v *dpop.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	mux.Handle("POST /refresh", a.RefreshHandler())
	login := func(w http.ResponseWriter, r *http.Request) {
		jkt, err := a.KeyProof(r)
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		var opts []authx.TokenOption
		if jkt != "" {
			opts = append(opts, authx.BoundToKey(jkt))
		}
		pair, err := a.CreateTokenPair("alice", opts...)
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(pair)
	}
	mux.HandleFunc("POST /login", login)
	mux.HandleFunc("POST /token", login)
	return v.SendNonce(mux)
}

// boundToken returns an access token bound to jkt.
func (f *fixture) boundToken(tb testing.TB, jkt string) string {
	tb.Helper()
	tok, err := f.Auth.CreateAccessToken("alice", authx.BoundToKey(jkt))
	if err != nil {
		tb.Fatalf("CreateAccessToken: %v", err)
	}
	return tok
}

// prover returns a Prover of key i on the fixture's clock.
func (f *fixture) prover(tb testing.TB, i int) *dpop.Prover {
	tb.Helper()
	p, err := dpop.NewProver(ecKey(tb, i), "ES256", dpop.WithClock(f.Clock.Now))
	if err != nil {
		tb.Fatalf("NewProver: %v", err)
	}
	return p
}

// reply is what a test reads of a response.
type reply struct {
	Status int
	Code   string // the JSON body's code; "" on success
	Desc   string // the challenge's error_description
	Nonce  string // DPoP-Nonce
	Body   string
}

// do sends method url with the headers (name, value, name, value…;
// repeated names are kept) and body, and reads the reply.
func do(tb testing.TB, method, url, body string, headers ...string) reply {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, url, rd)
	if err != nil {
		tb.Fatalf("NewRequest: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return send(tb, http.DefaultClient, req)
}

// send sends req by c and reads the reply.
func send(tb testing.TB, c *http.Client, req *http.Request) reply {
	tb.Helper()
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	rp := reply{Status: resp.StatusCode, Nonce: resp.Header.Get("DPoP-Nonce"), Body: string(b)}
	if resp.StatusCode >= 400 {
		var e struct{ Code string }
		_ = json.Unmarshal(b, &e)
		rp.Code = e.Code
		rp.Desc = description(resp.Header.Get("WWW-Authenticate"))
	}
	return rp
}

// description returns the error_description of challenge.
func description(challenge string) string {
	_, d, ok := strings.Cut(challenge, `error_description="`)
	if !ok {
		return ""
	}
	d, _, _ = strings.Cut(d, `"`)
	return d
}

// proofSpec describes a proof built by hand, field by field: the tests'
// own signer, independent of Prover.
type proofSpec struct {
	header map[string]any // nil: typ dpop+jwt, alg ES256, jwk of key
	claims map[string]any
	key    crypto.Signer // signs; nil: ecKey 0
	alg    string        // how to sign: ES256 (default), HS256, none
	mangle func(string) string
}

// build returns the compact JWS of s.
func (s proofSpec) build(tb testing.TB) string {
	tb.Helper()
	key := s.key
	if key == nil {
		key = ecKey(tb, 0)
	}
	h := s.header
	if h == nil {
		h = map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": publicJWK(tb, key)}
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatalf("json: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(h) + "." + enc(s.claims)
	var sig []byte
	switch s.alg {
	case "none":
	case "HS256":
		m := hmac.New(sha256.New, []byte("attacker-chosen-secret-attacker-chosen"))
		m.Write([]byte(signing))
		sig = m.Sum(nil)
	default:
		sum := sha256.Sum256([]byte(signing))
		ek := key.(*ecdsa.PrivateKey)
		r, ss, err := ecdsa.Sign(rand.Reader, ek, sum[:])
		if err != nil {
			tb.Fatalf("sign: %v", err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		ss.FillBytes(sig[32:])
	}
	out := signing + "." + base64.RawURLEncoding.EncodeToString(sig)
	if s.mangle != nil {
		out = s.mangle(out)
	}
	return out
}

// publicJWK returns key's public JWK as a JSON object.
func publicJWK(tb testing.TB, key crypto.Signer) map[string]any {
	tb.Helper()
	return jwkMap(tb, jose.JSONWebKey{Key: key.Public()})
}

// jwkMap returns k as a JSON object.
func jwkMap(tb testing.TB, k jose.JSONWebKey) map[string]any {
	tb.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		tb.Fatalf("jwk: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("jwk: %v", err)
	}
	return m
}

// claimsFor returns valid proof claims for method url at iat, with the
// hash of token when not "".
func claimsFor(method, url, token string, iat time.Time) map[string]any {
	c := map[string]any{"jti": rand.Text(), "htm": method, "htu": url, "iat": iat.Unix()}
	if token != "" {
		c["ath"] = dpop.AccessTokenHash(token)
	}
	return c
}

// newServerFor starts h on an httptest.Server, closed when tb ends, and
// returns its URL.
func newServerFor(tb testing.TB, h http.Handler) string {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.URL
}
