package rules

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authx-go/authx"
)

// maxPathDepth bounds the segments of a claim path.
const maxPathDepth = 16

// maxValueDepth bounds how deep two JSON values are compared.
const maxValueDepth = 64

// ClaimPath names a claim by a dotted path, built by [Claim]; its methods
// make conditions on the claim's value. A condition on the zero ClaimPath
// is a construction mistake.
type ClaimPath struct {
	path string
	segs []string
	err  error
}

// Claim names the claim at path: the first segment is a custom claim
// ([authx.Claim], [authx.Claims.Get]) or a registered one by its wire name
// (sub, jti, iss, aud, type, fresh, scopes, sid, fam, login_type, exp,
// iat, nbf; exp, iat and nbf are NumericDates in seconds), and each
// further segment a member of a JSON object: Claim("profile.age") is the
// age member of the custom claim profile. A claim name holding a dot
// cannot be named. An empty segment or more than 16 are a construction
// mistake.
//
// Values are compared as JSON values: numbers by value (30 equals 30.0;
// integers exactly within int64, others as float64), strings, booleans,
// arrays and objects member by member. An absent claim or member, one
// that is JSON null, and a path through a non-object are missing: missing
// equals nil, equals no other value and is in no list, so NotEquals and
// NotIn hold for it; add Exists to require the claim.
func Claim(path string) ClaimPath {
	p := ClaimPath{path: path, segs: strings.Split(path, ".")}
	switch {
	case len(p.segs) > maxPathDepth:
		p.err = fmt.Errorf("%d segments, more than %d", len(p.segs), maxPathDepth)
	case slices.Contains(p.segs, ""):
		p.err = errors.New("empty segment")
	}
	return p
}

// op is a claim operator.
type op int

const (
	opEquals op = iota
	opNotEquals
	opIn
	opNotIn
	opContains
	opGt
	opGte
	opLt
	opLte
	opExists
	opPathValue
)

var opNames = [...]string{"Equals", "NotEquals", "In", "NotIn", "Contains", "Gt", "Gte", "Lt", "Lte", "Exists", "EqualsPathValue"}

// claimPolicy is a condition on a claim.
type claimPolicy struct {
	claim    ClaimPath
	op       op
	args     []any  // as given, for String
	values   []any  // args as JSON values
	wildcard string // for opPathValue
	err      error  // construction mistake
	no       error  // the denial, made once
}

// Equals holds when the claim equals v (compared as JSON: see [Claim]);
// Equals(nil) holds when the claim is missing.
func (p ClaimPath) Equals(v any) authx.Policy { return p.cond(opEquals, v) }

// NotEquals holds when the claim does not equal v, in particular when it
// is missing and v is not nil.
func (p ClaimPath) NotEquals(v any) authx.Policy { return p.cond(opNotEquals, v) }

// In holds when the claim equals one of vs. In() is a construction
// mistake.
func (p ClaimPath) In(vs ...any) authx.Policy { return p.cond(opIn, vs...) }

// NotIn holds when the claim equals none of vs, in particular when it is
// missing and vs holds no nil. NotIn() is a construction mistake.
func (p ClaimPath) NotIn(vs ...any) authx.Policy { return p.cond(opNotIn, vs...) }

// Contains holds when the claim is an array with an element equal to v,
// or a string with v, a string, as a substring. It does not hold for a
// missing claim, nor for any other value.
func (p ClaimPath) Contains(v any) authx.Policy { return p.cond(opContains, v) }

// Gt holds when the claim is a number greater than n. n must be a number
// (any Go integer or float type, or a json.Number); a missing claim or
// one that is not a number does not hold.
func (p ClaimPath) Gt(n any) authx.Policy { return p.cond(opGt, n) }

// Gte holds when the claim is a number greater than or equal to n, as for
// [ClaimPath.Gt].
func (p ClaimPath) Gte(n any) authx.Policy { return p.cond(opGte, n) }

// Lt holds when the claim is a number less than n, as for [ClaimPath.Gt].
func (p ClaimPath) Lt(n any) authx.Policy { return p.cond(opLt, n) }

// Lte holds when the claim is a number less than or equal to n, as for
// [ClaimPath.Gt].
func (p ClaimPath) Lte(n any) authx.Policy { return p.cond(opLte, n) }

// Exists holds when the claim is present and not JSON null.
func (p ClaimPath) Exists() authx.Policy { return p.cond(opExists) }

