package authxecho

import (
	"bytes"
	"net/http"
)

// recorder is the http.ResponseWriter [Middleware] gives Wrap when it
// returns denials as errors: it keeps what a denial writes, to copy or
// replay it.
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

// replay writes the recorded response to w.
func (r *recorder) replay(w http.ResponseWriter) {
	copyHeader(w.Header(), r.header, false)
	status := r.status
	if status == 0 {
		status = http.StatusInternalServerError // a denial that wrote nothing
	}
	w.WriteHeader(status)
	_, _ = w.Write(r.body.Bytes())
}

// copyHeader copies src into dst as Wrap would have written it there:
// each field replaces dst's, except Set-Cookie, which adds. withoutBody
// leaves out the fields that describe the recorded body.
func copyHeader(dst, src http.Header, withoutBody bool) {
	for k, vs := range src {
		switch {
		case withoutBody && (k == "Content-Type" || k == "Content-Length"):
		case k == "Set-Cookie":
			dst[k] = append(dst[k], vs...)
		default:
			dst[k] = append([]string(nil), vs...)
		}
	}
}
