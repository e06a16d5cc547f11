package rules_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/rules"
)

// exampleSecret is a fixed 32-byte HMAC key. Real services read theirs from
// a secret store.
var exampleSecret = []byte("example-secret-of-at-least-32-bytes!")

// exampleNow is the fixed time the examples run at.
var exampleNow = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// send sends method url with a bearer token and returns the status and the
// body (trimmed).
func send(method, url, token string) (int, string) {
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// One guard around a whole ServeMux: the rules route like it, read the
// tenant from their own pattern, and deny what they do not allow.
func Example() {
	a, _ := authx.New[string](authx.WithSecret(exampleSecret), authx.WithClock(func() time.Time { return exampleNow }))
	set := rules.Set(
		rules.Allow("GET /docs/{id}", authx.Scopes("docs:read")),
		rules.Allow("GET /tenants/{tenant}/invoices", rules.Claim("tenant_id").EqualsPathValue("tenant")),
		rules.Deny("DELETE /docs/{id}").Because("delete disabled"),
		rules.Allow("DELETE /docs/{id}", authx.Scopes("docs:write")),
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	g := a.Require(set)
	if err := g.Err(); err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(g.Wrap(mux))
	defer srv.Close()

	tok, _ := a.CreateAccessToken("alice", authx.Grant("docs:read", "docs:write"), authx.Claim("tenant_id", "acme"))
	for _, req := range []string{"GET /docs/7", "DELETE /docs/7", "GET /tenants/acme/invoices", "GET /tenants/globex/invoices", "GET /admin"} {
		method, path, _ := strings.Cut(req, " ")
		status, body := send(method, srv.URL+path, tok)
		fmt.Println(req, status, body)
	}
	fmt.Println(g)
	// Output:
	// GET /docs/7 200 ok
	// DELETE /docs/7 403 {"code":"forbidden","message":"Access denied."}
	// GET /tenants/acme/invoices 200 ok
	// GET /tenants/globex/invoices 403 {"code":"forbidden","message":"Access denied."}
	// GET /admin 403 {"code":"forbidden","message":"Access denied."}
	// All(Access, rules.Set(rules.Allow("GET /docs/{id}", Scopes("docs:read")), rules.Allow("GET /tenants/{tenant}/invoices", rules.Claim("tenant_id").EqualsPathValue("tenant")), rules.Deny("DELETE /docs/{id}").Because("delete disabled"), rules.Allow("DELETE /docs/{id}", Scopes("docs:write"))))
}

// Decide tells an audit log which rule decided, and why; the client only
// ever sees authx's generic 403.
func ExampleSetPolicy_Decide() {
	a, _ := authx.New[string](authx.WithSecret(exampleSecret), authx.WithClock(func() time.Time { return exampleNow }))
	set := rules.Set(
		rules.Allow("/users/", rules.Claim("role").In("admin", "support")),
		rules.Deny("DELETE /users/{id}", rules.Claim("role").NotEquals("admin")).Because("only admins delete users"),
	)
	audit := authx.PolicyFunc(func(ctx context.Context, c *authx.Claims) error {
		d, err := set.Decide(ctx, c)
		if err != nil {
			return err
		}
		r, _ := authx.RequestFrom(ctx)
		fmt.Printf("%s %s %s: allowed=%v rule=%d reason=%q\n", c.Subject, r.Method, r.URL.Path, d.Allowed, d.Rule, d.Reason)
		return set.Check(ctx, c)
	})
	srv := httptest.NewServer(a.Require(audit).Wrap(http.NotFoundHandler()))
	defer srv.Close()

	support, _ := a.CreateAccessToken("sam", authx.Claim("role", "support"))
	admin, _ := a.CreateAccessToken("ada", authx.Claim("role", "admin"))
	send("GET", srv.URL+"/users/7", support)
	send("DELETE", srv.URL+"/users/7", support)
	send("DELETE", srv.URL+"/users/7", admin)
	send("GET", srv.URL+"/billing", admin)
	// Output:
	// sam GET /users/7: allowed=true rule=0 reason="allow rule matched"
	// sam DELETE /users/7: allowed=false rule=1 reason="only admins delete users"
	// ada DELETE /users/7: allowed=true rule=0 reason="allow rule matched"
	// ada GET /billing: allowed=false rule=-1 reason="no rule matched"
}
