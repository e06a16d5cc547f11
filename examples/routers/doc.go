// Package routers shows authx guards on chi and gorilla/mux, which speak
// net/http: a guard's Wrap is their middleware as it is, no adapter
// needed. See the examples: chi's r.Use(g.Wrap) and r.With(g.Wrap),
// gorilla's router.Use(mux.MiddlewareFunc(g.Wrap)) and route-level
// g.Wrap(handler).
//
// Where a guard sits decides what its policies see of the route. chi
// routes after the middleware of r.Use, so path values
// ([net/http.Request.PathValue], chi.URLParam) are set only for
// route-level guards (r.With(g.Wrap), r.Route); gorilla/mux runs
// router.Use middleware after matching, with mux.Vars set.
package routers
