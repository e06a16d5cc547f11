// Python AuthX 1.7's policy-engine scenarios (tests/test_policy.py, see
// ../shared/reference/authx-behaviour.md §1.17) and the Go tests that
// port them. AuthX matches an action and a resource given to authorize();
// here a rule's http.ServeMux pattern matches the guarded request's method
// and path, so "action users:delete on users:*" becomes
// Deny("DELETE /users/{id}") beside Allow("/users/").
//
//	allow rule with scope admin:users:ban, token admin:*     TestAuthXScenarios "admin:* covers admin:users:ban" (+ a token that lacks it)
//	allow users:* + deny users:delete, reason                TestAuthXScenarios "deny overrides…" (both orders, with and without a reason)
//	conditions on subject/resource/environment               TestAuthXScenarios "subject, resource and environment…" (tenant in the path is the token's, subject not suspended, a request header)
//	custom sync evaluator account_status active/suspended    TestAuthXScenarios "custom evaluator…" (an authx.PolicyFunc)
//	policy_required: no rule → 403; admin:* rule → 200       TestHTTP "no rule matches" / "admin:* …" (403 body names no rule, no reason)
//	operators equals … exists over dotted paths              TestClaimOperators (every operator, true and false, numbers 30 and 30.0, int64 beyond 2^53)
//	contains on missing → false; missing dotted exists       TestClaimOperators "contains, missing" / "exists, missing dotted path"
//	exists on token login_type                               TestClaimOperators "exists, login_type" (registered claims by wire name)
//	token source without payload → {}                        TestClaimOperators "no claims…" (nil *Claims: every claim missing)
//	non-matching rules (action, resource, scope, condition)  TestAuthXScenarios "non-matching rules…": denied by default, allowed with
//	  + default_allow → allowed, reason                        InsecureDefaultAllow, with its reason; a deny rule still denies
//	global (async) evaluator on a */* rule                   TestAuthXScenarios "evaluator on every request" (Allow("/", cond));
//	                                                           a condition for every rule sits beside the set in the guard: TestGlobalCondition
//	rules returns a copy                                     TestSetCopiesRules
//	rule scopes OR mode                                      TestAuthXScenarios "either scope…" (authx.Any(Scopes, Scopes))
//	build_policy_environment: method, path, client_ip        TestAuthXScenarios "environment…" (rules.Request sees them)
//
// Not ported:
//   - "unknown source → PolicyEvaluationError (500)": Go has no string
//     sources; a condition is a typed authx.Policy, so an unknown source
//     does not compile. The runtime failures that remain (a store outage,
//     an unknown error, a misbuilt condition) are TestFailClosed and
//     TestValidate.
//   - the "env" overrides of build_policy_environment: there is no
//     environment dictionary to override; a condition reads the request
//     itself (rules.Request) or anything else (authx.PolicyFunc).
//   - default_subject_from_payload (a dict of sub, scopes, login_type, with
//     its extras bug): the subject is the application's type, resolved by
//     the getter of authx.WithSubjectGetter (rules.Subject); claims are
//     read with rules.Claim.
//   - "no payload → rule scopes false": a guard always has claims; nil
//     claims are covered for rules' own conditions in TestClaimOperators.
//   - the last matching allow rule being reported (AuthX) — here the first
//     is, and later allow rules are not evaluated (TestDecisionRule).
//
// Beyond AuthX: ServeMux pattern semantics (TestPatterns), path values
// against claims (TestEqualsPathValue), failing closed (TestFailClosed),
// construction mistakes (TestValidate), printing (TestString), no request
// (TestNoRequest), both guard placements over HTTP (TestHTTP).

package rules_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/rules"
	"github.com/google/go-cmp/cmp"
)

