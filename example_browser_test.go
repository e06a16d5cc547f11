package authx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/authx-go/authx"
)

// browser is a tiny stand-in for a browser's fetch: a cookie jar, and the
// page's script copying the CSRF cookie into the X-CSRF-TOKEN header.
type browser struct {
	client *http.Client
	base   *url.URL
}

func newBrowser(srv *httptest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	u, _ := url.Parse(srv.URL)
	return &browser{client: c, base: u}
}

func (b *browser) cookie(name string) string {
	for _, c := range b.client.Jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// do sends a request; csrfCookie names the cookie whose value the page's
// script puts in the X-CSRF-TOKEN header ("" for none).
func (b *browser) do(method, path, csrfCookie string) string {
	req, _ := http.NewRequest(method, b.base.String()+path, nil)
	if csrfCookie != "" {
		req.Header.Set("X-CSRF-TOKEN", b.cookie(csrfCookie))
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", string(body)))
}

// Example_cookieLogin shows a browser session: login sets HttpOnly token
// cookies and JavaScript-readable CSRF cookies; unsafe requests must echo
// the CSRF cookie in the X-CSRF-TOKEN header. The cookie jar here is plain
// HTTP, so the example opts out of Secure cookies; keep them in production.
func Example_cookieLogin() {
	a, _ := authx.New[string](
		authx.WithSecret(exampleSecret),
		authx.WithTokenLocations(authx.InCookie),
		authx.WithCookies(authx.CookieConfig{InsecureNoSecure: true}),
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		pair, _ := a.CreateTokenPair("alice", authx.FreshLogin()) // after checking a password
		_ = a.SetTokenCookies(w, pair)
		w.WriteHeader(http.StatusNoContent)
	})
	hello := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }
	mux.Handle("GET /me", a.Require().WrapFunc(hello))
	mux.Handle("POST /transfer", a.Require().WrapFunc(hello))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := newBrowser(srv)
	fmt.Println(b.do("POST", "/login", ""))
	fmt.Println(b.do("GET", "/me", ""))                         // safe method: no CSRF header needed
	fmt.Println(b.do("POST", "/transfer", ""))                  // a forged form post has no header
	fmt.Println(b.do("POST", "/transfer", "csrf_access_token")) // the page's script sends it
	// Output:
	// 204
	// 200 ok
	// 403 {"code":"csrf_missing","message":"Missing CSRF token: send the csrf cookie's value in the CSRF header."}
	// 200 ok
}

// ExampleAuth_RefreshHandler shows the refresh endpoint for an API client:
// the refresh token goes in the Authorization header and comes back
// rotated; using a spent one again is refused.
func ExampleAuth_RefreshHandler() {
	a, _ := authx.New[string](authx.WithSecret(exampleSecret), authx.WithRefreshReuseGrace(0))
	mux := http.NewServeMux()
	mux.Handle("POST /auth/refresh", a.RefreshHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	login, _ := a.CreateTokenPair("alice", authx.Grant("reports:read"))
	refresh := func(tok string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+"/auth/refresh", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	code, pair := refresh(login.RefreshToken)
	c, _ := a.Verify(context.Background(), pair["access_token"].(string))
	fmt.Println(code, pair["token_type"], pair["expires_in"], c.Scopes, c.Fresh)

	code, body := refresh(login.RefreshToken) // spent: its whole login is revoked
	fmt.Println(code, body["code"])
	code, body = refresh(pair["refresh_token"].(string))
	fmt.Println(code, body["code"])
	// Output:
	// 200 bearer 900 [reports:read] false
	// 401 refresh_token_reused
	// 401 token_revoked
}

// ExampleAuth_LogoutHandler shows logout: the access token, and every token
// of the same login, stop working, and the cookies are cleared.
func ExampleAuth_LogoutHandler() {
	a, _ := authx.New[string](authx.WithSecret(exampleSecret))
	mux := http.NewServeMux()
	mux.Handle("POST /auth/logout", a.LogoutHandler())
	mux.Handle("GET /me", a.Require().WrapFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	pair, _ := a.CreateTokenPair("alice")
	call := func(method, path, tok string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return &http.Response{}
		}
		resp.Body.Close()
		return resp
	}
	fmt.Println(call("GET", "/me", pair.AccessToken).StatusCode)
	resp := call("POST", "/auth/logout", pair.AccessToken)
	fmt.Println(resp.StatusCode, len(resp.Cookies()), "cookies cleared")
	fmt.Println(call("GET", "/me", pair.AccessToken).StatusCode)
	_, err := a.Verify(context.Background(), pair.RefreshToken, authx.Refresh)
	fmt.Println(err)
	// Output:
	// 200
	// 204 4 cookies cleared
	// 401
	// authx: token revoked
}
