package authx

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// engine is the non-generic core shared by an Auth and its guards.
type engine struct {
	cfg       config
	canned    map[error]*canned // the responses to the common denials (errors.go)
	keys      keyring
	blocklist safeBlocklist
	sessions  SessionStore
	limiter   RateLimiter
	checked   *checkedSessions // sessions found live recently (memory.go, sessioncheck.go)
	cache     *verifyCache     // WithVerificationCache; nil when off (vcache.go)
}

// emit delivers ev, about the verified claims c (nil: none) and the
// request r (nil: none), to the [WithEvents] hooks and to the log. Nothing
// is built unless a hook or the logger at ev's level listens.
func (e *engine) emit(ctx context.Context, r *http.Request, ev Event, c *Claims) {
	if ctx == nil {
		ctx = context.Background()
	}
	var l *slog.Logger
	level, logged := ev.level()
	if logged {
		if l = e.cfg.loggerFor(level); !l.Enabled(ctx, level) {
			l = nil
		}
	}
	if l == nil && len(e.cfg.events) == 0 {
		return
	}
	ev.Time = e.cfg.now()
	ev.about(c)
	if r != nil {
		ev.ClientIP = bound(e.clientIP(r), maxLogID)
		ev.Method = bound(r.Method, maxLogMethod)
		ev.Path = bound(r.URL.Path, maxLogPath)
	}
	if ae, ok := ev.Err.(*Error); ok && ev.Code == "" { // not errors.As: its target would escape
		ev.Code = ae.Code
	}
	for _, hook := range e.cfg.events {
		if p := callHook(ctx, hook, ev); p != "" {
			e.cfg.loggerFor(slog.LevelError).LogAttrs(ctx, slog.LevelError, "authx: event hook panicked; the request goes on",
				slog.String("event", ev.Kind.String()), slog.String("panic", p))
		}
	}
	if l != nil {
		logEvent(ctx, l, level, &ev)
	}
}

// startVerify returns the start of a guard's verification for
// [EventVerified]: now, or the zero time (costing nothing) when no hook
// listens.
func (e *engine) startVerify() time.Time {
	if len(e.cfg.events) == 0 {
		return time.Time{}
	}
	return time.Now()
}

// verified emits [EventVerified] for r, admitted with c after verifying
// from start (zero: no hook listens).
func (e *engine) verified(r *http.Request, c *Claims, start time.Time) {
	if !start.IsZero() {
		e.emit(r.Context(), r, Event{Kind: EventVerified, Duration: time.Since(start)}, c)
	}
}

// clientIP returns the address of the client that sent r (see
// [Auth.ClientIP]).
func (e *engine) clientIP(r *http.Request) string {
	peer := hostOf(r.RemoteAddr)
	addr, err := netip.ParseAddr(peer)
	if err != nil {
		return peer
	}
	// An IPv4-mapped IPv6 peer (a dual-stack listener) is its IPv4
	// address: one client, one rate-limit bucket, one session IP.
	peer = addr.Unmap().String()
	if !e.trusted(addr) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		ip, err := netip.ParseAddr(hostOf(hop))
		if err != nil {
			return peer // a malformed hop: trust nothing left of it
		}
		if !e.trusted(ip) {
			return ip.Unmap().String()
		}
	}
	return peer
}

func (e *engine) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range e.cfg.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// hostOf strips a port from an address, if it has one.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return strings.Trim(addr, "[]")
}
