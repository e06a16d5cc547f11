package rules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/authx-go/authx"
)

// SetPolicy is the [authx.Policy] built by [Set].
type SetPolicy struct {
	rules                []Rule
	insecureDefaultAllow bool
	err                  error
}

// Set returns a policy that decides on the guarded request with rules, in
// order: the first matching [Deny] rule denies; otherwise a matching
// [Allow] rule allows; otherwise the request is denied. Set() denies
// every request. The rules are validated now (see [SetPolicy.Validate]).
//
// A guard decides which token type it admits before the set runs: a
// guard holding a set requires an access token, unless [authx.Refresh]
// is one of the guard's own policies, whatever the rules' conditions say.
func Set(rules ...Rule) SetPolicy {
	s := SetPolicy{rules: append([]Rule(nil), rules...)}
	for i, r := range s.rules {
		if err := r.validate(); err != nil {
			s.err = fmt.Errorf("rules.Set: rule %d, %v: %w", i, r, err)
			break
		}
	}
	return s
}

// InsecureDefaultAllow returns a copy of s that allows a request no rule
// matches, as Python AuthX's default_allow=True does: every route the
// rules forget is open. Deny rules still deny, and a context without a
// guarded request is still denied.
func (s SetPolicy) InsecureDefaultAllow() SetPolicy {
	s.insecureDefaultAllow = true
	return s
}

// Decision is the outcome of a [SetPolicy] for one request.
type Decision struct {
	// Allowed reports whether the request may pass.
	Allowed bool
	// Rule is the index in the set of the rule that decided: the first
	// matching deny rule, else the first matching allow rule; -1 when no
	// rule matched (the default decided). When [SetPolicy.Decide] fails,
	// it is the rule whose condition could not answer.
	Rule int
	// Reason says why: the deciding rule's [Rule.Because], or a generic
	// reason ("deny rule matched", "allow rule matched", "no rule matched",
	// "no request"). It is for logs and audits, not for clients.
	Reason string
}

// Generic reasons of a Decision.
const (
	reasonDeny         = "deny rule matched"
	reasonAllow        = "allow rule matched"
	reasonNone         = "no rule matched"
	reasonDefaultAllow = "no rule matched; insecure default allow"
	reasonNoRequest    = "no request"
	reasonFailed       = "condition failed to answer"
	reasonMisbuilt     = "misconfigured"
)

// Decide returns the decision of s on the request of ctx (see
// [authx.RequestFrom]) and the claims c. A denial is a Decision, not an
// error; the error reports that s could not decide — it was built wrongly
// ([authx.ErrMisconfigured]), or a condition failed to answer (its error,
// wrapped) — and the Decision then denies.
func (s SetPolicy) Decide(ctx context.Context, c *authx.Claims) (Decision, error) {
	if s.err != nil {
		return Decision{Rule: -1, Reason: reasonMisbuilt}, misconfigured(s.err)
	}
	req, ok := authx.RequestFrom(ctx)
	if !ok {
		return Decision{Rule: -1, Reason: reasonNoRequest}, nil
	}
	allowed := -1
	var cache *claimsCache // made for the first rule with conditions to run
	for i := range s.rules {
		r := &s.rules[i]
		if !r.deny && allowed >= 0 {
			continue // only a deny rule can change the answer now
		}
		if !r.matches(req) {
			continue
		}
		if cache == nil && len(r.conditions) > 0 {
			cache = &claimsCache{claims: c}
		}
		ok, err := r.holds(ctx, req, c, cache)
		if err != nil {
			return Decision{Rule: i, Reason: reasonFailed}, fmt.Errorf("rules: rule %d, %v: %w", i, r, err)
		}
		if !ok {
			continue
		}
		if r.deny {
			return Decision{Rule: i, Reason: reasonOr(r.reason, reasonDeny)}, nil
		}
		allowed = i
	}
	switch {
	case allowed >= 0:
		return Decision{Allowed: true, Rule: allowed, Reason: reasonOr(s.rules[allowed].reason, reasonAllow)}, nil
	case s.insecureDefaultAllow:
		return Decision{Allowed: true, Rule: -1, Reason: reasonDefaultAllow}, nil
	}
	return Decision{Rule: -1, Reason: reasonNone}, nil
}

func reasonOr(reason, generic string) string {
	if reason != "" {
		return reason
	}
	return generic
}

// Check allows the requests s allows. It denies with an error wrapping
// [authx.ErrForbidden] — authx answers with its generic 403, which names
// neither the rule nor the reason; the error's text gives both, for the
// logger. When s cannot decide it returns the error of [SetPolicy.Decide].
func (s SetPolicy) Check(ctx context.Context, c *authx.Claims) error {
	d, err := s.Decide(ctx, c)
	switch {
	case err != nil:
		return err
	case d.Allowed:
		return nil
	}
	msg := "rules: denied: " + d.Reason
	if d.Rule >= 0 {
		r := s.rules[d.Rule]
		kind := "Allow"
		if r.deny {
			kind = "Deny"
		}
		msg += " (rule " + strconv.Itoa(d.Rule) + ", " + kind + " " + strconv.Quote(r.pattern) + ")"
	}
	return &sentinelError{authx.ErrForbidden, msg}
}

// Validate reports the first construction mistake in s: a pattern
// [http.ServeMux] refuses, a zero [Rule], a nil condition, a condition
// whose own Validate fails (an invalid claim path or operand, a nested
// Scopes("bad scope")), or an EqualsPathValue naming a wildcard the
// rule's pattern lacks. authx calls it when a guard is built.
func (s SetPolicy) Validate() error { return s.err }

// String returns the set as written, e.g.
// rules.Set(rules.Allow("GET /docs/{id}", Scopes("docs:read"))).
func (s SetPolicy) String() string {
	parts := make([]string, len(s.rules))
	for i, r := range s.rules {
		parts[i] = r.String()
	}
	out := "rules.Set(" + strings.Join(parts, ", ") + ")"
	if s.insecureDefaultAllow {
		out += ".InsecureDefaultAllow()"
	}
	return out
}
