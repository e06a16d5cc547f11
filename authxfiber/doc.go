// Package authxfiber guards fiber (v2) routes with authx: [Middleware]
// turns an [authx.Guard] into a fiber.Handler, and [Claims] and [Subject]
// read the verified claims and the application's typed user from the
// *fiber.Ctx.
//
//	a, _ := authx.New[User](authx.WithSecret(key), authx.WithSubjectGetter(loadUser))
//	app := fiber.New()
//	api := app.Group("/api", authxfiber.Middleware(a.Require()))
//	api.Get("/me", func(c *fiber.Ctx) error {
//		u, _ := authxfiber.Subject[User](c) // resolved once per request, lazily
//		return c.JSON(fiber.Map{"name": u.Name})
//	})
//	app.Get("/admin", authxfiber.Middleware(a.Require(authx.Scopes("admin:*"))), admin)
//
// Fiber speaks fasthttp, not net/http: the middleware builds an
// *http.Request from the fasthttp request and runs the guard's own
// [authx.Guard.Wrap] on it, so a request passes exactly as it would
// through a net/http guard: the same locations (header, cookie with its
// CSRF check, query, JSON body), policies, revocation and sessions. The
// request owns copies of the method, URI, host and headers (fasthttp
// reuses its buffers once the handler returns; fiber's adaptor package
// does not copy them, and it keeps only the last of repeated headers,
// which would hide an ambiguous request — two Authorization headers —
// from the guard). Its body reads the fasthttp body in place and fails
// once the middleware has returned. Its context is c.UserContext().
//
// An admitted request goes on (c.Next) with c.SetUserContext of the
// context Wrap hands its handler: it carries the claims and the subject,
// which the getter resolves at most once per request however many
// handlers ask. A token taken from the query string ([authx.InQuery]) is
// also removed from fiber's own request URI, so c.Query, c.OriginalURL
// and fiber's logger middleware (which reads the URL when the chain has
// run) never see it; the response is marked Cache-Control: no-store and
// Referrer-Policy: no-referrer. The adapter logs nothing. A denied
// request's URL is left as it came.
//
// A denied request gets authx's own response (status, WWW-Authenticate
// challenge, JSON body {"code","message"}, or the Auth's
// [authx.WithErrorHandler]), as net/http guards write it. With
// [WithReturnedErrors] the middleware returns an error for the App's
// ErrorHandler instead.
//
// WebSockets are out of scope: [authx.Guard.Accept] needs net/http's
// connection hijacking, which fasthttp does not offer; serve WebSocket
// routes from a net/http server.
package authxfiber
