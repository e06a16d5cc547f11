package rules

import (
	"context"
	"errors"
	"net/http"

	"github.com/authx-go/authx"
)

// Request returns a condition that holds when f reports true for the
// guarded request: its method, headers, client address, path values.
//
//	rules.Allow("POST /reports", rules.Request(func(r *http.Request) bool { return r.Header.Get("X-Env") == "prod" }))
//
// Inside a rule, r.PathValue reads the wildcards of the rule's pattern
// (see [ClaimPath.EqualsPathValue]). Outside a guarded request it does not
// hold. Treat r as read-only. A nil f is a construction mistake.
func Request(f func(r *http.Request) bool) authx.Policy { return requestPolicy{f} }

type requestPolicy struct {
	f func(*http.Request) bool
}

// errNoRequest is the denial of a Request condition whose test is false.
var errNoRequest error = &sentinelError{authx.ErrForbidden, "rules: the request condition does not hold"}

func (p requestPolicy) Check(ctx context.Context, _ *authx.Claims) error {
	if p.f == nil {
		return misconfigured(errors.New("rules.Request: nil func"))
	}
	if r, ok := requestOf(ctx); ok && p.f(r) {
		return nil
	}
	return errNoRequest
}

// Validate reports a nil function.
func (p requestPolicy) Validate() error {
	if p.f == nil {
		return errors.New("rules.Request: nil func")
	}
	return nil
}

// String returns "rules.Request(func(*http.Request) bool)".
func (p requestPolicy) String() string { return "rules.Request(func(*http.Request) bool)" }
