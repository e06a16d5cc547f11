// Package adapt holds what the framework adapter modules (authxgin,
// authxecho, authxfiber) share: a recorder of what Guard.Wrap writes, and
// copying its header the way Wrap would have written it.
package adapt

import (
	"bytes"
	"net/http"
)

// Recorder is the http.ResponseWriter an adapter gives Wrap: it keeps what
// a denial (or the query-token headers of an admission) writes, to copy
// or replay it.
type Recorder struct {
	H      http.Header
	Status int
	Body   bytes.Buffer
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{H: http.Header{}} }

// Header returns the recorded header.
func (r *Recorder) Header() http.Header { return r.H }

// WriteHeader records the first status written.
func (r *Recorder) WriteHeader(status int) {
	if r.Status == 0 {
		r.Status = status
	}
}

// Write records b, with status 200 if none was written.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return r.Body.Write(b)
}

// StatusOr500 is the recorded status, 500 for a denial that wrote nothing.
func (r *Recorder) StatusOr500() int {
	if r.Status == 0 {
		return http.StatusInternalServerError
	}
	return r.Status
}

// Replay writes the recorded response to w.
func (r *Recorder) Replay(w http.ResponseWriter) {
	CopyHeader(w.Header(), r.H, false)
	w.WriteHeader(r.StatusOr500())
	_, _ = w.Write(r.Body.Bytes())
}

// CopyHeader copies src into dst as Wrap would have written it there:
// each field replaces dst's, except Set-Cookie, which adds. withoutBody
// leaves out the fields that describe the recorded body.
func CopyHeader(dst, src http.Header, withoutBody bool) {
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
