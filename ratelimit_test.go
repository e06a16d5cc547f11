package authx_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
)

// limitReply is a reply with its Retry-After header.
type limitReply struct {
	Status     int
	Code       string
	RetryAfter string
}

func asLimitReply(r reply) limitReply { return limitReply{Status: r.Status, Code: r.Code} }

var (
	limitOK = asLimitReply(ok200)
	limited = func(secs int) limitReply {
		return limitReply{http.StatusTooManyRequests, "rate_limited", strconv.Itoa(secs)}
	}
	fromAddr = func(addr string, xff ...string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/auth/login", nil)
		r.RemoteAddr = addr
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return r
	}
)

func doLimited(t *testing.T, h http.Handler, r *http.Request) limitReply {
	t.Helper()
	got, w := doReq(t, h, r)
	return limitReply{got.Status, got.Code, w.Header().Get("Retry-After")}
}

// limitStep is one request of a rate-limit scenario: the clock moves by
// advance, then req is served.
type limitStep struct {
	name    string
	advance time.Duration
	req     func() *http.Request
	want    limitReply
}

func runLimitSteps(t *testing.T, h http.Handler, clock *authtest.Clock, steps []limitStep) {
	t.Helper()
	for i, st := range steps {
		clock.Advance(st.advance)
		if diff := cmp.Diff(st.want, doLimited(t, h, st.req())); diff != "" {
			t.Errorf("step %d (%s) (-want +got):\n%s", i, st.name, diff)
		}
	}
}

func repeat(n int, st limitStep) []limitStep {
	out := make([]limitStep, n)
	for i := range out {
		out[i] = st
		if i > 0 {
			out[i].advance = 0
		}
	}
	return out
}

func TestRateLimitAnonymous(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t)
	h := a.RateLimit(authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(5)})(okHandler)
	client := func() *http.Request { return fromAddr("192.0.2.1:1000") }
	var steps []limitStep
	steps = append(steps, repeat(5, limitStep{name: "within the limit", req: client, want: limitOK})...)
	steps = append(steps,
		limitStep{name: "sixth", req: client, want: limited(12)}, // a token every 12 s
		limitStep{name: "same IP, other port", req: func() *http.Request { return fromAddr("192.0.2.1:2000") }, want: limited(12)},
		limitStep{name: "spoofed X-Forwarded-For", req: func() *http.Request { return fromAddr("192.0.2.1:1000", "203.0.113.99") }, want: limited(12)},
		limitStep{name: "other IP", req: func() *http.Request { return fromAddr("192.0.2.2:1000") }, want: limitOK},
		limitStep{name: "still limited 11 s later", advance: 11 * time.Second, req: client, want: limited(1)},
	)
	steps = append(steps, repeat(5, limitStep{name: "a minute later", advance: time.Minute, req: client, want: limitOK})...)
	steps = append(steps, limitStep{name: "and limited again", req: client, want: limited(12)})
	runLimitSteps(t, h, clock, steps)
}

func TestRateLimitOverHTTP(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	srv := httptest.NewServer(a.RateLimit(authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(2)})(okHandler))
	t.Cleanup(srv.Close)
	var got []string
	for range 3 {
		resp, err := srv.Client().Post(srv.URL, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.Status+" Retry-After="+resp.Header.Get("Retry-After")+" "+resp.Header.Get("Content-Type"))
	}
	want := []string{"200 OK Retry-After= ", "200 OK Retry-After= ", "429 Too Many Requests Retry-After=30 application/json; charset=utf-8"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("3 requests under 2/min over HTTP (-want +got):\n%s", diff)
	}
}

func TestRateLimitBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t, authx.WithTrustedProxies("10.0.0.0/8"))
	h := a.RateLimit(authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(2)})(okHandler)
	via := func(xff string) func() *http.Request {
		return func() *http.Request { return fromAddr("10.0.0.5:443", xff) }
	}
	runLimitSteps(t, h, clock, []limitStep{
		{name: "client A", req: via("203.0.113.7"), want: limitOK},
		{name: "client A", req: via("203.0.113.7"), want: limitOK},
		{name: "client A, limited", req: via("203.0.113.7"), want: limited(30)},
		{name: "client A inventing hops", req: via("1.1.1.1, 2.2.2.2, 203.0.113.7"), want: limited(30)},
		{name: "client A claiming a proxy", req: via("10.9.9.9, 203.0.113.7"), want: limited(30)},
		{name: "client B through the same proxy", req: via("203.0.113.8"), want: limitOK},
		{name: "the proxy itself is not the client", req: via("203.0.113.9, 10.0.0.9"), want: limitOK},
	})
}

