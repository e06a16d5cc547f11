package authxfiber_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/authxfiber"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/logger"
	"github.com/google/go-cmp/cmp"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
)

// User is the application's user type, resolved by the subject getter.
type User struct{ ID, Name string }

// newAuth returns an Auth reading header, cookie, query and JSON tokens
// whose getter counts its calls in calls.
func newAuth(t *testing.T, calls *atomic.Int32) *authx.Auth[User] {
	t.Helper()
	a, err := authx.New[User](
		authx.WithSecret(secret),
		authx.WithClock(authtest.NewClock(now).Now),
		authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery, authx.InJSON),
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
// typed user, and the URL and body left in fiber's request.
func whoami(c *fiber.Ctx) error {
	claims, okC := authxfiber.Claims(c)
	u, okU := authxfiber.Subject[User](c)
	u2, _ := authxfiber.Subject[User](c) // a second call: the getter does not run again
	if !okC {
		return c.SendString(fmt.Sprintf("anonymous %v", okU))
	}
	s := fmt.Sprintf("sub=%s user=%s same=%v url=%s", claims.Subject, u.Name, u == u2, c.OriginalURL())
	if c.Query("token") != "" {
		s += " query token visible"
	}
	if len(c.Body()) > 0 {
		s += " body=" + string(c.Body())
	}
	return c.SendString(s)
}

// newApp returns an app with the test routes, guarded by a's guards with
// opts, after the handlers in before.
func newApp(a *authx.Auth[User], cfg fiber.Config, opts []authxfiber.Option, before ...fiber.Handler) *fiber.App {
	app := fiber.New(cfg)
	for _, h := range before {
		app.Use(h)
	}
	mw := func(g *authx.Guard) fiber.Handler { return authxfiber.Middleware(g, opts...) }
	app.Get("/me", mw(a.Require()), whoami)
	app.Post("/me", mw(a.Require()), whoami)
	app.Get("/admin", mw(a.Require(authx.Scopes("admin:*"))), whoami)
	app.Get("/optional", mw(a.Optional()), whoami)
	app.Get("/known", mw(a.Require(a.KnownSubject())), func(c *fiber.Ctx) error {
		authxfiber.Subject[User](c) // another handler asking
		return c.Next()
	}, whoami)
	return app
}

type result struct {
	Status int
	WWW    string // WWW-Authenticate
	Body   string
	Calls  int32 // subject getter calls
}

// serve sends r with app.Test.
func serve(t *testing.T, app *fiber.App, r *http.Request, calls *atomic.Int32) (result, *http.Response) {
	t.Helper()
	resp, err := app.Test(r, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(string(b)), calls.Load()}, resp
}

type tokenFunc func(t *testing.T, a *authx.Auth[User]) string

// request builds a request to target carrying what tok returns (made
// with a) at loc; a nil tok sends no token.
func request(t *testing.T, a *authx.Auth[User], method, target string, loc authx.Location, tok tokenFunc) *http.Request {
	t.Helper()
	if tok == nil {
		return httptest.NewRequest(method, target, nil)
	}
	r := authtest.Request(t, a, loc, method, target, tok(t, a))
	r.RequestURI = r.URL.RequestURI() // app.Test sends RequestURI, which AttachToken leaves as it was
	return r
}

func token(sub string, opts ...authx.TokenOption) tokenFunc {
	return func(t *testing.T, a *authx.Auth[User]) string { return authtest.Token(t, a, sub, opts...) }
}

func forged(t *testing.T, a *authx.Auth[User]) string { return authtest.ForgedToken(t, a, "alice") }

// messages are authx's client messages by code.
var messages = map[string]string{
	"missing_token":      "No token was found in the request.",
	"invalid_token":      "The token is invalid.",
	"invalid_request":    "The request could not be read for a token.",
	"insufficient_scope": "The token lacks a required scope.",
	"csrf_missing":       "Missing CSRF token: send the csrf cookie's value in the CSRF header.",
	"subject_not_found":  "The token's subject is unknown.",
}

// authxBody is authx's own JSON for a denial with code.
func authxBody(code string) string {
	b, _ := json.Marshal(map[string]string{"code": code, "message": messages[code]})
	return string(b)
}

const alice = `sub=alice user=Alice same=true url=`

func TestMiddleware(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target string
		loc                  authx.Location
		tok                  tokenFunc
		want                 result
		code                 string // a denial's code: the body is authx's for it, or fiber's for its message
		reason               string
	}{
		{"valid", "GET", "/me", authx.InHeader, token("alice"),
			result{200, "", alice + "/me", 1}, "", "the handler sees claims and the typed user, resolved once"},
		{"missing", "GET", "/me", authx.InHeader, nil,
			result{401, `Bearer realm="api"`, "", 0}, "missing_token", "no token: 401 with the bare challenge"},
		{"bad token", "GET", "/me", authx.InHeader, forged,
			result{401, `Bearer realm="api", error="invalid_token"`, "", 0}, "invalid_token", ""},
		{"wrong scope", "GET", "/admin", authx.InHeader, token("alice", authx.Grant("reports:read")),
			result{403, `Bearer realm="api", error="insufficient_scope", scope="admin:*"`, "", 0}, "insufficient_scope", ""},
		{"right scope", "GET", "/admin", authx.InHeader, token("alice", authx.Grant("admin:*")),
			result{200, "", alice + "/admin", 1}, "", ""},
		{"cookie GET", "GET", "/me", authx.InCookie, token("alice"),
			result{200, "", alice + "/me", 1}, "", "cookies reach the guard"},
		{"cookie POST without CSRF", "POST", "/me", authx.InCookie, token("alice"),
			result{403, "", "", 0}, "csrf_missing", "the double-submit check runs through the adapter"},
		{"query token hidden", "GET", "/me?x=1", authx.InQuery, token("alice"),
			result{200, "", alice + "/me?x=1", 1}, "", "fiber's own request no longer holds the token"},
		{"JSON body token", "POST", "/me", authx.InJSON, token("alice"),
			result{200, "", alice + `/me body={"access_token":"`, 1}, "", "the body reaches the guard, and stays the handler's"},
		{"optional anonymous", "GET", "/optional", authx.InHeader, nil,
			result{200, "", "anonymous false", 0}, "", "Optional lets anonymous requests through, without a subject"},
		{"optional with token", "GET", "/optional", authx.InHeader, token("alice"),
			result{200, "", alice + "/optional", 1}, "", ""},
		{"optional bad token", "GET", "/optional", authx.InHeader, forged,
			result{401, `Bearer realm="api", error="invalid_token"`, "", 0}, "invalid_token", "an invalid token is never anonymous"},
		{"known subject once", "GET", "/known", authx.InHeader, token("alice"),
			result{200, "", alice + "/known", 1}, "", "policy and handlers share one resolution"},
		{"unknown subject", "GET", "/known", authx.InHeader, token("ghost"),
			result{401, `Bearer realm="api", error="invalid_token"`, "", 1}, "subject_not_found", ""},
	}
	for _, mode := range []struct {
		name   string
		opts   []authxfiber.Option
		body   func(code string) string
		recall int32 // getter calls added by a denial's second look
	}{
		{"default", nil, authxBody, 0},
		{"nil option", []authxfiber.Option{nil}, authxBody, 0},
		{"returned errors", []authxfiber.Option{authxfiber.WithReturnedErrors()}, func(code string) string { return messages[code] }, 1},
	} {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var calls atomic.Int32
				a := newAuth(t, &calls)
				app := newApp(a, fiber.Config{}, mode.opts)
				want := tt.want
				if tt.code != "" {
					want.Body = mode.body(tt.code)
					if want.Calls > 0 {
						want.Calls += mode.recall
					}
				}
				got, _ := serve(t, app, request(t, a, tt.method, tt.target, tt.loc, tt.tok), &calls)
				if tt.loc == authx.InJSON && strings.HasPrefix(got.Body, want.Body) {
					got.Body = want.Body // the token itself is not the point
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %s: (-want +got)\n%s\n%s", tt.method, tt.target, diff, tt.reason)
				}
			})
		}
	}
}

