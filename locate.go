package authx

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/authx-go/authx/internal/jsonscan"
)

var (
	errTwoHeaders    = errors.New("more than one token header")
	errTwoParams     = errors.New("token query parameter given more than once")
	errBodyTooLarge  = errors.New("JSON body larger than the configured bound")
	errBodyJSON      = errors.New("JSON body is not valid JSON")
	errBodyTokenType = errors.New("JSON body token member is not a string")
	errTwoMembers    = errors.New("JSON body token member given more than once")
	errEmptyBearer   = errors.New("authentication scheme without a token")
	errTwoCookies    = errors.New("two cookies of one authx cookie name (cookie tossing?)")
)

// kinds says which token types a lookup is for: it chooses the cookie and
// JSON member names (a guard admitting both types looks under both, the
// access names first).
type kinds uint8

const (
	forAccess kinds = 1 << iota
	forRefresh
	forBoth = forAccess | forRefresh
)

// kindsOf returns the lookup of one token type.
func kindsOf(typ TokenType) kinds {
	if typ == Refresh {
		return forRefresh
	}
	return forAccess
}

// types lists the token types of k, access first.
func (k kinds) types() []TokenType {
	switch k {
	case forRefresh:
		return refreshOnly
	case forBoth:
		return accessThenRefresh
	}
	return accessOnly
}

// The lists types returns, shared and never written (no allocation per
// lookup).
var (
	accessOnly        = []TokenType{Access}
	refreshOnly       = []TokenType{Refresh}
	accessThenRefresh = []TokenType{Access, Refresh}
)

// fromCookie returns the value of the token cookie for typ. A request
// carrying two cookies of the token's name, or of its CSRF cookie's, is
// ambiguous: a sibling subdomain, or a path below ours, can plant a second
// cookie of the same name that browsers send first (cookie tossing). It is
// refused with 400, and the refusal deletes the cookies it can (see
// [engine.deny]).
func (e *engine) fromCookie(r *http.Request, typ TokenType) (string, error) {
	if len(r.Header["Cookie"]) == 0 {
		return "", nil
	}
	name, _, csrfName, _ := e.cfg.cookies.namesFor(typ)
	var tok string
	var nTok, nCSRF int
	for _, ck := range r.Cookies() {
		switch ck.Name {
		case name:
			nTok++
			tok = ck.Value
		case csrfName:
			nCSRF++
		}
	}
	if nTok > 1 || nCSRF > 1 {
		err := newError(ErrInvalidRequest, errTwoCookies)
		err.clearCookies = string(typ)
		return "", err
	}
	return tok, nil
}

// locate finds the token in r following the configured order. The first
// location that holds a token wins.
func (e *engine) locate(r *http.Request, look kinds) (string, Location, error) {
	return e.locateIn(r, e.cfg.locations, look)
}

// locateIn finds the token in r, looking at locs in order.
func (e *engine) locateIn(r *http.Request, locs []Location, look kinds) (string, Location, error) {
	for _, loc := range locs {
		var tok string
		var err error
		switch loc {
		case InHeader:
			tok, err = e.fromHeader(r)
		case InCookie:
			for _, typ := range look.types() {
				if tok, err = e.fromCookie(r, typ); tok != "" || err != nil {
					break
				}
			}
		case InQuery:
			tok, err = e.fromQuery(r)
		case InJSON:
			for _, typ := range look.types() {
				if tok, err = e.fromJSON(r, e.cfg.jsonKey(typ)); tok != "" || err != nil {
					break
				}
			}
		}
		if err != nil {
			return "", loc, err
		}
		if tok == "" {
			continue
		}
		if len(tok) > e.cfg.maxToken {
			return "", loc, newError(ErrTokenTooLarge, nil)
		}
		return tok, loc, nil
	}
	return "", 0, newError(ErrNoToken, nil)
}

// jsonKey returns the JSON body member of tokens of type typ.
func (c *config) jsonKey(typ TokenType) string {
	if typ == Refresh {
		return c.jsonRefresh
	}
	return c.jsonAccess
}

func (e *engine) fromHeader(r *http.Request) (string, error) {
	vals := r.Header[e.cfg.header]
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", newError(ErrInvalidRequest, errTwoHeaders)
	}
	v := vals[0]
	scheme := e.cfg.scheme
	if scheme == "" {
		return strings.TrimSpace(v), nil // locate applies the size bound
	}
	if tok, ok, err := afterScheme(v, scheme); ok || err != nil {
		return tok, err
	}
	if bs := e.cfg.bindingScheme; bs != "" {
		// A bound token's scheme (DPoP), when a KeyBinding is configured.
		if tok, ok, err := afterScheme(v, bs); ok || err != nil {
			return tok, err
		}
	}
	return "", nil
}

