package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

	// The demo, in-process, on real time with short tokens: they live 8 s
	// (7 to 8 s from login: expiries are whole seconds) and the
	// ImplicitRefresh middleware renews them in their last 4 s, on the
	// first request 3 to 4 s after login — which the page sends itself
	// when that window opens. A WebSocket opened with the first token is
	// closed (1008) when it expires, 7 to 8 s after login.
	cfg := defaultConfig()
	cfg.Secret = []byte("browser-test-secret-0123456789ab") // 32 bytes
	cfg.AccessTTL = 8 * time.Second
	cfg.RefreshDelta = 4 * time.Second
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

	// countdowns reads the seconds the expiry and renewal countdowns show
	// ("7 s"), both at the same instant.
	countdowns := func() (expIn, renewIn int) {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`["exp-in", "renew-in"].map((id) => document.getElementById(id).textContent)`))
		if err != nil || len(got) != 2 {
			fatalf("read the countdowns: %q %v", got, err)
		}
		var n [2]int
		for i, s := range got {
			if n[i], err = strconv.Atoi(strings.TrimSuffix(s, " s")); err != nil {
				fatalf("countdowns %q: want seconds (\"7 s\")", got)
			}
		}
		return n[0], n[1]
	}
	// waitBelow polls until the #id countdown shows fewer than n seconds.
	waitBelow := func(id string, n int) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](
			`(id, n) => { const m = /^(\d+) s$/.exec(document.getElementById(id).textContent); return !!m && Number(m[1]) < n; }`,
			chromedp.WithPollingArgs(id, n), chromedp.WithPollingTimeout(3*time.Second)))
		if err != nil {
			fatalf("#%s: want a countdown below %d s within 3 s, have %q (%v)", id, n, text(id), err)
		}
	}
	// logEntries returns the texts of the page's log entries of a kind
	// (the entry's class: "renewal", "ws-close", …).
	logEntries := func(kind string) []string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#log li.`+kind+`")].map((e) => e.textContent)`))
		if err != nil {
			fatalf("read the log: %v", err)
		}
		return got
	}
	// noTokensShown checks that the page shows none of the JWTs in the
	// cookie jar (the HttpOnly ones the page cannot read, and any token
	// that a response would have let it show).
	noTokensShown := func(when string, jar map[string]*network.Cookie) {
		t.Helper()
		page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			fatalf("read the page: %v", err)
		}
		if strings.Contains(page, "eyJ") {
			t.Errorf("%s: the page shows something like a JWT (eyJ…):\n%s", when, page)
		}
		for _, name := range []string{"access_token_cookie", "refresh_token_cookie"} {
			if c := jar[name]; c != nil && len(c.Value) > 16 && strings.Contains(page, c.Value[len(c.Value)-16:]) {
				t.Errorf("%s: the page shows %s", when, name)
			}
		}
	}

	start := time.Now()

	// a. Before login the page says so: the claims panel, the countdowns
	// and the log are never empty.
	do("open the page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login")),
		// SetValue, not SendKeys: the page fills in a username, and
		// chromedp v0.23.0's SetValue(sel, "") cannot clear a field (it
		// writes "undefined").
		chromedp.SetValue(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice-password"),
	)
	waitFor("claims", "not signed in")
	waitFor("log", "page loaded: not signed in")
	waitFor("exp-in", "not signed in")

	// b. Log in through the form. The claims panel shows the token's claims
	// as /api/me answers them.
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
	waitFor("claim-sub", "alice (Alice)")
	for id, want := range map[string]string{"claim-scopes": "admin:*", "claim-fresh": "yes", "claim-jti": "…", "claim-sid": "…"} {
		if got := text(id); !strings.Contains(got, want) {
			t.Errorf("after login: #%s = %q, want it to contain %q", id, got, want)
		}
	}
	waitFor("log", "signed in as alice (admin:*)")
	firstExp, firstJTI := text("claim-exp"), text("claim-jti")

	// c. CSRF double submit on a route that needs a fresh token: without
	// the header 403, with it 204. It runs first, while the login's token
	// is outside its renewal window (3 to 4 s after login): the page's
	// own GET /api/me then renews it with a token that is not fresh, and
	// POST /api/me/password would answer 401 fresh_token_required.
	press("password-nocsrf", "password-out", "403", "csrf_missing")
	press("password", "password-out", "204")

	// d. The countdowns to the token's expiry and to its renewal window
	// tick down, a second at a time.
	expIn, renewIn := countdowns()
	if expIn > 8 || expIn-renewIn != 4 {
		t.Errorf("countdowns: expires in %d s, renewal window in %d s; want at most 8 s and 4 s apart (-refresh-delta)", expIn, renewIn)
	}
	waitBelow("exp-in", expIn)
	waitBelow("renew-in", renewIn)
	t.Logf("countdowns: %d s → %q, %d s → %q", expIn, text("exp-in"), renewIn, text("renew-in"))

	// e. An authenticated GET with the cookie.
	press("me", "me-out", "200", `"sub":"alice"`)

	// f. The guarded WebSocket (ticket, then echo), opened with the
	// login's token.
	press("ws-open", "ws-status", "open")
	do("send on the WebSocket",
		chromedp.SetValue(chromedp.ID("ws-input"), "hello"),
		chromedp.Click(chromedp.ID("ws-send")),
	)
	waitFor("ws-log", "alice: hello")
	screenshot("demo-ws.png")

	// g. Implicit refresh: when the window opens the page sends GET
	// /api/me, whose answer carries new cookies; the page then shows the
	// new token's claims and logs the renewal with the new expiry.
	refreshStart := time.Now()
	waitFor("log", "renewal window of token "+firstJTI+" open")
	waitFor("log", "renewed on the answer to GET /api/me")
	t.Logf("implicit refresh %v after the countdowns", time.Since(refreshStart).Round(time.Millisecond))
	newExp, newJTI := text("claim-exp"), text("claim-jti")
	if newExp == firstExp || newJTI == firstJTI {
		t.Errorf("after the renewal: exp %q jti %q, want both changed from %q %q", newExp, newJTI, firstExp, firstJTI)
	}
	if got := logEntries("renewal"); len(got) == 0 || !strings.Contains(got[0], "expires "+newExp) || !strings.Contains(got[0], "was "+firstExp) {
		t.Errorf("renewal log entries %q, want the first to say %q and %q", got, "expires "+newExp, "was "+firstExp)
	}
	if got := text("claim-fresh"); !strings.Contains(got, "no") {
		t.Errorf("renewed token: #claim-fresh = %q, want no", got)
	}
	if got := text("renewals"); got == "0" {
		t.Errorf("#renewals = %q after a renewal", got)
	}
	oldAccess, oldCSRF := jar["access_token_cookie"].Value, jar["csrf_access_token"].Value
	jar = cookies()
	if c := jar["access_token_cookie"]; c == nil || c.Value == oldAccess || !c.HTTPOnly || !c.Secure {
		t.Errorf("access_token_cookie not renewed, or renewed without HttpOnly or Secure: %+v", c)
	}
	if c := jar["csrf_access_token"]; c == nil || c.Value == oldCSRF {
		t.Errorf("csrf_access_token not renewed with the access cookie")
	}
	// The server now sees the renewed token, which is not fresh.
	press("me", "me-out", "200", `"sub":"alice"`, `"fresh":false`)
	noTokensShown("after the renewal", jar)
	// From here on the page sends no request of its own (the renewed
	// token's window opens as the first token expires, and a request of
	// the page's would race the explicit refresh below); when the window
	// opens, the page says the next request renews the token.
	do("click #auto-renew", chromedp.Click(chromedp.ID("auto-renew")))

	// h. The socket outlives the renewal, not the token that opened it:
	// the server closes it with 1008 when that token expires.
	waitFor("log", "WebSocket closed: 1008")
	if got := logEntries("ws-close"); len(got) != 1 || !strings.Contains(got[0], `1008 "token expired"`) {
		t.Errorf("WebSocket close log entries %q, want one with 1008 \"token expired\"", got)
	}
	waitFor("ws-status", "closed 1008")
	screenshot("demo-panels.png")

	// i. With the page's own renewal requests turned off, the window
	// waits for a request; an explicit refresh (the refresh cookie and its
	// CSRF header) is logged as a renewal too.
	waitFor("renew-note", "open since")
	waitFor("renew-note", "the next request renews the token")
	beforeRefresh := len(logEntries("renewal"))
	do("click #refresh", chromedp.Click(chromedp.ID("refresh")))
	waitFor("log", "renewed on the answer to POST /auth/refresh")
	if got := logEntries("renewal"); len(got) != beforeRefresh+1 {
		t.Errorf("renewal log entries after the explicit refresh: %q, want one more than %d", got, beforeRefresh)
	}

	// j. Sessions: the current one is marked.
	press("sessions", "sessions-out", "current")

	// k. Logout closes an open socket normally (1000), and the claims panel
	// says the page is signed out; the API answers 401.
	press("ws-open", "ws-status", "open")
	press("logout", "status", "logged out")
	waitFor("log", `WebSocket closed: 1000 "logged out"`)
	waitFor("claims", "not signed in (logged out)")
	waitFor("exp-in", "not signed in")
	press("me", "me-out", "401")
	if c := cookies()["access_token_cookie"]; c != nil {
		t.Errorf("access_token_cookie still set after logout")
	}
	noTokensShown("after logout", jar)

	// l. The final state.
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