// TestAmbiguousRequests: repeated headers reach the guard as such, so an
// ambiguous request is refused as on net/http.
func TestAmbiguousRequests(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	a := newAuth(t, &calls)
	app := newApp(a, fiber.Config{}, nil)
	tok := authtest.Token(t, a, "alice")
	tests := []struct {
		name string
		req  func() *http.Request
	}{
		{"two Authorization headers", func() *http.Request {
			r := authtest.Request(t, a, authx.InHeader, "GET", "/me", tok)
			r.Header.Add("Authorization", "Bearer "+authtest.Token(t, a, "mallory"))
			return r
		}},
		{"two access cookies", func() *http.Request {
			r := authtest.Request(t, a, authx.InCookie, "GET", "/me", tok)
			r.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: authtest.Token(t, a, "mallory")})
			return r
		}},
		{"two token parameters", func() *http.Request {
			return httptest.NewRequest("GET", "/me?token="+tok+"&token="+tok, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _ := serve(t, app, tt.req(), &calls)
			want := result{400, `Bearer realm="api", error="invalid_request"`, authxBody("invalid_request"), 0}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestQueryToken: a URL that carried a token is neither cached nor sent on
// as a Referer, and fiber's logger, which reads the URL after the chain,
// logs it without the token.
func TestQueryToken(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]authxfiber.Option{nil, {authxfiber.WithReturnedErrors()}} {
		var calls atomic.Int32
		var log bytes.Buffer
		a := newAuth(t, &calls)
		app := newApp(a, fiber.Config{}, opts, logger.New(logger.Config{Output: &log, Format: "${url} ${queryParams}\n"}), func(c *fiber.Ctx) error {
			c.Set("Cache-Control", "public") // replaced, not joined
			return c.Next()
		})
		tok := authtest.Token(t, a, "alice")
		_, resp := serve(t, app, httptest.NewRequest("GET", "/me?a=1&token="+tok+"&b=2", nil), &calls)
		got := []string{strings.Join(resp.Header.Values("Cache-Control"), ","), resp.Header.Get("Referrer-Policy"), strings.TrimSpace(log.String())}
		if diff := cmp.Diff([]string{"no-store", "no-referrer", "/me?a=1&b=2 a=1&b=2"}, got); diff != "" {
			t.Errorf("options %v: Cache-Control, Referrer-Policy, log (-want +got)\n%s", opts, diff)
		}
	}
}

// TestCookieWithCSRF: a cookie token on POST passes with its CSRF header.
func TestCookieWithCSRF(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	a := newAuth(t, &calls)
	app := newApp(a, fiber.Config{}, nil)
	tok := authtest.Token(t, a, "alice")
	c, err := a.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	req := authtest.Request(t, a, authx.InCookie, "POST", "/me", tok)
	req.Header.Set("X-CSRF-TOKEN", c.CSRF)
	got, _ := serve(t, app, req, &calls)
	if diff := cmp.Diff(result{200, "", alice + "/me", 1}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// TestUserContext: the context the handler reads descends from the one
// set before the guard.
func TestUserContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	var calls atomic.Int32
	a := newAuth(t, &calls)
	app := fiber.New()
	app.Use(func(c *fiber.Ctx) error {
		c.SetUserContext(context.WithValue(c.UserContext(), key{}, "from before"))
		return c.Next()
	})
	app.Get("/", authxfiber.Middleware(a.Require()), func(c *fiber.Ctx) error {
		_, ok := authxfiber.Claims(c)
		return c.SendString(fmt.Sprintf("%v %v", c.UserContext().Value(key{}), ok))
	})
	got, _ := serve(t, app, authtest.Request(t, a, authx.InHeader, "GET", "/", authtest.Token(t, a, "alice")), &calls)
	if diff := cmp.Diff(result{200, "", "from before true", 0}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// errorHandler renders errors as an application's ErrorHandler would,
// recording the error it saw in *seen.
func errorHandler(seen *error) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		*seen = err
		var e *authx.Error
		var fe *fiber.Error
		if !errors.As(err, &e) || !errors.As(err, &fe) {
			return c.Status(500).SendString(fmt.Sprintf("not an *authx.Error and a *fiber.Error: %v", err))
		}
		return c.Status(fe.Code).SendString("app: " + e.Code)
	}
}

func TestWithReturnedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target string
		loc                  authx.Location
		tok                  tokenFunc
		want                 result
		wantIs               error // nil: no error reaches the ErrorHandler
		reason               string
	}{
		{"valid", "GET", "/me", authx.InHeader, token("alice"), result{200, "", alice + "/me", 1}, nil, ""},
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
			app := newApp(a, fiber.Config{ErrorHandler: errorHandler(&seen)}, []authxfiber.Option{authxfiber.WithReturnedErrors()})
			got, _ := serve(t, app, request(t, a, tt.method, tt.target, tt.loc, tt.tok), &calls)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s %s: (-want +got)\n%s\n%s", tt.method, tt.target, diff, tt.reason)
			}
			if (seen == nil) != (tt.wantIs == nil) || (seen != nil && !errors.Is(seen, tt.wantIs)) {
				t.Errorf("ErrorHandler got %v, want an error matching %v", seen, tt.wantIs)
			}
			if seen != nil && authx.StatusOf(seen) != tt.want.Status {
				t.Errorf("authx.StatusOf(%v) = %d, want %d", seen, authx.StatusOf(seen), tt.want.Status)
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
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(&seen)})
	app.Get("/flaky", authxfiber.Middleware(a.Require(flaky), authxfiber.WithReturnedErrors()), whoami)
	got, _ := serve(t, app, authtest.Request(t, a, authx.InHeader, "GET", "/flaky", authtest.Token(t, a, "alice")), &calls)
	if diff := cmp.Diff(result{403, "", `{"code":"forbidden","message":"Access denied."}`, 0}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if seen != nil {
		t.Errorf("ErrorHandler got %v, want nothing", seen)
	}
}

// TestDenialHeaders: the denial's own headers join those set before the
// guard (cookies add up), and the body's type is the ErrorHandler's with
// WithReturnedErrors, authx's JSON without.
func TestDenialHeaders(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts            []authxfiber.Option
		wantContentType string
		wantBody        string
	}{
		{nil, "application/json; charset=utf-8", authxBody("invalid_request")},
		{[]authxfiber.Option{authxfiber.WithReturnedErrors()}, "text/plain; charset=utf-8", "app: invalid_request"},
	} {
		var calls atomic.Int32
		var seen error
		a := newAuth(t, &calls)
		app := newApp(a, fiber.Config{ErrorHandler: errorHandler(&seen)}, tt.opts, func(c *fiber.Ctx) error {
			c.Cookie(&fiber.Cookie{Name: "app", Value: "1"})
			return c.Next()
		})
		tok := authtest.Token(t, a, "alice")
		req := authtest.Request(t, a, authx.InCookie, "GET", "/me", tok)
		req.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: tok}) // two of one name: tossed cookies
		got, resp := serve(t, app, req, &calls)
		var names []string
		for _, c := range resp.Cookies() {
			names = append(names, c.Name)
		}
		slices.Sort(names)
		type response struct {
			Status      int
			ContentType string
			Cookies     []string
			Body        string
		}
		want := response{400, tt.wantContentType, []string{"access_token_cookie", "app", "csrf_access_token"}, tt.wantBody}
		if diff := cmp.Diff(want, response{got.Status, resp.Header.Get("Content-Type"), slices.Compact(names), got.Body}); diff != "" {
			t.Errorf("options %v: (-want +got)\n%s", tt.opts, diff)
		}
	}
}

