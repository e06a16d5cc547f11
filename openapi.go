package authx

import (
	"maps"
	"slices"
	"strings"
)

// SecurityScheme is an OpenAPI 3.1 Security Scheme Object: how a client
// sends a token to one place a guard reads (see [Auth.SecuritySchemes]).
// json.Marshal writes it as OpenAPI JSON; a framework's own type (huma's,
// kin-openapi's) takes its fields one for one.
type SecurityScheme struct {
	// Type is "http" (the Authorization header with the Bearer scheme) or
	// "apiKey" (any other header, the cookie, the query parameter).
	Type string `json:"type"`
	// Description says what a client must send, in CommonMark.
	Description string `json:"description,omitempty"`
	// Name is the header, cookie or query parameter name of an apiKey.
	Name string `json:"name,omitempty"`
	// In is where an apiKey goes: "header", "cookie" or "query".
	In string `json:"in,omitempty"`
	// Scheme is the HTTP authentication scheme of an http scheme: "bearer".
	Scheme string `json:"scheme,omitempty"`
	// BearerFormat is "JWT" for the bearer scheme.
	BearerFormat string `json:"bearerFormat,omitempty"`
}

// The scheme names, Python AuthX's, so that a ported API documents alike.
const (
	schemeBearer        = "AuthXBearer"
	schemeHeader        = "AuthXHeader"
	schemeAccessCookie  = "AuthXAccessCookie"
	schemeRefreshCookie = "AuthXRefreshCookie"
	schemeQuery         = "AuthXQuery"
	schemeBound         = "AuthXDPoP" // with a KeyBinding: tokens bound to the client's key
)

// SecuritySchemes returns the OpenAPI components.securitySchemes for the
// token locations of [WithTokenLocations], keyed by Python AuthX's names:
//
//   - AuthXBearer: the Authorization header with the Bearer scheme (the
//     default), an http bearer scheme with bearerFormat JWT;
//   - AuthXHeader: instead of AuthXBearer, any other header or scheme of
//     [WithHeader] (an empty scheme too), an apiKey in that header whose
//     description gives the value's form;
//   - AuthXAccessCookie: [InCookie], an apiKey in the access cookie
//     ([CookieConfig]) whose description names the CSRF header that unsafe
//     methods must send ([CSRFConfig]), unless CSRF is off;
//   - AuthXQuery: [InQuery], an apiKey in the query parameter of
//     [WithQueryParam].
//
// Tokens in a JSON body ([InJSON]) have no OpenAPI security scheme type and
// are left out: an Auth reading only JSON bodies returns an empty map.
//
// These are the schemes every guard reading the configured locations for
// access tokens names. Pass the guards that read elsewhere — narrowed by
// [Guard.From] to a location not configured, or taking refresh tokens from
// a cookie, which adds AuthXRefreshCookie (the refresh cookie and its CSRF
// header) — and the schemes their [Guard.Security] names are added too;
// passing every guard of the document is always right. Guards of another
// Auth, nil or misbuilt guards add nothing.
//
// Descriptions hold names (of the header, cookies, parameter), never a
// token or a key. The map is new on each call. A nil Auth returns nil.
func (a *Auth[T]) SecuritySchemes(guards ...*Guard) map[string]SecurityScheme {
	if a.configured() != nil {
		return nil
	}
	e := a.e
	out := map[string]SecurityScheme{}
	add := func(locs []Location, look kinds) {
		for _, l := range locs {
			for _, typ := range look.types() {
				if name, s, ok := e.securityScheme(l, typ); ok {
					out[name] = s
				}
			}
			if name, s, ok := e.boundScheme(l); ok {
				out[name] = s
			}
		}
	}
	add(e.cfg.locations, forAccess)
	for _, g := range guards {
		if g == nil || g.e != e || g.ps.err != nil {
			continue
		}
		add(e.locations(g.ps), g.ps.look)
	}
	return out
}

