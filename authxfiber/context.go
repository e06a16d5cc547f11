package authxfiber

import (
	"github.com/authx-go/authx"
	"github.com/gofiber/fiber/v2"
)

// Claims returns the verified claims of the request that [Middleware]
// admitted, read from c.UserContext() ([authx.ClaimsFrom]). It reports
// false outside a guarded route and for an anonymous request let through
// by an [authx.Auth.Optional] guard.
func Claims(c *fiber.Ctx) (*authx.Claims, bool) {
	if c == nil {
		return nil, false
	}
	return authx.ClaimsFrom(c.UserContext())
}

// Subject returns the caller as the application's type T
// ([authx.SubjectFrom]): the subject getter runs on the first call in the
// request, later calls (in other handlers) return the same value. It
// reports false without an authenticated caller, when T is not the Auth's
// type, or when the getter failed; [authx.Auth.Subject] on
// c.UserContext() tells why.
func Subject[T any](c *fiber.Ctx) (T, bool) {
	if c == nil {
		var zero T
		return zero, false
	}
	return authx.SubjectFrom[T](c.UserContext())
}
