package rules

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/authx-go/authx"
)

// Rule is one allow or deny rule of a [Set], built by [Allow] or [Deny].
// The zero Rule is a construction mistake that [SetPolicy.Validate]
// reports.
type Rule struct {
	pattern    string
	deny       bool
	conditions []authx.Policy
	reason     string

	mux       *http.ServeMux // the pattern alone, routed to a marker
	method    string         // the pattern's method, "" for any
	wildcards []string       // the pattern's wildcard names
	err       error
}

// Allow returns a rule that allows the requests matching pattern, an
// [http.ServeMux] pattern such as "GET /docs/{id}" or "/admin/", when every
// condition holds (see the package documentation). A pattern ServeMux
// refuses is a construction mistake, reported by [SetPolicy.Validate].
func Allow(pattern string, conditions ...authx.Policy) Rule {
	return newRule(false, pattern, conditions)
}

// Deny returns a rule that denies the requests matching pattern when every
// condition holds; it overrides any allow rule. The pattern is as for
// [Allow].
func Deny(pattern string, conditions ...authx.Policy) Rule {
	return newRule(true, pattern, conditions)
}

func newRule(deny bool, pattern string, conditions []authx.Policy) Rule {
	r := Rule{pattern: pattern, deny: deny, conditions: append([]authx.Policy(nil), conditions...)}
	r.mux, r.err = muxFor(pattern)
	if r.err == nil {
		if i := strings.IndexAny(pattern, " \t"); i >= 0 {
			r.method = pattern[:i] // as ServeMux reads it; it accepted the pattern
		}
		r.wildcards = wildcards(pattern)
	}
	return r
}

// matched is the handler every rule's ServeMux routes its pattern to: a
// request matches the rule when the ServeMux hands it this handler (and
// not a redirect, a 404 or a 405).
type matched struct{}

func (matched) ServeHTTP(http.ResponseWriter, *http.Request) {}

// muxFor returns a ServeMux routing pattern to [matched], or the reason
// ServeMux.Handle refused the pattern (it panics; the panic is recovered
// here, at construction).
func muxFor(pattern string) (mux *http.ServeMux, err error) {
	defer func() {
		if v := recover(); v != nil {
			mux = nil
			if e, ok := v.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", v)
			}
		}
	}()
	mux = http.NewServeMux()
	mux.Handle(pattern, matched{})
	return mux, nil
}

// wildcards returns the wildcard names of a valid pattern, "{$}" aside.
func wildcards(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return names
		}
		if name := strings.TrimSuffix(pattern[i+1:i+j], "..."); name != "$" {
			names = append(names, name)
		}
		pattern = pattern[i+j+1:]
	}
}

// Because returns a copy of r carrying reason, which the [Decision] and the
// denial's text (for the logger, never for the client) give when r decides.
func (r Rule) Because(reason string) Rule {
	r.reason = reason
	return r
}

// String returns the rule as written, e.g.
// rules.Deny("DELETE /docs/{id}").Because("delete disabled").
func (r Rule) String() string {
	if r.mux == nil && r.err == nil {
		return "rules.Rule{}"
	}
	var b strings.Builder
	if r.deny {
		b.WriteString("rules.Deny(")
	} else {
		b.WriteString("rules.Allow(")
	}
	b.WriteString(strconv.Quote(r.pattern))
	for _, c := range r.conditions {
		b.WriteString(", ")
		b.WriteString(policyString(c))
	}
	b.WriteByte(')')
	if r.reason != "" {
		b.WriteString(".Because(" + strconv.Quote(r.reason) + ")")
	}
	return b.String()
}

