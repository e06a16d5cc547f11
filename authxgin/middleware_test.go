package authxgin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/authxgin"
	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"
)

// TestMain quiets gin's debug output (route listings on stdout), which
// would otherwise end up in the examples' output.
func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

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
func whoami(c *gin.Context) {
	claims, okC := authxgin.Claims(c)
	u, okU := authxgin.Subject[User](c)
	u2, _ := authxgin.Subject[User](c) // a second call: the getter does not run again
	if !okC {
		c.String(http.StatusOK, "anonymous %v", okU)
		return
	}
	c.String(http.StatusOK, "sub=%s user=%s same=%v query=%q", claims.Subject, u.Name, u == u2, c.Request.URL.RawQuery)
}

// routes registers the test routes on r, guarded by a's guards with opts.
func routes(r *gin.Engine, a *authx.Auth[User], opts ...authxgin.Option) {
	mw := func(g *authx.Guard) gin.HandlerFunc { return authxgin.Middleware(g, opts...) }
	r.GET("/me", mw(a.Require()), whoami)
	r.POST("/me", mw(a.Require()), whoami)
	r.GET("/admin", mw(a.Require(authx.Scopes("admin:*"))), whoami)
	r.GET("/optional", mw(a.Optional()), whoami)
	r.GET("/known", mw(a.Require(a.KnownSubject())), func(c *gin.Context) {
		authxgin.Subject[User](c) // another middleware asking
		c.Next()
	}, whoami)
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

// request builds a request to target carrying what tok returns (made
// with a) at loc; a nil tok sends no token.
type tokenFunc func(t *testing.T, a *authx.Auth[User]) string

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

const (
	missing   = `{"code":"missing_token","message":"No token was found in the request."}`
	invalid   = `{"code":"invalid_token","message":"The token is invalid."}`
	noScope   = `{"code":"insufficient_scope","message":"The token lacks a required scope."}`
	noCSRF    = `{"code":"csrf_missing","message":"Missing CSRF token: send the csrf cookie's value in the CSRF header."}`
	noSubject = `{"code":"subject_not_found","message":"The token's subject is unknown."}`
)

func TestMiddleware(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target string
		loc                  authx.Location
		tok                  tokenFunc
		want                 result
		reason               string
	}{
		{"valid", "GET", "/me", authx.InHeader, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query=""`, 1}, "the handler sees claims and the typed user, resolved once"},
		{"missing", "GET", "/me", authx.InHeader, nil,
			result{401, `Bearer realm="api"`, missing, 0}, "no token: 401 with the bare challenge"},
		{"bad token", "GET", "/me", authx.InHeader, forged,
			result{401, `Bearer realm="api", error="invalid_token"`, invalid, 0}, "a forged signature is invalid_token"},
		{"wrong scope", "GET", "/admin", authx.InHeader, token("alice", authx.Grant("reports:read")),
			result{403, `Bearer realm="api", error="insufficient_scope", scope="admin:*"`, noScope, 0}, "scopes are the guard's"},
		{"right scope", "GET", "/admin", authx.InHeader, token("alice", authx.Grant("admin:*")),
			result{200, "", `sub=alice user=Alice same=true query=""`, 1}, ""},
		{"cookie GET", "GET", "/me", authx.InCookie, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query=""`, 1}, "cookies reach the guard"},
		{"cookie POST without CSRF", "POST", "/me", authx.InCookie, token("alice"),
			result{403, "", noCSRF, 0}, "the double-submit check runs through the adapter"},
		{"query token hidden", "GET", "/me?x=1", authx.InQuery, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query="x=1"`, 1}, "the handler's URL has no token"},
		{"optional anonymous", "GET", "/optional", authx.InHeader, nil,
			result{200, "", "anonymous false", 0}, "Optional lets anonymous requests through, without a subject"},
		{"optional with token", "GET", "/optional", authx.InHeader, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query=""`, 1}, ""},
		{"optional bad token", "GET", "/optional", authx.InHeader, forged,
			result{401, `Bearer realm="api", error="invalid_token"`, invalid, 0}, "an invalid token is never anonymous"},
		{"known subject once", "GET", "/known", authx.InHeader, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query=""`, 1}, "policy, middleware and handler share one resolution"},
		{"unknown subject", "GET", "/known", authx.InHeader, token("ghost"),
			result{401, `Bearer realm="api", error="invalid_token"`, noSubject, 1}, ""},
	}
	for _, mode := range []struct {
		name string
		opts []authxgin.Option
	}{{"default", nil}, {"nil option", []authxgin.Option{nil}}} {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var calls atomic.Int32
				a := newAuth(t, &calls)
				r := gin.New()
				routes(r, a, mode.opts...)
				got := serve(r, request(t, a, tt.method, tt.target, tt.loc, tt.tok), &calls)
				if diff := cmp.Diff(tt.want, got); diff != "" {
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
	for _, opts := range [][]authxgin.Option{nil, {authxgin.WithContextErrors()}} {
		var calls atomic.Int32
		a := newAuth(t, &calls)
		r := gin.New()
		routes(r, a, opts...)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, authtest.Request(t, a, authx.InQuery, "GET", "/me", authtest.Token(t, a, "alice")))
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
	r := gin.New()
	routes(r, a)
	tok := authtest.Token(t, a, "alice")
	c, err := a.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	req := authtest.Request(t, a, authx.InCookie, "POST", "/me", tok)
	req.Header.Set("X-CSRF-TOKEN", c.CSRF)
	want := result{200, "", `sub=alice user=Alice same=true query=""`, 1}
	if diff := cmp.Diff(want, serve(r, req, &calls)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// errorMiddleware renders c.Errors as an application would, recording
// the error it saw in *seen.
func errorMiddleware(seen *error) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		last := c.Errors.Last()
		if last == nil {
			return
		}
		*seen = last.Err
		var e *authx.Error
		if !errors.As(last, &e) {
			c.String(http.StatusInternalServerError, "not an *authx.Error: %v", last)
			return
		}
		c.String(c.Writer.Status(), "app: %s", e.Code)
	}
}

func TestWithContextErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target string
		loc                  authx.Location
		tok                  tokenFunc
		want                 result
		wantIs               error // nil: no error reaches c.Errors
		reason               string
	}{
		{"valid", "GET", "/me", authx.InHeader, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query=""`, 1}, nil, ""},
		{"missing", "GET", "/me", authx.InHeader, nil,
			result{401, `Bearer realm="api"`, "app: missing_token", 0}, authx.ErrNoToken, "the challenge is set, the body is the app's"},
		{"bad token", "GET", "/me", authx.InHeader, forged,
			result{401, `Bearer realm="api", error="invalid_token"`, "app: invalid_token", 0}, authx.ErrSignature, ""},
		{"wrong scope", "GET", "/admin", authx.InHeader, token("alice"),
			result{403, `Bearer realm="api", error="insufficient_scope", scope="admin:*"`, "app: insufficient_scope", 0}, authx.ErrInsufficientScope, ""},
		{"cookie POST without CSRF", "POST", "/me", authx.InCookie, token("alice"),
			result{403, "", "app: csrf_missing", 0}, authx.ErrCSRFMissing, ""},
		{"query token hidden", "GET", "/me?x=1", authx.InQuery, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query="x=1"`, 1}, nil, ""},
		{"optional anonymous", "GET", "/optional", authx.InHeader, nil,
			result{200, "", "anonymous false", 0}, nil, ""},
		{"known subject once", "GET", "/known", authx.InHeader, token("alice"),
			result{200, "", `sub=alice user=Alice same=true query=""`, 1}, nil, ""},
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
			r := gin.New()
			r.Use(errorMiddleware(&seen))
			routes(r, a, authxgin.WithContextErrors())
			got := serve(r, request(t, a, tt.method, tt.target, tt.loc, tt.tok), &calls)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s %s: (-want +got)\n%s\n%s", tt.method, tt.target, diff, tt.reason)
			}
			if (seen == nil) != (tt.wantIs == nil) || (seen != nil && !errors.Is(seen, tt.wantIs)) {
				t.Errorf("c.Errors.Last() = %v, want an error matching %v", seen, tt.wantIs)
			}
			if seen != nil && authx.StatusOf(seen) != tt.want.Status {
				t.Errorf("authx.StatusOf(%v) = %d, want %d", seen, authx.StatusOf(seen), tt.want.Status)
			}
		})
	}
}

// TestWithContextErrorsRecheckAdmits: when the second look at a denied
// request admits it (a policy that changed its mind), the denial stands,
// written as authx writes it, and the handler never runs.
func TestWithContextErrorsRecheckAdmits(t *testing.T) {
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
	r := gin.New()
	r.Use(errorMiddleware(&seen))
	r.GET("/flaky", authxgin.Middleware(a.Require(flaky), authxgin.WithContextErrors()), whoami)
	req := authtest.Request(t, a, authx.InHeader, "GET", "/flaky", authtest.Token(t, a, "alice"))
	want := result{403, "", `{"code":"forbidden","message":"Access denied."}`, 0}
	if diff := cmp.Diff(want, serve(r, req, &calls)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if seen != nil {
		t.Errorf("c.Errors.Last() = %v, want none", seen)
	}
}

// TestNilGuard: a nil guard denies, as on net/http.
func TestNilGuard(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]authxgin.Option{nil, {authxgin.WithContextErrors()}} {
		r := gin.New()
		r.GET("/", authxgin.Middleware(nil, opts...), whoami)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != http.StatusInternalServerError {
			t.Errorf("options %v: status %d, want 500", opts, w.Code)
		}
	}
}

// TestAccessorsOutsideGuard: without a guard, or without a request, the
// accessors report false.
func TestAccessorsOutsideGuard(t *testing.T) {
	t.Parallel()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	_, okC := authxgin.Claims(c)
	_, okU := authxgin.Subject[User](c)
	c.Request = httptest.NewRequest("GET", "/", nil)
	_, okC2 := authxgin.Claims(c)
	_, okU2 := authxgin.Subject[User](c)
	_, okN := authxgin.Claims(nil)
	if diff := cmp.Diff([]bool{false, false, false, false, false}, []bool{okC, okU, okC2, okU2, okN}); diff != "" {
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
	r := gin.New()
	admin := r.Group("/admin", authxgin.Middleware(a.Require(authx.Scopes("admin:*"))))
	admin.GET("/me", func(c *gin.Context) {
		u, _ := authxgin.Subject[User](c)
		c.String(http.StatusOK, "hello %s", u.Name)
	})

	for _, scope := range []string{"admin:*", "reports:read"} {
		tok, _ := a.CreateAccessToken("alice", authx.Grant(scope))
		req := httptest.NewRequest("GET", "/admin/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200  hello Alice
	// 403 Bearer realm="api", error="insufficient_scope", scope="admin:*" {"code":"insufficient_scope","message":"The token lacks a required scope."}
}

func ExampleWithContextErrors() {
	a, _ := authx.New[string](authx.WithSecret(secret))
	r := gin.New()
	r.Use(func(c *gin.Context) { // the application's error rendering
		c.Next()
		var e *authx.Error
		if err := c.Errors.Last(); err != nil && errors.As(err, &e) {
			c.JSON(c.Writer.Status(), gin.H{"error": e.Code, "is_no_token": errors.Is(err, authx.ErrNoToken)})
		}
	})
	r.GET("/me", authxgin.Middleware(a.Require(), authxgin.WithContextErrors()), func(c *gin.Context) {
		c.String(http.StatusOK, "hello")
	})

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/me", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
	// Output:
	// 401 Bearer realm="api" {"error":"missing_token","is_no_token":true}
}

// TestWithContextErrorsHeaders: the denial's own headers join those set
// before the guard (cookies add up), and the body's type is the
// application's, not that of authx's JSON.
func TestWithContextErrorsHeaders(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var seen error
	a := newAuth(t, &calls)
	r := gin.New()
	r.Use(errorMiddleware(&seen), func(c *gin.Context) {
		c.SetCookie("app", "1", 0, "/", "", true, true)
		c.Next()
	})
	routes(r, a, authxgin.WithContextErrors())
	tok := authtest.Token(t, a, "alice")
	req := authtest.Request(t, a, authx.InCookie, "GET", "/me", tok)
	req.AddCookie(&http.Cookie{Name: "access_token_cookie", Value: tok}) // two of one name: tossed cookies
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var names []string
	for _, c := range w.Result().Cookies() {
		names = append(names, c.Name)
	}
	type response struct {
		Status      int
		ContentType string
		Cookies     []string
		Body        string
	}
	slices.Sort(names)
	got := response{w.Code, w.Header().Get("Content-Type"), slices.Compact(names), w.Body.String()}
	want := response{400, "text/plain; charset=utf-8", []string{"access_token_cookie", "app", "csrf_access_token"}, "app: invalid_request"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s\ncookies: %v", diff, names)
	}
	if !errors.Is(seen, authx.ErrInvalidRequest) {
		t.Errorf("c.Errors.Last() = %v, want ErrInvalidRequest", seen)
	}
}
