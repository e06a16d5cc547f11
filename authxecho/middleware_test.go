package authxecho_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/authxecho"
	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
)

// User is the application's user type, resolved by the subject getter.
type User struct{ ID, Name string }

// newAuth returns an Auth reading header, cookie and query tokens whose
// getter counts its calls in calls.
func newAuth(t *testing.T, calls *atomic.Int32) *authx.Auth[User] {
	t.Helper()
	a, err := authx.New[User](
		authx.WithSecret(secret),
		authx.WithClock(authtest.NewClock(now).Now),
		authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (User, error) {
			calls.Add(1)
			if c.Subject == "ghost" {
				return User{}, authx.ErrSubjectNotFound
			}
			return User{ID: c.Subject, Name: strings.ToUpper(c.Subject[:1]) + c.Subject[1:]}, nil
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// whoami answers with what the handler sees: the claims' subject, the
// typed user, and the query string left in the URL.
func whoami(c echo.Context) error {
	claims, okC := authxecho.Claims(c)
	u, okU := authxecho.Subject[User](c)
	u2, _ := authxecho.Subject[User](c) // a second call: the getter does not run again
	if !okC {
		return c.String(http.StatusOK, fmt.Sprintf("anonymous %v", okU))
	}
	return c.String(http.StatusOK, fmt.Sprintf("sub=%s user=%s same=%v query=%q", claims.Subject, u.Name, u == u2, c.Request().URL.RawQuery))
}

// routes registers the test routes on e, guarded by a's guards with opts.
func routes(e *echo.Echo, a *authx.Auth[User], opts ...authxecho.Option) {
	mw := func(g *authx.Guard) echo.MiddlewareFunc { return authxecho.Middleware(g, opts...) }
	e.GET("/me", whoami, mw(a.Require()))
	e.POST("/me", whoami, mw(a.Require()))
	e.GET("/admin", whoami, mw(a.Require(authx.Scopes("admin:*"))))
	e.GET("/optional", whoami, mw(a.Optional()))
	e.GET("/known", whoami, mw(a.Require(a.KnownSubject())), func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			authxecho.Subject[User](c) // another middleware asking
			return next(c)
		}
	})
}

type result struct {
	Status int
	WWW    string // WWW-Authenticate
	Body   string
	Calls  int32 // subject getter calls
}

func serve(h http.Handler, r *http.Request, calls *atomic.Int32) result {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return result{w.Code, w.Header().Get("WWW-Authenticate"), strings.TrimSpace(w.Body.String()), calls.Load()}
}

type tokenFunc func(t *testing.T, a *authx.Auth[User]) string

// request builds a request to target carrying what tok returns (made
// with a) at loc; a nil tok sends no token.
func request(t *testing.T, a *authx.Auth[User], method, target string, loc authx.Location, tok tokenFunc) *http.Request {
	t.Helper()
	if tok == nil {
		return httptest.NewRequest(method, target, nil)
	}
	return authtest.Request(t, a, loc, method, target, tok(t, a))
}

func token(sub string, opts ...authx.TokenOption) tokenFunc {
	return func(t *testing.T, a *authx.Auth[User]) string { return authtest.Token(t, a, sub, opts...) }
}

func forged(t *testing.T, a *authx.Auth[User]) string { return authtest.ForgedToken(t, a, "alice") }

// messages are authx's client messages by code.
var messages = map[string]string{
	"missing_token":      "No token was found in the request.",
	"invalid_token":      "The token is invalid.",
	"insufficient_scope": "The token lacks a required scope.",
	"csrf_missing":       "Missing CSRF token: send the csrf cookie's value in the CSRF header.",
	"subject_not_found":  "The token's subject is unknown.",
}

// authxBody is authx's own JSON for a denial with code.
func authxBody(code string) string {
	b, _ := json.Marshal(map[string]string{"code": code, "message": messages[code]})
	return string(b)
}

// echoBody is echo's default HTTPErrorHandler's JSON for an HTTPError
// with authx's message for code.
func echoBody(code string) string {
	b, _ := json.Marshal(map[string]string{"message": messages[code]})
	return string(b)
}

const alice = `sub=alice user=Alice same=true query=""`

func TestMiddleware(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target string
		loc                  authx.Location
		tok                  tokenFunc
		want                 result
		code                 string // a denial's code: the body is authx's or echo's for it
		reason               string
	}{
		{"valid", "GET", "/me", authx.InHeader, token("alice"),
			result{200, "", alice, 1}, "", "the handler sees claims and the typed user, resolved once"},
		{"missing", "GET", "/me", authx.InHeader, nil,
			result{401, `Bearer realm="api"`, "", 0}, "missing_token", "no token: 401 with the bare challenge"},
		{"bad token", "GET", "/me", authx.InHeader, forged,
			result{401, `Bearer realm="api", error="invalid_token"`, "", 0}, "invalid_token", ""},
		{"wrong scope", "GET", "/admin", authx.InHeader, token("alice", authx.Grant("reports:read")),
			result{403, `Bearer realm="api", error="insufficient_scope", scope="admin:*"`, "", 0}, "insufficient_scope", ""},
		{"right scope", "GET", "/admin", authx.InHeader, token("alice", authx.Grant("admin:*")),
			result{200, "", alice, 1}, "", ""},
		{"cookie GET", "GET", "/me", authx.InCookie, token("alice"),
			result{200, "", alice, 1}, "", "cookies reach the guard"},
		{"cookie POST without CSRF", "POST", "/me", authx.InCookie, token("alice"),
			result{403, "", "", 0}, "csrf_missing", "the double-submit check runs through the adapter"},
		{"query token hidden", "GET", "/me?x=1", authx.InQuery, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query="x=1"`, 1}, "", "the handler's URL has no token"},
		{"optional anonymous", "GET", "/optional", authx.InHeader, nil,
			result{200, "", "anonymous false", 0}, "", "Optional lets anonymous requests through, without a subject"},
		{"optional with token", "GET", "/optional", authx.InHeader, token("alice"),
			result{200, "", alice, 1}, "", ""},
		{"optional bad token", "GET", "/optional", authx.InHeader, forged,
			result{401, `Bearer realm="api", error="invalid_token"`, "", 0}, "invalid_token", "an invalid token is never anonymous"},
		{"known subject once", "GET", "/known", authx.InHeader, token("alice"),
			result{200, "", alice, 1}, "", "policy, middleware and handler share one resolution"},
		{"unknown subject", "GET", "/known", authx.InHeader, token("ghost"),
			result{401, `Bearer realm="api", error="invalid_token"`, "", 1}, "subject_not_found", ""},
	}
	for _, mode := range []struct {
		name   string
		opts   []authxecho.Option
		body   func(code string) string
		recall int32 // getter calls added by a denial's second look
	}{
		{"HTTPError", nil, echoBody, 1},
		{"direct", []authxecho.Option{authxecho.WithDirectResponse()}, authxBody, 0},
		{"nil option", []authxecho.Option{nil}, echoBody, 1},
	} {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var calls atomic.Int32
				a := newAuth(t, &calls)
				e := echo.New()
				routes(e, a, mode.opts...)
				want := tt.want
				if tt.code != "" {
					want.Body = mode.body(tt.code)
					if want.Calls > 0 {
						want.Calls += mode.recall
					}
				}
				got := serve(e, request(t, a, tt.method, tt.target, tt.loc, tt.tok), &calls)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %s: (-want +got)\n%s\n%s", tt.method, tt.target, diff, tt.reason)
				}
			})
		}
	}
}

// TestQueryTokenHeaders: a URL that carried a token is neither cached nor
// sent on as a Referer, in both denial styles.
func TestQueryTokenHeaders(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]authxecho.Option{nil, {authxecho.WithDirectResponse()}} {
		var calls atomic.Int32
		a := newAuth(t, &calls)
		e := echo.New()
		routes(e, a, opts...)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, authtest.Request(t, a, authx.InQuery, "GET", "/me", authtest.Token(t, a, "alice")))
		got := []string{w.Header().Get("Cache-Control"), w.Header().Get("Referrer-Policy")}
		if diff := cmp.Diff([]string{"no-store", "no-referrer"}, got); diff != "" {
			t.Errorf("options %v: Cache-Control, Referrer-Policy (-want +got)\n%s", opts, diff)
		}
	}
}

// TestCookieWithCSRF: a cookie token on POST passes with its CSRF header.
func TestCookieWithCSRF(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	a := newAuth(t, &calls)
	e := echo.New()
	routes(e, a)
	tok := authtest.Token(t, a, "alice")
	c, err := a.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	req := authtest.Request(t, a, authx.InCookie, "POST", "/me", tok)
	req.Header.Set("X-CSRF-TOKEN", c.CSRF)
	if diff := cmp.Diff(result{200, "", alice, 1}, serve(e, req, &calls)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// errorHandler renders errors as an application's HTTPErrorHandler
// would, recording the error it saw in *seen.
func errorHandler(seen *error) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		*seen = err
		var e *authx.Error
		if !errors.As(err, &e) {
			_ = c.String(http.StatusInternalServerError, fmt.Sprintf("not an *authx.Error: %v", err))
			return
		}
		_ = c.String(authx.StatusOf(err), "app: "+e.Code)
	}
}

func TestHTTPErrorHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target string
		loc                  authx.Location
		tok                  tokenFunc
		want                 result
		wantIs               error // nil: no error reaches the HTTPErrorHandler
		reason               string
	}{
		{"valid", "GET", "/me", authx.InHeader, token("alice"), result{200, "", alice, 1}, nil, ""},
		{"missing", "GET", "/me", authx.InHeader, nil,
			result{401, `Bearer realm="api"`, "app: missing_token", 0}, authx.ErrNoToken, "the challenge is set, the body is the app's"},
		{"bad token", "GET", "/me", authx.InHeader, forged,
			result{401, `Bearer realm="api", error="invalid_token"`, "app: invalid_token", 0}, authx.ErrSignature, ""},
		{"wrong scope", "GET", "/admin", authx.InHeader, token("alice"),
			result{403, `Bearer realm="api", error="insufficient_scope", scope="admin:*"`, "app: insufficient_scope", 0}, authx.ErrInsufficientScope, ""},
		{"cookie POST without CSRF", "POST", "/me", authx.InCookie, token("alice"),
			result{403, "", "app: csrf_missing", 0}, authx.ErrCSRFMissing, ""},
		{"optional anonymous", "GET", "/optional", authx.InHeader, nil, result{200, "", "anonymous false", 0}, nil, ""},
		{"unknown subject", "GET", "/known", authx.InHeader, token("ghost"),
			result{401, `Bearer realm="api", error="invalid_token"`, "app: subject_not_found", 2}, authx.ErrSubjectNotFound,
			"the denial is decided, then checked again for its error: the getter runs once for each"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			var seen error
			a := newAuth(t, &calls)
			e := echo.New()
			e.HTTPErrorHandler = errorHandler(&seen)
			routes(e, a)
			got := serve(e, request(t, a, tt.method, tt.target, tt.loc, tt.tok), &calls)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s %s: (-want +got)\n%s\n%s", tt.method, tt.target, diff, tt.reason)
			}
			if (seen == nil) != (tt.wantIs == nil) || (seen != nil && !errors.Is(seen, tt.wantIs)) {
				t.Errorf("HTTPErrorHandler got %v, want an error matching %v", seen, tt.wantIs)
			}
			var he *echo.HTTPError
			if seen != nil && (!errors.As(seen, &he) || he.Code != tt.want.Status) {
				t.Errorf("HTTPErrorHandler got %#v, want an *echo.HTTPError with Code %d", seen, tt.want.Status)
			}
		})
	}
}

// TestRecheckAdmits: when the second look at a denied request admits it
// (a policy that changed its mind), the denial stands, written as authx
// writes it, and the handler never runs.
func TestRecheckAdmits(t *testing.T) {
	t.Parallel()
	var calls, decisions atomic.Int32
	a := newAuth(t, &calls)
	flaky := authx.PolicyFunc(func(context.Context, *authx.Claims) error {
		if decisions.Add(1) == 1 {
			return authx.ErrForbidden
		}
		return nil
	})
	var seen error
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(&seen)
	e.GET("/flaky", whoami, authxecho.Middleware(a.Require(flaky)))
	req := authtest.Request(t, a, authx.InHeader, "GET", "/flaky", authtest.Token(t, a, "alice"))
	want := result{403, "", `{"code":"forbidden","message":"Access denied."}`, 0}
	if diff := cmp.Diff(want, serve(e, req, &calls)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if seen != nil {
		t.Errorf("HTTPErrorHandler got %v, want nothing", seen)
	}
}

// TestDenialHeaders: the denial's own headers join those set before the
// guard (cookies add up), and the body's type is the application's, not
// that of authx's JSON.
func TestDenialHeaders(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var seen error
	a := newAuth(t, &calls)
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(&seen)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.SetCookie(&http.Cookie{Name: "app", Value: "1"})
			return next(c)
		}
	})
	routes(e, a)
	tok := authtest.Token(t, a, "alice")
	req := authtest.Request(t, a, authx.InCookie, "GET", "/me", tok)
	req.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: tok}) // two of one name: tossed cookies
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	var names []string
	for _, c := range w.Result().Cookies() {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	type response struct {
		Status      int
		ContentType string
		Cookies     []string
		Body        string
	}
	got := response{w.Code, w.Header().Get("Content-Type"), slices.Compact(names), w.Body.String()}
	want := response{400, "text/plain; charset=UTF-8", []string{"access_token_cookie", "app", "csrf_access_token"}, "app: invalid_request"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if !errors.Is(seen, authx.ErrInvalidRequest) {
		t.Errorf("HTTPErrorHandler got %v, want ErrInvalidRequest", seen)
	}
}

// TestNilGuard: a nil guard denies, as on net/http.
func TestNilGuard(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]authxecho.Option{nil, {authxecho.WithDirectResponse()}} {
		e := echo.New()
		e.GET("/", whoami, authxecho.Middleware(nil, opts...))
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != http.StatusInternalServerError {
			t.Errorf("options %v: status %d, want 500", opts, w.Code)
		}
	}
}

// TestAccessorsOutsideGuard: without a guard the accessors report false.
func TestAccessorsOutsideGuard(t *testing.T) {
	t.Parallel()
	c := echo.New().NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
	_, okC := authxecho.Claims(c)
	_, okU := authxecho.Subject[User](c)
	_, okN := authxecho.Claims(nil)
	if diff := cmp.Diff([]bool{false, false, false}, []bool{okC, okU, okN}); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func ExampleMiddleware() {
	a, _ := authx.New[User](
		authx.WithSecret(secret),
		authx.WithClock(func() time.Time { return now }),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (User, error) {
			return User{ID: c.Subject, Name: "Alice"}, nil
		}),
	)
	e := echo.New()
	admin := e.Group("/admin", authxecho.Middleware(a.Require(authx.Scopes("admin:*"))))
	admin.GET("/me", func(c echo.Context) error {
		u, _ := authxecho.Subject[User](c)
		return c.String(http.StatusOK, "hello "+u.Name)
	})

	for _, scope := range []string{"admin:*", "reports:read"} {
		tok, _ := a.CreateAccessToken("alice", authx.Grant(scope))
		req := httptest.NewRequest("GET", "/admin/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req) // a denial goes through e.HTTPErrorHandler
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200  hello Alice
	// 403 Bearer realm="api", error="insufficient_scope", scope="admin:*" {"message":"The token lacks a required scope."}
}

func ExampleWithDirectResponse() {
	a, _ := authx.New[string](authx.WithSecret(secret))
	e := echo.New()
	e.GET("/me", func(c echo.Context) error {
		return c.String(http.StatusOK, "hello")
	}, authxecho.Middleware(a.Require(), authxecho.WithDirectResponse()))

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/me", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), strings.TrimSpace(w.Body.String()))
	// Output:
	// 401 Bearer realm="api" {"code":"missing_token","message":"No token was found in the request."}
}

// TestHandlerError: an admitted request's handler error reaches the
// HTTPErrorHandler, in both denial styles.
func TestHandlerError(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]authxecho.Option{nil, {authxecho.WithDirectResponse()}} {
		var calls atomic.Int32
		a := newAuth(t, &calls)
		e := echo.New()
		e.GET("/teapot", func(echo.Context) error {
			return echo.NewHTTPError(http.StatusTeapot, "short and stout")
		}, authxecho.Middleware(a.Require(), opts...))
		req := authtest.Request(t, a, authx.InHeader, "GET", "/teapot", authtest.Token(t, a, "alice"))
		want := result{http.StatusTeapot, "", `{"message":"short and stout"}`, 0}
		if diff := cmp.Diff(want, serve(e, req, &calls)); diff != "" {
			t.Errorf("options %v: (-want +got)\n%s", opts, diff)
		}
	}
}
