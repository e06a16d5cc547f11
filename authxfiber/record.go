package authxfiber

import (
	"net/http"

	"github.com/authx-go/authx/internal/adapt"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// replay writes what r recorded as c's response.
func replay(r *adapt.Recorder, c *fiber.Ctx) {
	copyHeader(&c.Response().Header, r.H, false)
	c.Status(r.StatusOr500())
	c.Response().SetBody(r.Body.Bytes())
}

// copyHeader copies src into dst as Wrap would have written it there:
// each field replaces dst's, except Set-Cookie, which adds. withoutBody
// leaves out the fields that describe the recorded body.
func copyHeader(dst *fasthttp.ResponseHeader, src http.Header, withoutBody bool) {
	for k, vs := range src {
		switch {
		case withoutBody && (k == "Content-Type" || k == "Content-Length"):
		case k == "Set-Cookie":
			for _, v := range vs {
				dst.Add(k, v)
			}
		default:
			dst.Del(k)
			for _, v := range vs {
				dst.Add(k, v)
			}
		}
	}
}
