// Command openapi is a small huma v2 API whose OpenAPI 3.1 document
// describes its authx guards: components.securitySchemes comes from
// [authx.Auth.SecuritySchemes] and each guarded operation's security from
// [authx.Guard.Security], so Swagger UI, Stoplight and generated clients
// know how to send the token.
//
//	go run ./examples/openapi            # then open http://localhost:8081/docs
//	curl -s localhost:8081/openapi.json
//	curl -s -X POST localhost:8081/login -H 'Content-Type: application/json' \
//		-d '{"username":"alice","password":"alice-password"}'   # {"access_token":…}
//	curl -s localhost:8081/reports -H "Authorization: Bearer $TOKEN"   # 200; bob: 403
//	curl -s "localhost:8081/reports?token=$TOKEN"                      # 200, no-store
//
// Users alice (scope reports:read) and bob (none), passwords
// "<name>-password". Everything is in memory; the HMAC secret comes from
// AUTHX_SECRET or is generated at start.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/authx-go/authx"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

func main() {
	addr := flag.String("addr", ":8081", "listen address")
	flag.Parse()
	secret := []byte(os.Getenv("AUTHX_SECRET"))
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret) // never fails (crypto/rand)
		log.Print("AUTHX_SECRET not set: generated a secret; tokens die with the process")
	}
	a, err := authx.New[string](authx.WithSecret(secret), authx.WithTokenLocations(authx.InHeader, authx.InQuery))
	if err != nil {
		log.Fatal(err)
	}
	h := newAPI(a)
	log.Printf("listening on %s: the document at /openapi.json, its docs at /docs", *addr)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// users are the demo's accounts: password and scopes. A real service stores
// password hashes (examples/demo uses bcrypt).
var users = map[string]struct {
	password string
	scopes   []string
}{
	"alice": {"alice-password", []string{"reports:read"}},
	"bob":   {"bob-password", nil},
}

// newAPI returns the API: its operations, /openapi.json and /docs.
func newAPI(a *authx.Auth[string]) http.Handler {
	me := a.Require()
	reports := a.Require(authx.Any(authx.Scopes("reports:read"), authx.Scopes("admin:*")))

	config := huma.DefaultConfig("authx OpenAPI example", "1.0.0")
	config.Components.SecuritySchemes = securitySchemes(a.SecuritySchemes(me, reports))
	mux := http.NewServeMux()
	api := humago.New(mux, config)

	huma.Register(api, huma.Operation{
		OperationID: "login", Method: http.MethodPost, Path: "/login",
		Summary: "Trade a username and password for a token pair",
	}, func(_ context.Context, in *struct {
		Body struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
	}) (*struct{ Body *authx.TokenPair }, error) {
		u, ok := users[in.Body.Username]
		if !ok || subtle.ConstantTimeCompare([]byte(u.password), []byte(in.Body.Password)) != 1 {
			return nil, huma.Error401Unauthorized("bad username or password")
		}
		pair, err := a.CreateTokenPair(in.Body.Username, authx.FreshLogin(), authx.Grant(u.scopes...))
		if err != nil {
			return nil, err
		}
		return &struct{ Body *authx.TokenPair }{pair}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "me", Method: http.MethodGet, Path: "/me",
		Summary:  "Who the token belongs to",
		Security: me.Security(), Middlewares: huma.Middlewares{guarded(me)},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body identity }, error) {
		c, ok := authx.ClaimsFrom(ctx)
		if !ok {
			return nil, errors.New("no claims behind the guard")
		}
		return &struct{ Body identity }{identity{c.Subject, c.Scopes}}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "reports", Method: http.MethodGet, Path: "/reports",
		Summary:  "The reports: reports:read or admin:* scope",
		Security: reports.Security(), Middlewares: huma.Middlewares{guarded(reports)},
	}, func(context.Context, *struct{}) (*struct{ Body []string }, error) {
		return &struct{ Body []string }{[]string{"2030-Q1", "2030-Q2"}}, nil
	})
	return mux
}

// identity is what GET /me answers.
type identity struct {
	Subject string   `json:"sub"`
	Scopes  []string `json:"scopes"`
}

// guarded runs an operation behind g.Wrap, as net/http middleware: a
// denied request gets authx's response and never reaches the operation; an
// admitted one carries the claims in its context (authx.ClaimsFrom).
func guarded(g *authx.Guard) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		r, w := humago.Unwrap(ctx)
		g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next(humago.NewContext(ctx.Operation(), r, w))
		})).ServeHTTP(w, r)
	}
}

// securitySchemes converts authx's schemes to huma's.
func securitySchemes(in map[string]authx.SecurityScheme) map[string]*huma.SecurityScheme {
	out := make(map[string]*huma.SecurityScheme, len(in))
	for name, s := range in {
		out[name] = &huma.SecurityScheme{
			Type: s.Type, Description: s.Description, Name: s.Name, In: s.In,
			Scheme: s.Scheme, BearerFormat: s.BearerFormat,
		}
	}
	return out
}
