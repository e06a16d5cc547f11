package authx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// AttachToken puts token into r where a guard of a looks for it at loc: the
// header with its scheme, the access or refresh cookie, the query parameter,
// or a JSON body {"access_token": token} (replacing r's body; only on
// methods whose body guards read, not GET or HEAD). typ says
// which names to use. It is for Go clients and tests (authtest.Request).
func (a *Auth[T]) AttachToken(r *http.Request, loc Location, typ TokenType, token string) error {
	if err := a.configured(); err != nil {
		return err
	}
	cfg := &a.e.cfg
	switch loc {
	case InHeader:
		v := token
		if cfg.scheme != "" {
			v = cfg.scheme + " " + token
		}
		r.Header.Set(cfg.header, v)
	case InCookie:
		name, _, _, _ := cfg.cookies.namesFor(typ)
		r.AddCookie(&http.Cookie{Name: name, Value: token})
	case InQuery:
		q := r.URL.Query()
		q.Set(cfg.queryParam, token)
		r.URL.RawQuery = q.Encode()
	case InJSON:
		if !hasBody(r.Method) {
			return fmt.Errorf("%w: guards do not read the body of a %s request for a token", ErrConfig, r.Method)
		}
		body, err := json.Marshal(map[string]string{cfg.jsonKey(typ): token})
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/json")
	default:
		return fmt.Errorf("%w: unknown location %d", ErrConfig, loc)
	}
	return nil
}

// RequestToken is a token as found in a request, not verified (Python
// AuthX's RequestToken): for audit trails and custom logout flows. The
// token is a credential: never log or echo it.
type RequestToken struct {
	// Token is the raw token.
	Token string
	// Location is where it was found.
	Location Location
}

// FindToken returns the token of type typ (its cookie and JSON names) that
// a guard of a would read from r, and where it was found, without
// verifying anything (AuthX's get_access_token_from_request). It fails as
// a guard would before verifying: [ErrNoToken] (401) when r carries none,
// [ErrInvalidRequest] (400) for an ambiguous or unreadable request (two
// Authorization headers, two cookies of one name, a doubled query
// parameter, a bad JSON body), [ErrTokenTooLarge]. A JSON body is restored
// for the handler.
func (a *Auth[T]) FindToken(r *http.Request, typ TokenType) (RequestToken, error) {
	if err := a.configured(); err != nil {
		return RequestToken{}, err
	}
	if r == nil {
		return RequestToken{}, newError(ErrNoToken, nil)
	}
	tok, loc, err := a.e.locate(r, kindsOf(typ))
	if err != nil {
		return RequestToken{}, asError(err)
	}
	return RequestToken{Token: tok, Location: loc}, nil
}
