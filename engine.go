package authx

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// engine is the non-generic core shared by an Auth and its guards.
type engine struct {
	cfg       config
	keys      keyring
	blocklist safeBlocklist
	sessions  SessionStore
	limiter   RateLimiter
	checked   *checkedSessions // sessions found live recently (memory.go, sessioncheck.go)
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
