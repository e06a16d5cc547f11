package authx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
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

// New builds an Auth from options, validating all of them: a missing or
// short key, an unknown algorithm, a subject getter whose type is not T, a
// negative leeway, … are reported as an error wrapping [ErrConfig]. T is
// the application's user type, which [WithSubjectGetter] resolves from a
// verified token; it is required unless T is string, whose subject is the
// token's sub claim itself (New[string] suits services that need no user
// record).
func New[T any](opts ...Option) (*Auth[T], error) {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			cfg.errorf("New: option %d (counting from 0) is nil", i)
			continue
		}
		o.apply(&cfg)
	}
	if cfg.signing == nil && len(cfg.verifyKeys) == 0 && !cfg.keyGiven {
		cfg.errorf("no key: use WithSecret, WithSigningKey, WithVerificationKey or WithKeySet")
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
	} else if t := reflect.TypeFor[T](); !subjectIsString(t) {
		cfg.errorf("New[%v] needs WithSubjectGetter to turn a token's subject into a %v (only New[string] works without one: the subject is that string)", t, t)
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
	e := &engine{cfg: cfg}
	if cfg.cacheSize > 0 {
		e.cache = newVerifyCache(cfg.cacheSize)
	}
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
	e.keys.external = len(cfg.keySets) > 0
	e.keys.learnHeaders()
	e.canned = cannedDenials(cfg.realm, cfg.scheme)
	bl := cfg.blocklist
	if bl == nil {
		bl = NewMemoryBlocklist(cfg.now)
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
	if cfg.shortSecret {
		l := cfg.logger
		if !cfg.loggerSet {
			l = slog.Default()
		}
		l.LogAttrs(context.Background(), slog.LevelWarn, "authx: InsecureShortSecret: the HMAC secret is shorter than 32 bytes and can be guessed from one token; replace it once the migration allows")
	}
	e.checked = newCheckedSessions()
	e.blocklist = newSafeBlocklist(bl)
	e.cfg.refresh = safeRefresh{e.cfg.refresh}
	e.sessions = safeSessions{e.sessions}
	e.limiter = safeLimiter{e.limiter}
	a.e = e
	return a, nil
}

// subjectIsString reports whether the subject itself, a string, is an
// honest T: T is string, or an interface that string satisfies (any).
func subjectIsString(t reflect.Type) bool {
	str := reflect.TypeFor[string]()
	return t == str || (t.Kind() == reflect.Interface && str.Implements(t))
}

// Verify verifies token and applies policies, as a guard would but without
// a request: signature and algorithm, exp/nbf/iat with leeway, issuer,
// audience, type (Access unless a policy mentions Refresh), the blocklist,
// then the policies. Errors are *[Error] values wrapping a sentinel. A
// token bound to a key ([BoundToKey], cnf.jkt) is refused ([ErrKeyBound]):
// without a request there is no proof of the key.
func (a *Auth[T]) Verify(ctx context.Context, token string, policies ...Policy) (*Claims, error) {
	if err := a.configured(); err != nil {
		return nil, err
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
	if err := unprovable(c); err != nil {
		return nil, err
	}
	if _, err := a.e.admit(ctx, nil, c, ps, a.newSlot()); err != nil {
		return nil, err
	}
	return c, nil
}

// KeyProof returns the thumbprint of the key r proves its sender holds,
// by the Auth's [KeyBinding] (the DPoP proof of a login request), for
// [BoundToKey] on the tokens issued in answer: "" when r proves no key.
// An invalid proof is an *[Error] to write with [Auth.WriteError] (its
// Challenge and Header say why); without a KeyBinding it returns "".
func (a *Auth[T]) KeyProof(r *http.Request) (string, error) {
	if err := a.configured(); err != nil {
		return "", err
	}
	if r == nil {
		return "", newError(ErrMisconfigured, errors.New("KeyProof(nil)"))
	}
	return a.e.checkBinding(r.Context(), r, "", 0, nil, false)
}

// Revoke puts the token described by c on the blocklist until it would
// have expired anyway (plus the leeway). Every guard then refuses it.
func (a *Auth[T]) Revoke(ctx context.Context, c *Claims) error {
	if err := a.configured(); err != nil {
		return err
	}
	if c == nil || c.ID == "" {
		return fmt.Errorf("%w: claims without jti", ErrTokenOption)
	}
	if err := a.e.blocklist.Revoke(ctx, c.tokenKey(), c.ExpiresAt.Add(a.e.cfg.leeway)); err != nil {
		return newError(ErrUnavailable, fmt.Errorf("blocklist: %w", err))
	}
	a.e.emit(ctx, nil, Event{Kind: EventRevoke}, c)
	return nil
}

// WriteError writes err as the Auth's guards do: through the error handler
// of [WithErrorHandler], or [WriteError] with the realm.
func (a *Auth[T]) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if cerr := a.configured(); cerr != nil {
		WriteError(w, "", cerr)
		return
	}
	a.e.deny(w, r, asError(err))
}

// newState returns a context carrying c whose subject a's getter resolves
// lazily (see [Auth.NewContext]); a nil a has no getter.
func (a *Auth[T]) newState(ctx context.Context, c *Claims) context.Context {
	return a.newSlot().bind(ctx, c)
}

// newSlot returns an unbound request state whose subject a's getter
// resolves (see stateSlot).
func (a *Auth[T]) newSlot() stateSlot {
	if a == nil {
		return &requestState[T]{}
	}
	return &requestState[T]{get: a.get, isNil: a.isNil}
}

// configured is the one check every method of a nil or zero Auth makes: nil,
// or an *[Error] wrapping [ErrNotConfigured] (500), so that such an Auth
// fails closed and every method reports it alike.
func (a *Auth[T]) configured() error {
	if a == nil || a.e == nil {
		return newError(ErrNotConfigured, nil)
	}
	return nil
}

// Require builds a [Guard] that admits requests whose token passes every
// policy. With no policy it admits any valid access token. It requires
// [Access] unless a policy mentions [Refresh], so a refresh token never
// passes an access guard, whatever location it came from.
//
// Policies are validated now, and a mistake in them — an invalid scope
// pattern, Scopes() with none, a nil policy, a requirement no token could
// meet — panics with a message naming it, as [http.ServeMux.Handle] panics
// on a bad pattern: guards are built at start-up from literal arguments,
// so the mistake shows before the first request. For policies built from
// runtime data (configuration, a database) use [Auth.TryRequire], which
// returns the mistake as an error. A nil or unconfigured Auth builds a
// guard that denies every request with 500.
func (a *Auth[T]) Require(policies ...Policy) *Guard {
	return mustGuard("Require", a.guard(false, policies))
}

// Optional builds a [Guard] that also admits requests carrying no token at
// all (Python AuthX's token_required(optional=True)): they reach the
// handler with no claims ([ClaimsFrom] and [SubjectFrom] report false, and
// [Guard.Check] returns nil claims and a nil error). A request that does
// carry a token is verified exactly as [Auth.Require] verifies it: a bad,
// expired, revoked or wrong-type token is still 401, a token failing the
// policies still 403, an ambiguous request (two tokens) still 400 — an
// invalid token is never taken for "anonymous". WebSocket handshakes
// without a token are accepted with nil claims. A mistake in the policies
// panics, as in Require; [Auth.TryOptional] returns it instead.
func (a *Auth[T]) Optional(policies ...Policy) *Guard {
	return mustGuard("Optional", a.guard(true, policies))
}

// TryRequire is [Auth.Require] for policies built from runtime data: a
// mistake in them is returned as an error wrapping [ErrMisconfigured]
// (with a nil guard) instead of panicking. A nil or unconfigured Auth
// returns [ErrNotConfigured].
func (a *Auth[T]) TryRequire(policies ...Policy) (*Guard, error) {
	return tryGuard(a.configured(), a.guard(false, policies))
}

// TryOptional is [Auth.Optional] for policies built from runtime data; see
// [Auth.TryRequire].
func (a *Auth[T]) TryOptional(policies ...Policy) (*Guard, error) {
	return tryGuard(a.configured(), a.guard(true, policies))
}

func tryGuard(configured error, g *Guard) (*Guard, error) {
	if configured != nil {
		return nil, configured
	}
	if err := g.Err(); err != nil {
		return nil, err
	}
	return g, nil
}

// mustGuard panics if g was built with a mistake in its arguments; a guard
// of a nil or unconfigured Auth is returned as it is (it denies).
func mustGuard(fn string, g *Guard) *Guard {
	if g.e != nil && g.ps.err != nil {
		panic("authx: " + fn + "(" + g.ps.userString() + "): " + g.ps.err.Error())
	}
	return g
}

func (a *Auth[T]) guard(optional bool, policies []Policy) *Guard {
	if err := a.configured(); err != nil {
		return &Guard{ps: policySet{err: err}}
	}
	g := &Guard{ps: a.e.policySet(policies)}
	g.ps.optional = optional
	g.e = a.e
	g.newSlot = a.newSlot
	return g
}
