package jwks

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Option configures [New] and [Discover]. A list of options is itself an
// option ([WithOptions]). Every option is checked by New, which returns an
// error wrapping [ErrConfig] naming each mistake.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults and bounds of the options.
const (
	// DefaultMinLifetime and DefaultMaxLifetime bound the cache lifetime
	// of a JWK Set; see [WithLifetimeBounds].
	DefaultMinLifetime = 5 * time.Minute
	DefaultMaxLifetime = 24 * time.Hour
	// DefaultLifetime is the lifetime of a response without Cache-Control
	// max-age or Expires, clamped into the lifetime bounds.
	DefaultLifetime = time.Hour
	// DefaultUnknownKIDInterval: see [WithUnknownKIDInterval].
	DefaultUnknownKIDInterval = time.Minute
	// DefaultUnknownKIDWait: see [WithUnknownKIDWait].
	DefaultUnknownKIDWait = 2 * time.Second
	// DefaultFetchTimeout: see [WithFetchTimeout].
	DefaultFetchTimeout = 10 * time.Second
	// DefaultMaxResponseBytes: see [WithMaxResponseBytes].
	DefaultMaxResponseBytes = 1 << 20
	// DefaultMaxKeys: see [WithMaxKeys].
	DefaultMaxKeys = 100
	// DefaultMaxStale: see [WithMaxStale].
	DefaultMaxStale = 6 * time.Hour

	// MinInterval is the shortest lifetime bound, unknown-kid interval
	// and fetch timeout the options accept, so that WithFetchTimeout(10)
	// meaning 10 ns is refused rather than obeyed.
	MinInterval = time.Second
)

// config is everything New resolves from the options.
type config struct {
	errs []error

	issuer       string
	issuerSet    bool
	client       *http.Client
	ownClient    bool // the default client, whose idle connections Close closes
	minLife      time.Duration
	maxLife      time.Duration
	missInterval time.Duration
	missWait     time.Duration
	fetchTimeout time.Duration
	maxBytes     int64
	maxKeys      int
	maxStale     time.Duration
	defaultAlg   string
	logger       *slog.Logger
	now          func() time.Time
	tolerant     bool
	insecureHTTP bool
	onFetch      func(error) // tests: called after every fetch
}

func newConfig(opts []Option) (config, error) {
	c := config{
		minLife:      DefaultMinLifetime,
		maxLife:      DefaultMaxLifetime,
		missInterval: DefaultUnknownKIDInterval,
		missWait:     DefaultUnknownKIDWait,
		fetchTimeout: DefaultFetchTimeout,
		maxBytes:     DefaultMaxResponseBytes,
		maxKeys:      DefaultMaxKeys,
		maxStale:     DefaultMaxStale,
		logger:       slog.New(slog.DiscardHandler),
		now:          time.Now,
	}
	WithOptions(opts...).apply(&c)
	if len(c.errs) > 0 {
		return c, errors.Join(c.errs...)
	}
	if c.client == nil {
		c.client, c.ownClient = defaultClient(), true
	}
	return c, nil
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
}

// WithOptions bundles options into one. Nil options are mistakes,
// reported by New with their index.
func WithOptions(opts ...Option) Option {
	return optionFunc(func(c *config) {
		for i, o := range opts {
			if o == nil {
				c.fail("option %d is nil", i)
				continue
			}
			o.apply(c)
		}
	})
}

// WithIssuer sets what [Set.Issuer] returns: the iss of the tokens the
// keys sign, exactly as they spell it. authx asks the Set only about tokens
// with that issuer. Default "" (the Auth's own issuer, see
// [authx.KeySet]); [Discover] sets it to its issuer, and refuses a
// different WithIssuer.
func WithIssuer(iss string) Option {
	return optionFunc(func(c *config) { c.issuer, c.issuerSet = iss, true })
}

// WithHTTPClient sets the client of every fetch. Default: a client of its
// own with a 10 s dial, TLS handshake and response header timeout, the
// proxy from the environment, and no cookie jar; its idle connections are
// closed with the Set. The client is the caller's: the Set never changes
// or closes it. Every fetch is bounded by [WithFetchTimeout] whatever the
// client's own timeouts. A client that skips TLS verification makes the
// keys anyone's who can reach the network between the Set and the issuer.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) {
		if hc == nil {
			c.fail("WithHTTPClient(nil)")
			return
		}
		c.client, c.ownClient = hc, false
	})
}

// WithLifetimeBounds bounds how long a fetched JWK Set is fresh. Its
// lifetime is the response's Cache-Control max-age (less its Age header),
// else its Expires (less its Date), else [DefaultLifetime], and is then
// clamped into [min, max]; no-cache, no-store, an invalid max-age or a
// past Expires give min. The Set fetches again in the background when 3/4
// of the lifetime has passed, so keys are replaced before they expire, and
// at least every 3/4·min while the endpoint answers. Defaults
// [DefaultMinLifetime] (5 min) and [DefaultMaxLifetime] (24 h). min must
// be at least [MinInterval] (1 s) and at most max. A short min makes every
// replica fetch more often; a long max keeps a key the issuer has removed
// (rotated out after a compromise) trusted for that long.
func WithLifetimeBounds(min, max time.Duration) Option {
	return optionFunc(func(c *config) {
		if min < MinInterval || max < min {
			c.fail("WithLifetimeBounds(%v, %v): want %v ≤ min ≤ max", min, max, MinInterval)
			return
		}
		c.minLife, c.maxLife = min, max
	})
}

