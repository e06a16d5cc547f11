package rules_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/rules"
	"github.com/google/go-cmp/cmp"
)

// TestClaimOperators checks every operator on the claims of a real token,
// true and false: AuthX's operator scenarios over dotted paths, numbers
// compared by value, registered claims by wire name, missing values.
func TestClaimOperators(t *testing.T) {
	t.Parallel()
	a := newAuth(t, authx.WithLoginType("staff"))
	tok := authtest.Token(t, a, "alice", authx.Grant("docs:read", "admin:*"), authx.Data(map[string]any{
		"profile":   map[string]any{"age": 30, "name": "Ada", "address": map[string]any{"city": "Paris"}},
		"roles":     []string{"editor", "viewer"},
		"big":       int64(9007199254740993), // 2^53 + 1: a float64 cannot hold it
		"ratio":     0.5,
		"nothing":   nil,
		"flag":      true,
		"tenant_no": 42,
	}))
	claims, err := a.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	age := rules.Claim("profile.age")
	tests := []struct {
		name   string
		cond   authx.Policy
		claims *authx.Claims // nil: the token's
		want   bool
	}{
		{"equals, dotted", age.Equals(30), nil, true},
		{"equals, float operand", age.Equals(30.0), nil, true},
		{"equals, json.Number operand", age.Equals(json.Number("30")), nil, true},
		{"equals, other number", age.Equals(31), nil, false},
		{"equals, string is not a number", age.Equals("30"), nil, false},
		{"equals, beyond 2^53 exactly", rules.Claim("big").Equals(int64(9007199254740993)), nil, true},
		{"equals, beyond 2^53 off by one", rules.Claim("big").Equals(int64(9007199254740992)), nil, false},
		{"equals, an object", rules.Claim("profile.address").Equals(map[string]string{"city": "Paris"}), nil, true},
		{"equals, an array", rules.Claim("roles").Equals([]string{"editor", "viewer"}), nil, true},
		{"equals, an array in another order", rules.Claim("roles").Equals([]string{"viewer", "editor"}), nil, false},
		{"equals, bool", rules.Claim("flag").Equals(true), nil, true},
		{"equals nil, null", rules.Claim("nothing").Equals(nil), nil, true},
		{"equals nil, missing", rules.Claim("missing").Equals(nil), nil, true},
		{"equals nil, present", age.Equals(nil), nil, false},
		{"not_equals", age.NotEquals(31), nil, true},
		{"not_equals, equal", age.NotEquals(30), nil, false},
		{"not_equals, missing", rules.Claim("missing").NotEquals("x"), nil, true},
		{"in", rules.Claim("profile.name").In("Bob", "Ada"), nil, true},
		{"in, absent", rules.Claim("profile.name").In("Bob", "Eve"), nil, false},
		{"in, numbers", age.In(29, 30.0), nil, true},
		{"in, missing", rules.Claim("missing").In("x"), nil, false},
		{"not_in", rules.Claim("profile.name").NotIn("Bob", "Eve"), nil, true},
		{"not_in, present", rules.Claim("profile.name").NotIn("Ada"), nil, false},
		{"not_in, missing", rules.Claim("missing").NotIn("x"), nil, true},
		{"contains, in a list", rules.Claim("roles").Contains("editor"), nil, true},
		{"contains, not in the list", rules.Claim("roles").Contains("admin"), nil, false},
		{"contains, substring", rules.Claim("profile.name").Contains("d"), nil, true},
		{"contains, not a substring", rules.Claim("profile.name").Contains("z"), nil, false},
		{"contains, non-string in a string", rules.Claim("profile.name").Contains(1), nil, false},
		{"contains, missing", rules.Claim("missing").Contains("x"), nil, false},
		{"contains, a number", age.Contains(3), nil, false},
		{"gt", age.Gt(29), nil, true},
		{"gt, equal", age.Gt(30), nil, false},
		{"gt, float", age.Gt(29.5), nil, true},
		{"gte, equal", age.Gte(30), nil, true},
		{"gte, greater", age.Gte(31), nil, false},
		{"lt", age.Lt(31), nil, true},
		{"lt, equal", age.Lt(30), nil, false},
		{"lte, equal", age.Lte(30), nil, true},
		{"lte, less", age.Lte(29), nil, false},
		{"lt, fraction", rules.Claim("ratio").Lt(1), nil, true},
		{"gt, missing", rules.Claim("missing").Gt(0), nil, false},
		{"gt, a string", rules.Claim("profile.name").Gt(0), nil, false},
		{"gt, beyond 2^53", rules.Claim("big").Gt(int64(9007199254740992)), nil, true},
		{"exists", age.Exists(), nil, true},
		{"exists, login_type", rules.Claim("login_type").Exists(), nil, true},
		{"exists, missing dotted path", rules.Claim("profile.missing.deep").Exists(), nil, false},
		{"exists, through a number", rules.Claim("profile.age.x").Exists(), nil, false},
		{"exists, null", rules.Claim("nothing").Exists(), nil, false},
		{"registered: sub", rules.Claim("sub").Equals("alice"), nil, true},
		{"registered: scopes", rules.Claim("scopes").Contains("admin:*"), nil, true},
		{"registered: type", rules.Claim("type").Equals("access"), nil, true},
		{"registered: login_type", rules.Claim("login_type").Equals("staff"), nil, true},
		{"registered: fresh", rules.Claim("fresh").Equals(false), nil, true},
		{"registered: exp is a NumericDate", rules.Claim("exp").Gt(now.Unix()), nil, true},
		{"registered: iss absent", rules.Claim("iss").Exists(), nil, false},
		{"no claims: exists", rules.Claim("sub").Exists(), new(authx.Claims), false},
		{"no claims: not_equals", rules.Claim("role").NotEquals("admin"), new(authx.Claims), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := claims
			if tt.claims != nil {
				c = tt.claims
			}
			err := tt.cond.Check(t.Context(), c)
			if got := err == nil; got != tt.want {
				t.Errorf("%v on the token: holds %v, want %v (%v)", tt.cond, got, tt.want, err)
			}
			if err != nil && (!errors.Is(err, authx.ErrForbidden) || authx.StatusOf(err) != 403) {
				t.Errorf("%v: the denial %v is not a 403 ErrForbidden", tt.cond, err)
			}
		})
	}
	t.Run("no claims", func(t *testing.T) {
		t.Parallel()
		if err := rules.Claim("sub").Exists().Check(t.Context(), nil); !errors.Is(err, authx.ErrForbidden) {
			t.Errorf("Exists on nil claims: %v, want a denial", err)
		}
		if err := rules.Claim("sub").NotEquals("x").Check(t.Context(), nil); err != nil {
			t.Errorf("NotEquals on nil claims: %v, want it to hold (missing is not x)", err)
		}
	})
}

