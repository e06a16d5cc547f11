package authx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
)

// RateLimitConfig configures [Auth.RateLimit].
type RateLimitConfig struct {
	// Name separates this middleware's buckets from every other's
	// ("login", "api"): 1 to 64 bytes of printable ASCII, without spaces or
	// ':'. Required: a middleware without a valid Name denies every request
	// with 500 (misconfigured) and logs why when it is built. Middlewares
	// given one Name share their buckets, which is how two routes share a
	// limit on purpose.
	//
	// Why required rather than made up: the name is the buckets' identity
	// in the limiter, and with a shared limiter (redisstore) across every
	// replica and every program using the store. A name authx derived (from
	// the order middlewares are built, or their call site) would differ
	// between programs, change when the code does (resetting every bucket
	// on a deploy), and grow without end for middleware built per request,
	// which would then never limit anything. Only the application knows
	// which limits are one.
	Name string
	// Anonymous limits requests that carry no verified claims, per client
	// IP (see [Auth.ClientIP]). Zero: no limit.
	Anonymous Limit
	// Authenticated limits requests behind a guard, per subject. Zero: no
	// limit.
	Authenticated Limit
	// Key, if set, replaces the IP or subject as the counter key (for
	// instance the username a login form names). Return "" to skip
	// limiting a request.
	Key func(r *http.Request) string
}

// maxLimitKey bounds a rate-limit key; longer keys are hashed.
const maxLimitKey = 200

// maxLimitName bounds [RateLimitConfig].Name.
const maxLimitName = 64

// checkLimitName reports whether name may name a RateLimit middleware: it
// starts every key of its buckets, up to the first ':', so it may hold no
// ':' (name "a" with key "key:x" and name "a:key" with key "x" would make
// one key), and is bounded rather than cut (cutting made two long names
// one).
func checkLimitName(name string) error {
	if name == "" {
		return errors.New("RateLimitConfig.Name is required: it keeps the middleware's buckets apart from every other's")
	}
	if len(name) > maxLimitName {
		return fmt.Errorf("RateLimitConfig.Name %.20q… is %d bytes, more than %d", name, len(name), maxLimitName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return fmt.Errorf("RateLimitConfig.Name %q holds %q: only printable ASCII but ':' and spaces", name, c)
		}
	}
	return nil
}

// limitKey builds a bounded key: name, kind and id. Ids that are long or
// contain bytes outside printable ASCII are replaced by their SHA-256, so a
// client cannot grow the store's keys or smuggle separators.
func limitKey(name, kind, id string) string {
	clean := len(id) <= maxLimitKey
	for i := 0; clean && i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			clean = false
		}
	}
	if !clean {
		sum := sha256.Sum256([]byte(id))
		id = "h:" + hex.EncodeToString(sum[:])
	}
	return name + ":" + kind + ":" + id // name: checked by checkLimitName
}

// RateLimit returns middleware that limits requests and answers 429 with
// Retry-After (whole seconds, at least 1) when a bucket is empty. Placed
// behind a guard (guard.Wrap(a.RateLimit(cfg)(h))) it sees the caller's
// claims and applies Authenticated per subject; in front of a login
// handler, Anonymous per client IP. A limiter that cannot answer denies
// with 503 (fail closed). A config without a valid [RateLimitConfig].Name
// or with an invalid limit is logged at Error when the middleware is
// built, and the middleware denies every request with 500.
func (a *Auth[T]) RateLimit(cfg RateLimitConfig) func(http.Handler) http.Handler {
	var cfgErr error
	if err := checkLimitName(cfg.Name); err != nil {
		cfgErr = err
	} else if err := cfg.Anonymous.valid(); err != nil {
		cfgErr = err
	} else if err := cfg.Authenticated.valid(); err != nil {
		cfgErr = err
	}
	if cfgErr != nil && a != nil && a.e != nil {
		a.e.cfg.loggerFor(slog.LevelError).LogAttrs(context.Background(), slog.LevelError, "authx: misconfigured rate limit",
			slog.String("name", bound(cfg.Name, maxLogPath)), slog.String("error", cfgErr.Error()))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := a.configured(); err != nil {
				a.WriteError(w, r, err)
				return
			}
			if cfgErr != nil {
				a.e.deny(w, r, newError(ErrMisconfigured, cfgErr))
				return
			}
			limit, kind, id := cfg.Anonymous, "ip", ""
			if c, ok := ClaimsFrom(r.Context()); ok {
				limit, kind, id = cfg.Authenticated, "sub", c.Subject
			} else {
				id = anonymousID(a.ClientIP(r))
			}
			if cfg.Key != nil {
				kind, id = "key", cfg.Key(r)
			}
			if limit.isZero() || id == "" {
				next.ServeHTTP(w, r)
				return
			}
			ok, retry, err := a.e.limiter.Allow(r.Context(), limitKey(cfg.Name, kind, id), limit)
			if err != nil {
				a.e.deny(w, r, newError(ErrUnavailable, fmt.Errorf("rate limiter: %w", err)))
				return
			}
			if !ok {
				e := newError(ErrRateLimited, nil)
				e.RetryAfter = retry
				a.e.deny(w, r, e)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// anonymousID keys anonymous limits: an IPv4 address, or the /64 of an IPv6
// one (a client usually controls a whole /64).
func anonymousID(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if addr = addr.Unmap(); addr.Is4() {
		return addr.String() // "::ffff:192.0.2.1" shares 192.0.2.1's bucket
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// ClientIP returns the address of the client that sent r: the host of
// r.RemoteAddr (an IPv4-mapped IPv6 address as its IPv4 address), unless that peer is a trusted proxy (see
// [WithTrustedProxies]); then the right-most X-Forwarded-For hop that is not
// a trusted proxy. Hops a client wrote itself stand left of the trusted
// ones and are never believed.
func (a *Auth[T]) ClientIP(r *http.Request) string {
	if a.configured() != nil || r == nil {
		return ""
	}
	return a.e.clientIP(r)
}