// validate returns r's construction mistake.
func (r Rule) validate() error {
	if r.err != nil {
		return r.err
	}
	if r.mux == nil {
		return errors.New("zero Rule: build rules with Allow or Deny")
	}
	for _, c := range r.conditions {
		if c == nil {
			return errors.New("nil condition")
		}
		if v, ok := c.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return err
			}
		}
		var err error
		pathValues(c, func(name string) {
			if err == nil && !slices.Contains(r.wildcards, name) {
				err = fmt.Errorf("EqualsPathValue(%q): the pattern has no wildcard {%s}", name, name)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// pathValues calls yield with the wildcard name of every EqualsPathValue
// condition in p, looking into authx's All and Any.
func pathValues(p authx.Policy, yield func(string)) {
	switch q := p.(type) {
	case claimPolicy:
		if q.op == opPathValue {
			yield(q.wildcard)
		}
	case authx.AllPolicy:
		for _, x := range q {
			pathValues(x, yield)
		}
	case authx.AnyPolicy:
		for _, x := range q {
			pathValues(x, yield)
		}
	}
}

// matches reports whether req is routed to r's pattern.
func (r *Rule) matches(req *http.Request) bool {
	if req.URL == nil {
		return false
	}
	// A shortcut, not a second matcher: ServeMux routes a request to a
	// pattern with a method only for that method (and HEAD for GET); this
	// spares it working out a 405 answer that is not needed.
	if r.method != "" && req.Method != r.method && (r.method != http.MethodGet || req.Method != http.MethodHead) {
		return false
	}
	h, _ := r.mux.Handler(req)
	_, ok := h.(matched)
	return ok
}

// holds reports whether every condition of r holds for a request r
// matches; an error is a failure to answer (see [undecided]). The cache
// holds the claims decoded for the decision.
func (r *Rule) holds(ctx context.Context, req *http.Request, c *authx.Claims, cache *claimsCache) (bool, error) {
	if len(r.conditions) == 0 {
		return true, nil
	}
	ctx = &ruleContext{Context: ctx, mux: r.mux, req: req, cache: cache}
	for _, cond := range r.conditions {
		err := cond.Check(ctx, c)
		switch {
		case err == nil:
			continue
		case undecided(err):
			return false, err
		}
		return false, nil
	}
	return true, nil
}

// matchKey is the context key under which a rule's conditions find the
// *ruleContext.
type matchKey struct{}

// ruleContext is the context a rule's conditions run in: it carries the
// request with the path values of the rule's pattern, made on first use,
// and the decision's decoded claims.
type ruleContext struct {
	context.Context
	mux   *http.ServeMux
	req   *http.Request
	cache *claimsCache

	once    sync.Once
	matched *http.Request
}

func (c *ruleContext) Value(key any) any {
	if _, ok := key.(matchKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// request returns a shallow copy of the guarded request whose PathValue
// reads the wildcards of the rule's pattern.
func (c *ruleContext) request() *http.Request {
	c.once.Do(func() {
		m := c.req.WithContext(c.req.Context())
		c.mux.ServeHTTP(discard{}, m) // sets m's pattern and path values, calls matched
		c.matched = m
	})
	return c.matched
}

// discard is the ResponseWriter of the routing in ruleContext.request,
// where nothing is written.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// requestOf returns the request a condition should look at: inside a rule,
// the guarded request with the rule's path values; elsewhere the guarded
// request as it is ([authx.RequestFrom]).
func requestOf(ctx context.Context) (*http.Request, bool) {
	if ctx == nil {
		return nil, false
	}
	if rc, ok := ctx.Value(matchKey{}).(*ruleContext); ok {
		return rc.request(), true
	}
	return authx.RequestFrom(ctx)
}

// policyString prints p as written in Go outside package authx's own
// printing: authx's policies print themselves (Scopes("a")), token types
// print as their constants.
func policyString(p authx.Policy) string {
	switch q := p.(type) {
	case nil:
		return "nil"
	case authx.TokenType:
		switch q {
		case authx.Access:
			return "Access"
		case authx.Refresh:
			return "Refresh"
		}
		return "TokenType(" + strconv.Quote(string(q)) + ")"
	case fmt.Stringer:
		return q.String()
	}
	return reflect.TypeOf(p).String()
}