// TestHandlerError: an admitted request's handler error reaches the
// ErrorHandler, in both denial styles.
func TestHandlerError(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]authxfiber.Option{nil, {authxfiber.WithReturnedErrors()}} {
		var calls atomic.Int32
		a := newAuth(t, &calls)
		app := fiber.New()
		app.Get("/teapot", authxfiber.Middleware(a.Require(), opts...), func(*fiber.Ctx) error {
			return fiber.NewError(http.StatusTeapot, "short and stout")
		})
		got, _ := serve(t, app, authtest.Request(t, a, authx.InHeader, "GET", "/teapot", authtest.Token(t, a, "alice")), &calls)
		if diff := cmp.Diff(result{http.StatusTeapot, "", "short and stout", 0}, got); diff != "" {
			t.Errorf("options %v: (-want +got)\n%s", opts, diff)
		}
	}
}

// TestNilGuard: a nil guard denies, as on net/http.
func TestNilGuard(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]authxfiber.Option{nil, {authxfiber.WithReturnedErrors()}} {
		var calls atomic.Int32
		app := fiber.New()
		app.Get("/", authxfiber.Middleware(nil, opts...), whoami)
		got, _ := serve(t, app, httptest.NewRequest("GET", "/", nil), &calls)
		if got.Status != http.StatusInternalServerError {
			t.Errorf("options %v: status %d, want 500", opts, got.Status)
		}
	}
}