// EqualsPathValue holds when the claim equals the value of the wildcard
// of the rule's pattern — the tenant in the path is the token's tenant:
//
//	rules.Allow("GET /tenants/{tenant}/invoices", rules.Claim("tenant_id").EqualsPathValue("tenant"))
//
// A string claim must equal the value exactly; a number claim must equal
// it read as a JSON number ("42" for 42, not "042" nor "+42"); an empty
// value, a missing claim or any other value does not hold. Inside a rule
// the value is that of the rule's own pattern, wherever the guard sits
// (around a whole ServeMux, or on one route of it), and a wildcard the
// pattern lacks is a construction mistake; outside a rule it is
// r.PathValue(wildcard) of the guarded request.
func (p ClaimPath) EqualsPathValue(wildcard string) authx.Policy {
	c := p.cond(opPathValue)
	cp := c.(claimPolicy)
	cp.wildcard = wildcard
	if cp.err == nil && wildcard == "" {
		cp.err = fmt.Errorf("%s: empty wildcard name", cp)
	}
	cp.no = cp.denial()
	return cp
}

func (p ClaimPath) cond(o op, args ...any) authx.Policy {
	if p.segs == nil && p.err == nil {
		p.err = errors.New("zero ClaimPath: name claims with Claim")
	}
	c := claimPolicy{claim: p, op: o, args: args, err: p.err}
	if c.err != nil {
		c.err = fmt.Errorf("rules.Claim(%q): %w", p.path, c.err)
	}
	if c.err == nil && (o == opIn || o == opNotIn) && len(args) == 0 {
		c.err = fmt.Errorf("%s: no value", c)
	}
	for _, a := range args {
		if c.err != nil {
			break
		}
		v, err := jsonValue(a)
		switch {
		case err != nil:
			c.err = fmt.Errorf("%s: %w", c, err)
		case o >= opGt && o <= opLte:
			if _, ok := v.(json.Number); !ok {
				c.err = fmt.Errorf("%s: not a number", c)
			}
		}
		c.values = append(c.values, v)
	}
	c.no = c.denial()
	return c
}

// denial is the error Check returns when c does not hold: a 403, made
// once, so that a "no" costs no allocation.
func (c claimPolicy) denial() error {
	return &sentinelError{authx.ErrForbidden, "rules: " + c.String() + " does not hold"}
}

// jsonValue returns v as encoding/json would decode it with UseNumber, so
// that it compares with claim values: 30 and 30.0 become json.Number("30").
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Check allows when the condition holds.
func (c claimPolicy) Check(ctx context.Context, claims *authx.Claims) error {
	if c.err != nil {
		return misconfigured(c.err)
	}
	if c.holds(ctx, claims) {
		return nil
	}
	return c.no
}

func (c claimPolicy) holds(ctx context.Context, claims *authx.Claims) bool {
	v := lookup(ctx, claims, c.claim.segs)
	switch c.op {
	case opEquals:
		return equal(v, c.values[0], 0)
	case opNotEquals:
		return !equal(v, c.values[0], 0)
	case opIn, opNotIn:
		in := false
		for _, x := range c.values {
			if equal(v, x, 0) {
				in = true
				break
			}
		}
		return in == (c.op == opIn)
	case opContains:
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if equal(e, c.values[0], 0) {
					return true
				}
			}
		case string:
			s, ok := c.values[0].(string)
			return ok && strings.Contains(x, s)
		}
		return false
	case opGt, opGte, opLt, opLte:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		r, ok := compareNumbers(string(n), string(c.values[0].(json.Number)))
		if !ok {
			return false
		}
		switch c.op {
		case opGt:
			return r > 0
		case opGte:
			return r >= 0
		case opLt:
			return r < 0
		}
		return r <= 0
	case opExists:
		return v != nil
	case opPathValue:
		req, ok := requestOf(ctx)
		if !ok {
			return false
		}
		pv := req.PathValue(c.wildcard)
		if pv == "" {
			return false
		}
		switch x := v.(type) {
		case string:
			return x == pv
		case json.Number:
			if !isJSONNumber(pv) {
				return false
			}
			r, ok := compareNumbers(string(x), pv)
			return ok && r == 0
		}
	}
	return false
}

// Validate reports a construction mistake: an invalid path, an operand
// that is not JSON (or not a number for Gt, Gte, Lt, Lte), In() or NotIn()
// without values, an empty wildcard name.
func (c claimPolicy) Validate() error { return c.err }