func TestRateLimitAuthenticated(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t)
	guard := a.Require()
	h := guard.Wrap(a.RateLimit(authx.RateLimitConfig{Name: "api", Authenticated: authx.PerMinute(2)})(okHandler))
	alice, bob := authtest.Token(t, a, "alice"), authtest.Token(t, a, "bob")
	as := func(tok, addr string) func() *http.Request {
		return func() *http.Request {
			r := withBearer(http.MethodGet, "/api", tok)
			r.RemoteAddr = addr
			return r
		}
	}
	runLimitSteps(t, h, clock, []limitStep{
		{name: "alice", req: as(alice, "192.0.2.1:1"), want: limitOK},
		{name: "alice, from another IP", req: as(alice, "192.0.2.2:1"), want: limitOK},
		{name: "alice, limited", req: as(alice, "192.0.2.3:1"), want: limited(30)},
		{name: "alice, another token", req: as(authtest.Token(t, a, "alice"), "192.0.2.1:1"), want: limited(30)},
		{name: "bob, from alice's IP", req: as(bob, "192.0.2.1:1"), want: limitOK},
		{name: "bob", req: as(bob, "192.0.2.1:1"), want: limitOK},
		{name: "bob, limited", req: as(bob, "192.0.2.1:1"), want: limited(30)},
		{name: "no token: the guard answers first", req: as("", "192.0.2.9:1"), want: limitReply{Status: http.StatusUnauthorized, Code: "missing_token"}},
		{name: "alice, 30 s later", advance: 30 * time.Second, req: as(alice, "192.0.2.1:1"), want: limitOK},
	})
}

func TestRateLimitKey(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t)
	h := a.RateLimit(authx.RateLimitConfig{
		Name:      "login",
		Anonymous: authx.PerMinute(3),
		Key:       func(r *http.Request) string { return r.URL.Query().Get("user") },
	})(okHandler)
	login := func(user, addr string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/auth/login?user="+user, nil)
			r.RemoteAddr = addr
			return r
		}
	}
	steps := []limitStep{
		{name: "alice from IP 1", req: login("alice", "192.0.2.1:1"), want: limitOK},
		{name: "alice from IP 2", req: login("alice", "192.0.2.2:1"), want: limitOK},
		{name: "alice from IP 3", req: login("alice", "192.0.2.3:1"), want: limitOK},
		{name: "alice from IP 4: the key, not the IP, is limited", req: login("alice", "192.0.2.4:1"), want: limited(20)},
		{name: "bob from IP 1", req: login("bob", "192.0.2.1:1"), want: limitOK},
	}
	steps = append(steps, repeat(10, limitStep{name: `Key "" skips limiting`, req: login("", "192.0.2.1:1"), want: limitOK})...)
	runLimitSteps(t, h, clock, steps)
}

// erringLimiter cannot answer.
type erringLimiter struct{}

func (erringLimiter) Allow(context.Context, string, authx.Limit) (bool, time.Duration, error) {
	return false, 0, errors.New("limiter down")
}

// recordingLimiter records the keys it is asked about.
type recordingLimiter struct {
	authx.RateLimiter
	mu   sync.Mutex
	keys []string
}

func (l *recordingLimiter) Allow(ctx context.Context, key string, lim authx.Limit) (bool, time.Duration, error) {
	l.mu.Lock()
	l.keys = append(l.keys, key)
	l.mu.Unlock()
	return l.RateLimiter.Allow(ctx, key, lim)
}

func (l *recordingLimiter) asked() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string{}, l.keys...)
}

