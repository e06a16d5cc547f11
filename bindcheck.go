package authx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// This file applies key binding ([KeyBinding], [WithKeyBinding]) to a
// verified token: a bound token (cnf.jkt) is admitted only when the
// configured KeyBinding finds its key proven; without one it is refused.

var (
	errNoBinding   = errors.New("the token is bound to a key (cnf) and no KeyBinding is configured")
	errUnprovable  = errors.New("the token is bound to a key (cnf) and this path carries no proof")
	errWrongKey    = errors.New("the KeyBinding admitted a bound token with another key's proof")
	errBindingFail = errors.New("KeyBinding")
)

// checkBinding shows the token tok, found at loc in r and verified to c, to
// the KeyBinding, and returns the thumbprint of the key the request
// proves ("" for none). refresh marks the refresh endpoint.
func (e *engine) checkBinding(ctx context.Context, r *http.Request, tok string, loc Location, c *Claims, refresh bool) (string, error) {
	kb := e.cfg.keyBinding
	if kb == nil {
		if c != nil && c.KeyThumbprint != "" {
			return "", newError(ErrKeyBound, errNoBinding)
		}
		return "", nil
	}
	p := Presentation{Request: r, Token: tok, Refresh: refresh, Claims: c, spend: e.cfg.refresh.Spend}
	if loc == InHeader {
		p.Scheme = e.headerScheme(r)
	}
	jkt, err := callBinding(ctx, kb, p)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return "", ae
		}
		return "", newError(ErrUnavailable, fmt.Errorf("%w: %w", errBindingFail, err))
	}
	if c != nil && c.KeyThumbprint != "" && jkt != c.KeyThumbprint {
		// A KeyBinding that says yes without proving the token's own key
		// is a bug in it; fail closed.
		return "", newError(ErrKeyBound, errWrongKey)
	}
	return jkt, nil
}

// callBinding runs kb.Check, turning a panic into an error.
func callBinding(ctx context.Context, kb KeyBinding, p Presentation) (jkt string, err error) {
	defer recoverStore(&err, "KeyBinding")
	return kb.Check(ctx, p)
}

// unprovable refuses a bound token on a path that carries no proof
// (Verify, implicit refresh).
func unprovable(c *Claims) error {
	if c.KeyThumbprint != "" {
		return newError(ErrKeyBound, errUnprovable)
	}
	return nil
}

// headerScheme returns the Authorization scheme of r's token as written
// in the header: the configured one or the KeyBinding's.
func (e *engine) headerScheme(r *http.Request) string {
	vals := r.Header[e.cfg.header]
	if len(vals) != 1 {
		return ""
	}
	for _, sch := range [...]string{e.cfg.scheme, e.cfg.bindingScheme} {
		if _, ok, _ := afterScheme(vals[0], sch); ok && sch != "" {
			return sch
		}
	}
	return ""
}

// tokenType is a token response's token_type: the KeyBinding's scheme
// for tokens bound to jkt (RFC 9449 §5: "DPoP"), "bearer" otherwise.
func (e *engine) tokenType(jkt string) string {
	if jkt != "" && e.cfg.keyBinding != nil {
		return e.cfg.bindingScheme
	}
	return "bearer"
}