// TestEqualsPathValue compares a wildcard of the rule's pattern with
// string and number claims.
func TestEqualsPathValue(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	set := rules.Set(
		rules.Allow("GET /tenants/{tenant}/invoices", rules.Claim("tenant").EqualsPathValue("tenant")),
		rules.Allow("GET /accounts/{no}", rules.Claim("account.no").EqualsPathValue("no")),
		rules.Allow("GET /files/{path...}", rules.Claim("home").EqualsPathValue("path")),
		rules.Allow("GET /users/{id}", rules.Claim("sub").EqualsPathValue("id")),
	)
	opts := []authx.TokenOption{authx.Claim("tenant", "acme"), authx.Claim("account", map[string]any{"no": 42}), authx.Claim("home", "")}
	tests := []struct {
		name, target string
		want         bool
		reason       string
	}{
		{"same string", "/tenants/acme/invoices", true, "the path's tenant is the token's"},
		{"other string", "/tenants/acmex/invoices", false, "no prefix matching"},
		{"escaped", "/tenants/ac%6De/invoices", true, "path values are unescaped, as ServeMux gives them to the handler"},
		{"number", "/accounts/42", true, `"42" is the number 42`},
		{"number as a float", "/accounts/42.0", true, "the same JSON number"},
		{"leading zero", "/accounts/042", false, "not a JSON number"},
		{"plus sign", "/accounts/+42", false, "not a JSON number"},
		{"other number", "/accounts/43", false, "another number"},
		{"empty remainder", "/files/", false, `an empty value never equals, even the claim ""`},
		{"own user", "/users/alice", true, "sub by its wire name"},
		{"other user", "/users/bob", false, "not the token's subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := decide(t, a, set, request(t, a, "GET", tt.target, "alice", opts...))
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.want {
				t.Errorf("GET %s: allowed %v, want %v (%s)", tt.target, d.Allowed, tt.want, tt.reason)
			}
		})
	}
	t.Run("outside a rule", func(t *testing.T) {
		t.Parallel()
		// As a plain policy, the condition reads the path values the
		// application's ServeMux gave the guarded request.
		mux := http.NewServeMux()
		mux.Handle("GET /t/{tenant}", a.Require(rules.Claim("tenant").EqualsPathValue("tenant")).Wrap(http.NotFoundHandler()))
		for target, want := range map[string]int{"/t/acme": 404, "/t/globex": 403} {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, request(t, a, "GET", target, "alice", opts...))
			if w.Code != want {
				t.Errorf("GET %s: %d, want %d", target, w.Code, want)
			}
		}
	})
}

