package authx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// CookieConfig configures the token and CSRF cookies (see [WithCookies]).
// Zero fields take the defaults, which are Python AuthX's names and paths
// with the safest attributes: Secure, HttpOnly token cookies, SameSite=Lax.
type CookieConfig struct {
	// AccessName and RefreshName name the token cookies.
	// Default "access_token_cookie" and "refresh_token_cookie". Any of the
	// four names may carry the __Host- or __Secure- prefix (in any letter
	// case); New then checks the rules browsers enforce: Secure for both,
	// and for __Host- also Path "/" and no Domain.
	AccessName, RefreshName string
	// AccessCSRFName and RefreshCSRFName name the JavaScript-readable CSRF
	// cookies. Default "csrf_access_token" and "csrf_refresh_token".
	AccessCSRFName, RefreshCSRFName string
	// AccessPath, RefreshPath, AccessCSRFPath, RefreshCSRFPath. Default "/".
	// A refresh path such as "/auth" keeps the refresh cookie off every
	// other request.
	AccessPath, RefreshPath, AccessCSRFPath, RefreshCSRFPath string
	// Domain of every cookie. Default "": host-only, the safest.
	Domain string
	// SameSite of every cookie. Default http.SameSiteLaxMode. None requires
	// Secure.
	SameSite http.SameSite
	// MaxAge of the cookies. Default 0: each cookie lives exactly as long as
	// the token it carries.
	MaxAge time.Duration
	// NoCSRFCookies stops Set…Cookies writing the CSRF cookies, for clients
	// that receive the csrf value otherwise. The check itself stays on.
	NoCSRFCookies bool
	// InsecureNoSecure omits the Secure attribute, so cookies travel over
	// plain HTTP. Only for development on hosts browsers do not treat as
	// secure (localhost is treated as secure: keep Secure there).
	InsecureNoSecure bool
	// InsecureScriptReadable omits HttpOnly on the token cookies, letting any
	// script on the page (and any XSS) read the tokens.
	InsecureScriptReadable bool
}

// withDefaults fills zero fields and validates.
func (c CookieConfig) withDefaults() (CookieConfig, error) {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.AccessName, "access_token_cookie")
	def(&c.RefreshName, "refresh_token_cookie")
	def(&c.AccessCSRFName, "csrf_access_token")
	def(&c.RefreshCSRFName, "csrf_refresh_token")
	def(&c.AccessPath, "/")
	def(&c.RefreshPath, "/")
	def(&c.AccessCSRFPath, "/")
	def(&c.RefreshCSRFPath, "/")
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	names := []string{c.AccessName, c.RefreshName, c.AccessCSRFName, c.RefreshCSRFName}
	for i, n := range names {
		if !validToken(n) {
			return c, fmt.Errorf("invalid cookie name %q", n)
		}
		for _, m := range names[:i] {
			if m == n {
				return c, fmt.Errorf("cookie name %q used twice", n)
			}
		}
	}
	for _, p := range []string{c.AccessPath, c.RefreshPath, c.AccessCSRFPath, c.RefreshCSRFPath} {
		if p[0] != '/' || !validCookieValue(p) {
			return c, fmt.Errorf("invalid cookie path %q", p)
		}
	}
	if c.Domain != "" && !validCookieValue(c.Domain) {
		return c, fmt.Errorf("invalid cookie domain %q", c.Domain)
	}
	if c.SameSite == http.SameSiteNoneMode && c.InsecureNoSecure {
		return c, errors.New("SameSite=None cookies must be Secure")
	}
	if c.MaxAge < 0 {
		return c, fmt.Errorf("negative cookie MaxAge %v", c.MaxAge)
	}
	for _, typ := range []TokenType{Access, Refresh} {
		name, path, csrfName, csrfPath := c.namesFor(typ)
		if err := c.checkPrefix(name, path); err != nil {
			return c, err
		}
		if err := c.checkPrefix(csrfName, csrfPath); err != nil {
			return c, err
		}
	}
	return c, nil
}

// checkPrefix enforces on the cookie name with path what browsers enforce
// on cookie name prefixes (RFC 6265bis §4.1.3), matched in any letter case
// as browsers do: a __Secure- cookie must be Secure; a __Host- cookie must
// be Secure, have no Domain and Path "/". Browsers silently drop a cookie
// that breaks these rules, so every login would fail without a trace.
func (c *CookieConfig) checkPrefix(name, path string) error {
	const drop = "browsers would drop it"
	switch {
	case hasPrefixFold(name, "__Host-"):
		switch {
		case c.InsecureNoSecure:
			return fmt.Errorf("cookie %q: a __Host- cookie must be Secure, and InsecureNoSecure is set; %s", name, drop)
		case c.Domain != "":
			return fmt.Errorf("cookie %q: a __Host- cookie must have no Domain, and Domain is %q; %s", name, c.Domain, drop)
		case path != "/":
			return fmt.Errorf("cookie %q: a __Host- cookie must have Path \"/\", and its path is %q; %s", name, path, drop)
		}
	case hasPrefixFold(name, "__Secure-"):
		if c.InsecureNoSecure {
			return fmt.Errorf("cookie %q: a __Secure- cookie must be Secure, and InsecureNoSecure is set; %s", name, drop)
		}
	}
	return nil
}

