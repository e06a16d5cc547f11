package authx

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/authx-go/authx/internal/scope"
)

// Policy decides whether verified claims may pass. Check returns nil to
// allow; any error denies. Return (or wrap) an authx sentinel to choose the
// status: [ErrForbidden] for 403, [ErrSubjectNotFound] for 401,
// [ErrUnavailable] for 503. An error authx does not know denies with 403
// (fail closed) and its text goes to the logger, never to the client.
//
// Policies compose: [All], [Any]; the built-ins are [Access], [Refresh],
// [Fresh] and [Scopes]; [PolicyFunc] adapts a function. Every built-in has a
// String method, so a guard prints as it was written:
//
//	All(Access, Scopes("admin:*"))
//
// A policy that also has a method
//
//	Validate() error
//
// is validated when a guard is built and by [Auth.Verify]: a non-nil error
// is a construction mistake — [Auth.Require] and [Auth.Optional] panic with
// it, [Auth.TryRequire] returns it wrapped in [ErrMisconfigured], Verify
// denies with 500. A policy holding others validates them in its Validate,
// as [All] and [Any] do.
type Policy interface {
	Check(ctx context.Context, c *Claims) error
}

// PolicyFunc adapts a function to a [Policy]. The context is the request's,
// so [SubjectFrom] works inside it.
type PolicyFunc func(ctx context.Context, c *Claims) error

// Check calls f. A nil PolicyFunc denies.
func (f PolicyFunc) Check(ctx context.Context, c *Claims) error {
	if f == nil {
		return newError(ErrMisconfigured, errors.New("nil PolicyFunc"))
	}
	return f(ctx, c)
}

// String returns "PolicyFunc".
func (f PolicyFunc) String() string { return "PolicyFunc" }

// Validate reports a nil PolicyFunc, which denies every request.
func (f PolicyFunc) Validate() error {
	if f == nil {
		return errors.New("nil PolicyFunc")
	}
	return nil
}

// Check allows claims of type t.
func (t TokenType) Check(_ context.Context, c *Claims) error {
	if c != nil && c.Type == t {
		return nil
	}
	switch t {
	case Access:
		return newError(ErrAccessRequired, nil)
	case Refresh:
		return newError(ErrRefreshRequired, nil)
	}
	return newError(ErrMisconfigured, fmt.Errorf("unknown token type %q", string(t)))
}

// Validate reports a type other than [Access] and [Refresh], which denies
// every request.
func (t TokenType) Validate() error {
	if t != Access && t != Refresh {
		return fmt.Errorf("unknown token type %q", string(t))
	}
	return nil
}

// String returns the wire value, "access" or "refresh". Inside a printed
// policy the type reads as written in Go: All(Access, Fresh).
func (t TokenType) String() string { return string(t) }

// goString returns t as written in Go source.
func (t TokenType) goString() string {
	switch t {
	case Access:
		return "Access"
	case Refresh:
		return "Refresh"
	}
	return "TokenType(" + strconv.Quote(string(t)) + ")"
}

// Freshness is the type of the [Fresh] policy.
type Freshness bool

// Fresh admits only fresh access tokens: those minted by a login (see
// [FreshLogin]), not by a refresh. Use it to guard sensitive operations such
// as a password change.
const Fresh Freshness = true

// Check allows fresh tokens (or anything, for Freshness(false)).
func (f Freshness) Check(_ context.Context, c *Claims) error {
	if bool(f) && (c == nil || !c.Fresh) {
		return newError(ErrNotFresh, nil)
	}
	return nil
}

// String returns "Fresh".
func (f Freshness) String() string {
	if f {
		return "Fresh"
	}
	return "Freshness(false)"
}

// ScopesPolicy is the policy built by [Scopes].
type ScopesPolicy struct {
	patterns []string
	err      error
}