// TestPatterns: a rule matches exactly what http.ServeMux would route to
// its pattern; a request ServeMux would redirect matches nothing.
func TestPatterns(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	tests := []struct {
		name           string
		pattern        string
		method, target string
		host           string // "": example.com, httptest's
		want           bool
	}{
		{"method and wildcard", "GET /docs/{id}", "GET", "/docs/1", "", true},
		{"GET matches HEAD", "GET /docs/{id}", "HEAD", "/docs/1", "", true},
		{"other method", "GET /docs/{id}", "POST", "/docs/1", "", false},
		{"wildcard is one segment", "GET /docs/{id}", "GET", "/docs/1/x", "", false},
		{"empty segment", "GET /docs/{id}", "GET", "/docs/", "", false},
		{"subtree", "/admin/", "DELETE", "/admin/users/1", "", true},
		{"subtree root", "/admin/", "GET", "/admin/", "", true},
		{"subtree without its slash: a redirect", "/admin/", "GET", "/admin", "", false},
		{"unclean path: a redirect", "/docs/", "GET", "/docs/../docs/1", "", false},
		{"double slash: a redirect", "/docs/", "GET", "//docs/1", "", false},
		{"dot segment: a redirect", "/docs/", "GET", "/docs/./1", "", false},
		{"host", "POST example.com/x", "POST", "/x", "example.com", true},
		{"host with a port", "POST example.com/x", "POST", "/x", "example.com:8443", true},
		{"other host", "POST example.com/x", "POST", "/x", "evil.example", false},
		{"remainder", "GET /files/{path...}", "GET", "/files/a/b/c", "", true},
		{"empty remainder", "GET /files/{path...}", "GET", "/files/", "", true},
		{"exact root", "/{$}", "GET", "/", "", true},
		{"exact root, other path", "/{$}", "GET", "/x", "", false},
		{"everything", "/", "OPTIONS", "/any/thing", "", true},
		{"tab after the method", "GET\t/docs/{id}", "GET", "/docs/1", "", true},
		{"tab after the method, a space in the path", "GET\t/a b", "GET", "/a%20b", "", true},
		{"spaces after the method", "GET   /docs/{id}", "HEAD", "/docs/1", "", true},
		{"lowercase method", "get /docs/{id}", "GET", "/docs/1", "", false},
		{"exact path", "/docs", "GET", "/docs/", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request(t, a, tt.method, tt.target, "alice")
			if tt.host != "" {
				r.Host = tt.host
			}
			d, err := decide(t, a, rules.Set(rules.Allow(tt.pattern)), r)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.want {
				t.Errorf("%q on %s %s (host %q): match %v, want %v", tt.pattern, tt.method, tt.target, r.Host, d.Allowed, tt.want)
			}
			// A deny rule on the same pattern matches exactly alike.
			d, err = decide(t, a, rules.Set(rules.Allow("/"), rules.Deny(tt.pattern)), r)
			if err != nil {
				t.Fatal(err)
			}
			if got := !d.Allowed && d.Rule == 1; got != tt.want {
				t.Errorf("Deny(%q) on %s %s: %+v, want the deny rule to match: %v", tt.pattern, tt.method, tt.target, d, tt.want)
			}
		})
	}
	// Comparing decisions, not only Allowed: the deny rule is named.
	d, _ := decide(t, a, rules.Set(rules.Allow("/"), rules.Deny("GET /secret")), request(t, a, "HEAD", "/secret", "alice"))
	if diff := cmp.Diff(rules.Decision{Rule: 1, Reason: "deny rule matched"}, d); diff != "" {
		t.Errorf("Deny(GET) on HEAD (-want +got):\n%s", diff)
	}
}

// TestOtherClaimsInARule: a condition that checks other claims inside a
// rule (a PolicyFunc delegating) reads those claims, not the decision's.
func TestOtherClaimsInARule(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	other, err := a.Verify(t.Context(), authtest.Token(t, a, "bob", authx.Claim("role", "admin")))
	if err != nil {
		t.Fatal(err)
	}
	isAdmin := rules.Claim("role").Equals("admin")
	set := rules.Set(rules.Allow("/",
		rules.Claim("role").Equals("user"), // decodes the request's claims first
		authx.PolicyFunc(func(ctx context.Context, _ *authx.Claims) error { return isAdmin.Check(ctx, other) }),
	))
	d, err := decide(t, a, set, request(t, a, "GET", "/", "alice", authx.Claim("role", "user")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"}, d); diff != "" {
		t.Errorf("Decision (-want +got):\n%s", diff)
	}
}