func TestRateLimitFailsClosed(t *testing.T) {
	t.Parallel()
	misconfigured := limitReply{Status: http.StatusInternalServerError, Code: "misconfigured"}
	tests := []struct {
		name      string
		cfg       authx.RateLimitConfig
		limiter   authx.RateLimiter
		authn     bool // behind a guard, with a token
		want      limitReply
		wantAsked int // calls reaching the limiter
		reason    string
	}{
		{name: "limiter down", cfg: authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(5)}, limiter: erringLimiter{}, want: limitReply{Status: http.StatusServiceUnavailable, Code: "unavailable"}, wantAsked: -1, reason: "a limiter that cannot answer denies"},
		{name: "limiter down, authenticated", cfg: authx.RateLimitConfig{Name: "api", Authenticated: authx.PerMinute(5)}, limiter: erringLimiter{}, authn: true, want: limitReply{Status: http.StatusServiceUnavailable, Code: "unavailable"}, wantAsked: -1, reason: "a limiter that cannot answer denies"},
		{name: "negative rate", cfg: authx.RateLimitConfig{Name: "login", Anonymous: authx.Limit{Rate: -1, Per: time.Minute}}, want: misconfigured, reason: "an invalid limit denies, never allows"},
		{name: "zero per", cfg: authx.RateLimitConfig{Name: "login", Anonymous: authx.Limit{Rate: 5}}, want: misconfigured, reason: "an invalid limit denies"},
		{name: "negative per", cfg: authx.RateLimitConfig{Name: "login", Anonymous: authx.Limit{Rate: 5, Per: -time.Minute}}, want: misconfigured, reason: "an invalid limit denies"},
		{name: "negative burst", cfg: authx.RateLimitConfig{Name: "login", Anonymous: authx.Limit{Rate: 5, Per: time.Minute, Burst: -1}}, want: misconfigured, reason: "an invalid limit denies"},
		{name: "invalid authenticated limit, anonymous request", cfg: authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(5), Authenticated: authx.Limit{Rate: -1, Per: time.Minute}}, want: misconfigured, reason: "either invalid limit makes the whole middleware deny"},
		{name: "invalid authenticated limit", cfg: authx.RateLimitConfig{Name: "api", Authenticated: authx.Limit{Rate: 1}}, authn: true, want: misconfigured, reason: "an invalid limit denies"},
		{name: "zero limits", cfg: authx.RateLimitConfig{Name: "login"}, want: limitOK, reason: "the zero Limit means no limit: the limiter is not asked"},
		{name: "zero limit, authenticated", cfg: authx.RateLimitConfig{Name: "api", Anonymous: authx.PerMinute(1)}, authn: true, want: limitOK, reason: "behind a guard the Authenticated limit applies, and it is zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recordingLimiter{RateLimiter: tt.limiter}
			if tt.limiter == nil {
				rec.RateLimiter = authx.NewMemoryRateLimiter(nil)
			}
			a, _ := newAuth(t, authx.WithRateLimiter(rec))
			h := a.RateLimit(tt.cfg)(okHandler)
			r := fromAddr("192.0.2.1:1")
			if tt.authn {
				h = a.Require().Wrap(h)
				r.Header.Set("Authorization", "Bearer "+authtest.Token(t, a, "alice"))
			}
			if diff := cmp.Diff(tt.want, doLimited(t, h, r)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.reason, diff)
			}
			if got := len(rec.asked()); tt.wantAsked >= 0 && got != tt.wantAsked {
				t.Errorf("limiter asked %d times, want %d", got, tt.wantAsked)
			}
		})
	}
	var nilAuth *authx.Auth[string]
	got := doLimited(t, nilAuth.RateLimit(authx.RateLimitConfig{Name: "x", Anonymous: authx.PerMinute(1)})(okHandler), fromAddr("192.0.2.1:1"))
	if diff := cmp.Diff(limitReply{Status: http.StatusInternalServerError, Code: "misconfigured"}, got); diff != "" {
		t.Errorf("RateLimit of a nil Auth (-want +got):\n%s", diff)
	}
}

func TestRateLimitKeysBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("k", 10<<10)
	tests := []struct {
		name   string
		key    string // returned by the Key func; "" with sub set
		sub    string // the token's subject, behind a guard
		clean  bool   // whether the key is kept as is
		reason string
	}{
		{name: "plain", key: "alice", clean: true, reason: "short printable keys are kept, readable"},
		{name: "200 bytes", key: big[:200], clean: true, reason: "the bound is inclusive"},
		{name: "201 bytes", key: big[:201], reason: "longer keys are hashed"},
		{name: "10 KB", key: big, reason: "a client cannot grow the store's keys"},
		{name: "10 KB and one", key: big + "k", reason: "hashed keys stay distinct"},
		{name: "CRLF", key: "alice\r\nX-Injected: 1", reason: "no control bytes reach the store"},
		{name: "NUL", key: "alice\x00", reason: "no control bytes reach the store"},
		{name: "space", key: "alice smith", reason: "no separators reach the store"},
		{name: "DEL", key: "alice\x7f", reason: "no control bytes reach the store"},
		{name: "unicode", key: "ålice☃", reason: "only printable ASCII is kept as is"},
		{name: "long subject", sub: strings.Repeat("s", 1000), reason: "subjects are bounded like keys"},
		{name: "subject with CRLF", sub: "bob\r\nX-Injected: 1", reason: "subjects are sanitised like keys"},
	}
	rec := &recordingLimiter{RateLimiter: authx.NewMemoryRateLimiter(nil)}
	a, _ := newAuth(t, authx.WithRateLimiter(rec))
	cfg := authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(100), Authenticated: authx.PerMinute(100)}
	bySub := a.Require().Wrap(a.RateLimit(cfg)(okHandler))
	seen := map[string]string{} // store key → test name
	for _, tt := range tests {
		r := fromAddr("192.0.2.1:1")
		h := bySub
		if tt.sub != "" {
			r.Header.Set("Authorization", "Bearer "+authtest.Token(t, a, tt.sub))
		} else {
			// A Key func returning the raw key (header values cannot hold CR, LF or NUL).
			keyed := cfg
			keyed.Key = func(*http.Request) string { return tt.key }
			h = a.RateLimit(keyed)(okHandler)
		}
		before := len(rec.asked())
		if got, _ := doReq(t, h, r); got != ok200 {
			t.Fatalf("%s: %+v", tt.name, got)
		}
		asked := rec.asked()[before:]
		if len(asked) != 1 {
			t.Fatalf("%s: limiter asked %d times, want once", tt.name, len(asked))
		}
		key := asked[0]
		if len(key) > 300 {
			t.Errorf("%s: key of %d bytes handed to the limiter, want ≤ 300 (%s)", tt.name, len(key), tt.reason)
		}
		if i := strings.IndexFunc(key, func(c rune) bool { return c < 0x20 || c == 0x7f }); i >= 0 {
			t.Errorf("%s: key %q has a control byte at %d (%s)", tt.name, key, i, tt.reason)
		}
		id := tt.key
		if tt.sub != "" {
			id = tt.sub
		}
		if got := strings.HasSuffix(key, ":"+id); got != tt.clean {
			t.Errorf("%s: key %.80q keeps the id verbatim: %v, want %v (%s)", tt.name, key, got, tt.clean, tt.reason)
		}
		if other, dup := seen[key]; dup {
			t.Errorf("%s and %s share the limiter key %.80q", tt.name, other, key)
		}
		seen[key] = tt.name
	}
}

