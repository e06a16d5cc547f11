package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/dpop"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

// TestProofChecks sends a bound token with a proof that fails one check
// of RFC 9449 §4.3 per case to a guarded resource on a real server: each
// is refused 401 with the check's own description; the valid ones pass.
func TestProofChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	jkt := f.prover(t, 0).Thumbprint()
	tok := f.boundToken(t, jkt)
	url := f.URL + "/api/res"
	good := func() map[string]any { return claimsFor("GET", url, tok, t0) }
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hdr := func(k string, v any) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": publicJWK(t, ecKey(t, 0))}
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	privJWK := jwkMap(t, jose.JSONWebKey{Key: ecKey(t, 0)})
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(f.URL, "http://")
	tests := []struct {
		name     string
		spec     proofSpec
		method   string
		path     string // default /api/res
		wantDesc string // "" : accepted
		reason   string
	}{
		{name: "valid", spec: proofSpec{claims: good()}, reason: "every check passes"},
		{name: "typ jwt", spec: proofSpec{header: hdr("typ", "jwt"), claims: good()}, wantDesc: "DPoP proof typ must be dpop+jwt", reason: "§4.3 step 4: typ is dpop+jwt"},
		{name: "typ missing", spec: proofSpec{header: hdr("typ", nil), claims: good()}, wantDesc: "DPoP proof typ must be dpop+jwt", reason: "typ is required"},
		{name: "typ case", spec: proofSpec{header: hdr("typ", "DPoP+JWT"), claims: good()}, wantDesc: "DPoP proof typ must be dpop+jwt", reason: "exactly dpop+jwt"},
		{name: "alg none", spec: proofSpec{header: hdr("alg", "none"), claims: good(), alg: "none"}, wantDesc: "DPoP proof is not a compact JWS", reason: "an unsigned JWS has no signature part"},
		{name: "alg none with a signature", spec: proofSpec{header: hdr("alg", "none"), claims: good()}, wantDesc: "DPoP proof alg is not allowed", reason: "none is never allowed"},
		{name: "alg HS256", spec: proofSpec{header: hdr("alg", "HS256"), claims: good(), alg: "HS256"}, wantDesc: "DPoP proof alg is not allowed", reason: "§4.3 step 5: no symmetric algorithm"},
		{name: "alg RS384 not allowed", spec: proofSpec{header: hdr("alg", "RS384"), claims: good()}, wantDesc: "DPoP proof alg is not allowed", reason: "not in the default allowlist"},
		{name: "private jwk", spec: proofSpec{header: hdr("jwk", privJWK), claims: good()}, wantDesc: "DPoP proof jwk holds private key material", reason: "§4.3 step 7: jwk has no private key"},
		{name: "symmetric jwk", spec: proofSpec{header: hdr("jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}), claims: good()}, wantDesc: "DPoP proof jwk holds private key material", reason: "a symmetric key is a secret"},
		{name: "no jwk, kid", spec: proofSpec{header: hdr("jwk", nil), claims: good()}, wantDesc: "DPoP proof must carry its key in jwk, not by reference", reason: "the key is in the header, not named"},
		{name: "jku", spec: proofSpec{header: maps.Collect(func(yield func(string, any) bool) {
			for k, v := range hdr("kid", "k1") {
				yield(k, v)
			}
			yield("jku", "https://attacker.example/jwks")
		}), claims: good()}, wantDesc: "DPoP proof must carry its key in jwk, not by reference", reason: "no key fetched from a URL"},
		{name: "x5c", spec: proofSpec{header: maps.Collect(func(yield func(string, any) bool) {
			for k, v := range hdr("x", nil) {
				yield(k, v)
			}
			yield("x5c", []string{"MIIB"})
		}), claims: good()}, wantDesc: "DPoP proof must carry its key in jwk, not by reference", reason: "no certificate chains"},
		{name: "crit", spec: proofSpec{header: hdr("crit", []string{"exp"}), claims: good()}, wantDesc: "DPoP proof header is invalid", reason: "no extension is understood"},
		{name: "curve does not match alg", spec: proofSpec{header: hdr("jwk", publicJWK(t, p384)), claims: good()}, wantDesc: "DPoP proof jwk is too weak or does not match alg", reason: "ES256 needs P-256"},
		{name: "RSA 1024", spec: proofSpec{header: map[string]any{"typ": "dpop+jwt", "alg": "RS256", "jwk": publicJWK(t, rsa1024)}, claims: good()}, wantDesc: "DPoP proof jwk is too weak or does not match alg", reason: "RSA keys of at least 2048 bits"},
		{name: "bad signature", spec: proofSpec{claims: good(), mangle: func(s string) string {
			i := strings.LastIndexByte(s, '.') + 5
			c := byte('A')
			if s[i] == 'A' {
				c = 'B'
			}
			return s[:i] + string(c) + s[i+1:]
		}}, wantDesc: "DPoP proof signature does not verify", reason: "§4.3 step 6"},
		{name: "signed by another key", spec: proofSpec{key: ecKey(t, 1), header: hdr("alg", "ES256"), claims: good()}, wantDesc: "DPoP proof signature does not verify", reason: "the jwk's own key signs"},
		{name: "wrong htm", spec: proofSpec{claims: with("htm", "POST")}, wantDesc: "DPoP proof htm does not match the request method", reason: "§4.3 step 8"},
		{name: "htm lower case", spec: proofSpec{claims: with("htm", "get")}, wantDesc: "DPoP proof htm does not match the request method", reason: "methods are case-sensitive"},
		{name: "wrong htu path", spec: proofSpec{claims: with("htu", f.URL+"/api/other")}, wantDesc: "DPoP proof htu does not match the request URI", reason: "§4.3 step 9"},
		{name: "wrong htu host", spec: proofSpec{claims: with("htu", "http://other.example"+"/api/res")}, wantDesc: "DPoP proof htu does not match the request URI", reason: "the host counts"},
		{name: "wrong htu scheme", spec: proofSpec{claims: with("htu", "https://"+host+"/api/res")}, wantDesc: "DPoP proof htu does not match the request URI", reason: "the scheme counts"},
		{name: "htu not a URI", spec: proofSpec{claims: with("htu", "/api/res")}, wantDesc: "DPoP proof htu does not match the request URI", reason: "htu is absolute"},
		{name: "htu query ignored", spec: proofSpec{claims: with("htu", url+"?a=b#frag")}, path: "/api/res?x=y", reason: "query and fragment are left out of both"},
		{name: "htu normalised", spec: proofSpec{claims: with("htu", "HTTP://"+strings.ToUpper(host)+"/api/%72es")}, reason: "scheme and host case, unreserved %72 = r"},
		{name: "htu percent case", spec: proofSpec{claims: with("htu", url+"%2f")}, path: "/api/res%2F", reason: "percent-encoding hex case is normalised"},
		{name: "htu dot segments", spec: proofSpec{claims: with("htu", f.URL+"/api/x/../res")}, reason: "RFC 3986 §6.2.2.3"},
		{name: "iat too old", spec: proofSpec{claims: with("iat", t0.Add(-5*time.Minute-time.Second).Unix())}, wantDesc: "DPoP proof iat is too old", reason: "§4.3 step 11: a 5 min window"},
		{name: "iat too new", spec: proofSpec{claims: with("iat", t0.Add(5*time.Minute+time.Second).Unix())}, wantDesc: "DPoP proof iat is in the future", reason: "and not ahead of it"},
		{name: "iat edge", spec: proofSpec{claims: with("iat", t0.Add(-5*time.Minute).Unix())}, reason: "inside the window"},
		{name: "iat a string", spec: proofSpec{claims: with("iat", "1772366400")}, wantDesc: "DPoP proof claims are invalid", reason: "a NumericDate is a number"},
		{name: "no jti", spec: proofSpec{claims: with("jti", nil)}, wantDesc: "DPoP proof jti is missing or too long", reason: "jti is required"},
		{name: "long jti", spec: proofSpec{claims: with("jti", strings.Repeat("j", 257))}, wantDesc: "DPoP proof jti is missing or too long", reason: "jti is bounded: it is stored"},
		{name: "no ath", spec: proofSpec{claims: with("ath", nil)}, wantDesc: "DPoP proof ath is required with an access token", reason: "§4.3 step 12"},
		{name: "wrong ath", spec: proofSpec{claims: with("ath", dpop.AccessTokenHash(tok+"x"))}, wantDesc: "DPoP proof ath does not match the access token", reason: "ath is the token's hash"},
		{name: "thumbprint not cnf.jkt", spec: proofSpec{key: ecKey(t, 1), claims: good()}, wantDesc: "DPoP proof key does not match the token binding", reason: "a valid proof by another key"},
		{name: "oversize", spec: proofSpec{claims: with("pad", strings.Repeat("p", dpop.MaxProofSize))}, wantDesc: "DPoP proof too large", reason: "bounded before decoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = "GET"
			}
			path := tt.path
			if path == "" {
				path = "/api/res"
			}
			got := do(t, method, f.URL+path, "", "Authorization", "DPoP "+tok, "DPoP", tt.spec.build(t))
			want := reply{Status: 200}
			if tt.wantDesc != "" {
				want = reply{Status: 401, Code: "invalid_dpop_proof", Desc: tt.wantDesc}
			}
			if diff := cmp.Diff(want, got, cmpReply); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}

// cmpReply compares replies without their bodies.
var cmpReply = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Body" }, cmp.Ignore())

// TestPresentation covers Check's decision table on a guarded resource:
// which scheme, which token, which proof.
func TestPresentation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	req := newFixture(t, nil, dpop.Required())
	url := f.URL + "/api/res"
	client, thief := f.prover(t, 0), f.prover(t, 1)
	bound := f.boundToken(t, client.Thumbprint())
	unbound, err := f.Auth.CreateAccessToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	proof := func(p interface {
		Proof(string, string, string, string) (string, error)
	}, url, tok string) string {
		s, err := p.Proof("GET", url, tok, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		url     string
		headers []string
		want    reply
		reason  string
	}{
		{name: "bound, DPoP, proof", url: url, headers: []string{"Authorization", "DPoP " + bound, "DPoP", proof(client, url, bound)},
			want: reply{Status: 200}, reason: "the holder of the key"},
		{name: "bound as Bearer", url: url, headers: []string{"Authorization", "Bearer " + bound},
			want: reply{Status: 401, Code: "invalid_token", Desc: "DPoP-bound token presented as a bearer token"}, reason: "RFC 9449 §7.1"},
		{name: "bound as Bearer with a proof", url: url, headers: []string{"Authorization", "Bearer " + bound, "DPoP", proof(client, url, bound)},
			want: reply{Status: 401, Code: "invalid_token", Desc: "DPoP-bound token presented as a bearer token"}, reason: "the scheme must be DPoP even with a proof"},
		{name: "stolen, no proof", url: url, headers: []string{"Authorization", "DPoP " + bound},
			want: reply{Status: 401, Code: "invalid_dpop_proof", Desc: "DPoP proof required"}, reason: "a thief without the key has no proof"},
		{name: "stolen, thief's proof", url: url, headers: []string{"Authorization", "DPoP " + bound, "DPoP", proof(thief, url, bound)},
			want: reply{Status: 401, Code: "invalid_dpop_proof", Desc: "DPoP proof key does not match the token binding"}, reason: "nor a proof by the token's key"},
		{name: "two DPoP headers", url: url, headers: []string{"Authorization", "DPoP " + bound, "DPoP", proof(client, url, bound), "DPoP", proof(client, url, bound)},
			want: reply{Status: 401, Code: "invalid_dpop_proof", Desc: "more than one DPoP header"}, reason: "§4.3 step 1: exactly one"},
		{name: "unbound under DPoP", url: url, headers: []string{"Authorization", "DPoP " + unbound, "DPoP", proof(client, url, unbound)},
			want: reply{Status: 401, Code: "invalid_token", Desc: "token is not DPoP-bound"}, reason: "the DPoP scheme is for bound tokens"},
		{name: "unbound Bearer", url: url, headers: []string{"Authorization", "Bearer " + unbound},
			want: reply{Status: 200}, reason: "a bearer token, as before"},
		{name: "unbound Bearer, garbage DPoP header", url: url, headers: []string{"Authorization", "Bearer " + unbound, "DPoP", "garbage"},
			want: reply{Status: 200}, reason: "documented: a DPoP header beside a bearer token is ignored"},
		{name: "Required, unbound Bearer", url: req.URL + "/api/res", headers: []string{"Authorization", "Bearer " + unbound},
			want: reply{Status: 401, Code: "invalid_token", Desc: "DPoP proof required"}, reason: "Required refuses bearer tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := do(t, "GET", tt.url, "", tt.headers...)
			if diff := cmp.Diff(tt.want, got, cmpReply); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}

// TestReplay: a proof works once; the replay is refused, on this Auth and
// on a second replica sharing its refresh store.
func TestReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	replica := newReplica(t, f)
	testReplay(t, f, replica)
}

// newReplica starts a second service with its own Verifier and Auth on
// f's clock and refresh store.
func newReplica(tb testing.TB, f *fixture) string {
	tb.Helper()
	v, err := dpop.New(dpop.WithClock(f.Clock.Now))
	if err != nil {
		tb.Fatal(err)
	}
	srv := newServerFor(tb, serviceHandler(newAuth(tb, v, f.Clock, f.Store), v))
	return srv
}

func testReplay(t *testing.T, f *fixture, replica string) {
	t.Helper()
	p := f.prover(t, 0)
	tok := f.boundToken(t, p.Thumbprint())
	proofA, _ := p.Proof("GET", f.URL+"/api/res", tok, "")
	proofB, _ := p.Proof("GET", replica+"/api/res", tok, "")
	replayed := reply{Status: 401, Code: "invalid_dpop_proof", Desc: "DPoP proof was already used"}
	for _, step := range []struct {
		name, url, proof string
		want             reply
	}{
		{"first use", f.URL, proofA, reply{Status: 200}},
		{"replayed", f.URL, proofA, replayed},
		// The replica's URI differs, so a proof for it is replayed to it:
		// the jti is the same one, recorded by the other replica.
		{"replica, fresh proof", replica, proofB, reply{Status: 200}},
		{"replica, replayed", replica, proofB, replayed},
	} {
		got := do(t, "GET", step.url+"/api/res", "", "Authorization", "DPoP "+tok, "DPoP", step.proof)
		if diff := cmp.Diff(step.want, got, cmpReply); diff != "" {
			t.Errorf("%s (-want +got):\n%s", step.name, diff)
		}
	}
}

// TestLogin: Auth.KeyProof returns the thumbprint of a login's proof, so
// that the login issues bound tokens; errors match the sentinels.
func TestLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	p := f.prover(t, 0)
	login := f.URL + "/login"
	proof, _ := p.Proof("POST", login, "", "")
	got := do(t, "POST", login, "", "DPoP", proof)
	if got.Status != 200 || !strings.Contains(got.Body, `"token_type":"DPoP"`) {
		t.Fatalf("login with a proof: %d %s", got.Status, got.Body)
	}
	if got := do(t, "POST", login, "", "DPoP", proof); got.Status != 400 || got.Desc != "DPoP proof was already used" {
		t.Errorf("login replayed = %+v, want 400 replay", got)
	}
	withATH, _ := p.Proof("POST", login, "some-token", "")
	if got := do(t, "POST", login, "", "DPoP", withATH); got.Status != 400 || got.Desc != "DPoP proof ath is not allowed without an access token" {
		t.Errorf("login with ath = %+v, want 400", got)
	}
	if got := do(t, "POST", login, ""); got.Status != 200 || !strings.Contains(got.Body, `"token_type":"bearer"`) {
		t.Errorf("login without a proof = %+v, want 200 bearer", got)
	}

	// The errors KeyProof returns, for the application.
	r, _ := http.NewRequestWithContext(t.Context(), "POST", login, nil)
	r.Host = strings.TrimPrefix(f.URL, "http://")
	r.Header.Set("DPoP", proof)
	_, err := f.Auth.KeyProof(r)
	for _, target := range []error{dpop.ErrReplay, dpop.ErrInvalidProof, authx.ErrKeyBound} {
		if !errors.Is(err, target) {
			t.Errorf("KeyProof(replayed) = %v, want errors.Is %v", err, target)
		}
	}
	var ae *authx.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "invalid_dpop_proof" ||
		!strings.HasPrefix(ae.Challenge, `DPoP algs="ES256 ES384 ES512 EdDSA RS256 PS256", error="invalid_dpop_proof"`) {
		t.Errorf("KeyProof(replayed) = %#v", ae)
	}
}
