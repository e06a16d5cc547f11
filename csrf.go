package authx

import (
	"crypto/subtle"
	"net/http"
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

// checkCSRF applies the double-submit check to a token that came from a
// cookie: on every unsafe method the CSRF header must equal the csrf claim
// inside the signed token (never merely the CSRF cookie), compared in
// constant time.
func (e *engine) checkCSRF(r *http.Request, c *Claims) error {
	if safeMethod(r.Method) {
		return nil
	}
	got := r.Header.Get(e.cfg.csrfHeader)
	if got == "" {
		return newError(ErrCSRFMissing, nil)
	}
	if c.CSRF == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.CSRF)) != 1 {
		return newError(ErrCSRFMismatch, nil)
	}
	return nil
}
