package authx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// Option configures [New]. Options are values; a list of options is itself
// an option ([WithOptions]). Every option is validated by New, which returns
// an error wrapping [ErrConfig] naming the first mistake.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is everything New resolves from the options.
type config struct {
	errs []error

	signing       *keySpec
	signingKID    string
	verifyKeys    []*keySpec
	keySets       []*issuerKeys // WithKeySet
	shortSecret   bool          // InsecureShortSecret: warn at New
	keyGiven      bool          // a key option was given, even one refused
	loggerSet     bool          // WithLogger was given
	issuer        string
	loginType     string
	audience      []string
	leeway        time.Duration
	now           func() time.Time
	accessTTL     time.Duration
	refreshTTL    time.Duration
	locations     []Location
	header        string
	scheme        string
	queryParam    string
	jsonAccess    string
	jsonRefresh   string
	cookies       CookieConfig
	cookiesSet    bool
	csrf          CSRFConfig
	cop           *http.CrossOriginProtection
	refresh       RefreshStore
	reuseGrace    time.Duration
	noRotation    bool
	wsRecheck     time.Duration
	ticketTTL     time.Duration
	sessions      SessionStore
	touchEvery    time.Duration
	limiter       RateLimiter
	proxies       []netip.Prefix
	getter        any
	blocklist     Blocklist
	onError       func(http.ResponseWriter, *http.Request, error)
	logger        *slog.Logger
	events        []func(context.Context, Event) // WithEvents' hooks, in order
	realm         string
	maxToken      int
	maxBody       int64
	maxScopes     int
	cacheSize     int        // WithVerificationCache; 0: no cache
	keyBinding    KeyBinding // WithKeyBinding; nil: bound tokens are refused
	bindingScheme string     // keyBinding.Scheme(), read once
}

func defaultConfig() config {
	return config{
		now:         time.Now,
		accessTTL:   15 * time.Minute,
		refreshTTL:  20 * 24 * time.Hour,
		locations:   []Location{InHeader},
		header:      "Authorization",
		scheme:      "Bearer",
		queryParam:  "token",
		jsonAccess:  "access_token",
		jsonRefresh: "refresh_token",
		reuseGrace:  5 * time.Second,
		wsRecheck:   30 * time.Second,
		ticketTTL:   30 * time.Second,
		touchEvery:  time.Minute,
		logger:      slog.New(slog.DiscardHandler),
		realm:       "api",
		maxToken:    8 << 10,
		maxBody:     1 << 20,
		maxScopes:   256,
	}
}

func (c *config) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// WithOptions bundles several options into one.
func WithOptions(opts ...Option) Option {
	return optionFunc(func(c *config) {
		for i, o := range opts {
			if o == nil {
				c.errorf("WithOptions: option %d (counting from 0) is nil", i)
				continue
			}
			o.apply(c)
		}
	})
}

// WithLoginType makes the Auth one identity type among several sharing a
// key (Python AuthX 1.7's AuthManager and login_type): every token it
// issues carries "login_type": name, and it accepts only tokens of that
// login type — on guards, [Auth.Verify], refresh, logout, tickets and
// WebSockets — refusing the others, and tokens without one, with the same
// 401 invalid_token answer as a bad signature ([ErrLoginType]). Default:
// none written, none checked (a token's login_type is read but not
// required, as a plain AuthX does).
func WithLoginType(name string) Option {
	return optionFunc(func(c *config) {
		if err := checkClaimString("login type", name); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.loginType = name
	})
}

// WithIssuer writes iss into every token and requires it on every token
// verified. Default: none written, none required. It must be valid UTF-8
// of at most 1024 bytes, the longest a verifier reads.
func WithIssuer(iss string) Option {
	return optionFunc(func(c *config) {
		if err := checkClaimString("issuer", iss); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.issuer = iss
	})
}

// WithAudience writes aud into every token (unless [ForAudience] overrides
// it) and requires every verified token to name at least one of these
// audiences. Default: none written, and tokens that carry an aud claim are
// rejected (RFC 7519 §4.1.3) — unlike Python AuthX, one option sets both
// sides, so tokens we mint always verify here. From 1 to 32 audiences (the
// most a verifier reads), each non-empty valid UTF-8.
func WithAudience(aud ...string) Option {
	return optionFunc(func(c *config) {
		if err := checkAudience("WithAudience", aud); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.audience = append([]string(nil), aud...)
	})
}

// maxLeeway bounds [WithLeeway]: clock skew is seconds, and a leeway of
// hours would quietly keep expired (and revoked-by-expiry) tokens alive.
const maxLeeway = 5 * time.Minute

