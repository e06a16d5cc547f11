package authx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/coder/websocket"
)

// Guard protects handlers with a set of policies. Build it with
// [Auth.Require]; use [Guard.Wrap] as net/http middleware and [Guard.Check]
// in manual flows. A nil or misbuilt Guard denies every request.
type Guard struct {
	e       *engine
	ps      policySet
	newSlot func() stateSlot // the request state of the guard's Auth (context.go)

	live liveConns // the WebSocket connections it accepted (wswatch.go)

	alts []*Guard // OneOf's guards; nil for a guard of one Auth
}

// OneOf returns a guard for a route that serves several identity types: a
// request passes when one of guards admits it, tried in order, and reaches
// the handler with that guard's claims and subject — the handler asks
// [SubjectFrom] for each of its types to learn which (Python AuthX's
// AuthManager). Build the guards from [Auth]s whose tokens cannot be
// mistaken for each other's: distinct [WithLoginType]s on a shared key,
// distinct keys, or distinct issuers or audiences. A guard that finds no
// token, or a token that is not its Auth's (another login type, key,
// issuer or audience), hands the request on to the next; any other answer
// decides, so an expired, revoked or forbidden token of one identity never
// falls through to another, and an ambiguous request (two tokens) is
// refused. When no guard admits the request, the first guard's answer is
// sent. [Guard.Accept], [Guard.NewContext] and [Guard.Reauthenticate] work
// on the result as on its guards. A nil guard or none at all panics, as a
// mistake in [Auth.Require]'s arguments does.
func OneOf(guards ...*Guard) *Guard {
	g := &Guard{alts: append([]*Guard(nil), guards...)}
	if len(guards) == 0 {
		panic("authx: OneOf needs at least one guard")
	}
	for i, alt := range guards {
		if alt == nil {
			panic(fmt.Sprintf("authx: OneOf: guard %d is nil", i))
		}
		if err := alt.Err(); err != nil && g.ps.err == nil {
			g.ps.err = fmt.Errorf("OneOf guard %d: %w", i, err) // a guard of an unconfigured Auth: deny
		}
	}
	return g
}

// notItsToken reports whether err says the request's token (if any) is not
// the guard's Auth's, so that OneOf may try the next guard.
func notItsToken(err error) bool {
	for _, s := range [...]error{ErrNoToken, ErrLoginType, ErrSignature, ErrUnknownKey, ErrAlgorithm, ErrIssuer, ErrAudience} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Err reports why the guard denies every request, or nil: it belongs to a
// nil or unconfigured [Auth] ([ErrNotConfigured]), or, for a [OneOf] guard,
// one of its guards does. (A mistake in a guard's arguments panics when it
// is built; see [Auth.Require].)
func (g *Guard) Err() error {
	if g == nil {
		return ErrNotConfigured
	}
	if g.ps.err != nil {
		return fmt.Errorf("%w: %w", ErrMisconfigured, g.ps.err)
	}
	for _, alt := range g.alts {
		if err := alt.Err(); err != nil {
			return err
		}
	}
	return nil
}

// From returns a copy of g that looks for the token only in locs, in that
// order, instead of the locations configured with [WithTokenLocations]
// (Python AuthX's token_required(locations=[...])): say, the header alone
// on an API route and the cookie alone on a form route, with one [Auth].
// g itself is unchanged. A request whose token sits elsewhere carries no
// token for this guard (401, or anonymous for [Auth.Optional]).
//
// WebSocket handshakes ([Guard.Accept]) narrowed this way read the
// token-carrying subprotocol only when locs has [InHeader] (it stands in
// for the header a browser cannot set), then locs, without the query and
// cookie fallbacks an un-narrowed guard adds; tickets still work.
//
// An empty list, an unknown location or one listed twice panics, as a
// mistake in [Auth.Require]'s arguments does.
// Tokens carry a csrf claim only when their Auth uses cookies ([InCookie]
// in [WithTokenLocations], or [WithCookies]): a guard reading the cookie of
// an Auth that does not refuses unsafe requests with a cookie token (403),
// and From logs a warning saying so.
func (g *Guard) From(locs ...Location) *Guard {
	if g == nil {
		return nil
	}
	n := g.clone()
	for i, alt := range n.alts {
		n.alts[i] = alt.From(locs...)
	}
	err := checkLocations("Guard.From", locs)
	if err != nil {
		panic("authx: " + err.Error())
	}
	if err == nil && n.e != nil && slices.Contains(locs, InCookie) && !n.e.cfg.usesCookies() && !n.e.cfg.csrf.InsecureDisable {
		n.e.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn,
			"authx: a guard reads cookies, but this Auth's tokens carry no csrf claim: unsafe requests with a cookie token will be refused (add InCookie to WithTokenLocations or use WithCookies)",
			slog.String("guard", n.ps.String()))
	}
	n.ps.locs = append([]Location(nil), locs...)
	return n
}

