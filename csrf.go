package authx

import (
	"crypto/subtle"
	"net/http"
	"slices"
)

// checkCSRF applies the double-submit check to a token that came from a
// cookie: on unsafe methods the CSRF header must equal the csrf claim inside
// the signed token (never merely the CSRF cookie), compared in constant time.
func (e *engine) checkCSRF(r *http.Request, c *Claims) error {
	if !slices.Contains(e.cfg.csrfMethods, r.Method) {
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