// WithLeeway tolerates clock skew between the issuer and this server when
// checking exp, nbf and iat. Default 0, as Python AuthX; from 0 to at most
// 5 minutes, anything else is an error. Keep it to seconds: it extends
// every token's life.
func WithLeeway(d time.Duration) Option {
	return optionFunc(func(c *config) {
		switch {
		case d < 0:
			c.errorf("negative leeway %v", d)
			return
		case d > maxLeeway:
			c.errorf("leeway %v out of range [0, 5m]", d)
			return
		}
		c.leeway = d
	})
}

// WithClock sets the time source for issuing and verifying. Default
// time.Now. Tests pass a controllable clock (see authtest.Clock).
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now == nil {
			c.errorf("nil clock")
			return
		}
		c.now = now
	})
}

// WithAccessTTL sets the lifetime of access tokens. Default 15 minutes.
func WithAccessTTL(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.errorf("access TTL must be positive, got %v", d)
			return
		}
		c.accessTTL = d
	})
}

// WithRefreshTTL sets the lifetime of refresh tokens. Default 20 days.
func WithRefreshTTL(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.errorf("refresh TTL must be positive, got %v", d)
			return
		}
		c.refreshTTL = d
	})
}

// WithTokenLocations sets where guards look for a token, in lookup order:
// the first location that holds a token wins, even if that token then fails
// verification (as Python AuthX). Default: [InHeader] only. Listing
// [InCookie] also puts a csrf claim into every token, for the double-submit
// check on cookie-borne tokens.
func WithTokenLocations(locs ...Location) Option {
	return optionFunc(func(c *config) {
		if err := checkLocations("WithTokenLocations", locs); err != nil {
			c.errorf("%v", err)
			return
		}
		c.locations = append([]Location(nil), locs...)
	})
}

// WithHeader sets the header carrying the token and its authentication
// scheme. Default "Authorization" and "Bearer". The scheme is matched
// case-insensitively (RFC 9110 §11.1); a header with another scheme (Basic)
// is not a token and lookup moves on. An empty scheme takes the whole header
// value as the token. Denials challenge with the scheme
// (WWW-Authenticate: Token realm="api", …), Bearer when it is empty.
func WithHeader(name, scheme string) Option {
	return optionFunc(func(c *config) {
		if !validToken(name) {
			c.errorf("invalid header name %q", name)
			return
		}
		if scheme != "" && !validToken(scheme) {
			c.errorf("invalid authentication scheme %q", scheme)
			return
		}
		c.header = http.CanonicalHeaderKey(name)
		c.scheme = scheme
	})
}

// WithQueryParam sets the query parameter read by [InQuery]. Default "token".
func WithQueryParam(name string) Option {
	return optionFunc(func(c *config) {
		if name == "" {
			c.errorf("empty query parameter name")
			return
		}
		c.queryParam = name
	})
}

// WithJSONKeys sets the JSON body members read by [InJSON] for access and
// refresh tokens. Default "access_token" and "refresh_token".
func WithJSONKeys(access, refresh string) Option {
	return optionFunc(func(c *config) {
		if access == "" || refresh == "" || access == refresh {
			c.errorf("JSON keys must be non-empty and distinct, got %q and %q", access, refresh)
			return
		}
		c.jsonAccess, c.jsonRefresh = access, refresh
	})
}

// WithCookies configures the token and CSRF cookies: names, paths,
// domain, SameSite, lifetime (see [CookieConfig]; zero fields keep the
// defaults). Using it also puts a csrf claim into every token issued, as
// listing [InCookie] in [WithTokenLocations] does, so that tokens can be
// set as cookies even when guards read them from elsewhere (an access token
// in the header, the refresh token in a cookie).
func WithCookies(cc CookieConfig) Option {
	return optionFunc(func(c *config) {
		c.cookies = cc
		c.cookiesSet = true
	})
}

// WithCSRF configures the CSRF protection of cookie-borne tokens (see
// [CSRFConfig]). Default: the X-CSRF-TOKEN header on every unsafe method,
// plus Go's cross-origin protection.
func WithCSRF(cc CSRFConfig) Option {
	return optionFunc(func(c *config) { c.csrf = cc })
}

// WithRefreshStore sets where spent refresh tokens are remembered for
// rotation (see [Auth.RefreshHandler]). Default: a [MemoryRefreshStore] on
// the configured clock.
func WithRefreshStore(s RefreshStore) Option {
	return optionFunc(func(c *config) {
		if s == nil {
			c.errorf("nil refresh store")
			return
		}
		c.refresh = s
	})
}