// TestRateLimitOneKeyTwoLimits: with a Key func, a client's requests with
// and without a token count under one key, with the Authenticated and the
// Anonymous limit in turn; each change of limit refills the memory
// limiter's bucket (see TestMemoryRateLimiterLimitChangeKeepsLevel), so a
// client alternating is never limited.
func TestRateLimitOneKeyTwoLimits(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	guard := a.Require()
	// Optional authentication: claims in the context when a token verifies.
	optional := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := guard.Check(r); err == nil {
				r = r.WithContext(a.NewContext(r.Context(), c))
			}
			next.ServeHTTP(w, r)
		})
	}
	h := optional(a.RateLimit(authx.RateLimitConfig{
		Name:          "api",
		Anonymous:     authx.PerMinute(5),
		Authenticated: authx.PerMinute(10),
		Key:           func(r *http.Request) string { return r.Header.Get("X-Account") },
	})(okHandler))
	tok := authtest.Token(t, a, "alice")
	allowed := 0
	for i := range 40 {
		r := fromAddr("192.0.2.1:1")
		r.Header.Set("X-Account", "acme")
		if i%2 == 0 {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		if got, _ := doReq(t, h, r); got == ok200 {
			allowed++
		}
	}
	if allowed > 15 {
		t.Errorf("40 requests for one account, alternating with and without a token: %d allowed, want ≤ 15 (10 + 5)", allowed)
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		proxies []string
		remote  string
		xff     []string
		want    string
		reason  string
	}{
		{name: "no proxies", remote: "198.51.100.1:1234", want: "198.51.100.1", reason: "the peer"},
		{name: "no proxies, XFF ignored", remote: "198.51.100.1:1234", xff: []string{"6.6.6.6"}, want: "198.51.100.1", reason: "without trusted proxies anyone could write X-Forwarded-For"},
		{name: "no proxies, XFF from loopback ignored", remote: "127.0.0.1:1234", xff: []string{"6.6.6.6"}, want: "127.0.0.1", reason: "nothing is trusted by default, not even loopback"},
		{name: "no proxies, peer without port", remote: "198.51.100.1", want: "198.51.100.1", reason: "a bare address"},
		{name: "no proxies, IPv6 peer", remote: "[2001:db8::1]:443", want: "2001:db8::1", reason: "brackets and port stripped"},
		{name: "trusted proxy", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"6.6.6.6, 203.0.113.7, 10.0.0.9"}, want: "203.0.113.7", reason: "the right-most untrusted hop; the client-written 6.6.6.6 is ignored"},
		{name: "untrusted peer with XFF", proxies: []string{"10.0.0.0/8"}, remote: "198.51.100.1:1", xff: []string{"203.0.113.7"}, want: "198.51.100.1", reason: "only trusted proxies are believed"},
		{name: "client claiming to be a proxy", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"10.0.0.9, 203.0.113.7"}, want: "203.0.113.7", reason: "hops left of the client are its own writing"},
		{name: "several XFF headers", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"6.6.6.6", "203.0.113.7, 10.0.0.9"}, want: "203.0.113.7", reason: "headers are joined in order"},
		{name: "whitespace", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"  203.0.113.7 ,10.0.0.9 "}, want: "203.0.113.7", reason: "hops are trimmed"},
		{name: "hop with port", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"203.0.113.7:4711"}, want: "203.0.113.7", reason: "a port is stripped"},
		{name: "malformed right-most hop", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"203.0.113.7, garbage"}, want: "10.0.0.5", reason: "trust nothing left of a malformed hop: the peer"},
		{name: "malformed hop between", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"203.0.113.7, 999.1.1.1, 10.0.0.9"}, want: "10.0.0.5", reason: "trust nothing left of a malformed hop"},
		{name: "malformed hop left of the client", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"garbage, 203.0.113.7"}, want: "203.0.113.7", reason: "hops beyond the client are never read"},
		{name: "empty hop", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"203.0.113.7,,10.0.0.9"}, want: "10.0.0.5", reason: "an empty hop is malformed"},
		{name: "no XFF from a proxy", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", want: "10.0.0.5", reason: "the proxy is the client"},
		{name: "only trusted hops", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"10.0.0.1, 10.0.0.2"}, want: "10.0.0.5", reason: "no untrusted hop: the peer"},
		{name: "IPv6", proxies: []string{"2001:db8::/32"}, remote: "[2001:db8::1]:443", xff: []string{"2600::1, 2001:db8::2"}, want: "2600::1", reason: "IPv6 prefixes and hops"},
		{name: "IPv6 hop with brackets and port", proxies: []string{"2001:db8::/32"}, remote: "[2001:db8::1]:443", xff: []string{"[2600::1]:80"}, want: "2600::1", reason: "brackets and port stripped"},
		{name: "IPv6 untrusted peer", proxies: []string{"2001:db8::/32"}, remote: "[2600::9]:443", xff: []string{"2600::1"}, want: "2600::9", reason: "only trusted proxies are believed"},
		{name: "IPv4-mapped peer", proxies: []string{"10.0.0.0/8"}, remote: "[::ffff:10.0.0.5]:443", xff: []string{"203.0.113.7"}, want: "203.0.113.7", reason: "a mapped address is its IPv4 address"},
		{name: "IPv4-mapped hop", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"::ffff:203.0.113.7"}, want: "203.0.113.7", reason: "reported as IPv4, so one client has one key"},
		{name: "IPv4-mapped trusted hop", proxies: []string{"10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"203.0.113.7, ::ffff:10.0.0.9"}, want: "203.0.113.7", reason: "a mapped proxy is a proxy"},
		{name: "single address", proxies: []string{"127.0.0.1"}, remote: "127.0.0.1:5", xff: []string{"203.0.113.7"}, want: "203.0.113.7", reason: "an address is a /32"},
		{name: "single address, another peer", proxies: []string{"127.0.0.1"}, remote: "127.0.0.2:5", xff: []string{"203.0.113.7"}, want: "127.0.0.2", reason: "only that address"},
		{name: "single IPv6 address", proxies: []string{"::1"}, remote: "[::1]:5", xff: []string{"203.0.113.7"}, want: "203.0.113.7", reason: "an address is a /128"},
		{name: "single mapped address", proxies: []string{"::ffff:127.0.0.1"}, remote: "127.0.0.1:5", xff: []string{"203.0.113.7"}, want: "203.0.113.7", reason: "a mapped address configures its IPv4 address"},
		{name: "several proxies", proxies: []string{"192.168.0.0/16", "10.0.0.0/8"}, remote: "10.0.0.5:443", xff: []string{"203.0.113.7, 192.168.1.1"}, want: "203.0.113.7", reason: "any listed prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []authx.Option
			if tt.proxies != nil {
				opts = append(opts, authx.WithTrustedProxies(tt.proxies...))
			}
			a, _ := newAuth(t, opts...)
			if got := a.ClientIP(fromAddr(tt.remote, tt.xff...)); got != tt.want {
				t.Errorf("ClientIP(RemoteAddr %q, X-Forwarded-For %q) = %q, want %q (%s)", tt.remote, tt.xff, got, tt.want, tt.reason)
			}
		})
	}
	var nilAuth *authx.Auth[string]
	if got := nilAuth.ClientIP(fromAddr("192.0.2.1:1")); got != "" {
		t.Errorf("nil Auth ClientIP = %q, want \"\"", got)
	}
}

