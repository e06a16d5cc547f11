package dpop_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/dpop"
)

// downStore is a refresh (and replay) store that cannot answer.
type downStore struct{}

func (downStore) Spend(context.Context, string, time.Time) (bool, time.Time, error) {
	return false, time.Time{}, errors.New("redis: connection refused")
}

// A replay store that cannot answer denies, 503, rather than accept a
// proof it cannot record: fail closed.
func TestReplayStoreDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, downStore{})
	p := f.prover(t, 0)
	tok := f.boundToken(t, p.Thumbprint())
	url := f.URL + "/api/res"
	proof, err := p.Proof("GET", url, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	got := do(t, "GET", url, "", "Authorization", "DPoP "+tok, "DPoP", proof)
	if got.Status != http.StatusServiceUnavailable {
		t.Errorf("a proof with the replay store down: %d, want 503", got.Status)
	}
}

// The Prover signs with every algorithm the Verifier accepts by default,
// and each proof admits its bound token.
func TestProverAlgorithms(t *testing.T) {
	t.Parallel()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil)
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{{"ES256", ecKey(t, 1)}, {"EdDSA", ek}, {"RS256", rk}, {"PS256", rk}} {
		p, err := dpop.NewProver(tc.key, tc.alg, dpop.WithClock(f.Clock.Now))
		if err != nil {
			t.Fatalf("%s: %v", tc.alg, err)
		}
		tok, err := f.Auth.CreateAccessToken("alice", authx.BoundToKey(p.Thumbprint()))
		if err != nil {
			t.Fatal(err)
		}
		url := f.URL + "/api/res"
		proof, err := p.Proof("GET", url, tok, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := do(t, "GET", url, "", "Authorization", "DPoP "+tok, "DPoP", proof); got.Status != http.StatusOK {
			t.Errorf("%s proof: %d %s", tc.alg, got.Status, got.Desc)
		}
	}
	if _, err := dpop.NewProver(rk, "ES256"); err == nil {
		t.Error("NewProver accepted an RSA key for ES256")
	}
}
