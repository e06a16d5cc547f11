package authx

import (
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// cookie builds one cookie with the configured attributes.
func (e *engine) cookie(name, path, value string, httpOnly bool, maxAge time.Duration) *http.Cookie {
	return e.cookieAt(name, path, e.cfg.cookies.Domain, value, httpOnly, maxAge)
}

// cookieAt builds one cookie with the configured attributes but domain.
func (e *engine) cookieAt(name, path, domain, value string, httpOnly bool, maxAge time.Duration) *http.Cookie {
	cc := &e.cfg.cookies
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		Domain:   domain,
		Secure:   !cc.InsecureNoSecure,
		HttpOnly: httpOnly,
		SameSite: cc.SameSite,
	}
	switch {
	case maxAge > 0 && cc.SessionCookies:
		// A browser-session cookie: no Max-Age, no Expires.
	case maxAge > 0:
		secs := ceilSeconds(maxAge) // ≥ 1: Max-Age=0 would delete the cookie
		c.MaxAge = int(min(secs, math.MaxInt))
		// secs-1 seconds then one more: secs × 1s overflows for the
		// longest lives.
		c.Expires = e.cfg.now().Add(time.Duration(secs-1) * time.Second).Add(time.Second).UTC()
	default:
		// Deletion: Max-Age=0 and an Expires in the past, with the same
		// Path, Domain, Secure and SameSite as when set (AuthX drops them).
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0).UTC()
	}
	return c
}

// noStore marks a response that carries a token (in a cookie or the body)
// as not to be stored by any cache (RFC 6749 §5.1, RFC 9111 §5.2.2.5).
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

func (e *engine) unsetCookies(w http.ResponseWriter, typ TokenType) {
	cc := &e.cfg.cookies
	name, path, csrfName, csrfPath := cc.namesFor(typ)
	http.SetCookie(w, e.cookie(name, path, "", !cc.InsecureScriptReadable, 0))
	if e.writesCSRFCookies() {
		http.SetCookie(w, e.cookie(csrfName, csrfPath, "", false, 0))
	}
}

func (e *engine) writesCSRFCookies() bool {
	return !e.cfg.cookies.NoCSRFCookies && !e.cfg.csrf.InsecureDisable
}

// Bounds on the deletion cookies of an ambiguous-cookie refusal.
const (
	maxTossPaths   = 8
	maxTossDomains = 4
)

// clearTossed deletes the cookies of typ after a request carried two of
// one name: at the configured path and domain, and at every path and
// domain from which the request's cookies could have come (the ancestors
// of the request path; this host and its parent domains), so that a stale
// duplicate on another path, or one planted by a sibling subdomain, goes
// away with ours and the client can log in again. Cookies whose names use
// the __Host- prefix cannot be planted at all (see the README).
func (e *engine) clearTossed(w http.ResponseWriter, r *http.Request, typ TokenType) {
	e.unsetCookies(w, typ)
	cc := &e.cfg.cookies
	name, _, csrfName, _ := cc.namesFor(typ)
	names := []string{name}
	if e.writesCSRFCookies() {
		names = append(names, csrfName)
	}
	paths := []string{"/"}
	if r.URL != nil {
		p := strings.TrimSuffix(r.URL.Path, "/")
		for i := 1; i <= len(p) && len(paths) < maxTossPaths; i++ {
			if (i == len(p) || p[i] == '/') && validCookieValue(p[:i]) {
				paths = append(paths, p[:i])
			}
		}
	}
	domains := []string{""} // host-only
	if host := hostOf(r.Host); net.ParseIP(host) == nil && validCookieValue(host) {
		for d := host; strings.Contains(d, ".") && len(domains) <= maxTossDomains; _, d, _ = strings.Cut(d, ".") {
			domains = append(domains, d)
		}
	}
	if cc.Domain != "" && !slices.Contains(domains, cc.Domain) {
		domains = append(domains, cc.Domain)
	}
	hostPrefixed := strings.HasPrefix(strings.ToLower(name), "__host-")
	for _, d := range domains {
		for _, p := range paths {
			if hostPrefixed && (d != "" || p != "/") {
				continue // browsers keep __Host- cookies at / on this host only
			}
			for _, n := range names {
				if d == cc.Domain && p == cc.pathOf(n) {
					continue // deleted by unsetCookies above
				}
				http.SetCookie(w, e.cookieAt(n, p, d, "", n == name && !cc.InsecureScriptReadable, 0))
			}
		}
	}
}