// String returns the condition as written, e.g. rules.Claim("profile.age").Gt(30).
func (c claimPolicy) String() string {
	var b strings.Builder
	b.WriteString("rules.Claim(" + strconv.Quote(c.claim.path) + ")." + opNames[c.op] + "(")
	if c.op == opPathValue {
		b.WriteString(strconv.Quote(c.wildcard))
	}
	for i, a := range c.args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(goString(a))
	}
	b.WriteByte(')')
	return b.String()
}

// goString prints an operand as written in Go.
func goString(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprintf("%#v", v)
}

// lookup returns the value at segs in c as a JSON value, or nil when it is
// missing. Inside a set's decision, the custom claims are decoded once.
func lookup(ctx context.Context, c *authx.Claims, segs []string) any {
	if c == nil {
		return nil
	}
	v, ok := registered(c, segs[0])
	if !ok {
		var data map[string]any
		if rc, isRule := ctx.Value(matchKey{}).(*ruleContext); isRule && rc.cache != nil && rc.cache.claims == c {
			data = rc.cache.custom()
		} else {
			data = customClaims(c)
		}
		v = data[segs[0]]
	}
	for _, s := range segs[1:] {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[s]
	}
	return v
}

// registered returns the registered claim name of c as a JSON value (nil
// when absent), and whether name is a registered claim.
func registered(c *authx.Claims, name string) (any, bool) {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	strs := func(ss []string) any {
		if ss == nil {
			return nil
		}
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	switch name {
	case "sub":
		return str(c.Subject), true
	case "jti":
		return str(c.ID), true
	case "iss":
		return str(c.Issuer), true
	case "aud":
		return strs(c.Audience), true
	case "type":
		return str(string(c.Type)), true
	case "fresh":
		return c.Fresh, true
	case "scopes":
		return strs(c.Scopes), true
	case "sid":
		return str(c.SessionID), true
	case "fam":
		return str(c.FamilyID), true
	case "login_type":
		return str(c.LoginType), true
	case "exp":
		return date(c.ExpiresAt), true
	case "iat":
		return date(c.IssuedAt), true
	case "nbf":
		return date(c.NotBefore), true
	}
	return nil, false
}

// date returns t as a NumericDate, or nil for the zero time.
func date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return json.Number(strconv.FormatInt(t.Unix(), 10))
}

// customClaims returns the custom claims of c as JSON values with exact
// numbers (json.Number), or nil.
func customClaims(c *authx.Claims) map[string]any {
	var d exactData
	if c.DecodeData(&d) != nil {
		return nil
	}
	return d
}

// exactData decodes a JSON object with UseNumber, which DecodeData's
// json.Unmarshal cannot be told to use.
type exactData map[string]any

func (d *exactData) UnmarshalJSON(b []byte) error {
	v, err := decodeJSON(b)
	if err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("not an object")
	}
	*d = m
	return nil
}

// claimsCache decodes the custom claims once for every condition of one
// decision.
type claimsCache struct {
	claims *authx.Claims
	once   sync.Once
	data   map[string]any
}

func (cc *claimsCache) custom() map[string]any {
	cc.once.Do(func() { cc.data = customClaims(cc.claims) })
	return cc.data
}

// equal reports whether two JSON values (as decoded with UseNumber) are
// equal, numbers by value.
func equal(a, b any, depth int) bool {
	if depth > maxValueDepth {
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		r, ok := compareNumbers(string(x), string(y))
		return ok && r == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i], depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// compareNumbers compares two JSON numbers: exactly when both are
// integers within int64, else as float64 (a number beyond float64's range
// is ±Inf).
func compareNumbers(a, b string) (int, bool) {
	if x, err := strconv.ParseInt(a, 10, 64); err == nil {
		if y, err := strconv.ParseInt(b, 10, 64); err == nil {
			return cmp.Compare(x, y), true
		}
	}
	x, ok := parseFloat(a)
	if !ok {
		return 0, false
	}
	y, ok := parseFloat(b)
	if !ok {
		return 0, false
	}
	return cmp.Compare(x, y), true
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// isJSONNumber reports whether s is exactly a JSON number literal: no
// sign but "-", no leading zero, no space.
func isJSONNumber(s string) bool {
	if s == "" || !(s[0] == '-' || isDigit(s[0])) || !isDigit(s[len(s)-1]) {
		return false
	}
	return json.Valid([]byte(s))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
