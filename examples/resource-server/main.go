// Command resource-server is a service that trusts another issuer's
// access tokens and guards its routes with their scopes (authx.WithKeySet
// with package jwks). With no flags it also starts a small issuer of its
// own — itself an authx Auth publishing its keys — so that it runs with no
// setup:
//
//	go run ./examples/resource-server
//	TOKEN=$(curl -s -d user=alice 127.0.0.1:9000/token)      # from the built-in issuer
//	curl -s -H "Authorization: Bearer $TOKEN" 127.0.0.1:9001/reports
//
// Against a real provider:
//
//	go run ./examples/resource-server -issuer https://tenant.eu.auth0.com/ \
//		-audience https://api.example.com -scopes-from permissions
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/jwks"
)

func main() {
	issuer := flag.String("issuer", "", "the issuer URL to trust (default: start a built-in issuer on -issuer-addr)")
	issuerAddr := flag.String("issuer-addr", "127.0.0.1:9000", "the built-in issuer's address")
	addr := flag.String("addr", "127.0.0.1:9001", "the resource server's address")
	audience := flag.String("audience", "reports-api", "the audience tokens must name")
	scopesFrom := flag.String("scopes-from", "", "comma-separated claims holding the scopes (permissions, realm_access.roles, …); default scope, scp and scopes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var opts []jwks.Option
	if *issuer == "" {
		*issuer = "http://" + *issuerAddr
		h, err := newIssuer(*issuer, *audience)
		if err != nil {
			log.Fatal(err)
		}
		go func() { log.Fatal(http.ListenAndServe(*issuerAddr, h)) }()
		opts = append(opts, jwks.InsecureAllowHTTP(), jwks.WithTolerantStart()) // loopback, starting beside us
		log.Printf("built-in issuer on %s: POST /token with user=alice (reports:read) or bob", *issuer)
	}
	var scopeClaims []string
	if *scopesFrom != "" {
		scopeClaims = strings.Split(*scopesFrom, ",")
	}
	h, err := newResourceServer(ctx, *issuer, *audience, scopeClaims, opts...)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("resource server on http://%s trusting %s (audience %q)", *addr, *issuer, *audience)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// newResourceServer trusts the tokens of issuer (found by discovery) that
// name audience, with their scopes in scopeClaims (nil: authx's default).
func newResourceServer(ctx context.Context, issuer, audience string, scopeClaims []string, opts ...jwks.Option) (http.Handler, error) {
	ks, err := jwks.Discover(ctx, issuer, opts...)
	if err != nil {
		return nil, err
	}
	keyOpts := []authx.KeySetOption{authx.Audience(audience)}
	if scopeClaims != nil {
		keyOpts = append(keyOpts, authx.ScopesFrom(scopeClaims...))
	}
	a, err := authx.New[string](authx.WithKeySet(ks, keyOpts...))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /me", a.Require().WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := authx.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "%s from %s, scopes %v\n", c.Subject, c.Issuer, c.Scopes)
	}))
	mux.Handle("GET /reports", a.Require(authx.Scopes("reports:read")).WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "q1 q2 q3")
	}))
	return mux, nil
}

// newIssuer is a minimal issuer: an authx Auth signing ES256 access tokens,
// publishing its keys and discovery metadata, and minting a token for a
// known user at POST /token (a real one authenticates them first).
func newIssuer(url, audience string) (http.Handler, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	a, err := authx.New[string](authx.WithSigningKey("ES256", key), authx.WithKeyID("demo-1"),
		authx.WithIssuer(url), authx.WithAudience(audience))
	if err != nil {
		return nil, err
	}
	scopes := map[string][]string{"alice": {"reports:read"}, "bob": {}}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/openid-configuration", a.DiscoveryHandler(url+"/jwks"))
	mux.Handle("GET /jwks", a.JWKSHandler())
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		s, ok := scopes[r.FormValue("user")]
		if !ok {
			http.Error(w, "unknown user", http.StatusUnauthorized)
			return
		}
		tok, err := a.CreateAccessToken(r.FormValue("user"), authx.Grant(s...))
		if err != nil {
			http.Error(w, "cannot issue", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, tok)
	})
	return mux, nil
}
