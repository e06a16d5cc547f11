package jwks_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/authx-go/authx/jwks"
	jose "github.com/go-jose/go-jose/v4"
)

// A Set of an issuer's keys. With authx, give it to the Auth instead of
// asking it yourself: authx.New[User](authx.WithKeySet(ks), …).
func ExampleNew() {
	// The issuer's JWKS endpoint: here a test server with one Ed25519 key.
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()
	body, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "2030-01", Algorithm: "EdDSA", Use: "sig"}}})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(body)
	}))
	defer srv.Close()

	// The Set refreshes in the background until this context ends.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ks, err := jwks.New(ctx, srv.URL, jwks.WithHTTPClient(srv.Client()), jwks.WithIssuer("https://issuer.example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ks.Close()

	keys, err := ks.Keys(ctx, "2030-01")
	fmt.Println(ks.Issuer(), len(keys), keys[0].KID, keys[0].Alg, err)
	keys, err = ks.Keys(ctx, "not-a-kid") // one fetch, then no key: 401
	fmt.Println(len(keys), err)
	// Output:
	// https://issuer.example 1 2030-01 EdDSA <nil>
	// 0 <nil>
}