// TestAccessorsOutsideGuard: without a guard the accessors report false.
func TestAccessorsOutsideGuard(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		_, okC := authxfiber.Claims(c)
		_, okU := authxfiber.Subject[User](c)
		_, okN := authxfiber.Claims(nil)
		return c.SendString(fmt.Sprint(okC, okU, okN))
	})
	got, _ := serve(t, app, httptest.NewRequest("GET", "/", nil), &calls)
	if diff := cmp.Diff(result{200, "", "false false false", 0}, got); diff != "" {
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
	app := fiber.New()
	admin := app.Group("/admin", authxfiber.Middleware(a.Require(authx.Scopes("admin:*"))))
	admin.Get("/me", func(c *fiber.Ctx) error {
		u, _ := authxfiber.Subject[User](c)
		return c.SendString("hello " + u.Name)
	})

	for _, scope := range []string{"admin:*", "reports:read"} {
		tok, _ := a.CreateAccessToken("alice", authx.Grant(scope))
		req := httptest.NewRequest("GET", "/admin/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, _ := app.Test(req)
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(string(body)))
	}
	// Output:
	// 200  hello Alice
	// 403 Bearer realm="api", error="insufficient_scope", scope="admin:*" {"code":"insufficient_scope","message":"The token lacks a required scope."}
}