// Scopes requires every pattern to be covered by a scope granted to the
// token. A granted scope covers a pattern when they are equal, or when the
// granted scope is "ns:*" and the pattern is "ns" or starts with "ns:"
// ("admin:*" covers "admin", "admin:users", "admin:users:edit"; not
// "administrator"). There is no other wildcard. For "either of", use
// Any(Scopes("a"), Scopes("b")).
//
// Patterns are validated here, once: no pattern at all, an empty pattern,
// one with a space, quote, backslash or control character, or a misplaced
// "*" makes a policy that [Auth.Require] refuses with a panic at start-up
// ([Auth.TryRequire] with an error); used elsewhere, it denies every
// request with 500.
func Scopes(patterns ...string) ScopesPolicy {
	p := ScopesPolicy{patterns: append([]string(nil), patterns...)}
	if len(patterns) == 0 {
		p.err = errors.New("Scopes() needs at least one pattern")
	}
	for _, pat := range patterns {
		if err := scope.Validate(pat); err != nil {
			p.err = fmt.Errorf("Scopes(%q): %w", pat, err)
			break
		}
	}
	return p
}

// Check allows claims whose scopes cover every pattern.
func (p ScopesPolicy) Check(_ context.Context, c *Claims) error {
	if p.err != nil {
		return newError(ErrMisconfigured, p.err)
	}
	var granted []string
	if c != nil {
		granted = c.Scopes
	}
	for _, req := range p.patterns {
		if !scope.Covered(req, granted) {
			e := newError(ErrInsufficientScope, nil)
			e.Scope = strings.Join(p.patterns, " ")
			return e
		}
	}
	return nil
}

// Validate reports the first invalid pattern given to [Scopes].
func (p ScopesPolicy) Validate() error { return p.err }

// String returns the policy as written, e.g. Scopes("admin:*").
func (p ScopesPolicy) String() string {
	return "Scopes(" + quoteJoin(p.patterns) + ")"
}

// AllPolicy is the policy built by [All].
type AllPolicy []Policy

// All allows when every policy allows; it returns the first denial. All()
// allows.
func All(policies ...Policy) AllPolicy { return append(AllPolicy(nil), policies...) }