// InsecureWithoutCSRF returns a copy of g that admits a token from a
// cookie without the double-submit CSRF check, whatever the method and
// [CookieConfig.CSRF] (Python AuthX's token_required(verify_csrf=False)).
// Use it only where the request cannot be forged cross-site by other means
// (a route that accepts only a JSON content type and no simple request, or
// one that changes nothing); everywhere else it lets another site act as
// the user. g itself is unchanged. WebSocket handshakes have no CSRF check
// (their Origin is checked) and are unaffected.
func (g *Guard) InsecureWithoutCSRF() *Guard {
	if g == nil {
		return nil
	}
	n := g.clone()
	for i, alt := range n.alts {
		n.alts[i] = alt.InsecureWithoutCSRF()
	}
	n.ps.noCSRF = true
	return n
}

// clone returns a new guard with g's engine and policies and no live
// connections of its own.
func (g *Guard) clone() *Guard {
	n := &Guard{e: g.e, ps: g.ps, newSlot: g.newSlot}
	if g.alts != nil {
		n.alts = append([]*Guard(nil), g.alts...)
	}
	return n
}

// String prints the guard's policies as written, with the implicit Access:
// All(Access, Scopes("admin:*")).
func (g *Guard) String() string {
	if g == nil {
		return "<nil>"
	}
	if g.alts != nil {
		parts := make([]string, len(g.alts))
		for i, alt := range g.alts {
			parts[i] = alt.String()
		}
		return "OneOf(" + strings.Join(parts, ", ") + ")"
	}
	return g.ps.String()
}

// Wrap returns h guarded: requests whose token passes reach h with a context
// carrying the claims ([ClaimsFrom]) and the lazily resolved subject
// ([SubjectFrom]); others get the error response (see [WriteError]). It is
// the net/http middleware shape, so chi's r.Use(g.Wrap) works as is.
//
// A request admitted by a token in the query string ([InQuery]) reaches h
// without it: the token parameter is removed from the request's URL and
// RequestURI (so h, and an access log inside the guard, never see it), and
// the response is marked Cache-Control: no-store and Referrer-Policy:
// no-referrer, so the URL is neither cached nor sent on as a Referer.
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		by, ctx, _, loc, err := g.pick(r)
		if err != nil {
			by.deny(w, r, err)
			return
		}
		r = r.WithContext(ctx)
		if loc == InQuery {
			r = by.e.hideQueryToken(w, r)
		}
		h.ServeHTTP(w, r)
	})
}

// WrapFunc is Wrap for a handler function.
func (g *Guard) WrapFunc(h http.HandlerFunc) http.Handler { return g.Wrap(h) }