// Security returns the guard's OpenAPI security requirement, the
// operation's "security" array: alternatives (any one suffices), each
// naming one scheme of [Auth.SecuritySchemes] and the scope patterns a
// token must be granted, as OpenAPI 3.1 role names (3.0 allows them only
// for oauth2 schemes). It is one alternative per location the guard reads,
// in its order ([WithTokenLocations], or [Guard.From]) — the access cookie
// or the refresh cookie by the token type its policies take, both for
// Any(Access, Refresh) — times each way its policies can be met: the
// patterns of [Scopes] inside [All] add up, [Any] gives alternatives, and
// other policies (Fresh, a [PolicyFunc], …) add no scope. Past 64 ways, each
// location carries the patterns every way needs. A guard built with
// [Auth.Optional] ends with the empty requirement {}: OpenAPI's "security
// optional".
//
// The requirement describes requests as [Guard.Wrap] and [Guard.Check]
// read them; tokens in a JSON body ([InJSON]) cannot be described and are
// left out, and WebSocket handshakes add ways (the subprotocol, tickets)
// that OpenAPI has no words for. A guard from [Guard.InsecureWithoutCSRF]
// names the cookie scheme, whose description asks for the CSRF header it
// does not check.
//
// huma's Operation.Security takes the result as is. A nil or misbuilt
// guard (see [Guard.Err]), or one that reads only JSON bodies and is not
// optional, returns nil: the operation has no security of its own, and the
// document's top-level security, if any, applies.
func (g *Guard) Security() []map[string][]string {
	if g != nil && g.alts != nil && g.Err() == nil {
		// OneOf: any of its guards' alternatives; the requirements alike
		// (Auths configured alike name the same schemes) listed once.
		var out []map[string][]string
		for _, alt := range g.alts {
			for _, req := range alt.Security() {
				if !slices.ContainsFunc(out, func(o map[string][]string) bool { return maps.EqualFunc(o, req, slices.Equal) }) {
					out = append(out, req)
				}
			}
		}
		return out
	}
	if g == nil || g.e == nil || g.ps.err != nil {
		return nil
	}
	ways := scopeWays(g.ps.user)
	var out []map[string][]string
	var named []string
	for _, l := range g.e.locations(g.ps) {
		for _, typ := range g.ps.look.types() { // the header and query are one scheme for both types
			name, _, ok := g.e.securityScheme(l, typ)
			if !ok || slices.Contains(named, name) {
				continue
			}
			named = append(named, name)
			for _, w := range ways {
				out = append(out, map[string][]string{name: append([]string{}, w...)})
			}
		}
		if name, _, ok := g.e.boundScheme(l); ok && !slices.Contains(named, name) {
			named = append(named, name)
			for _, w := range ways {
				out = append(out, map[string][]string{name: append([]string{}, w...)})
			}
		}
	}
	if g.ps.optional {
		out = append(out, map[string][]string{})
	}
	return out
}

// boundScheme is the scheme of bound tokens in the Authorization header
// (a KeyBinding's, DPoP), for location l: only the header carries them.
func (e *engine) boundScheme(l Location) (string, SecurityScheme, bool) {
	bs := e.cfg.bindingScheme
	if l != InHeader || bs == "" || e.cfg.header != "Authorization" {
		return "", SecurityScheme{}, false
	}
	return schemeBound, SecurityScheme{
		Type: "http", Scheme: bs,
		Description: "A JWT bound to the client's key (cnf.jkt), sent as `Authorization: " + bs + " <token>` with a proof of that key (for DPoP, a `DPoP` header: RFC 9449).",
	}, true
}

// securityScheme returns the name and scheme of location l for tokens of
// type typ, and false for a location with no OpenAPI scheme (InJSON).
func (e *engine) securityScheme(l Location, typ TokenType) (string, SecurityScheme, bool) {
	cfg := &e.cfg
	switch l {
	case InHeader:
		if cfg.header == "Authorization" && strings.EqualFold(cfg.scheme, "Bearer") {
			return schemeBearer, SecurityScheme{
				Type: "http", Scheme: "bearer", BearerFormat: "JWT",
				Description: "A JWT issued by this API, sent as `Authorization: Bearer <token>`.",
			}, true
		}
		value := "<token>` (the whole header value)"
		if cfg.scheme != "" {
			value = cfg.scheme + " <token>` (the scheme in any letter case)"
		}
		return schemeHeader, SecurityScheme{
			Type: "apiKey", In: "header", Name: cfg.header,
			Description: "A JWT issued by this API, sent as `" + cfg.header + ": " + value + ".",
		}, true
	case InCookie:
		name, _, _, _ := cfg.cookies.namesFor(typ)
		scheme := schemeAccessCookie
		if typ == Refresh {
			scheme = schemeRefreshCookie
		}
		return scheme, SecurityScheme{
			Type: "apiKey", In: "cookie", Name: name,
			Description: "The " + string(typ) + " token, in the cookie `" + name + "` that this API sets." + e.csrfDescription(typ),
		}, true
	case InQuery:
		return schemeQuery, SecurityScheme{
			Type: "apiKey", In: "query", Name: cfg.queryParam,
			Description: "A JWT issued by this API, sent as the query parameter `" + cfg.queryParam + "`. " +
				"The parameter is removed from the URL before the handler runs, and the response carries " +
				"`Cache-Control: no-store` and `Referrer-Policy: no-referrer`. URLs reach logs: prefer another scheme.",
		}, true
	}
	return "", SecurityScheme{}, false
}