func TestTrustedProxiesInvalid(t *testing.T) {
	t.Parallel()
	for _, cidr := range []string{"10.0.0.0/33", "not-an-ip", "", "10.0.0.0/8 ", "10.0.0.0/8,192.168.0.0/16", "256.0.0.1", "10.0.0.0/-1", "2001:db8::/129", "localhost"} {
		t.Run(cidr, func(t *testing.T) {
			t.Parallel()
			_, err := authx.New[string](authx.WithSecret(secret32), authx.WithTrustedProxies("192.168.0.0/16", cidr))
			if !errors.Is(err, authx.ErrConfig) {
				t.Errorf("WithTrustedProxies(%q): New error = %v, want ErrConfig", cidr, err)
			}
		})
	}
}

// fixedLimiter refuses every event, asking the client to retry after retry.
type fixedLimiter struct{ retry time.Duration }

func (l fixedLimiter) Allow(context.Context, string, authx.Limit) (bool, time.Duration, error) {
	return false, l.retry, nil
}

// TestRetryAfterLongWaits: Retry-After rounds the limiter's wait up to
// whole seconds without overflowing: rounding by adding a second first
// wrapped waits near the longest Duration to a negative number, written
// as "Retry-After: 1" — an invitation to retry at once.
func TestRetryAfterLongWaits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		retry  time.Duration
		want   string
		reason string
	}{
		{name: "longest Duration", retry: math.MaxInt64, want: "9223372037", reason: "292 years, rounded up"},
		{name: "a second short of it", retry: math.MaxInt64 - time.Second + 1, want: "9223372036", reason: "adding a second would overflow"},
		{name: "a day", retry: 24 * time.Hour, want: "86400", reason: "control"},
		{name: "a fraction", retry: 1500 * time.Millisecond, want: "2", reason: "rounded up"},
		{name: "none given", retry: 0, want: "1", reason: "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newAuth(t, authx.WithRateLimiter(fixedLimiter{tt.retry}))
			srv := httptest.NewServer(a.RateLimit(authx.RateLimitConfig{Name: "login", Anonymous: authx.PerMinute(1)})(okHandler))
			t.Cleanup(srv.Close)
			resp, err := srv.Client().Post(srv.URL, "text/plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := limitReply{resp.StatusCode, "", resp.Header.Get("Retry-After")}
			want := limitReply{http.StatusTooManyRequests, "", tt.want}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("limiter asking to retry after %v (-want +got): %s\n%s", tt.retry, tt.reason, diff)
			}
		})
	}
}

