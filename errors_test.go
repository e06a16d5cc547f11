package authx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
)

// misconfigured is the response to a denial that was built wrongly.
var misconfigured = response{http.StatusInternalServerError, "", `{"code":"misconfigured","message":"Authentication is misconfigured."}`}

// TestWriteErrorNil: StatusOf(nil) is 200 — no error, the request goes on
// — but WriteError only ever denies, and a denial without a reason is a
// programming mistake. It used to be written as 403 forbidden, a status
// StatusOf gives no error; it is 500 misconfigured, as for a misbuilt
// guard: it neither lets the request through nor blames the caller.
func TestWriteErrorNil(t *testing.T) {
	t.Parallel()
	var handed error
	a, _ := newAuth(t)
	withHandler, _ := newAuth(t, authx.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		handed = err
		authx.WriteError(w, "api", err)
	}))
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{name: "WriteError", h: func(w http.ResponseWriter, r *http.Request) { authx.WriteError(w, "api", nil) }},
		{name: "Auth.WriteError", h: func(w http.ResponseWriter, r *http.Request) { a.WriteError(w, r, nil) }},
		{name: "Auth.WriteError with an error handler", h: func(w http.ResponseWriter, r *http.Request) { withHandler.WriteError(w, r, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the error handler records into handed.
			got := serve(t, tt.h, httptest.NewRequest(http.MethodGet, "/", nil))
			if diff := cmp.Diff(misconfigured, got); diff != "" {
				t.Errorf("%s(nil) (-want +got):\n%s", tt.name, diff)
			}
		})
	}
	if !errors.Is(handed, authx.ErrMisconfigured) || authx.StatusOf(handed) != http.StatusInternalServerError {
		t.Errorf("the error handler was handed %v (status %d), want ErrMisconfigured (500)", handed, authx.StatusOf(handed))
	}
	if got := authx.StatusOf(nil); got != http.StatusOK {
		t.Errorf("StatusOf(nil) = %d, want 200", got)
	}
}

// TestChallengeScheme: the WWW-Authenticate challenge names the scheme
// WithHeader configures (RFC 9110 §11.6.1: a challenge is for the scheme
// the client must use), with the same realm and error parameters; with no
// scheme (the whole header is the token) it stays Bearer. A custom error
// handler calling WriteError gets the same challenge.
func TestChallengeScheme(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []authx.Option
		want    string // scheme of the challenges
		handler bool   // through a WithErrorHandler calling WriteError
	}{
		{name: "default", want: "Bearer"},
		{name: "Token", opts: []authx.Option{authx.WithHeader("Authorization", "Token")}, want: "Token"},
		{name: "JWT in its own header", opts: []authx.Option{authx.WithHeader("X-Auth", "JWT")}, want: "JWT"},
		{name: "no scheme", opts: []authx.Option{authx.WithHeader("X-Api-Token", "")}, want: "Bearer"},
		{name: "Token, error handler", opts: []authx.Option{authx.WithHeader("Authorization", "Token")}, want: "Token", handler: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := append([]authx.Option{authx.WithRealm("shop")}, tt.opts...)
			if tt.handler {
				opts = append(opts, authx.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
					authx.WriteError(w, "shop", err)
				}))
			}
			a, _ := newAuth(t, opts...)
			g := a.Require(authx.Scopes("admin")).Wrap(echo)
			req := func(tok string) *http.Request {
				if tok == "" {
					return httptest.NewRequest(http.MethodGet, "/", nil)
				}
				return authtest.Request(t, a, authx.InHeader, http.MethodGet, "/", tok)
			}
			got := []string{
				serve(t, g, req("")).WWW,
				serve(t, g, req(authtest.ExpiredToken(t, a, "alice"))).WWW,
				serve(t, g, req(authtest.Token(t, a, "alice"))).WWW,
			}
			want := []string{
				tt.want + ` realm="shop"`,
				tt.want + ` realm="shop", error="invalid_token"`,
				tt.want + ` realm="shop", error="insufficient_scope", scope="admin"`,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("challenges for no token, an expired one, one without the scope (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChallengeQuoting: the realm of a challenge is an HTTP quoted-string
// (RFC 9110 §5.6.4): raw text, with only '"' and '\' escaped by a
// backslash. Go's strconv.Quote is not one: it wrote a tab as \t, U+2028
// as \u2028 and a control byte as \x01, which a client reads as "t",
// "u2028" and "x01". Bytes a quoted-string cannot hold at all (control
// bytes but the tab) are left out; WithRealm refuses them.
func TestChallengeQuoting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		realm  string
		want   string
		reason string
	}{
		{name: "plain", realm: "api", want: `Bearer realm="api"`, reason: "control"},
		{name: "tab and space", realm: "my\tapi v2", want: "Bearer realm=\"my\tapi v2\"", reason: "HTAB and SP are qdtext"},
		{name: "non-ASCII", realm: "café ☃ 日本", want: `Bearer realm="café ☃ 日本"`, reason: "obs-text: written as is"},
		{name: "U+2028", realm: "a\u2028b\u00adc", want: "Bearer realm=\"a\u2028b\u00adc\"", reason: "non-printable in Go, mere obs-text in HTTP"},
		{name: "quote and backslash", realm: `say "hi" \o/`, want: `Bearer realm="say \"hi\" \\o/"`, reason: "quoted-pairs"},
		{name: "control bytes", realm: "a\x01b\r\nc\x7fd", want: `Bearer realm="abcd"`, reason: "no quoted-string holds them: left out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { authx.WriteError(w, tt.realm, authx.ErrNoToken) })
			if got := serve(t, h, httptest.NewRequest(http.MethodGet, "/", nil)).WWW; got != tt.want {
				t.Errorf("WriteError(w, %q, ErrNoToken) challenge = %q, want %q (%s)", tt.realm, got, tt.want, tt.reason)
			}
		})
	}
}
