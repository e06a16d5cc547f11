package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserEndToEnd drives the demo page in headless Chromium: it clicks
// the page's buttons and reads the page's output elements, as a person would,
// and reads the cookies (HttpOnly ones included) through the DevTools
// protocol. Without a Chromium binary it skips, except under CI=true, where
// it fails: .ci/run installs Debian's chromium.
func TestBrowserEndToEnd(t *testing.T) {
	chrome := findChromium()
	if chrome == "" {
		const msg = "no chromium, chromium-browser or google-chrome in PATH: install Debian's chromium package (apt-get install chromium) to run the browser test"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	// The demo, in-process. Access tokens live 6 s and are renewed by the
	// ImplicitRefresh middleware when they expire within 5 s, that is on
	// the first request a second or so after login.
	cfg := defaultConfig()
	cfg.Secret = []byte("browser-test-secret-0123456789ab") // 32 bytes
	cfg.AccessTTL = 6 * time.Second
	cfg.RefreshDelta = 5 * time.Second
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := newServer(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // http://127.0.0.1:port
	defer srv.Close()

	artifacts := os.Getenv("AUTHX_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	// Chromium as root in a container: no sandbox, no GPU, and nothing that
	// reaches for the network on its own (the machine has none).
	profile, err := os.MkdirTemp("", "authx-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile) // best effort: Chromium may still be writing as it exits
	var chromeOut syncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:], // headless, no-first-run, disable-background-networking, disable-sync, …
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 1200),
		chromedp.CombinedOutput(&chromeOut),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens the tab
		t.Fatalf("start %s: %v\n%s", chrome, err, chromeOut.String())
	}

	// The page's console, uncaught exceptions and browser log (CSP
	// violations, failed requests), shown when the test fails.
	var (
		consoleMu sync.Mutex
		console   []string
	)
	consoleDone := make(chan struct{})
	cctx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(cctx)
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			consoleMu.Lock()
			console = append(console, m.String())
			consoleMu.Unlock()
		}
	}()
	defer func() {
		stopConsole()
		<-consoleDone
		if t.Failed() {
			consoleMu.Lock()
			defer consoleMu.Unlock()
			t.Logf("page console:\n\t%s", strings.Join(console, "\n\t"))
			t.Logf("chromium output:\n%s", chromeOut.String())
		}
	}()

	screenshot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		path := filepath.Join(artifacts, name)
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		t.Logf("screenshot: %s", path)
	}
	fatalf := func(format string, args ...any) {
		t.Helper()
		if ctx.Err() == nil {
			screenshot("demo-failure.png")
		}
		t.Fatalf(format, args...)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			fatalf("%s: %v", what, err)
		}
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			fatalf("read #%s: %v", id, err)
		}
		return s
	}
	// waitFor polls until #id's text contains want, and fails with the text
	// it last saw.
	waitFor := func(id, want string) string {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](
			`(id, want) => { const e = document.getElementById(id); return !!e && e.textContent.includes(want); }`,
			chromedp.WithPollingArgs(id, want), chromedp.WithPollingTimeout(15*time.Second)))
		got := text(id)
		if err != nil {
			fatalf("#%s: want text containing %q, have %q (%v)", id, want, got, err)
		}
		return got
	}
	// press blanks the output element out, clicks the button and waits
	// until the page has written the output again; it then checks that the
	// text contains each of want. Blanking first tells a new answer from an
	// old one with the same text.
	press := func(button, out string, want ...string) string {
		t.Helper()
		do("click #"+button,
			chromedp.Evaluate[chromedp.Void](`document.getElementById("`+out+`").textContent = ""`),
			chromedp.Click(chromedp.ID(button)),
		)
		_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](
			`(id) => { const e = document.getElementById(id); return !!e && e.textContent.trim() !== ""; }`,
			chromedp.WithPollingArgs(out), chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil {
			fatalf("click #%s: #%s stayed empty (%v)", button, out, err)
		}
		got := text(out)
		for _, w := range want {
			if !strings.Contains(got, w) {
				fatalf("click #%s: #%s = %q, want it to contain %q", button, out, got, w)
			}
		}
		return got
	}
	cookies := func() map[string]*network.Cookie {
		t.Helper()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL + "/"}})
		if err != nil {
			fatalf("Network.getCookies: %v", err)
		}
		m := map[string]*network.Cookie{}
		for _, c := range res.Cookies {
			m[c.Name] = c
		}
		return m
	}

	start := time.Now()

	// a. Log in through the form.
	do("open the page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login")),
		// SetValue, not SendKeys: the page fills in a username, and
		// chromedp v0.23.0's SetValue(sel, "") cannot clear a field (it
		// writes "undefined").
		chromedp.SetValue(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice-password"),
	)
	press("login", "status", "logged in")
	jar := cookies()
	for _, want := range []struct {
		name             string
		httpOnly, secure bool
	}{
		{"access_token_cookie", true, true},
		{"refresh_token_cookie", true, true},
		{"csrf_access_token", false, true},
		{"csrf_refresh_token", false, true},
	} {
		c := jar[want.name]
		switch {
		case c == nil:
			fatalf("after login: no cookie %s (have %v)", want.name, cookieNames(jar))
		case c.Value == "":
			t.Errorf("cookie %s is empty", want.name)
		case c.HTTPOnly != want.httpOnly:
			t.Errorf("cookie %s: HttpOnly %v, want %v", want.name, c.HTTPOnly, want.httpOnly)
		case c.Secure != want.secure:
			t.Errorf("cookie %s: Secure %v, want %v (Chromium keeps Secure cookies from http://127.0.0.1)", want.name, c.Secure, want.secure)
		}
		if c != nil {
			t.Logf("cookie %s: HttpOnly=%v Secure=%v SameSite=%v Path=%s", c.Name, c.HTTPOnly, c.Secure, c.SameSite, c.Path)
		}
	}

	// c. CSRF double submit on a route that needs a fresh token: without
	// the header 403, with it 204. It runs before any GET: token expiries are
	// whole seconds, so the access token can come within RefreshDelta (5 s
	// of 6 s) of its expiry at once, and the first GET with the CSRF check
	// passed renews it with a token that is not fresh (POST /api/me/password
	// would then answer 401 fresh_token_required). The POSTs cannot: the one
	// without the header fails the CSRF check, which stops the renewal, and
	// the one with it is judged by the token it carries.
	press("password-nocsrf", "password-out", "403", "csrf_missing")
	press("password", "password-out", "204")

	// b. An authenticated GET with the cookie.
	press("me", "me-out", "200", `"sub":"alice"`)

	// d. Implicit refresh: a second or so after login, a request renews the
	// access cookie and its CSRF value.
	oldAccess, oldCSRF := jar["access_token_cookie"].Value, jar["csrf_access_token"].Value
	refreshStart := time.Now()
	renewed := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		press("me", "me-out", "200")
		if c := cookies()["access_token_cookie"]; c != nil && c.Value != oldAccess {
			renewed = true
			break
		}
	}
	if !renewed {
		fatalf("access_token_cookie not renewed within 10 s of clicking #me (AccessTTL 6 s, RefreshDelta 5 s)")
	}
	t.Logf("implicit refresh after %v of polling", time.Since(refreshStart).Round(time.Millisecond))
	// The server now sees the renewed token, which is not fresh.
	press("me", "me-out", "200", `"sub":"alice"`, `"fresh":false`)
	jar = cookies()
	if c := jar["csrf_access_token"]; c == nil || c.Value == oldCSRF {
		t.Errorf("csrf_access_token not renewed with the access cookie")
	}
	if c := jar["access_token_cookie"]; c == nil || !c.HTTPOnly || !c.Secure {
		t.Errorf("renewed access_token_cookie lost HttpOnly or Secure: %+v", c)
	}

	// e. The guarded WebSocket (ticket, then echo).
	press("ws-open", "ws-status", "open")
	do("send on the WebSocket",
		chromedp.SetValue(chromedp.ID("ws-input"), "hello"),
		chromedp.Click(chromedp.ID("ws-send")),
	)
	waitFor("ws-log", "alice: hello")
	screenshot("demo-ws.png")

	// f. Sessions: the current one is marked.
	press("sessions", "sessions-out", "current")

	// g. Logout, then the API answers 401.
	press("logout", "status", "logged out")
	press("me", "me-out", "401")
	if c := cookies()["access_token_cookie"]; c != nil {
		t.Errorf("access_token_cookie still set after logout")
	}

	// h. The final state.
	screenshot("demo-e2e.png")
	t.Logf("browser steps took %v", time.Since(start).Round(time.Millisecond))
}

func cookieNames(m map[string]*network.Cookie) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	return names
}

// syncBuffer is a bytes.Buffer that Chromium's output goroutine and the test
// can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