// TestRateLimitNames: the Name is what keeps one RateLimit middleware's
// buckets apart from another's, so it is required, and it must name them
// unambiguously. Two middlewares without a name shared every bucket (a
// login and a signup limit of one event each let one event through in
// all); a name with ':' or longer than 64 bytes (cut to 64) could share
// buckets with another name. Such middlewares now deny every request with
// 500 and never reach the limiter.
func TestRateLimitNames(t *testing.T) {
	t.Parallel()
	one := authx.PerMinute(1)
	misconfigured := "500 misconfigured"
	long := strings.Repeat("n", 64)
	tests := []struct {
		name      string
		cfgs      [2]authx.RateLimitConfig // middlewares of one Auth, behind /0 and /1
		keys      [2]string                // their Key funcs' answer, "" for the IP
		want      []string                 // for requests to /0, /1, /0, /1
		wantAsked int
		reason    string
	}{
		{
			name: "two unnamed", cfgs: [2]authx.RateLimitConfig{{Anonymous: one}, {Anonymous: one}},
			want:   []string{misconfigured, misconfigured, misconfigured, misconfigured},
			reason: "without a name two middlewares shared their buckets; a name is required",
		},
		{
			name: "one unnamed", cfgs: [2]authx.RateLimitConfig{{Name: "login", Anonymous: one}, {Anonymous: one}},
			want: []string{"200", misconfigured, "429 rate_limited", misconfigured}, wantAsked: 2,
			reason: "the unnamed one denies; the named one keeps its own bucket",
		},
		{
			name: "two names", cfgs: [2]authx.RateLimitConfig{{Name: "login", Anonymous: one}, {Name: "signup", Anonymous: one}},
			want: []string{"200", "200", "429 rate_limited", "429 rate_limited"}, wantAsked: 4,
			reason: "one bucket each",
		},
		{
			name: "same name", cfgs: [2]authx.RateLimitConfig{{Name: "login", Anonymous: one}, {Name: "login", Anonymous: one}},
			want: []string{"200", "429 rate_limited", "429 rate_limited", "429 rate_limited"}, wantAsked: 4,
			reason: "one name, one set of buckets: how two routes share a limit on purpose",
		},
		{
			name: "a colon in the name", cfgs: [2]authx.RateLimitConfig{{Name: "a", Anonymous: one}, {Name: "a:key", Anonymous: one}},
			keys: [2]string{"key:x", "x"},
			want: []string{"200", misconfigured, "429 rate_limited", misconfigured}, wantAsked: 2,
			reason: `name "a" with key "key:x" and name "a:key" with key "x" made one bucket`,
		},
		{
			name: "a name past 64 bytes", cfgs: [2]authx.RateLimitConfig{{Name: long, Anonymous: one}, {Name: long + "2", Anonymous: one}},
			want: []string{"200", misconfigured, "429 rate_limited", misconfigured}, wantAsked: 2,
			reason: "names were cut to 64 bytes, so these two shared buckets",
		},
		{
			name: "a space in the name", cfgs: [2]authx.RateLimitConfig{{Name: "log in", Anonymous: one}, {Name: "login", Anonymous: one}},
			want: []string{misconfigured, "200", misconfigured, "429 rate_limited"}, wantAsked: 2,
			reason: "names are printable ASCII without spaces, like the keys they start",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recordingLimiter{RateLimiter: authx.NewMemoryRateLimiter(nil)}
			a, _ := newAuth(t, authx.WithRateLimiter(rec))
			mux := http.NewServeMux()
			for i, cfg := range tt.cfgs {
				if k := tt.keys[i]; k != "" {
					cfg.Key = func(*http.Request) string { return k }
				}
				mux.Handle("/"+strconv.Itoa(i), a.RateLimit(cfg)(okHandler))
			}
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			var got []string
			for i := range 4 {
				resp, err := srv.Client().Post(srv.URL+"/"+strconv.Itoa(i%2), "text/plain", nil)
				if err != nil {
					t.Fatal(err)
				}
				var body struct {
					Code string `json:"code"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				got = append(got, strings.TrimSpace(strconv.Itoa(resp.StatusCode)+" "+body.Code))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("requests to /0, /1, /0, /1 (-want +got): %s\n%s", tt.reason, diff)
			}
			if n := len(rec.asked()); n != tt.wantAsked {
				t.Errorf("limiter asked %d times, want %d (%s)", n, tt.wantAsked, tt.reason)
			}
		})
	}
}
