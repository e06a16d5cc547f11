package dpop_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/dpop"
)

// FuzzProof feeds arbitrary DPoP headers to a login (Auth.KeyProof): it
// never panics, and never accepts a proof it did not see signed: the only
// proofs accepted are those the seed corpus signed with the test key,
// unchanged.
func FuzzProof(f *testing.F) {
	fx := newFixture(f, nil)
	p := fx.prover(f, 0)
	url := fx.URL + "/login"
	signed := map[string]bool{}
	for range 3 {
		s, err := p.Proof("POST", url, "", "")
		if err != nil {
			f.Fatal(err)
		}
		signed[s] = true
		f.Add(s)
	}
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6Im5vbmUifQ.e30.")
	f.Add(strings.Repeat("A", dpop.MaxProofSize+1))
	f.Fuzz(func(t *testing.T, proof string) {
		r, err := http.NewRequestWithContext(t.Context(), "POST", url, nil)
		if err != nil {
			t.Skip()
		}
		r.Host = strings.TrimPrefix(fx.URL, "http://")
		r.Header["Dpop"] = []string{proof}
		jkt, err := fx.Auth.KeyProof(r)
		if err == nil && jkt != "" && !signed[proof] {
			t.Fatalf("accepted a proof the test did not sign: %q", proof)
		}
		if err == nil && jkt != "" && jkt != p.Thumbprint() {
			t.Fatalf("accepted with thumbprint %q", jkt)
		}
		if err != nil && authx.StatusOf(err) != 400 {
			t.Fatalf("status %d for %v", authx.StatusOf(err), err)
		}
	})
}
