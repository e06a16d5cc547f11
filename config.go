package authx

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Location is a place in a request where a guard looks for a token. The
// order given to [WithTokenLocations] is the lookup order.
type Location uint8

// The token locations.
const (
	// InHeader: the Authorization header (see [WithHeader]) as
	// "Bearer <token>", scheme matched case-insensitively. Two such headers
	// are refused with 400; a header with another scheme (Basic) is not a
	// token and lookup moves on.
	InHeader Location = iota + 1
	// InCookie: the access (or refresh) token cookie (see [WithCookies]).
	// On unsafe methods the request must pass the CSRF checks (see
	// [CSRFConfig]).
	InCookie
	// InQuery: the "token" query parameter (see [WithQueryParam]). Tokens in
	// URLs end up in logs; prefer headers or cookies.
	InQuery
	// InJSON: the "access_token" (or "refresh_token") member of a JSON
	// object body (see [WithJSONKeys]); Content-Type application/json or
	// any +json type, parameters allowed. The body is read up to
	// [WithMaxBodySize] and restored for the handler, and only on methods
	// that carry a body: never on GET, HEAD, OPTIONS, TRACE or CONNECT.
	InJSON
)

// String returns the location's name: "header", "cookie", "query" or "json".
func (l Location) String() string {
	switch l {
	case InHeader:
		return "header"
	case InCookie:
		return "cookie"
	case InQuery:
		return "query"
	case InJSON:
		return "json"
	}
	return "Location(?)"
}

// goString returns l as written in Go source: InHeader.
func (l Location) goString() string {
	switch l {
	case InHeader:
		return "InHeader"
	case InCookie:
		return "InCookie"
	case InQuery:
		return "InQuery"
	case InJSON:
		return "InJSON"
	}
	return "Location(" + strconv.Itoa(int(l)) + ")"
}

func locationList(locs []Location) string {
	parts := make([]string, len(locs))
	for i, l := range locs {
		parts[i] = l.goString()
	}
	return strings.Join(parts, ", ")
}

// checkLocations validates a lookup order: at least one location, each
// known, none twice. who names the caller in the error.
func checkLocations(who string, locs []Location) error {
	if len(locs) == 0 {
		return fmt.Errorf("%s needs at least one location", who)
	}
	seen := map[Location]bool{}
	for _, l := range locs {
		if l < InHeader || l > InJSON {
			return fmt.Errorf("%s: unknown token location %d", who, l)
		}
		if seen[l] {
			return fmt.Errorf("%s: token location %v listed twice", who, l)
		}
		seen[l] = true
	}
	return nil
}

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
	// SessionCookies writes the cookies without Max-Age or Expires
	// (browser-session cookies, Python AuthX's JWT_SESSION_COOKIE): the
	// browser drops them when it closes, though the tokens inside still
	// expire as issued. MaxAge is then ignored. Deletion cookies are
	// unchanged.
	SessionCookies bool
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

// CSRFConfig configures the protection of cookie-borne tokens against
// cross-site request forgery (see [WithCSRF]). Two layers guard every
// unsafe request whose token came from a cookie:
//
//  1. Double submit, as Python AuthX: the CSRF header (or form field) must
//     equal the random csrf claim inside the signed token, compared in
//     constant time. A JavaScript-readable CSRF cookie carries the value to
//     the page; the check never trusts that cookie itself, so a cookie
//     planted by a sibling domain (cookie tossing) does not help an attacker.
//  2. Go's [http.CrossOriginProtection]: browsers' Sec-Fetch-Site and Origin
//     headers must show a same-origin request (or a trusted origin).
//
// Tokens from a header, the query or a JSON body need neither: a browser
// does not attach them by itself.
type CSRFConfig struct {
	// Header carrying the CSRF value for access-token cookies. Default
	// "X-CSRF-TOKEN", as Python AuthX.
	Header string
	// RefreshHeader carries it for refresh-token cookies. Default: Header.
	RefreshHeader string
	// FormField, when set, is read from an application/x-www-form-urlencoded
	// body if the header is absent (Python AuthX's JWT_CSRF_CHECK_FORM with
	// "csrf_token"). Default "": header only.
	FormField string
	// Methods that need the check, matched case-insensitively. Default nil:
	// every method but GET, HEAD, OPTIONS and TRACE (spelled exactly), which
	// also covers "patch" and WebDAV methods (Python AuthX lists only POST,
	// PUT, PATCH, DELETE).
	Methods []string
	// TrustedOrigins may send cross-origin unsafe requests
	// ("https://app.example.com").
	TrustedOrigins []string
	// InsecureNoOriginCheck turns the Sec-Fetch-Site/Origin layer off,
	// leaving the double submit alone.
	InsecureNoOriginCheck bool
	// InsecureDisable turns all CSRF protection of cookie tokens off (Python
	// AuthX's JWT_COOKIE_CSRF_PROTECT=False). Cookie-authenticated unsafe
	// requests can then be forged by any site the user visits.
	InsecureDisable bool
}

func (c CSRFConfig) withDefaults() (CSRFConfig, *http.CrossOriginProtection, error) {
	if c.Header == "" {
		c.Header = "X-CSRF-TOKEN"
	}
	if c.RefreshHeader == "" {
		c.RefreshHeader = c.Header
	}
	if !validToken(c.Header) || !validToken(c.RefreshHeader) {
		return c, nil, fmt.Errorf("invalid CSRF header %q / %q", c.Header, c.RefreshHeader)
	}
	c.Header = http.CanonicalHeaderKey(c.Header)
	c.RefreshHeader = http.CanonicalHeaderKey(c.RefreshHeader)
	for _, m := range c.Methods {
		if !validToken(m) {
			return c, nil, fmt.Errorf("invalid CSRF method %q", m)
		}
	}
	c.Methods = append([]string(nil), c.Methods...)
	cop := http.NewCrossOriginProtection()
	for _, o := range c.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return c, nil, fmt.Errorf("trusted origin: %w", err)
		}
	}
	return c, cop, nil
}

// safeMethod reports whether a method is safe (RFC 9110 §9.2.1) and so needs
// no CSRF check. Methods are case-sensitive: "get" is not GET, and like any
// other method it is checked (fail closed).
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// validToken reports whether s is an RFC 9110 token (header names, schemes,
// cookie names).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
