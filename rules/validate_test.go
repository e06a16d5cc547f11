package rules_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/rules"
	"github.com/google/go-cmp/cmp"
)

// validated is a policy with its own Validate method: authx calls it when
// a guard is built, and so does a rule holding it.
type validated struct{ err error }

func (v validated) Check(context.Context, *authx.Claims) error { return nil }
func (v validated) Validate() error                            { return v.err }

// TestValidate: every construction mistake makes Require panic at start-up
// with a message naming it, TryRequire return it wrapped in
// ErrMisconfigured, and Verify deny with 500 — nothing panics at request
// time.
func TestValidate(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	errCustom := errors.New("custom mistake")
	tests := []struct {
		name    string
		policy  authx.Policy
		wantErr string // a part of Guard.Err's text; "" for no mistake
	}{
		{"valid", rules.Set(rules.Allow("GET /docs/{id}", authx.Scopes("docs:read"))), ""},
		{"bad pattern", rules.Set(rules.Allow("BAD PATTERN WITH SPACES x y")), `rule 0, rules.Allow("BAD PATTERN WITH SPACES x y")`},
		{"empty pattern", rules.Set(rules.Deny("")), "invalid pattern"},
		{"unbalanced wildcard", rules.Set(rules.Allow("/"), rules.Allow("GET /docs/{id")), "rule 1"},
		{"duplicate wildcard", rules.Set(rules.Allow("/{a}/{a}")), "duplicate wildcard"},
		{"nested bad scope", rules.Set(rules.Allow("/", authx.Scopes("bad scope"))), `Scopes("bad scope")`},
		{"bad scope inside All", rules.Set(rules.Allow("/", authx.All(authx.Access, authx.Scopes("bad scope")))), `Scopes("bad scope")`},
		{"nil condition", rules.Set(rules.Allow("/", nil)), "nil condition"},
		{"nil policy inside Any", rules.Set(rules.Allow("/", authx.Any(nil))), "nil policy"},
		{"nil PolicyFunc", rules.Set(rules.Allow("/", authx.PolicyFunc(nil))), "nil PolicyFunc"},
		{"unknown token type", rules.Set(rules.Allow("/", authx.TokenType("id"))), `unknown token type "id"`},
		{"zero Rule", rules.Set(rules.Rule{}), "zero Rule"},
		{"empty path segment", rules.Set(rules.Allow("/", rules.Claim("profile..age").Exists())), `rules.Claim("profile..age"): empty segment`},
		{"path too deep", rules.Set(rules.Allow("/", rules.Claim(strings.Repeat("a.", 16)+"a").Exists())), "17 segments"},
		{"Gt of a string", rules.Set(rules.Allow("/", rules.Claim("age").Gt("thirty"))), `rules.Claim("age").Gt("thirty"): not a number`},
		{"In()", rules.Set(rules.Allow("/", rules.Claim("role").In())), `rules.Claim("role").In(): no value`},
		{"NotIn()", rules.Set(rules.Allow("/", rules.Claim("role").NotIn())), `NotIn(): no value`},
		{"NaN", rules.Set(rules.Allow("/", rules.Claim("x").Equals(math.NaN()))), "unsupported value: NaN"},
		{"not JSON", rules.Set(rules.Allow("/", rules.Claim("x").Equals(make(chan int)))), "unsupported type"},
		{"wildcard not in the pattern", rules.Set(rules.Allow("GET /t/{tenant}", rules.Claim("t").EqualsPathValue("tenantId"))), `EqualsPathValue("tenantId"): the pattern has no wildcard {tenantId}`},
		{"wildcard not in the pattern, inside Any", rules.Set(rules.Allow("GET /t/{tenant}", authx.Any(authx.Scopes("admin"), rules.Claim("t").EqualsPathValue("x")))), "no wildcard {x}"},
		{"zero ClaimPath", rules.Set(rules.Allow("/", rules.ClaimPath{}.Equals(1))), "zero ClaimPath"},
		{"empty claim path", rules.Set(rules.Allow("/", rules.Claim("").Exists())), `rules.Claim(""): empty segment`},
		{"empty wildcard name", rules.Claim("t").EqualsPathValue(""), "empty wildcard name"},
		{"nil subject func", rules.Set(rules.Allow("/", rules.Subject[*User](a, nil))), "rules.Subject: nil func"},
		{"nil Auth", rules.Set(rules.Allow("/", rules.Subject[*User](nil, func(*User) bool { return true }))), "rules.Subject: nil Auth"},
		{"nil request func", rules.Set(rules.Allow("/", rules.Request(nil))), "rules.Request: nil func"},
		{"a custom Validate", rules.Set(rules.Allow("/", validated{errCustom})), "custom mistake"},
		{"a custom Validate, valid", rules.Set(rules.Allow("/", validated{nil})), ""},
		{"a condition alone", rules.Claim("age").Gt("x"), "not a number"},
		{"a custom Validate alone", validated{errCustom}, "custom mistake"},
		{"a custom Validate inside Any", authx.Any(authx.Scopes("a"), validated{errCustom}), "custom mistake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := a.TryRequire(tt.policy)
			if tt.wantErr == "" {
				if err != nil || g == nil {
					t.Fatalf("TryRequire = %v, %v; want a guard", g, err)
				}
				return
			}
			if g != nil || !errors.Is(err, authx.ErrMisconfigured) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("TryRequire = %v, %v; want ErrMisconfigured mentioning %q", g, err, tt.wantErr)
			}
			if msg := panicMessage(func() { a.Require(tt.policy) }); !strings.HasPrefix(msg, "authx: Require(") || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("Require panicked with %q, want a message naming Require and %q", msg, tt.wantErr)
			}
			_, verr := a.Verify(context.Background(), authtest.Token(t, a, "alice"), tt.policy)
			if !errors.Is(verr, authx.ErrMisconfigured) || authx.StatusOf(verr) != 500 {
				t.Errorf("Verify = %v, want 500 ErrMisconfigured", verr)
			}
			// Used without a guard's validation, the policy still denies with 500.
			if set, ok := tt.policy.(rules.SetPolicy); ok {
				if cerr := set.Check(context.Background(), nil); !errors.Is(cerr, authx.ErrMisconfigured) {
					t.Errorf("SetPolicy.Check = %v, want ErrMisconfigured", cerr)
				}
				if d, derr := set.Decide(context.Background(), nil); !errors.Is(derr, authx.ErrMisconfigured) || d.Allowed {
					t.Errorf("Decide = %+v, %v, want a denial and ErrMisconfigured", d, derr)
				}
			}
		})
	}
}

