package authx

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"strings"
)

var (
	errTwoCSRFHeaders = errors.New("CSRF header given more than once")
	errTwoCSRFFields  = errors.New("CSRF form field given more than once")
)

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
