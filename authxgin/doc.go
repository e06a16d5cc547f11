// Package authxgin guards gin routes with authx: [Middleware] turns an
// [authx.Guard] into a gin.HandlerFunc, and [Claims] and [Subject] read the
// verified claims and the application's typed user from the *gin.Context.
//
//	a, _ := authx.New[User](authx.WithSecret(key), authx.WithSubjectGetter(loadUser))
//	r := gin.New()
//	api := r.Group("/api", authxgin.Middleware(a.Require()))
//	api.GET("/me", func(c *gin.Context) {
//		u, _ := authxgin.Subject[User](c) // resolved once per request, lazily
//		c.JSON(200, gin.H{"name": u.Name})
//	})
//	r.GET("/admin", authxgin.Middleware(a.Require(authx.Scopes("admin:*"))), admin)
//
// The middleware runs the guard's own [authx.Guard.Wrap], so a request
// passes exactly as it would through a net/http guard: the same locations
// (header, cookie with its CSRF check, query, JSON body), policies,
// revocation and sessions. An admitted request goes on with c.Request
// replaced by the one Wrap hands its handler: its context carries the
// claims and the subject, which the getter resolves at most once per
// request however many middleware and handlers ask, and a token taken
// from the query string is gone from its URL (c.Query no longer sees it).
// gin.Logger reads the URL before later middleware run: with [authx.InQuery]
// tokens, register it after the guard, or it logs the token.
//
// A denied request is aborted with authx's own response (status,
// WWW-Authenticate challenge, JSON body {"code","message"}, or the Auth's
// [authx.WithErrorHandler]), as net/http guards write it. With
// [WithContextErrors] the denial goes to gin's error handling instead:
// c.Error with the *[authx.Error], the status set and the challenge
// headers written, for applications that render errors in a middleware of
// their own.
//
// WebSockets are out of scope: upgrade with [authx.Guard.Accept] on the
// net/http request (c.Writer, c.Request), which gin hands over as is.
package authxgin
