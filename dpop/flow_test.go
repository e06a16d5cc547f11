package dpop_test

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx/dpop"
	"github.com/google/go-cmp/cmp"
)

// TestRefresh: the refresh endpoint rotates a bound pair only with a
// proof (no ath) by its key; the new pair is bound to the same key.
func TestRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	p, thief := f.prover(t, 0), f.prover(t, 1)
	login := f.URL + "/login"
	proof, _ := p.Proof("POST", login, "", "")
	pair := tokenPair(t, do(t, "POST", login, "", "DPoP", proof))
	refresh := f.URL + "/refresh"
	body := `{"refresh_token":"` + pair.RefreshToken + `"}`

	if got := do(t, "POST", refresh, body); got.Status != 400 || got.Desc != "DPoP proof required" {
		t.Errorf("refresh without a proof = %+v, want 400 DPoP proof required", got)
	}
	other, _ := thief.Proof("POST", refresh, "", "")
	if got := do(t, "POST", refresh, body, "DPoP", other); got.Status != 400 || got.Desc != "DPoP proof key does not match the token binding" {
		t.Errorf("refresh with another key = %+v, want 400 key mismatch", got)
	}
	good, _ := p.Proof("POST", refresh, "", "")
	next := tokenPair(t, do(t, "POST", refresh, body, "DPoP", good))
	if next.TokenType != "DPoP" {
		t.Errorf("token_type = %q, want DPoP", next.TokenType)
	}
	res := f.URL + "/api/res"
	use, _ := p.Proof("GET", res, next.AccessToken, "")
	if got := do(t, "GET", res, "", "Authorization", "DPoP "+next.AccessToken, "DPoP", use); got.Status != 200 {
		t.Errorf("the refreshed access token with a proof = %+v, want 200", got)
	}
	if got := do(t, "GET", res, "", "Authorization", "Bearer "+next.AccessToken); got.Status != 401 {
		t.Errorf("the refreshed access token as Bearer = %+v, want 401", got)
	}
}

// TestRefreshBindsUnbound: an unbound refresh token traded with a proof
// gives a pair bound to the proof's key; without one, a bearer pair.
func TestRefreshBindsUnbound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	p := f.prover(t, 0)
	refresh := f.URL + "/refresh"
	for _, tt := range []struct {
		name      string
		withProof bool
		wantType  string
	}{{"with a proof", true, "DPoP"}, {"without", false, "bearer"}} {
		rt, err := f.Auth.CreateRefreshToken("alice")
		if err != nil {
			t.Fatal(err)
		}
		var h []string
		if tt.withProof {
			proof, _ := p.Proof("POST", refresh, "", "")
			h = []string{"DPoP", proof}
		}
		pair := tokenPair(t, do(t, "POST", refresh, `{"refresh_token":"`+rt+`"}`, h...))
		if pair.TokenType != tt.wantType {
			t.Errorf("%s: token_type = %q, want %q", tt.name, pair.TokenType, tt.wantType)
		}
	}
}

type pairJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
}

// tokenPair decodes a token response, failing tb unless it is a 200.
func tokenPair(tb testing.TB, rp reply) pairJSON {
	tb.Helper()
	if rp.Status != 200 {
		tb.Fatalf("token response %d %s %q", rp.Status, rp.Code, rp.Desc)
	}
	var p pairJSON
	if err := json.Unmarshal([]byte(rp.Body), &p); err != nil {
		tb.Fatalf("token response: %v", err)
	}
	return p
}

// TestNonces: with WithNonces a proof without the current nonce is
// refused with use_dpop_nonce and a fresh nonce; the nonce of the last
// period still works after a rotation, an older one does not; successful
// responses carry the current nonce (SendNonce).
func TestNonces(t *testing.T) {
	t.Parallel()
	src, err := dpop.NewNonceSource(testSecret, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil, dpop.WithNonces(src))
	p := f.prover(t, 0)
	tok := f.boundToken(t, p.Thumbprint())
	res := f.URL + "/api/res"
	get := func(nonce string) reply {
		proof, _ := p.Proof("GET", res, tok, nonce)
		return do(t, "GET", res, "", "Authorization", "DPoP "+tok, "DPoP", proof)
	}
	n0 := f.V.Nonce()
	if diff := cmp.Diff(reply{Status: 401, Code: "use_dpop_nonce", Desc: "DPoP proof nonce required", Nonce: n0}, get(""), cmpReply); diff != "" {
		t.Errorf("no nonce (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(reply{Status: 401, Code: "use_dpop_nonce", Desc: "DPoP proof nonce required", Nonce: n0}, get("made-up"), cmpReply); diff != "" {
		t.Errorf("a made-up nonce (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(reply{Status: 200, Nonce: n0}, get(n0), cmpReply); diff != "" {
		t.Errorf("the nonce (-want +got):\n%s", diff)
	}
	f.Clock.Advance(time.Minute)
	n1 := f.V.Nonce()
	if n1 == n0 {
		t.Fatal("the nonce did not rotate")
	}
	if diff := cmp.Diff(reply{Status: 200, Nonce: n1}, get(n0), cmpReply); diff != "" {
		t.Errorf("the previous nonce after a rotation (-want +got):\n%s", diff)
	}
	f.Clock.Advance(time.Minute)
	if diff := cmp.Diff(reply{Status: 401, Code: "use_dpop_nonce", Desc: "DPoP proof nonce required", Nonce: f.V.Nonce()}, get(n0), cmpReply); diff != "" {
		t.Errorf("a nonce two periods old (-want +got):\n%s", diff)
	}
}

// TestTransport: a client through Prover.Transport, with a token in a
// Bearer header, is sent under DPoP with a proof; refused once with
// use_dpop_nonce it retries with the nonce, and later requests carry the
// nonce it learnt without a refusal.
func TestTransport(t *testing.T) {
	t.Parallel()
	src, err := dpop.NewNonceSource(testSecret, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil, dpop.WithNonces(src))
	var hits atomic.Int64
	p := f.prover(t, 0)
	tok := f.boundToken(t, p.Thumbprint())
	req := func() reply {
		r, _ := http.NewRequestWithContext(t.Context(), "GET", f.URL+"/api/res", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return send(t, &http.Client{Transport: p.Transport(nil)}, r)
	}
	counting := &http.Client{Transport: p.Transport(countingTransport{&hits, http.DefaultTransport})}
	first := func() reply {
		r, _ := http.NewRequestWithContext(t.Context(), "GET", f.URL+"/api/res", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return send(t, counting, r)
	}
	hits.Store(0)
	if got := first(); got.Status != 200 || hits.Load() != 2 {
		t.Errorf("first request = %+v after %d round trips, want 200 after 2 (refused, retried with the nonce)", got, hits.Load())
	}
	hits.Store(0)
	if got := first(); got.Status != 200 || hits.Load() != 1 {
		t.Errorf("second request = %+v after %d round trips, want 200 after 1 (the nonce remembered)", got, hits.Load())
	}
	if got := req(); got.Status != 200 {
		t.Errorf("another client of the same Prover = %+v, want 200", got)
	}
}

type countingTransport struct {
	n    *atomic.Int64
	base http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}
