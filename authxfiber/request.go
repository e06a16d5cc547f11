package authxfiber

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// newRequest returns c's request as a server *http.Request (as net/http
// would hand it to a handler) that owns copies of its strings: fasthttp
// reuses its buffers after the request, and the guard's context keeps the
// request ([authx.RequestFrom]). Repeated headers stay repeated, so the
// guard still refuses an ambiguous request. The body reads fasthttp's in
// place until close.
func newRequest(c *fiber.Ctx) (*http.Request, *body, error) {
	fr := c.Request()
	uri := string(fr.Header.RequestURI())
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, nil, err
	}
	proto := string(fr.Header.Protocol())
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		proto, major, minor = "HTTP/1.1", 1, 1
	}
	b := &body{b: fr.Body()}
	r := &http.Request{
		Method:        string(fr.Header.Method()),
		URL:           u,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        make(http.Header),
		Body:          b,
		ContentLength: int64(len(b.b)),
		Host:          string(c.Context().Host()), // the Host header, or the host of an absolute URI
		RemoteAddr:    c.Context().RemoteAddr().String(),
		RequestURI:    uri,
		TLS:           c.Context().TLSConnectionState(),
	}
	for k, v := range fr.Header.All() {
		key := http.CanonicalHeaderKey(string(k))
		if key != "Host" { // net/http moves it to r.Host
			r.Header[key] = append(r.Header[key], string(v))
		}
	}
	if len(b.b) == 0 {
		r.Body = http.NoBody // as net/http servers give
	}
	return r.WithContext(c.UserContext()), b, nil
}

// errBodyClosed is what the request's body reads once the middleware has
// returned and fasthttp may reuse the bytes.
var errBodyClosed = errors.New("authxfiber: request body read after the handler returned")

// body reads the fasthttp request body in place (Read copies into the
// caller's buffer) until close.
type body struct {
	mu     sync.Mutex
	b      []byte
	closed bool
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	if len(b.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.b)
	b.b = b.b[n:]
	return n, nil
}

// Close does nothing: the bytes are fasthttp's, for handlers after the
// guard too.
func (b *body) Close() error { return nil }

// close ends the reads of the fasthttp bytes.
func (b *body) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed, b.b = true, nil
}
