package authx

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

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

var (
	errTwoCSRFHeaders = errors.New("CSRF header given more than once")
	errTwoCSRFFields  = errors.New("CSRF form field given more than once")
)

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

// needsCSRF reports whether a request with this method needs the check.
func (e *engine) needsCSRF(method string) bool {
	cfg := &e.cfg.csrf
	if cfg.InsecureDisable {
		return false
	}
	if cfg.Methods == nil {
		return !safeMethod(method)
	}
	for _, m := range cfg.Methods {
		if strings.EqualFold(m, method) {
			return true
		}
	}
	return false
}

// checkCSRF protects a token that came from a cookie: on unsafe methods the
// request must be same-origin (or from a trusted origin) and carry the csrf
// claim in the CSRF header, compared in constant time.
func (e *engine) checkCSRF(r *http.Request, c *Claims) error {
	if !e.needsCSRF(r.Method) {
		return nil
	}
	return e.checkCSRFOf(r, c)
}

// checkCSRFOf checks r whatever its method, against the csrf claims of one
// or more cookie-borne tokens: the header must match one of them. The
// session endpoints (refresh, logout) use it for every method, so that a
// cross-site link (a top-level GET, which carries SameSite=Lax cookies)
// cannot rotate or end a session.
func (e *engine) checkCSRFOf(r *http.Request, cs ...*Claims) error {
	cfg := &e.cfg.csrf
	if cfg.InsecureDisable || len(cs) == 0 {
		return nil
	}
	if !cfg.InsecureNoOriginCheck {
		if err := e.cfg.cop.Check(r); err != nil {
			return newError(ErrCrossOrigin, err)
		}
	}
	var formValue string
	formRead := false
	missing := true
	for _, c := range cs {
		header := cfg.Header
		if c.Type == Refresh {
			header = cfg.RefreshHeader
		}
		vals := r.Header[header]
		if len(vals) > 1 {
			return newError(ErrInvalidRequest, errTwoCSRFHeaders)
		}
		var got string
		if len(vals) == 1 {
			got = vals[0]
		}
		if got == "" && cfg.FormField != "" {
			if !formRead {
				formRead = true
				var err error
				if formValue, err = e.csrfFromForm(r); err != nil {
					return err
				}
			}
			got = formValue
		}
		if got == "" {
			continue
		}
		missing = false
		if c.CSRF != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.CSRF)) == 1 {
			return nil
		}
	}
	if missing {
		return newError(ErrCSRFMissing, nil)
	}
	return newError(ErrCSRFMismatch, nil)
}

// csrfFromForm reads the CSRF form field of a urlencoded body, bounded by
// the body size limit. The parsed form stays available to the handler. The
// field given twice is ambiguous (400).
func (e *engine) csrfFromForm(r *http.Request) (string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" || r.Body == nil {
		return "", nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, e.cfg.maxBody)
	if r.ParseForm() != nil {
		return "", nil
	}
	switch vals := r.PostForm[e.cfg.csrf.FormField]; len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	}
	return "", newError(ErrInvalidRequest, errTwoCSRFFields)
}
