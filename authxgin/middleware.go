package authxgin

import (
	"net/http"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/internal/adapt"
	"github.com/gin-gonic/gin"
)

// Middleware returns gin middleware that lets through the requests g
// admits and aborts the others. It runs g's [authx.Guard.Wrap] around the
// rest of the chain: an admitted request goes on (c.Next) with c.Request
// replaced by the request Wrap hands its handler, whose context carries
// the claims and the lazily resolved subject ([Claims], [Subject]) and
// whose URL no longer holds a query-string token. A denied request gets
// authx's response — the one net/http guards write — and c.Abort, or, with
// [WithContextErrors], goes to gin's error handling. A nil or misbuilt
// guard denies every request, as it does on net/http.
func Middleware(g *authx.Guard, opts ...Option) gin.HandlerFunc {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.contextErrors {
		return func(c *gin.Context) { serveContextErrors(g, c) }
	}
	return func(c *gin.Context) {
		admitted := false
		g.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			admitted = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !admitted {
			c.Abort()
		}
	}
}

// serveContextErrors is Middleware with [WithContextErrors]: Wrap answers
// into a recorder, so that a denial can be handed to c.Error instead of
// being written.
func serveContextErrors(g *authx.Guard, c *gin.Context) {
	rec := adapt.NewRecorder()
	admitted := false
	g.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		admitted = true
		adapt.CopyHeader(c.Writer.Header(), rec.H, false) // query tokens: no-store, no-referrer
		c.Request = r
		c.Next()
	})).ServeHTTP(rec, c.Request)
	if admitted {
		return
	}
	// Wrap hands its *authx.Error only to the Auth's error handler; Check
	// runs the pipeline again to get it. Should it now admit the request
	// (a token expiring in between), the recorded denial still stands.
	_, err := g.Check(c.Request)
	if err == nil {
		rec.Replay(c.Writer)
		c.Abort()
		return
	}
	adapt.CopyHeader(c.Writer.Header(), rec.H, true) // WWW-Authenticate, Retry-After, Set-Cookie, …
	c.Status(authx.StatusOf(err))
	_ = c.Error(err)
	c.Abort()
}

// Option configures [Middleware].
type Option interface{ apply(*config) }

type config struct {
	contextErrors bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithContextErrors makes [Middleware] hand denials to gin's error
// handling instead of writing authx's response: it sets the status and
// the headers authx's response carries (WWW-Authenticate, Retry-After,
// Cache-Control, cookie deletions), adds the *[authx.Error] to c.Errors
// (errors.Is, errors.As and [authx.StatusOf] work on it and on c.Errors.Last())
// and aborts, leaving the body to an error middleware of the
// application's, registered before the guard, which renders c.Errors after
// c.Next. The error's message (Error()) is for logs; send clients its
// Code and Message fields. Default: off, authx writes the denial.
//
// A denied request then goes through the guard twice (once to decide, once
// for the error), which costs a second verification of a bad token.
func WithContextErrors() Option {
	return optionFunc(func(c *config) { c.contextErrors = true })
}