// WithUnknownKIDInterval bounds the fetches that tokens with an unknown
// kid cause: at most one per d. A token whose kid the Set does not hold
// (the issuer may have rotated its keys) makes the Set fetch at once,
// unless an unknown kid already caused a fetch less than d ago; then it
// answers "no key" (401) without asking anyone. A kid that such a fetch
// did not find is remembered until the next successful fetch and answered
// "no key" at once. So a flood of tokens with random kids costs the issuer
// at most one request per d per process. Default
// [DefaultUnknownKIDInterval] (1 min); at least [MinInterval] (1 s). A
// longer d means a rotation the Set missed takes longer to be seen.
func WithUnknownKIDInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < MinInterval {
			c.fail("WithUnknownKIDInterval(%v): want at least %v", d, MinInterval)
			return
		}
		c.missInterval = d
	})
}

// WithUnknownKIDWait bounds how long [Set.Keys] waits for the fetch an
// unknown kid caused (or joined) before it answers "no key": d, or until
// the request's context ends if that is sooner. The fetch itself goes on.
// Default [DefaultUnknownKIDWait] (2 s); 0 never waits (the first token
// with a rotated kid is refused, the ones after the fetch succeed). d must
// not be negative.
func WithUnknownKIDWait(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			c.fail("WithUnknownKIDWait(%v): want 0 or more", d)
			return
		}
		c.missWait = d
	})
}

// WithFetchTimeout bounds every fetch (connecting, TLS, headers and body,
// each redirect) to d. Default [DefaultFetchTimeout] (10 s); at least
// [MinInterval] (1 s). Requests never wait on a fetch longer than
// [WithUnknownKIDWait] whatever d is.
func WithFetchTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < MinInterval {
			c.fail("WithFetchTimeout(%v): want at least %v", d, MinInterval)
			return
		}
		c.fetchTimeout = d
	})
}

// WithMaxResponseBytes bounds the body of every response (after gzip is
// undone): a longer one is not read further and fails the fetch with
// [ErrTooLarge], keeping the keys held. Default [DefaultMaxResponseBytes]
// (1 MiB: a JWK Set of 100 4096-bit RSA keys with certificates is under
// 500 KiB). n must be from 1 KiB to 64 MiB.
func WithMaxResponseBytes(n int64) Option {
	return optionFunc(func(c *config) {
		if n < 1<<10 || n > 64<<20 {
			c.fail("WithMaxResponseBytes(%d): want 1 KiB to 64 MiB", n)
			return
		}
		c.maxBytes = n
	})
}

// WithMaxKeys bounds the keys of a JWK Set: one with more entries (usable
// or not) fails the fetch with [ErrInvalid], keeping the keys held.
// Default [DefaultMaxKeys] (100); n must be from 1 to 10 000.
func WithMaxKeys(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 || n > 10000 {
			c.fail("WithMaxKeys(%d): want 1 to 10000", n)
			return
		}
		c.maxKeys = n
	})
}

// WithMaxStale bounds how long keys are served past their expiry while
// the endpoint fails (down, slow, answering garbage): after it, [Set.Keys]
// returns [ErrStale] (503) until a fetch succeeds. Every failure is logged
// at Warn, and at Error once past the bound. No key is ever served longer
// than max lifetime + d after it was fetched. Default [DefaultMaxStale]
// (6 h); 0 serves no expired key. A long d keeps a key the issuer removed
// in trust through an outage; a short one turns a short outage of the
// issuer into one of every service that trusts it. d must not be negative.
func WithMaxStale(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			c.fail("WithMaxStale(%v): want 0 or more", d)
			return
		}
		c.maxStale = d
	})
}

// WithDefaultAlg sets the algorithm of JWKs that have no alg member (as
// some issuers publish them): such a key verifies alg only, and is skipped
// if its type does not fit alg. alg must be one of RS256, RS384, RS512,
// PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA. Default: none, and a
// JWK without alg is skipped (logged at Warn), since guessing the
// algorithm from the key is how algorithm confusion starts. A JWK's own alg
// always wins.
func WithDefaultAlg(alg string) Option {
	return optionFunc(func(c *config) {
		if _, ok := algKeyType[alg]; !ok {
			c.fail("WithDefaultAlg(%q): want one of %s", alg, acceptedAlgs)
			return
		}
		c.defaultAlg = alg
	})
}

// WithLogger sets the logger of fetch failures and recoveries (Warn,
// Error, Info), skipped keys (Warn; a JWK Set that publishes private keys
// at Error), and unknown kids (Debug). Keys are never logged; kids are
// cut to 64 bytes. Default: a logger that discards. A nil logger is a
// mistake.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.fail("WithLogger(nil)")
			return
		}
		c.logger = l
	})
}

// WithClock sets the clock that decides freshness, staleness and the
// unknown-kid interval, for tests. Default time.Now. The background
// refresh is scheduled on real timers from the clock's readings, so a
// test clock moves expiry, not the refresh; use [Set.Refresh] in tests.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now == nil {
			c.fail("WithClock(nil)")
			return
		}
		c.now = now
	})
}

// WithTolerantStart makes [New] and [Discover] return a Set even when the
// first fetch fails (logged at Warn), for a service that may start before
// its issuer is reachable. The Set keeps trying in the background (after
// 1 s, doubling up to 1 min) and [Set.Keys] returns [ErrNotReady] (503)
// until a fetch succeeds. Default: New returns the first fetch's error.
func WithTolerantStart() Option {
	return optionFunc(func(c *config) { c.tolerant = true })
}

// InsecureAllowHTTP allows plain http URLs: the JWKS URL, the issuer of
// [Discover], its jwks_uri, and the target of every redirect. Anyone on
// the network path can then replace the keys and sign any token. For tests
// and loopback development only. Default: only https.
func InsecureAllowHTTP() Option {
	return optionFunc(func(c *config) { c.insecureHTTP = true })
}

// defaultClient is the client of a Set built without WithHTTPClient.
func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          2,
		ForceAttemptHTTP2:     true,
	}}
}