// afterScheme returns the credentials of header value v if it is of
// scheme, and whether it is.
func afterScheme(v, scheme string) (string, bool, error) {
	// The scheme first: a long header of another scheme (Negotiate) is not
	// ours, whatever its size, and lookup moves on.
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false, nil
	}
	rest := v[len(scheme):]
	if rest == "" || strings.TrimSpace(rest) == "" {
		// RFC 6750 §3.1: a request missing a parameter is invalid_request.
		return "", false, newError(ErrInvalidRequest, errEmptyBearer)
	}
	if rest[0] != ' ' {
		return "", false, nil // "Bearerish …": another scheme
	}
	return strings.Trim(rest, " "), true, nil
}

func (e *engine) fromQuery(r *http.Request) (string, error) {
	if r.URL == nil || r.URL.RawQuery == "" {
		return "", nil
	}
	// Parse errors (a stray semicolon) do not hide well-formed parameters.
	vals, _ := url.ParseQuery(r.URL.RawQuery)
	v := vals[e.cfg.queryParam]
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", newError(ErrInvalidRequest, errTwoParams)
}

// isJSON reports whether a Content-Type names JSON: application/json or any
// application/*+json, with parameters (charset) allowed.
func isJSON(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// restoredBody replays the bytes read for the token lookup and closes the
// original body.
type restoredBody struct {
	io.Reader
	orig io.Closer
}

func (b restoredBody) Close() error { return b.orig.Close() }

// hasBody reports whether requests of this method carry a body worth
// reading for a token: not GET, HEAD, OPTIONS, TRACE or CONNECT, whose
// bodies (if any) have no defined meaning.
func hasBody(method string) bool {
	return !safeMethod(method) && method != http.MethodConnect
}

func (e *engine) fromJSON(r *http.Request, key string) (string, error) {
	if r.Body == nil || r.Body == http.NoBody || !hasBody(r.Method) || !isJSON(r.Header.Get("Content-Type")) {
		return "", nil
	}
	if r.ContentLength > e.cfg.maxBody {
		return "", newError(ErrInvalidRequest, errBodyTooLarge)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, e.cfg.maxBody+1))
	orig := r.Body
	// Replay what was read, then whatever a too-large body still holds, so a
	// custom error handler reading r.Body sees all of it.
	r.Body = restoredBody{io.MultiReader(bytes.NewReader(body), orig), orig}
	if err != nil {
		return "", newError(ErrInvalidRequest, err)
	}
	if int64(len(body)) > e.cfg.maxBody {
		return "", newError(ErrInvalidRequest, errBodyTooLarge)
	}
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return tokenFromJSON(body, key)
}

// tokenFromJSON reads member key of the JSON object in body. A body that is
// valid JSON but not an object, or an object without key, holds no token.
func tokenFromJSON(body []byte, key string) (string, error) {
	sc := jsonscan.New(body)
	if sc.Peek() != jsonscan.Object {
		if _, err := sc.Skip(); err != nil || sc.End() != nil {
			if len(bytes.TrimSpace(body)) == 0 {
				return "", nil
			}
			return "", newError(ErrInvalidRequest, errBodyJSON)
		}
		return "", nil
	}
	if err := sc.Begin(); err != nil {
		return "", newError(ErrInvalidRequest, errBodyJSON)
	}
	var tok string
	found := false
	for {
		k, done, err := sc.Next()
		if err != nil {
			return "", newError(ErrInvalidRequest, errBodyJSON)
		}
		if done {
			break
		}
		if string(k) != key {
			if _, err := sc.Skip(); err != nil {
				return "", newError(ErrInvalidRequest, errBodyJSON)
			}
			continue
		}
		if found {
			return "", newError(ErrInvalidRequest, errTwoMembers)
		}
		found = true
		if sc.Peek() != jsonscan.String {
			if sc.Null() {
				continue
			}
			return "", newError(ErrInvalidRequest, errBodyTokenType)
		}
		v, err := sc.String()
		if err != nil {
			return "", newError(ErrInvalidRequest, errBodyJSON)
		}
		tok = string(v)
	}
	if sc.End() != nil {
		return "", newError(ErrInvalidRequest, errBodyJSON)
	}
	return tok, nil
}