// csrfDescription says what an unsafe request carrying a cookie of type typ
// must also send, or "" when CSRF protection is off.
func (e *engine) csrfDescription(typ TokenType) string {
	cfg := &e.cfg.csrf
	if cfg.InsecureDisable {
		return ""
	}
	methods := "Requests of any method but GET, HEAD, OPTIONS and TRACE"
	if cfg.Methods != nil {
		methods = andList(cfg.Methods) + " requests"
	}
	header := cfg.Header
	if typ == Refresh {
		header = cfg.RefreshHeader
	}
	s := " " + methods + " must also send the header `" + header + "`"
	if cfg.FormField != "" {
		s += " (or the form field `" + cfg.FormField + "` of an application/x-www-form-urlencoded body)"
	}
	_, _, csrfCookie, _ := e.cfg.cookies.namesFor(typ)
	if e.writesCSRFCookies() {
		s += " equal to the value of the cookie `" + csrfCookie + "`"
	} else {
		s += " equal to the token's csrf claim"
	}
	if !cfg.InsecureNoOriginCheck {
		s += ", and a browser's request must be same-origin"
		if len(cfg.TrustedOrigins) > 0 {
			s += " or from a trusted origin"
		}
	}
	return s + "."
}

// andList joins words as "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// maxScopeWays bounds the ways scopeWays tracks, as maxScopeAlternatives
// bounds scopeNeeds.
const maxScopeWays = 64

// scopeWays returns the sets of scope patterns any one of which lets a
// token past p's Scopes requirements, each in the order written, with
// duplicates and ways implied by a smaller one removed; past the bound,
// the one set every way needs.
func scopeWays(p Policy) [][]string {
	ways, ok := scopeAlts(p)
	if !ok {
		return [][]string{scopesEveryWay(p)}
	}
	var out [][]string
	for i, w := range ways {
		redundant := false
		for j, v := range ways {
			// v makes w redundant when v ⊆ w and v ≠ w, or they are equal
			// and v came first.
			if i != j && subset(v, w) && (len(v) < len(w) || j < i) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, w)
		}
	}
	return out
}

// scopeAlts returns the ways of meeting p's Scopes requirements, or false
// past the bound. Policies other than Scopes, All and Any need no scope;
// Any() (which denies) is taken so too.
func scopeAlts(p Policy) ([][]string, bool) {
	switch q := p.(type) {
	case ScopesPolicy:
		return [][]string{union(nil, q.patterns)}, true
	case AllPolicy:
		acc := [][]string{{}}
		for _, r := range q {
			alts, ok := scopeAlts(r)
			if !ok || len(acc)*len(alts) > maxScopeWays {
				return nil, false
			}
			next := make([][]string, 0, len(acc)*len(alts))
			for _, x := range acc {
				for _, y := range alts {
					next = append(next, union(x, y))
				}
			}
			acc = next
		}
		return acc, true
	case AnyPolicy:
		if len(q) == 0 {
			break
		}
		var acc [][]string
		for _, r := range q {
			alts, ok := scopeAlts(r)
			if !ok || len(acc)+len(alts) > maxScopeWays {
				return nil, false
			}
			acc = append(acc, alts...)
		}
		return acc, true
	}
	return [][]string{{}}, true
}

// scopesEveryWay returns the scope patterns every way of meeting p needs:
// All's add up, Any's are those all its policies need.
func scopesEveryWay(p Policy) []string {
	switch q := p.(type) {
	case ScopesPolicy:
		return union(nil, q.patterns)
	case AllPolicy:
		var acc []string
		for _, r := range q {
			acc = union(acc, scopesEveryWay(r))
		}
		return acc
	case AnyPolicy:
		if len(q) == 0 {
			break
		}
		acc := scopesEveryWay(q[0])
		for _, r := range q[1:] {
			next := scopesEveryWay(r)
			acc = slices.DeleteFunc(acc, func(s string) bool { return !slices.Contains(next, s) })
		}
		return acc
	}
	return []string{}
}

// union returns a new list of x's patterns then y's not in x, each once.
func union(x, y []string) []string {
	out := make([]string, 0, len(x)+len(y))
	for _, s := range slices.Concat(x, y) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// subset reports whether every pattern of x is in y.
func subset(x, y []string) bool {
	for _, s := range x {
		if !slices.Contains(y, s) {
			return false
		}
	}
	return true
}
