package authxfiber

import (
	"bytes"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// recorder is the http.ResponseWriter [Middleware] gives Wrap: it keeps
// what Wrap writes, to copy it into fiber's response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// replay writes the recorded response as c's.
func (r *recorder) replay(c *fiber.Ctx) {
	copyHeader(&c.Response().Header, r.header, false)
	status := r.status
	if status == 0 {
		status = http.StatusInternalServerError // a denial that wrote nothing
	}
	c.Status(status)
	c.Response().SetBody(r.body.Bytes())
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