// WithRefreshReuseGrace sets how long after a refresh token was spent a
// second use is taken for a client's parallel requests rather than theft:
// within it the repeat is refused (401) but the family survives; past it the
// whole family is revoked. Default 5 seconds; 0 revokes on any reuse.
func WithRefreshReuseGrace(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 || d > time.Minute {
			c.errorf("refresh reuse grace %v out of range [0, 1m]", d)
			return
		}
		c.reuseGrace = d
	})
}

// InsecureNoRefreshRotation lets a refresh token be used any number of
// times until it expires, as Python AuthX does. A stolen refresh token then
// works silently for its whole life. Default: rotation on, each refresh
// token single-use, reuse revoking its family.
func InsecureNoRefreshRotation() Option {
	return optionFunc(func(c *config) { c.noRotation = true })
}

// WithSubjectGetter resolves a verified token to the application's user
// type, at most once per request and only when asked ([SubjectFrom],
// [Auth.Subject], [Auth.KnownSubject]). U must be the T of New[T]; New
// refuses a getter of another type. Return an error wrapping
// [ErrSubjectNotFound] for an unknown subject (401); a nil subject (nil
// pointer, map, slice, func, channel or interface) returned with a nil
// error is taken as not found too. Any other error is taken as the store
// being down (503). Default: none; for Auth[string] the
// subject is then the token's sub.
func WithSubjectGetter[U any](get func(ctx context.Context, c *Claims) (U, error)) Option {
	return optionFunc(func(c *config) {
		if get == nil {
			c.errorf("nil subject getter")
			return
		}
		c.getter = get
	})
}

// WithBlocklist sets the store of revoked token ids, consulted on every
// guarded request. Default: a [MemoryBlocklist] on the configured clock.
func WithBlocklist(b Blocklist) Option {
	return optionFunc(func(c *config) {
		if b == nil {
			c.errorf("nil blocklist")
			return
		}
		c.blocklist = b
	})
}

// WithErrorHandler replaces the response written when a guard denies a
// request. err is always an *[Error] (match it with errors.Is). The default
// is [WriteError] with the realm; a custom handler must not echo
// err.Error() to the client (it holds internal detail).
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, err error)) Option {
	return optionFunc(func(c *config) {
		if h == nil {
			c.errorf("nil error handler")
			return
		}
		c.onError = h
	})
}

// WithLogger sets the logger for events (see [Event]: logins, refreshes,
// revocations, sessions at Info, denials at Debug, reuse and store
// failures at Warn) and misconfiguration (Error). Tokens and keys are
// never logged. Default: a logger that discards (errors then go to
// slog.Default).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errorf("nil logger")
			return
		}
		c.logger = l
		c.loggerSet = true
	})
}

// WithEvents calls hook with every [Event]: logins, refreshes, reuse,
// revocations, logouts, sessions started and ended, denials with their
// code, rate limits, store failures, WebSocket closes, and each request a
// guard admits ([EventVerified], with how long verifying took). It is the
// extension point for telemetry (the authxotel module records events as
// OpenTelemetry span events and metrics) and audit trails. Events never
// hold tokens, keys, secrets or CSRF values.
//
// The hook runs synchronously, on the goroutine of the request or call
// the event is about (before a denial's response is written), with its
// context — a request's, so that a hook finds the request's span there;
// context.Background for [Auth.CreateTokenPair] and the other Create…
// methods, which take none. It must be fast, must not block and must not
// keep ctx. A panic in it is recovered and logged at Error: a hook never
// fails a request. Several WithEvents add hooks, called in order.
//
// A hook adds to the log, it does not replace it: events are still
// records of the [WithLogger] logger. Default: no hook; events are only
// logged, and [EventVerified], which is never logged, is not even built.
func WithEvents(hook func(ctx context.Context, e Event)) Option {
	return optionFunc(func(c *config) {
		if hook == nil {
			c.errorf("nil event hook")
			return
		}
		c.events = append(c.events, hook)
	})
}

// WithRealm sets the realm of WWW-Authenticate challenges. Default "api".
// It is written as an HTTP quoted-string, so it may not hold a quote, a
// backslash or a control byte other than a tab.
func WithRealm(realm string) Option {
	return optionFunc(func(c *config) {
		for i := 0; i < len(realm); i++ {
			if b := realm[i]; b == '"' || b == '\\' || (b < ' ' && b != '\t') || b == 0x7f {
				c.errorf("realm %q has a quote, backslash or control byte", realm)
				return
			}
		}
		c.realm = realm
	})
}