// Check runs the policies in order and stops at the first denial.
func (p AllPolicy) Check(ctx context.Context, c *Claims) error {
	for _, q := range p {
		if q == nil {
			return newError(ErrMisconfigured, errors.New("nil policy in All"))
		}
		if err := q.Check(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports the first construction mistake among the policies: a
// nil policy, or the error of one's Validate method.
func (p AllPolicy) Validate() error { return validatePolicies(p) }

// String returns the policy as written, e.g. All(Access, Fresh).
func (p AllPolicy) String() string { return "All(" + policyList(p) + ")" }

// AnyPolicy is the policy built by [Any].
type AnyPolicy []Policy

// Any allows when at least one policy allows. Any() denies. When all deny,
// a failure to answer (5xx) wins over a denial, so a store outage is
// reported as such; insufficient scopes are merged into one challenge;
// otherwise the first denial is returned.
func Any(policies ...Policy) AnyPolicy { return append(AnyPolicy(nil), policies...) }

// Check runs the policies in order and stops at the first that allows.
func (p AnyPolicy) Check(ctx context.Context, c *Claims) error {
	if len(p) == 0 {
		return newError(ErrForbidden, errors.New("Any() with no policy"))
	}
	var first, outage *Error
	var scopes []string
	allScope := true
	for _, q := range p {
		if q == nil {
			return newError(ErrMisconfigured, errors.New("nil policy in Any"))
		}
		err := q.Check(ctx, c)
		if err == nil {
			return nil
		}
		e := asError(err)
		if first == nil {
			first = e
		}
		if e.Status >= 500 && outage == nil {
			outage = e
		}
		if errors.Is(e, ErrInsufficientScope) {
			scopes = append(scopes, e.Scope)
		} else {
			allScope = false
		}
	}
	switch {
	case outage != nil:
		return outage
	case allScope:
		e := newError(ErrInsufficientScope, nil)
		e.Scope = strings.Join(scopes, " ")
		return e
	}
	return first
}

// Validate reports the first construction mistake among the policies: a
// nil policy, or the error of one's Validate method.
func (p AnyPolicy) Validate() error { return validatePolicies(p) }

// String returns the policy as written, e.g. Any(Scopes("a"), Scopes("b")).
func (p AnyPolicy) String() string { return "Any(" + policyList(p) + ")" }

func policyList(ps []Policy) string {
	parts := make([]string, len(ps))
	for i, q := range ps {
		parts[i] = policyString(q)
	}
	return strings.Join(parts, ", ")
}

func policyString(p Policy) string {
	if t, ok := p.(TokenType); ok {
		return t.goString()
	}
	if s, ok := p.(fmt.Stringer); ok {
		return s.String()
	}
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", p)
}

func quoteJoin(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = strconv.Quote(s)
	}
	return strings.Join(parts, ", ")
}

// validatePolicy returns p's construction mistake: nil, or the error of
// its Validate method (see [Policy]).
func validatePolicy(p Policy) error {
	if p == nil {
		return errors.New("nil policy")
	}
	if v, ok := p.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// validatePolicies returns the first construction mistake among ps.
func validatePolicies(ps []Policy) error {
	for _, p := range ps {
		if err := validatePolicy(p); err != nil {
			return err
		}
	}
	return nil
}

// mentions reports whether t appears anywhere in p.
func mentions(p Policy, t TokenType) bool {
	switch q := p.(type) {
	case TokenType:
		return q == t
	case AllPolicy:
		for _, r := range q {
			if mentions(r, t) {
				return true
			}
		}
	case AnyPolicy:
		for _, r := range q {
			if mentions(r, t) {
				return true
			}
		}
	}
	return false
}

// maxScopeAlternatives bounds the alternatives minScopes tracks; past it the
// answer is unknown (and nothing is refused).
const maxScopeAlternatives = 64

// minScopes returns the fewest scopes a token needs to pass p's Scopes
// requirements, and whether that could be worked out. One granted scope
// covers required scopes of one first segment at most ("ns:*" covers "ns"
// and everything below "ns:"), so the answer is the number of distinct
// first segments required, minimised over the alternatives of Any.
func minScopes(p Policy) (int, bool) {
	alts, ok := scopeNeeds(p)
	if !ok {
		return 0, false
	}
	best, found := 0, false
	for _, a := range alts {
		if !found || len(a) < best {
			best, found = len(a), true
		}
	}
	return best, found
}

// scopeNeeds returns the alternative sets of first segments that p
// requires (any one of them suffices), or false past the bound.
func scopeNeeds(p Policy) ([]map[string]bool, bool) {
	switch q := p.(type) {
	case ScopesPolicy:
		set := map[string]bool{}
		for _, pat := range q.patterns {
			first, _, _ := strings.Cut(pat, ":")
			set[first] = true
		}
		return []map[string]bool{set}, true
	case AllPolicy:
		acc := []map[string]bool{{}}
		for _, r := range q {
			alts, ok := scopeNeeds(r)
			if !ok {
				return nil, false
			}
			var next []map[string]bool
			for _, x := range acc {
				for _, y := range alts {
					u := maps.Clone(x)
					maps.Copy(u, y)
					next = append(next, u)
				}
			}
			if len(next) > maxScopeAlternatives {
				return nil, false
			}
			acc = next
		}
		return acc, true
	case AnyPolicy:
		var acc []map[string]bool
		for _, r := range q {
			alts, ok := scopeNeeds(r)
			if !ok {
				return nil, false
			}
			acc = append(acc, alts...)
			if len(acc) > maxScopeAlternatives {
				return nil, false
			}
		}
		return acc, true
	}
	return []map[string]bool{{}}, true
}
