package authxfiber

import (
	"errors"
	"net/http"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/internal/adapt"
	"github.com/gofiber/fiber/v2"
)

// Middleware returns a fiber handler that lets through the requests g
// admits. It runs g's [authx.Guard.Wrap] on the request as net/http sees
// it (see the package doc): an admitted request goes on (c.Next) with
// c.SetUserContext of the context Wrap hands its handler, which carries
// the claims and the lazily resolved subject ([Claims], [Subject]), and
// with a query-string token removed from fiber's request URI. A denied
// request gets authx's response, or, with [WithReturnedErrors], returns
// an error for the App's ErrorHandler. A nil or misbuilt guard denies
// every request, as it does on net/http.
func Middleware(g *authx.Guard, opts ...Option) fiber.Handler {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	return func(c *fiber.Ctx) error {
		rec := adapt.NewRecorder()
		r, body, err := newRequest(c)
		if err != nil { // a request URI net/http would refuse too (with 400)
			authx.WriteError(rec, "", authx.ErrInvalidRequest)
			if cfg.returnErrors {
				copyHeader(&c.Response().Header, rec.H, true)
				return deny(authx.ErrInvalidRequest)
			}
			replay(rec, c)
			return nil
		}
		defer body.close()
		admitted := false
		var nextErr error
		g.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, ar *http.Request) {
			admitted = true
			copyHeader(&c.Response().Header, rec.H, false) // query tokens: no-store, no-referrer
			if ar.RequestURI != r.RequestURI {             // Wrap took a token out of the query
				c.Request().SetRequestURI(ar.RequestURI)
			}
			c.SetUserContext(ar.Context())
			nextErr = c.Next()
		})).ServeHTTP(rec, r)
		if admitted {
			return nextErr
		}
		if !cfg.returnErrors {
			replay(rec, c)
			return nil
		}
		// Wrap hands its *authx.Error only to the Auth's error handler;
		// Check runs the pipeline again to get it. Should it now admit the
		// request (a token expiring in between), the recorded denial
		// still stands.
		if _, err := g.Check(r); err != nil {
			copyHeader(&c.Response().Header, rec.H, true) // WWW-Authenticate, Retry-After, Set-Cookie, …
			return deny(err)
		}
		replay(rec, c)
		return nil
	}
}

// denial is the error [WithReturnedErrors] returns: errors.As finds both
// its *fiber.Error (authx's status and client message) and the authx
// error; its Error() is the client message.
type denial struct {
	fiber *fiber.Error
	err   error
}

func deny(err error) *denial {
	msg := http.StatusText(authx.StatusOf(err))
	if e := (*authx.Error)(nil); errors.As(err, &e) {
		msg = e.Message
	}
	return &denial{fiber.NewError(authx.StatusOf(err), msg), err}
}

func (d *denial) Error() string { return d.fiber.Message }

func (d *denial) Unwrap() []error { return []error{d.fiber, d.err} }

// Option configures [Middleware].
type Option interface{ apply(*config) }

type config struct {
	returnErrors bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithReturnedErrors makes [Middleware] return denials to fiber's
// ErrorHandler instead of writing authx's response. The headers authx's
// response carries (WWW-Authenticate, Retry-After, Cache-Control, cookie
// deletions) are set first; the error matches errors.As for a
// *fiber.Error (Code: authx's status, Message: its client-safe message,
// which is also the error's Error(), so fiber's DefaultErrorHandler sends
// that) and for the *[authx.Error], and errors.Is for authx's sentinels;
// [authx.StatusOf] gives its status (for a request URI that net/http could
// not parse, which net/http servers refuse before any handler, the authx
// error is [authx.ErrInvalidRequest] itself). Match it with errors.As,
// not a type assertion. Default: off, authx writes the denial.
//
// A denied request then goes through the guard twice (once to decide, once
// for the error), which costs a second verification of a bad token.
func WithReturnedErrors() Option {
	return optionFunc(func(c *config) { c.returnErrors = true })
}
