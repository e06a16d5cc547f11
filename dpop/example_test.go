package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/dpop"
)

// Example is a resource server that accepts DPoP-bound tokens and a
// client that presents one with a proof, through Prover.Transport.
func Example() {
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	v, err := dpop.New(dpop.WithClock(now))
	if err != nil {
		panic(err)
	}
	a, err := authx.New[string](authx.WithSecret([]byte("an example secret of at least 32 bytes")),
		authx.WithClock(now), authx.WithKeyBinding(v))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	})))
	defer srv.Close()

	// The client's key, and a token bound to it (as a login would issue
	// with Auth.KeyProof and authx.BoundToKey).
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	prover, err := dpop.NewProver(key, "ES256", dpop.WithClock(now))
	if err != nil {
		panic(err)
	}
	token, _ := a.CreateAccessToken("alice", authx.BoundToKey(prover.Thumbprint()))

	get := func(c *http.Client) {
		req, _ := http.NewRequest("GET", srv.URL+"/hello", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, string(body))
	}
	get(http.DefaultClient)                             // a stolen token, sent as a bearer token
	get(&http.Client{Transport: prover.Transport(nil)}) // by its holder, under DPoP with a proof
	// Output:
	// 401 {"code":"invalid_token","message":"The token is not presented as its key binding requires."}
	//
	// 200 hello
}

// ExampleProver_Proof makes a proof by hand, for a login request.
func ExampleProver_Proof() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p, err := dpop.NewProver(key, "ES256")
	if err != nil {
		panic(err)
	}
	proof, err := p.Proof("POST", "https://api.example.com/login", "", "")
	if err != nil {
		panic(err)
	}
	req, _ := http.NewRequest("POST", "https://api.example.com/login", nil)
	req.Header.Set("DPoP", proof)
	fmt.Println(len(p.Thumbprint()), req.Header.Get("DPoP") != "")
	// Output:
	// 43 true
}