// WithWebSocketRecheck sets how often a live WebSocket connection's token
// is checked against the blocklist (and the clock, for a controlled clock);
// expiry by the real clock closes it on time regardless. Default 30 seconds.
func WithWebSocketRecheck(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.errorf("WebSocket recheck interval must be positive, got %v", d)
			return
		}
		c.wsRecheck = d
	})
}

// WithTicketTTL sets how long a WebSocket ticket (see [Auth.TicketHandler])
// stays redeemable. Default 30 seconds; at most 5 minutes.
func WithTicketTTL(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 || d > 5*time.Minute {
			c.errorf("ticket TTL %v out of range (0, 5m]", d)
			return
		}
		c.ticketTTL = d
	})
}

// WithSessionStore sets where sessions live (see [Auth.StartSession]).
// Default: a [MemorySessionStore] on the configured clock.
func WithSessionStore(s SessionStore) Option {
	return optionFunc(func(c *config) {
		if s == nil {
			c.errorf("nil session store")
			return
		}
		c.sessions = s
	})
}

// WithSessionTouchInterval sets how often, at most, a session's last-active
// time is written when its tokens are used (per session and replica).
// Default 1 minute: not a write per request.
func WithSessionTouchInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.errorf("session touch interval must be positive, got %v", d)
			return
		}
		c.touchEvery = d
	})
}

// WithRateLimiter sets the store of rate-limit buckets (see
// [Auth.RateLimit]). Default: a [MemoryRateLimiter] on the configured clock.
func WithRateLimiter(l RateLimiter) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errorf("nil rate limiter")
			return
		}
		c.limiter = l
	})
}

// WithTrustedProxies names the reverse proxies (CIDR prefixes or single
// addresses, "10.0.0.0/8", "127.0.0.1") whose X-Forwarded-For is believed
// when finding the client's IP ([Auth.ClientIP]). Default: none — the
// client is r.RemoteAddr, and X-Forwarded-For, which any client can write,
// is ignored.
func WithTrustedProxies(cidrs ...string) Option {
	return optionFunc(func(c *config) {
		for _, s := range cidrs {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				addr, aerr := netip.ParseAddr(s)
				if aerr != nil {
					c.errorf("trusted proxy %q is not a CIDR prefix or an address", s)
					return
				}
				p = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 { // "::ffff:10.0.0.0/104" means 10.0.0.0/8
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			c.proxies = append(c.proxies, p.Masked())
		}
	})
}

func (c *config) err() error {
	errs := c.errs
	if len(errs) == 0 {
		if err := c.checkIssuable(); err != nil {
			errs = []error{err}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
}

// checkIssuable refuses a configuration whose smallest token would not
// verify: one whose header (with the key id) is longer than a verifier
// reads, or whose signature, issuer and audiences alone make a token
// longer than WithMaxTokenSize. Larger tokens are checked as they are
// issued.
func (c *config) checkIssuable() error {
	if c.signing == nil {
		return nil
	}
	hdr := appendHeader(nil, c.signing.alg, c.signingKID, nil)
	if len(hdr) > maxHeaderBytes {
		return fmt.Errorf("the token header is %d bytes, more than the %d a verifier reads", len(hdr), maxHeaderBytes)
	}
	smallest := &Claims{
		Subject:   "x",
		ID:        "00000000-0000-0000-0000-000000000000",
		Type:      Access,
		Issuer:    c.issuer,
		Audience:  c.audience,
		IssuedAt:  time.Unix(0, 0),
		ExpiresAt: time.Unix(0, 0),
	}
	if c.usesCookies() {
		smallest.CSRF = smallest.ID
	}
	n := b64enc.EncodedLen(len(hdr)) + 1 + b64enc.EncodedLen(len(appendClaims(nil, smallest, nil))) + 1 +
		b64enc.EncodedLen(c.signing.signatureLen())
	if n > c.maxToken {
		return fmt.Errorf("the smallest token this configuration issues (%s signature, issuer, audiences) is %d bytes, more than WithMaxTokenSize(%d)",
			c.signing.alg, n, c.maxToken)
	}
	return nil
}

// loggerFor returns the logger for a record of level: the configured one,
// except that without [WithLogger] errors (a misconfiguration, a failure
// that denies) go to slog.Default rather than nowhere, so they cannot go
// unnoticed.
func (c *config) loggerFor(level slog.Level) *slog.Logger {
	if level >= slog.LevelError && !c.loggerSet {
		return slog.Default()
	}
	return c.logger
}

// usesCookies reports whether tokens carry a csrf claim, for cookies.
func (c *config) usesCookies() bool {
	if c.cookiesSet {
		return true
	}
	for _, l := range c.locations {
		if l == InCookie {
			return true
		}
	}
	return false
}