// hasPrefixFold reports whether s begins with prefix in any letter case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// namesFor returns the token cookie's name and path and the CSRF cookie's
// name and path for tokens of type typ.
func (c *CookieConfig) namesFor(typ TokenType) (name, path, csrfName, csrfPath string) {
	if typ == Refresh {
		return c.RefreshName, c.RefreshPath, c.RefreshCSRFName, c.RefreshCSRFPath
	}
	return c.AccessName, c.AccessPath, c.AccessCSRFName, c.AccessCSRFPath
}

// pathOf returns the configured path of the cookie named name.
func (c *CookieConfig) pathOf(name string) string {
	switch name {
	case c.AccessName:
		return c.AccessPath
	case c.RefreshName:
		return c.RefreshPath
	case c.AccessCSRFName:
		return c.AccessCSRFPath
	}
	return c.RefreshCSRFPath
}

func validCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

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
	if maxAge > 0 {
		secs := ceilSeconds(maxAge) // ≥ 1: Max-Age=0 would delete the cookie
		c.MaxAge = int(min(secs, math.MaxInt))
		// secs-1 seconds then one more: secs × 1s overflows for the
		// longest lives.
		c.Expires = e.cfg.now().Add(time.Duration(secs-1) * time.Second).Add(time.Second).UTC()
	} else {
		// Deletion: Max-Age=0 and an Expires in the past, with the same
		// Path, Domain, Secure and SameSite as when set (AuthX drops them).
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0).UTC()
	}
	return c
}

// SetAccessCookies writes an access token cookie (HttpOnly) and its CSRF
// cookie (readable by JavaScript, carrying the token's csrf claim) to w,
// and marks the response Cache-Control: no-store (a shared cache must never
// hand one user's token cookie to another).
// The cookies live as long as the token unless [CookieConfig].MaxAge is set.
// The token must be one of a's, unexpired and of type access.
func (a *Auth[T]) SetAccessCookies(w http.ResponseWriter, token string) error {
	return a.setCookies(w, token, Access)
}

// SetRefreshCookies writes a refresh token cookie and its CSRF cookie, as
// [Auth.SetAccessCookies] does for access tokens.
func (a *Auth[T]) SetRefreshCookies(w http.ResponseWriter, token string) error {
	return a.setCookies(w, token, Refresh)
}

// SetTokenCookies writes the cookies of both tokens of pair.
func (a *Auth[T]) SetTokenCookies(w http.ResponseWriter, pair *TokenPair) error {
	if pair == nil {
		return fmt.Errorf("%w: nil TokenPair", ErrTokenOption)
	}
	if err := a.setCookies(w, pair.AccessToken, Access); err != nil {
		return err
	}
	return a.setCookies(w, pair.RefreshToken, Refresh)
}

func (a *Auth[T]) setCookies(w http.ResponseWriter, token string, typ TokenType) error {
	if a == nil || a.e == nil {
		return ErrNotConfigured
	}
	e := a.e
	c, err := e.keys.parse(token, e.cfg.maxScopes)
	if err != nil {
		return err
	}
	if c.Type != typ {
		return typ.Check(context.Background(), c)
	}
	life := c.ExpiresAt.Sub(e.cfg.now())
	if life <= 0 {
		return newError(ErrExpired, nil)
	}
	if e.cfg.cookies.MaxAge > 0 {
		life = e.cfg.cookies.MaxAge
	}
	cc := &e.cfg.cookies
	name, path, csrfName, csrfPath := cc.namesFor(typ)
	writeCSRF := !cc.NoCSRFCookies && !e.cfg.csrf.InsecureDisable
	if writeCSRF && c.CSRF == "" {
		return fmt.Errorf("%w: the token has no csrf claim; list InCookie in WithTokenLocations or use WithCookies when issuing cookie tokens", ErrTokenOption)
	}
	noStore(w.Header())
	http.SetCookie(w, e.cookie(name, path, token, !cc.InsecureScriptReadable, life))
	if writeCSRF {
		http.SetCookie(w, e.cookie(csrfName, csrfPath, c.CSRF, false, life))
	}
	return nil
}

// noStore marks a response that carries a token (in a cookie or the body)
// as not to be stored by any cache (RFC 6749 §5.1, RFC 9111 §5.2.2.5).
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// UnsetAccessCookies deletes the access token cookie and its CSRF cookie.
// Deletion cookies carry the same Path, Domain, Secure and SameSite as the
// cookies they delete, so browsers match and drop them.
func (a *Auth[T]) UnsetAccessCookies(w http.ResponseWriter) { a.unsetCookies(w, Access) }

// UnsetRefreshCookies deletes the refresh token cookie and its CSRF cookie.
func (a *Auth[T]) UnsetRefreshCookies(w http.ResponseWriter) { a.unsetCookies(w, Refresh) }

// UnsetCookies deletes all four cookies.
func (a *Auth[T]) UnsetCookies(w http.ResponseWriter) {
	a.unsetCookies(w, Access)
	a.unsetCookies(w, Refresh)
}

func (a *Auth[T]) unsetCookies(w http.ResponseWriter, typ TokenType) {
	if a == nil || a.e == nil {
		return
	}
	a.e.unsetCookies(w, typ)
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