func TestAuthXScenarios(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	notSuspended := rules.Subject(a, func(u *User) bool { return !u.Suspended })
	accountActive := authx.PolicyFunc(func(_ context.Context, c *authx.Claims) error {
		if s, _ := c.Get("account_status"); s == "active" {
			return nil
		}
		return authx.ErrForbidden
	})
	tenancy := rules.Set(rules.Allow("GET /tenants/{tenant}/invoices",
		rules.Claim("tenant_id").EqualsPathValue("tenant"),
		notSuspended,
		rules.Request(func(r *http.Request) bool { return r.Header.Get("X-Region") == "eu" })))
	crud := rules.Set(rules.Allow("/users/"), rules.Deny("DELETE /users/{id}").Because("delete disabled"))
	crudDenyFirst := rules.Set(rules.Deny("DELETE /users/{id}").Because("delete disabled"), rules.Allow("/users/"))
	nonMatching := rules.Set(
		rules.Allow("DELETE /docs/{id}"),                                   // action
		rules.Allow("GET /other/{id}"),                                     // resource
		rules.Allow("GET /docs/{id}", authx.Scopes("docs:write")),          // scope
		rules.Allow("GET /docs/{id}", rules.Claim("role").Equals("admin")), // condition
	)
	tests := []struct {
		name           string
		set            rules.SetPolicy
		method, target string
		sub            string
		token          []authx.TokenOption
		want           rules.Decision
		reason         string
	}{
		{
			name:   "admin:* covers admin:users:ban",
			set:    rules.Set(rules.Allow("POST /users/{id}/ban", authx.Scopes("admin:users:ban"))),
			method: "POST", target: "/users/7/ban", token: []authx.TokenOption{authx.Grant("admin:*")},
			want:   rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"},
			reason: "a granted ns:* scope covers every scope below ns",
		},
		{
			name:   "admin:* rule, token without it",
			set:    rules.Set(rules.Allow("POST /users/{id}/ban", authx.Scopes("admin:users:ban"))),
			method: "POST", target: "/users/7/ban", token: []authx.TokenOption{authx.Grant("users:*")},
			want:   rules.Decision{Rule: -1, Reason: "no rule matched"},
			reason: "a rule whose scope condition fails does not match; the default denies",
		},
		{
			name: "deny overrides an earlier allow, with its reason",
			set:  crud, method: "DELETE", target: "/users/7",
			want:   rules.Decision{Rule: 1, Reason: "delete disabled"},
			reason: "the deny rule matches after the allow rule and overrides it",
		},
		{
			name: "deny overrides a later allow",
			set:  crudDenyFirst, method: "DELETE", target: "/users/7",
			want:   rules.Decision{Rule: 0, Reason: "delete disabled"},
			reason: "order does not let an allow win over a deny",
		},
		{
			name: "deny overrides: other actions allowed",
			set:  crud, method: "GET", target: "/users/7",
			want:   rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"},
			reason: "the deny rule's pattern does not match GET",
		},
		{
			name:   "deny without a reason",
			set:    rules.Set(rules.Allow("/"), rules.Deny("DELETE /users/{id}")),
			method: "DELETE", target: "/users/7",
			want:   rules.Decision{Rule: 1, Reason: "deny rule matched"},
			reason: "AuthX's generic 'Policy rule deny matched'",
		},
		{
			name: "subject, resource and environment conditions hold",
			set:  tenancy, method: "GET", target: "/tenants/acme/invoices", sub: "alice",
			token:  []authx.TokenOption{authx.Claim("tenant_id", "acme")},
			want:   rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"},
			reason: "the path's tenant is the token's, alice is not suspended, the region header is set",
		},
		{
			name: "resource condition fails: another tenant",
			set:  tenancy, method: "GET", target: "/tenants/globex/invoices", sub: "alice",
			token:  []authx.TokenOption{authx.Claim("tenant_id", "acme")},
			want:   rules.Decision{Rule: -1, Reason: "no rule matched"},
			reason: "the tenant in the path is not the token's",
		},
		{
			name: "subject condition fails: suspended",
			set:  tenancy, method: "GET", target: "/tenants/acme/invoices", sub: "mallory",
			token:  []authx.TokenOption{authx.Claim("tenant_id", "acme")},
			want:   rules.Decision{Rule: -1, Reason: "no rule matched"},
			reason: "mallory is suspended",
		},
		{
			name: "environment condition fails: method",
			set:  tenancy, method: "POST", target: "/tenants/acme/invoices", sub: "alice",
			token:  []authx.TokenOption{authx.Claim("tenant_id", "acme")},
			want:   rules.Decision{Rule: -1, Reason: "no rule matched"},
			reason: "the pattern admits GET (and HEAD) only",
		},
		{
			name:   "custom evaluator: active account",
			set:    rules.Set(rules.Allow("GET /profile", accountActive)),
			method: "GET", target: "/profile", token: []authx.TokenOption{authx.Claim("account_status", "active")},
			want:   rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"},
			reason: "a PolicyFunc returning nil is a condition that holds",
		},
		{
			name:   "custom evaluator: suspended account",
			set:    rules.Set(rules.Allow("GET /profile", accountActive)),
			method: "GET", target: "/profile", token: []authx.TokenOption{authx.Claim("account_status", "suspended")},
			want:   rules.Decision{Rule: -1, Reason: "no rule matched"},
			reason: "a PolicyFunc returning ErrForbidden is a condition that does not hold",
		},
		{
			name: "non-matching rules of each kind: default deny",
			set:  nonMatching, method: "GET", target: "/docs/1", token: []authx.TokenOption{authx.Grant("docs:read")},
			want:   rules.Decision{Rule: -1, Reason: "no rule matched"},
			reason: "action, resource, scope and condition each fail to match",
		},
		{
			name: "non-matching rules of each kind: insecure default allow",
			set:  nonMatching.InsecureDefaultAllow(), method: "GET", target: "/docs/1", token: []authx.TokenOption{authx.Grant("docs:read")},
			want:   rules.Decision{Allowed: true, Rule: -1, Reason: "no rule matched; insecure default allow"},
			reason: "AuthX's default_allow=True",
		},
		{
			name: "insecure default allow: a deny rule still denies",
			set:  rules.Set(rules.Deny("DELETE /docs/{id}")).InsecureDefaultAllow(), method: "DELETE", target: "/docs/1",
			want:   rules.Decision{Rule: 0, Reason: "deny rule matched"},
			reason: "the default applies only when no rule matched",
		},
		{
			name:   "evaluator on every request",
			set:    rules.Set(rules.Allow("/", accountActive)),
			method: "PATCH", target: "/any/where", token: []authx.TokenOption{authx.Claim("account_status", "active")},
			want:   rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"},
			reason: `"/" is AuthX's "*"/"*" rule`,
		},
		{
			name:   "either scope: read",
			set:    rules.Set(rules.Allow("GET /docs/{id}", authx.Any(authx.Scopes("read"), authx.Scopes("write")))),
			method: "GET", target: "/docs/1", token: []authx.TokenOption{authx.Grant("read")},
			want:   rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"},
			reason: "all_scopes_required=False is Any(Scopes(a), Scopes(b))",
		},
		{
			name:   "either scope: neither",
			set:    rules.Set(rules.Allow("GET /docs/{id}", authx.Any(authx.Scopes("read"), authx.Scopes("write")))),
			method: "GET", target: "/docs/1", token: []authx.TokenOption{authx.Grant("admin")},
			want:   rules.Decision{Rule: -1, Reason: "no rule matched"},
			reason: "Any's insufficient_scope is a denial, so the rule does not match",
		},
		{
			name: "environment: method, path and client address",
			set: rules.Set(rules.Allow("/", rules.Request(func(r *http.Request) bool {
				return r.Method == "PUT" && r.URL.Path == "/reports/q3" && strings.HasPrefix(r.RemoteAddr, "192.0.2.1:")
			}))),
			method: "PUT", target: "/reports/q3",
			want:   rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"},
			reason: "rules.Request sees what build_policy_environment collects (httptest's client is 192.0.2.1)",
		},
		{
			name:   "a reason on an allow rule",
			set:    rules.Set(rules.Allow("GET /docs/{id}").Because("public docs")),
			method: "GET", target: "/docs/1",
			want:   rules.Decision{Allowed: true, Rule: 0, Reason: "public docs"},
			reason: "Because names the allowing rule's reason too",
		},
		{
			name: "empty set",
			set:  rules.Set(), method: "GET", target: "/",
			want:   rules.Decision{Rule: -1, Reason: "no rule matched"},
			reason: "default deny",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sub := tt.sub
			if sub == "" {
				sub = "alice"
			}
			r := request(t, a, tt.method, tt.target, sub, tt.token...)
			r.Header.Set("X-Region", "eu")
			got, err := decide(t, a, tt.set, r)
			if err != nil {
				t.Fatalf("Decide: %v (%s)", err, tt.reason)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decision (-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}

// TestSetCopiesRules: Set keeps its own copy of the rules, as AuthX's
// rules property returns a copy.
func TestSetCopiesRules(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	rs := []rules.Rule{rules.Allow("GET /docs/{id}")}
	set := rules.Set(rs...)
	rs[0] = rules.Deny("GET /docs/{id}")
	got, err := decide(t, a, set, request(t, a, "GET", "/docs/1", "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rules.Decision{Allowed: true, Rule: 0, Reason: "allow rule matched"}, got); diff != "" {
		t.Errorf("after changing the caller's slice (-want +got):\n%s", diff)
	}
	if got, want := set.String(), `rules.Set(rules.Allow("GET /docs/{id}"))`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

// TestDecisionRule: the first matching allow rule decides, later allow
// rules are not evaluated, and deny rules after it still are.
func TestDecisionRule(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	var evaluated []string
	probe := func(name string, holds bool) authx.Policy {
		return authx.PolicyFunc(func(context.Context, *authx.Claims) error {
			evaluated = append(evaluated, name)
			if holds {
				return nil
			}
			return authx.ErrForbidden
		})
	}
	set := rules.Set(
		rules.Allow("/", probe("allow0", false)),
		rules.Allow("/", probe("allow1", true)),
		rules.Allow("/", probe("allow2", true)),
		rules.Deny("/", probe("deny3", false)),
		rules.Deny("/other", probe("deny4", true)),
	)
	got, err := decide(t, a, set, request(t, a, "GET", "/docs", "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rules.Decision{Allowed: true, Rule: 1, Reason: "allow rule matched"}, got); diff != "" {
		t.Errorf("Decision (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"allow0", "allow1", "deny3"}, evaluated); diff != "" {
		t.Errorf("conditions evaluated (-want +got):\n%s", diff)
	}
}

// TestNoRequest: outside a guarded request (Verify, a hand-made context)
// nothing matches and the set denies, even with InsecureDefaultAllow.
func TestNoRequest(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	tok := authtest.Token(t, a, "alice")
	for _, set := range []rules.SetPolicy{rules.Set(rules.Allow("/")), rules.Set(rules.Allow("/")).InsecureDefaultAllow()} {
		d, err := set.Decide(context.Background(), nil)
		if diff := cmp.Diff(rules.Decision{Rule: -1, Reason: "no request"}, d); diff != "" || err != nil {
			t.Errorf("%v: Decide(Background) = %v, %v (-want +got):\n%s", set, d, err, diff)
		}
		if _, err := a.Verify(t.Context(), tok, set); !errors.Is(err, authx.ErrForbidden) {
			t.Errorf("%v: Verify = %v, want ErrForbidden", set, err)
		}
	}
}