// Check authenticates r and returns the verified claims, or an *[Error].
// It writes nothing; the caller decides the response (see [Auth.WriteError]).
// For a guard built with [Auth.Optional], a request without a token returns
// nil claims and a nil error.
func (g *Guard) Check(r *http.Request) (*Claims, error) {
	_, _, c, _, err := g.pick(r)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// pick runs the pipeline on r and returns the guard whose answer it is: g
// itself, or, for [OneOf], the guard that admitted r or whose refusal
// stands.
func (g *Guard) pick(r *http.Request) (*Guard, context.Context, *Claims, Location, *Error) {
	if g == nil || g.alts == nil {
		ctx, c, loc, err := g.authenticate(r)
		return g, ctx, c, loc, err
	}
	if g.ps.err != nil {
		return g, nil, nil, 0, newError(ErrMisconfigured, g.ps.err)
	}
	var first *Error
	var firstBy *Guard
	for _, alt := range g.alts {
		by, ctx, c, loc, err := alt.pick(r)
		if err == nil || !notItsToken(err) {
			return by, ctx, c, loc, err
		}
		if first == nil {
			first, firstBy = err, by
		}
	}
	return firstBy, nil, nil, 0, first
}

// owner returns the guard among g's (g itself for a guard of one Auth)
// that accepted the WebSocket connection conn or handed out c, or nil.
func (g *Guard) owner(conn *websocket.Conn, c *Claims) *Guard {
	if g.alts == nil {
		if (conn != nil && g.live.forConn(conn) != nil) || (c != nil && g.live.forClaims(c) != nil) {
			return g
		}
		return nil
	}
	for _, alt := range g.alts {
		if o := alt.owner(conn, c); o != nil {
			return o
		}
	}
	return nil
}

func (g *Guard) deny(w http.ResponseWriter, r *http.Request, err *Error) {
	if g == nil || g.e == nil {
		WriteError(w, "", err)
		return
	}
	g.e.deny(w, r, err)
}

// authenticate runs the whole pipeline on r: locate, verify, CSRF,
// revocation, session, policies. It returns where the token was found.
func (g *Guard) authenticate(r *http.Request) (context.Context, *Claims, Location, *Error) {
	if g == nil || g.e == nil {
		return nil, nil, 0, newError(ErrNotConfigured, nil)
	}
	if g.ps.err != nil {
		return nil, nil, 0, newError(ErrMisconfigured, g.ps.err)
	}
	e := g.e
	start := e.startVerify()
	tok, loc, err := e.locateIn(r, e.locations(g.ps), g.ps.look)
	if err != nil {
		if g.ps.optional && errors.Is(err, ErrNoToken) {
			return r.Context(), nil, 0, nil // anonymous, as Optional allows
		}
		return nil, nil, 0, asError(err)
	}
	ctx := r.Context()
	st := g.newSlot()
	c := st.slot()
	if err := e.checkInto(ctx, tok, g.ps, c); err != nil {
		return nil, nil, 0, asError(err)
	}
	if c.KeyThumbprint != "" || e.cfg.keyBinding != nil {
		if _, err := e.checkBinding(ctx, r, tok, loc, c, false); err != nil {
			return nil, nil, 0, asError(err).withClaims(c)
		}
	}
	if loc == InCookie && !g.ps.noCSRF {
		if err := e.checkCSRF(r, c); err != nil {
			return nil, nil, 0, asError(err).withClaims(c)
		}
	}
	ctx, err = e.admit(ctx, r, c, g.ps, st)
	if err != nil {
		return nil, nil, 0, asError(err).withClaims(c)
	}
	e.verified(r, c, start)
	return ctx, c, loc, nil
}

// hideQueryToken returns r without its token query parameter (in URL and
// RequestURI) and marks the response so that the URL that carried a token
// is neither stored by caches nor sent on as a Referer.
func (e *engine) hideQueryToken(w http.ResponseWriter, r *http.Request) *http.Request {
	h := w.Header()
	noStore(h)
	h.Set("Referrer-Policy", "no-referrer")
	u := *r.URL
	u.RawQuery = withoutParam(u.RawQuery, e.cfg.queryParam)
	u.ForceQuery = false
	r.URL = &u // r is already a copy (WithContext)
	if r.RequestURI != "" {
		r.RequestURI = u.RequestURI()
	}
	return r
}

// withoutParam removes every name=… pair from a raw query, leaving the
// others exactly as they were written.
func withoutParam(raw, name string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == name {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(part)
	}
	return b.String()
}
