package authxecho

import (
	"github.com/authx-go/authx"
	"github.com/labstack/echo/v4"
)

// Claims returns the verified claims of the request that [Middleware]
// admitted, read from c.Request()'s context ([authx.ClaimsFrom]). It
// reports false outside a guarded route and for an anonymous request let
// through by an [authx.Auth.Optional] guard.
func Claims(c echo.Context) (*authx.Claims, bool) {
	if c == nil || c.Request() == nil {
		return nil, false
	}
	return authx.ClaimsFrom(c.Request().Context())
}

// Subject returns the caller as the application's type T
// ([authx.SubjectFrom]): the subject getter runs on the first call in the
// request, later calls (in other middleware or the handler) return the same
// value. It reports false without an authenticated caller, when T is not
// the Auth's type, or when the getter failed; [authx.Auth.Subject] on
// c.Request().Context() tells why.
func Subject[T any](c echo.Context) (T, bool) {
	if c == nil || c.Request() == nil {
		var zero T
		return zero, false
	}
	return authx.SubjectFrom[T](c.Request().Context())
}