// TestString: every value prints as written.
func TestString(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	tests := []struct {
		name   string
		policy interface{ String() string }
		want   string
	}{
		{"the brief's set",
			rules.Set(rules.Allow("GET /docs/{id}", authx.Scopes("docs:read")), rules.Deny("DELETE /docs/{id}").Because("delete disabled")),
			`rules.Set(rules.Allow("GET /docs/{id}", Scopes("docs:read")), rules.Deny("DELETE /docs/{id}").Because("delete disabled"))`},
		{"empty set", rules.Set(), `rules.Set()`},
		{"insecure default allow", rules.Set(rules.Deny("/admin/")).InsecureDefaultAllow(), `rules.Set(rules.Deny("/admin/")).InsecureDefaultAllow()`},
		{"token types and authx's combinators",
			rules.Set(rules.Allow("/", authx.Access, authx.Fresh, authx.Any(authx.Refresh, authx.Scopes("a", "b")))),
			`rules.Set(rules.Allow("/", Access, Fresh, Any(Refresh, Scopes("a", "b"))))`},
		{"claim operators",
			rules.Allow("/", rules.Claim("profile.age").Gt(30), rules.Claim("role").In("admin", "owner"), rules.Claim("x").Equals(nil),
				rules.Claim("tags").Contains(1.5), rules.Claim("login_type").Exists(), rules.Claim("roles").NotIn([]string{"a"})),
			`rules.Allow("/", rules.Claim("profile.age").Gt(30), rules.Claim("role").In("admin", "owner"), rules.Claim("x").Equals(nil), ` +
				`rules.Claim("tags").Contains(1.5), rules.Claim("login_type").Exists(), rules.Claim("roles").NotIn([]string{"a"}))`},
		{"path value", rules.Allow("GET /t/{tenant}", rules.Claim("tenant_id").EqualsPathValue("tenant")),
			`rules.Allow("GET /t/{tenant}", rules.Claim("tenant_id").EqualsPathValue("tenant"))`},
		{"subject, request, PolicyFunc, a type without String",
			rules.Deny("/", rules.Subject(a, func(*User) bool { return false }), rules.Request(func(*http.Request) bool { return true }),
				authx.PolicyFunc(func(context.Context, *authx.Claims) error { return nil }), validated{}),
			`rules.Deny("/", rules.Subject(func(*rules_test.User) bool), rules.Request(func(*http.Request) bool), PolicyFunc, rules_test.validated)`},
		{"a nil condition", rules.Allow("/", nil), `rules.Allow("/", nil)`},
		{"the zero Rule", rules.Rule{}, `rules.Rule{}`},
		{"a guard", a.Require(rules.Set(rules.Allow("/"))), `All(Access, rules.Set(rules.Allow("/")))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.policy.String()); diff != "" {
				t.Errorf("String() (-want +got):\n%s", diff)
			}
		})
	}
}

// panicMessage runs f and returns what it panicked with, "" if it did not.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}
