package authxecho

import (
	"errors"
	"net/http"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/internal/adapt"
	"github.com/labstack/echo/v4"
)

// Middleware returns echo middleware that lets through the requests g
// admits. It runs g's [authx.Guard.Wrap] around the rest of the chain: an
// admitted request goes on with c.SetRequest of the request Wrap hands its
// handler, whose context carries the claims and the lazily resolved
// subject ([Claims], [Subject]) and whose URL no longer holds a
// query-string token. A denied request returns an *echo.HTTPError for the
// HTTPErrorHandler, its challenge headers set (see the package doc), or,
// with [WithDirectResponse], gets authx's response. A nil or misbuilt
// guard denies every request, as it does on net/http.
func Middleware(g *authx.Guard, opts ...Option) echo.MiddlewareFunc {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if cfg.direct {
			return func(c echo.Context) error {
				var err error // next's; nil when Wrap wrote a denial
				g.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
					c.SetRequest(r)
					err = next(c)
				})).ServeHTTP(c.Response(), c.Request())
				return err
			}
		}
		return func(c echo.Context) error { return serve(g, next, c) }
	}
}

// serve is Middleware returning denials: Wrap answers into a recorder, so
// that a denial becomes an *echo.HTTPError instead of being written.
func serve(g *authx.Guard, next echo.HandlerFunc, c echo.Context) error {
	rec := adapt.NewRecorder()
	admitted := false
	var err error
	g.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		admitted = true
		adapt.CopyHeader(c.Response().Header(), rec.H, false) // query tokens: no-store, no-referrer
		c.SetRequest(r)
		err = next(c)
	})).ServeHTTP(rec, c.Request())
	if admitted {
		return err
	}
	// Wrap hands its *authx.Error only to the Auth's error handler; Check
	// runs the pipeline again to get it. Should it now admit the request
	// (a token expiring in between), the recorded denial still stands.
	if _, err = g.Check(c.Request()); err == nil {
		rec.Replay(c.Response())
		return nil
	}
	adapt.CopyHeader(c.Response().Header(), rec.H, true) // WWW-Authenticate, Retry-After, Set-Cookie, …
	he := &echo.HTTPError{Code: authx.StatusOf(err), Message: http.StatusText(authx.StatusOf(err)), Internal: err}
	if e := (*authx.Error)(nil); errors.As(err, &e) {
		he.Message = e.Message
	}
	return he
}

// Option configures [Middleware].
type Option interface{ apply(*config) }

type config struct {
	direct bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithDirectResponse makes [Middleware] write authx's response to a
// denied request itself — status, WWW-Authenticate, the JSON body
// {"code","message"}, or the Auth's [authx.WithErrorHandler] — exactly as
// net/http guards do, and return nil, bypassing the HTTPErrorHandler.
// Default: off, the denial is returned as an *echo.HTTPError.
//
// Without it a denied request goes through the guard twice (once to
// decide, once for the error), which costs a second verification of a bad
// token.
func WithDirectResponse() Option {
	return optionFunc(func(c *config) { c.direct = true })
}
