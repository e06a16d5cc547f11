// Package authxecho guards echo (v4) routes with authx: [Middleware] turns
// an [authx.Guard] into an echo.MiddlewareFunc, and [Claims] and [Subject]
// read the verified claims and the application's typed user from the
// echo.Context.
//
//	a, _ := authx.New[User](authx.WithSecret(key), authx.WithSubjectGetter(loadUser))
//	e := echo.New()
//	api := e.Group("/api", authxecho.Middleware(a.Require()))
//	api.GET("/me", func(c echo.Context) error {
//		u, _ := authxecho.Subject[User](c) // resolved once per request, lazily
//		return c.JSON(200, map[string]string{"name": u.Name})
//	})
//	e.GET("/admin", admin, authxecho.Middleware(a.Require(authx.Scopes("admin:*"))))
//
// The middleware runs the guard's own [authx.Guard.Wrap], so a request
// passes exactly as it would through a net/http guard: the same locations
// (header, cookie with its CSRF check, query, JSON body), policies,
// revocation and sessions. An admitted request goes on with the request
// Wrap hands its handler (c.SetRequest): its context carries the claims
// and the subject, which the getter resolves at most once per request
// however many middleware and handlers ask, and a token taken from the
// query string is gone from its URL (c.QueryParam no longer sees it).
// Echo's Logger and RequestLogger middleware log the URI of the request
// they were given: with [authx.InQuery] tokens, register them after the
// guard, or they log the token.
//
// A denied request returns an *echo.HTTPError, as echo's own middleware
// do, so that the Echo's HTTPErrorHandler renders it: its Code is authx's
// status, its Message authx's client-safe message, its Internal the
// *[authx.Error] (errors.Is, errors.As and [authx.StatusOf] see through
// it), and the challenge headers (WWW-Authenticate, Retry-After, cookie
// deletions) are already set on the response. With [WithDirectResponse]
// the middleware writes authx's own response instead (the one net/http
// guards write, or the Auth's [authx.WithErrorHandler]) and returns nil.
// Echo in Debug mode adds err.Error() to its error responses, which for an
// HTTPError includes the internal error's text (never a token or a key).
//
// WebSockets are out of scope: upgrade with [authx.Guard.Accept] on
// c.Response() and c.Request().
package authxecho