func ExampleWithReturnedErrors() {
	a, _ := authx.New[string](authx.WithSecret(secret))
	app := fiber.New() // fiber.DefaultErrorHandler: the error's status, Error() as text
	app.Get("/me", authxfiber.Middleware(a.Require(), authxfiber.WithReturnedErrors()), func(c *fiber.Ctx) error {
		return c.SendString("hello")
	})

	resp, _ := app.Test(httptest.NewRequest("GET", "/me", nil))
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body))
	// Output:
	// 401 Bearer realm="api" No token was found in the request.
}

// TestUnreadableURI: a request URI net/http cannot parse is refused as an
// invalid request (without the realm, which the Auth keeps to itself).
func TestUnreadableURI(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts     []authxfiber.Option
		wantBody string
	}{
		{nil, authxBody("invalid_request")},
		{[]authxfiber.Option{authxfiber.WithReturnedErrors()}, "Bad Request"}, // net/http's answer to such a request
	} {
		var calls atomic.Int32
		var seen error
		a := newAuth(t, &calls)
		app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
			seen = err
			return fiber.DefaultErrorHandler(c, err)
		}})
		app.Use(authxfiber.Middleware(a.Require(), tt.opts...), whoami)
		req := httptest.NewRequest("GET", "/", nil)
		req.RequestURI = "/%zz"
		got, _ := serve(t, app, req, &calls)
		want := result{400, `Bearer error="invalid_request"`, tt.wantBody, 0}
		if tt.opts != nil {
			if !errors.Is(seen, authx.ErrInvalidRequest) || authx.StatusOf(seen) != 400 {
				t.Errorf("ErrorHandler got %v, want ErrInvalidRequest", seen)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("options %v: (-want +got)\n%s", tt.opts, diff)
		}
	}
}

// seen is what a policy sees of the request the guard decides on.
type seen struct {
	Method, Proto, Host, RequestURI, Path string
	HasHost, HasRemoteAddr, NoBody        bool
	Header                                []string // X-Test values
}

// TestRequestAsNetHTTPSeesIt: the guard gets the request as a net/http
// server would hand it over, and its body cannot be read once the request
// is over.
func TestRequestAsNetHTTPSeesIt(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	a := newAuth(t, &calls)
	var got seen
	var kept *http.Request
	look := authx.PolicyFunc(func(ctx context.Context, _ *authx.Claims) error {
		r, ok := authx.RequestFrom(ctx)
		if !ok {
			return authx.ErrForbidden
		}
		_, hasHost := r.Header["Host"]
		got = seen{r.Method, r.Proto, r.Host, r.RequestURI, r.URL.Path,
			hasHost, r.RemoteAddr != "", r.Body == http.NoBody, r.Header.Values("X-Test")}
		kept = r
		return nil
	})
	app := fiber.New()
	app.All("/look", authxfiber.Middleware(a.Require(look)), func(c *fiber.Ctx) error { return c.SendString("ok") })
	tok := authtest.Token(t, a, "alice")
	for _, tt := range []struct {
		method, target string
		body           string
		want           seen
	}{
		{"GET", "/look?q=1", "", seen{"GET", "HTTP/1.1", "example.com", "/look?q=1", "/look", false, true, true, []string{"a", "b"}}},
		{"POST", "/look?q=1", "hello", seen{"POST", "HTTP/1.1", "example.com", "/look?q=1", "/look", false, true, false, []string{"a", "b"}}},
		{"GET", "http://example.org/look?q=1", "", seen{"GET", "HTTP/1.1", "example.org", "http://example.org/look?q=1", "/look", false, true, true, []string{"a", "b"}}},
	} {
		req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
		req.Host = "example.com"
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Add("X-Test", "a")
		req.Header.Add("X-Test", "b")
		if res, _ := serve(t, app, req, &calls); res.Status != 200 {
			t.Fatalf("%s: %+v", tt.method, res)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: the request as the guard saw it (-want +got)\n%s", tt.method, diff)
		}
		if b, err := io.ReadAll(kept.Body); err == nil && tt.body != "" {
			t.Errorf("%s: reading the body after the request: %q, nil; want an error", tt.method, b)
		}
	}
}
