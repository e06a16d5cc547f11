package authx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// Auth issues and verifies tokens and builds guards. T is the application's
// user type, resolved from verified claims by [WithSubjectGetter]. An Auth is
// immutable after [New] and safe for concurrent use. Methods on a nil *Auth
// fail with [ErrNotConfigured]; nothing is allowed.
type Auth[T any] struct {
	e     *engine
	get   func(context.Context, *Claims) (T, error)
	isNil func(T) bool // nilCheck[T], computed once; nil when T cannot be nil
}

// engine is the non-generic core shared by an Auth and its guards.
type engine struct {
	cfg       config
	keys      keyring
	blocklist Blocklist
	sessions  SessionStore
	limiter   RateLimiter
	checked   *checkedSessions // sessions found live recently (sessions.go)
}

// New builds an Auth from options, validating all of them: a missing or
// short key, an unknown algorithm, a subject getter whose type is not T, a
// negative leeway, … are reported as an error wrapping [ErrConfig].
func New[T any](opts ...Option) (*Auth[T], error) {
	cfg := defaultConfig()
	WithOptions(opts...).apply(&cfg)
	if cfg.signing == nil && len(cfg.verifyKeys) == 0 {
		cfg.errorf("no key: use WithSecret, WithSigningKey or WithVerificationKey")
	}
	if cfg.signingKID != "" && cfg.signing == nil {
		cfg.errorf("WithKeyID without a signing key")
	}
	a := &Auth[T]{}
	if cfg.getter != nil {
		get, ok := cfg.getter.(func(context.Context, *Claims) (T, error))
		if !ok {
			cfg.errorf("subject getter returns %v, want %v (the T of New[T])",
				reflect.TypeOf(cfg.getter).Out(0), reflect.TypeFor[T]())
		}
		a.get = get
		a.isNil = nilCheck[T]()
	}
	var err error
	if cfg.cookies, err = cfg.cookies.withDefaults(); err != nil {
		cfg.errorf("cookies: %v", err)
	}
	if cfg.csrf, cfg.cop, err = cfg.csrf.withDefaults(); err != nil {
		cfg.errorf("CSRF: %v", err)
	}
	if err := cfg.err(); err != nil {
		return nil, err
	}
	e := &engine{cfg: cfg, blocklist: cfg.blocklist}
	if cfg.signing != nil {
		cfg.signing.kid = cfg.signingKID
		e.keys.signing = cfg.signing
		if err := e.keys.add(cfg.signing); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	for _, k := range cfg.verifyKeys {
		if err := e.keys.add(k); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	if e.blocklist == nil {
		e.blocklist = NewMemoryBlocklist(cfg.now)
	}
	if e.cfg.refresh == nil {
		e.cfg.refresh = NewMemoryRefreshStore(cfg.now)
	}
	if e.sessions = cfg.sessions; e.sessions == nil {
		e.sessions = NewMemorySessionStore(cfg.now)
	}
	if e.limiter = cfg.limiter; e.limiter == nil {
		e.limiter = NewMemoryRateLimiter(cfg.now)
	}
	e.checked = newCheckedSessions()
	e.blocklist = safeBlocklist{e.blocklist}
	e.cfg.refresh = safeRefresh{e.cfg.refresh}
	e.sessions = safeSessions{e.sessions}
	e.limiter = safeLimiter{e.limiter}
	a.e = e
	return a, nil
}

// policySet is a guard's (or Verify's) policies, normalised: the implicit
// Access requirement, whether refresh locations are searched, and the first
// construction mistake.
type policySet struct {
	user           AllPolicy
	implicitAccess bool
	refresh        bool
	err            error
}

func newPolicySet(policies []Policy) policySet {
	ps := policySet{user: All(policies...)}
	ps.err = validatePolicy(ps.user)
	ps.refresh = mentions(ps.user, Refresh)
	ps.implicitAccess = !ps.refresh
	return ps
}

// policySet normalises policies for this engine: besides the checks of
// newPolicySet, a Scopes requirement that no token within WithMaxScopes
// could meet is a construction mistake.
func (e *engine) policySet(policies []Policy) policySet {
	ps := newPolicySet(policies)
	if ps.err == nil {
		if n, known := minScopes(ps.user); known && n > e.cfg.maxScopes {
			ps.err = fmt.Errorf("%v needs tokens with at least %d scopes, but WithMaxScopes(%d) refuses tokens with more than %d",
				ps.user, n, e.cfg.maxScopes, e.cfg.maxScopes)
		}
	}
	return ps
}

func (ps policySet) String() string {
	if ps.implicitAccess && !slices.Contains([]Policy(ps.user), Policy(Access)) {
		return All(append([]Policy{Access}, ps.user...)...).String()
	}
	return ps.user.String()
}

// check verifies a located token and applies the type requirement; the
// caller then applies CSRF, the blocklist and the policies.
func (e *engine) check(ctx context.Context, tok string, ps policySet) (*Claims, error) {
	if len(tok) > e.cfg.maxToken {
		return nil, newError(ErrTokenTooLarge, nil)
	}
	c, err := e.keys.parse(tok, e.cfg.maxScopes)
	if err != nil {
		return nil, err
	}
	if err := e.validate(c); err != nil {
		return nil, err
	}
	if c.Type == ticketType {
		// Only the handshake redeems tickets; no guard or Verify admits one,
		// whatever its policies mention.
		return nil, newError(ErrAccessRequired, errors.New("a WebSocket ticket is not a bearer token"))
	}
	if ps.implicitAccess && c.Type != Access {
		return nil, newError(ErrAccessRequired, nil)
	}
	return c, nil
}

// validate checks time, issuer and audience.
func (e *engine) validate(c *Claims) error {
	now := e.cfg.now()
	lee := e.cfg.leeway
	if !now.Before(c.ExpiresAt.Add(lee)) {
		return newError(ErrExpired, nil)
	}
	if !c.NotBefore.IsZero() && now.Add(lee).Before(c.NotBefore) {
		return newError(ErrNotYetValid, nil)
	}
	if !c.IssuedAt.IsZero() && now.Add(lee).Before(c.IssuedAt) {
		return newError(ErrIssuedInFuture, nil)
	}
	return e.validateParties(c)
}

// validateParties checks issuer and audience.
func (e *engine) validateParties(c *Claims) error {
	if e.cfg.issuer != "" && c.Issuer != e.cfg.issuer {
		return newError(ErrIssuer, nil)
	}
	if len(e.cfg.audience) == 0 {
		if len(c.Audience) != 0 {
			return newError(ErrAudience, errors.New("token names an audience and none is configured"))
		}
		return nil
	}
	for _, want := range e.cfg.audience {
		if slices.Contains(c.Audience, want) {
			return nil
		}
	}
	return newError(ErrAudience, nil)
}

// revoked consults the blocklist for the token, its refresh family and its
// session, failing closed.
func (e *engine) revoked(ctx context.Context, c *Claims) error {
	// The ids live in c's scratch array: c is on the heap already, so the
	// variadic call allocates nothing.
	ids := append(c.revIDs[:0], c.ID)
	if c.FamilyID != "" {
		ids = append(ids, familyPrefix+c.FamilyID)
	}
	if c.SessionID != "" {
		ids = append(ids, sessionPrefix+c.SessionID)
	}
	bad, err := e.blocklist.IsRevoked(ctx, ids...)
	if err != nil {
		return newError(ErrUnavailable, fmt.Errorf("blocklist: %w", err))
	}
	if bad {
		return newError(ErrRevoked, nil)
	}
	return nil
}

// admit is the last step every path shares once a token is verified: the
// blocklist (token, family, session), the token's session, then the
// policies on a context that carries c (built by newCtx), which it returns.
func (e *engine) admit(ctx context.Context, c *Claims, ps policySet, newCtx func(context.Context, *Claims) context.Context) (context.Context, error) {
	if err := e.revoked(ctx, c); err != nil {
		return nil, err
	}
	touch, err := e.checkSession(ctx, c)
	if err != nil {
		return nil, err
	}
	ctx = newCtx(ctx, c)
	if err := e.policies(ctx, c, ps); err != nil {
		return nil, err
	}
	if touch { // only for admitted requests: a denial records no activity
		e.touch(ctx, c)
	}
	return ctx, nil
}

// policies runs the user's policies on the request context.
func (e *engine) policies(ctx context.Context, c *Claims, ps policySet) error {
	if len(ps.user) == 0 {
		return nil
	}
	if err := ps.user.Check(ctx, c); err != nil {
		return asError(err)
	}
	return nil
}

// Verify verifies token and applies policies, as a guard would but without
// a request: signature and algorithm, exp/nbf/iat with leeway, issuer,
// audience, type (Access unless a policy mentions Refresh), the blocklist,
// then the policies. Errors are *[Error] values wrapping a sentinel.
func (a *Auth[T]) Verify(ctx context.Context, token string, policies ...Policy) (*Claims, error) {
	if a == nil || a.e == nil {
		return nil, newError(ErrNotConfigured, nil)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ps := a.e.policySet(policies)
	if ps.err != nil {
		return nil, newError(ErrMisconfigured, ps.err)
	}
	if token == "" {
		return nil, newError(ErrNoToken, nil)
	}
	c, err := a.e.check(ctx, token, ps)
	if err != nil {
		return nil, err
	}
	if _, err := a.e.admit(ctx, c, ps, a.NewContext); err != nil {
		return nil, err
	}
	return c, nil
}

// Revoke puts the token described by c on the blocklist until it would
// have expired anyway (plus the leeway). Every guard then refuses it.
func (a *Auth[T]) Revoke(ctx context.Context, c *Claims) error {
	if a == nil || a.e == nil {
		return ErrNotConfigured
	}
	if c == nil || c.ID == "" {
		return fmt.Errorf("%w: claims without jti", ErrTokenOption)
	}
	if err := a.e.blocklist.Revoke(ctx, c.ID, c.ExpiresAt.Add(a.e.cfg.leeway)); err != nil {
		return newError(ErrUnavailable, fmt.Errorf("blocklist: %w", err))
	}
	return nil
}

// WriteError writes err as the Auth's guards do: through the error handler
// of [WithErrorHandler], or [WriteError] with the realm.
func (a *Auth[T]) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if a == nil || a.e == nil {
		WriteError(w, "", newError(ErrNotConfigured, nil))
		return
	}
	a.e.deny(w, r, asError(err))
}

// Require builds a [Guard] that admits requests whose token passes every
// policy. With no policy it admits any valid access token. It requires
// [Access] unless a policy mentions [Refresh], so a refresh token never
// passes an access guard, whatever location it came from. Policies are
// validated now; a mistake is reported by [Guard.Err] and logged, and the
// guard then denies every request with 500 — it never allows.
func (a *Auth[T]) Require(policies ...Policy) *Guard {
	if a == nil || a.e == nil {
		return &Guard{ps: policySet{err: ErrNotConfigured}}
	}
	g := &Guard{ps: a.e.policySet(policies)}
	g.e = a.e
	g.newCtx = a.NewContext
	if g.ps.err != nil {
		a.e.cfg.logger.LogAttrs(context.Background(), slog.LevelError, "authx: misconfigured guard",
			slog.String("guard", g.ps.String()), slog.String("error", g.ps.err.Error()))
	}
	return g
}

// Guard protects handlers with a set of policies. Build it with
// [Auth.Require]; use [Guard.Wrap] as net/http middleware and [Guard.Check]
// in manual flows. A nil or misbuilt Guard denies every request.
type Guard struct {
	e      *engine
	ps     policySet
	newCtx func(context.Context, *Claims) context.Context

	mu       sync.Mutex
	conns    map[*websocket.Conn]*wsWatch // live WebSocket connections (ws.go)
	byClaims map[*Claims]*wsWatch         // their claims handed to the application
}

// Err reports a mistake made building the guard (an invalid scope pattern, a
// nil policy), or nil. Check it at start-up.
func (g *Guard) Err() error {
	if g == nil {
		return ErrNotConfigured
	}
	if g.ps.err != nil {
		return fmt.Errorf("%w: %w", ErrMisconfigured, g.ps.err)
	}
	return nil
}

// String prints the guard's policies as written, with the implicit Access:
// All(Access, Scopes("admin:*")).
func (g *Guard) String() string {
	if g == nil {
		return "<nil>"
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
		ctx, _, loc, err := g.authenticate(r)
		if err != nil {
			g.deny(w, r, err)
			return
		}
		r = r.WithContext(ctx)
		if loc == InQuery {
			r = g.e.hideQueryToken(w, r)
		}
		h.ServeHTTP(w, r)
	})
}

// WrapFunc is Wrap for a handler function.
func (g *Guard) WrapFunc(h http.HandlerFunc) http.Handler { return g.Wrap(h) }

// Check authenticates r and returns the verified claims, or an *[Error].
// It writes nothing; the caller decides the response (see [Auth.WriteError]).
func (g *Guard) Check(r *http.Request) (*Claims, error) {
	_, c, _, err := g.authenticate(r)
	if err != nil {
		return nil, err
	}
	return c, nil
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
	tok, loc, err := e.locate(r, g.ps.refresh)
	if err != nil {
		return nil, nil, 0, asError(err)
	}
	ctx := r.Context()
	c, err := e.check(ctx, tok, g.ps)
	if err != nil {
		return nil, nil, 0, asError(err)
	}
	if loc == InCookie {
		if err := e.checkCSRF(r, c); err != nil {
			return nil, nil, 0, asError(err)
		}
	}
	ctx, err = e.admit(ctx, c, g.ps, g.newCtx)
	if err != nil {
		return nil, nil, 0, asError(err)
	}
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

// Bounds on attacker-chosen strings in log records.
const (
	maxLogMethod = 16
	maxLogPath   = 128
	maxLogError  = 256
)

// bound cuts an attacker-chosen string for a log record to at most n bytes
// (at a UTF-8 boundary), marking the cut.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncate(s, n) + "…"
}

// deny logs a denial and writes it.
func (e *engine) deny(w http.ResponseWriter, r *http.Request, err *Error) {
	level := slog.LevelDebug
	switch {
	case err.Status >= 500 && errors.Is(err, ErrUnavailable):
		level = slog.LevelWarn
	case err.Status >= 500:
		level = slog.LevelError
	}
	if l := e.cfg.logger; l.Enabled(r.Context(), level) {
		l.LogAttrs(r.Context(), level, "authx: request denied",
			slog.Int("status", err.Status),
			slog.String("code", err.Code),
			slog.String("method", bound(r.Method, maxLogMethod)),
			slog.String("path", bound(r.URL.Path, maxLogPath)),
			slog.String("error", bound(err.Error(), maxLogError)))
	}
	if err.clearCookies != "" {
		e.clearTossed(w, r, err.clearCookies)
	}
	err = err.challengedWith(e.cfg.scheme) // the challenge names WithHeader's scheme
	if e.cfg.onError != nil {
		e.cfg.onError(w, r, err)
		return
	}
	WriteError(w, e.cfg.realm, err)
}
