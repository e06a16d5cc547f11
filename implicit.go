package authx

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authx-go/authx/internal/b64"
	"github.com/authx-go/authx/internal/jsonscan"
)

// peekExpiry reads a token's exp without verifying anything, within the
// bounds decodeClaims applies (dateOf).
func peekExpiry(tok string) (time.Time, bool) {
	d1 := strings.IndexByte(tok, '.')
	d2 := strings.LastIndexByte(tok, '.')
	if d1 < 0 || d2 <= d1 {
		return time.Time{}, false
	}
	// Payloads up to 1 KiB decode on the stack; larger ones (a token with
	// custom data) on the heap, which costs far less than the signature
	// check a failed peek would lead to. Callers bound tok's size.
	var stack [1024]byte
	seg := tok[d1+1 : d2]
	buf := stack[:]
	if n := b64.DecodedLen(len(seg)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := b64.Decode(buf, seg)
	if err != nil {
		return time.Time{}, false
	}
	sc := jsonscan.New(buf[:n])
	if sc.Begin() != nil {
		return time.Time{}, false
	}
	for {
		k, done, err := sc.Next()
		if err != nil || done {
			return time.Time{}, false
		}
		if string(k) == claimExp {
			f, err := sc.Number()
			if err != nil {
				return time.Time{}, false
			}
			return dateOf(f)
		}
		if _, err := sc.Skip(); err != nil {
			return time.Time{}, false
		}
	}
}

// ImplicitRefreshConfig configures [Auth.ImplicitRefresh]. Path rules match
// the URL path exactly; method rules match methods exactly. A request is
// refreshed when it is not excluded by path or method, and, where include
// lists are given, is included by them.
type ImplicitRefreshConfig struct {
	// Delta: refresh when the access token expires within it. Default 10
	// minutes, as Python AuthX, or half the access TTL when the TTL is 10
	// minutes or less; it must be shorter than the access TTL.
	Delta time.Duration
	// IncludePaths, if non-empty, limits refreshing to these paths.
	IncludePaths []string
	// ExcludePaths are never refreshed.
	ExcludePaths []string
	// IncludeMethods, if non-empty, limits refreshing to these methods.
	IncludeMethods []string
	// ExcludeMethods are never refreshed.
	ExcludeMethods []string
}

func (ic ImplicitRefreshConfig) applies(r *http.Request) bool {
	path := r.URL.Path
	switch {
	case slices.Contains(ic.ExcludePaths, path):
		return false
	case len(ic.IncludePaths) > 0 && !slices.Contains(ic.IncludePaths, path):
		return false
	case slices.Contains(ic.ExcludeMethods, r.Method):
		return false
	case len(ic.IncludeMethods) > 0 && !slices.Contains(ic.IncludeMethods, r.Method):
		return false
	}
	return true
}

// ImplicitRefresh returns middleware that keeps cookie sessions alive: when
// a request carries a valid access-token cookie that expires within Delta,
// the response gets a new access cookie (and CSRF cookie) — but only if
// the response is not a refusal: the cookies are added when the handler
// (the guard behind this middleware included) writes a status below 400,
// and dropped otherwise, so a request the guard denies (401, 403) never
// receives fresh tokens. Such a response is marked Cache-Control: no-store.
// The new token is not fresh and keeps the scopes, custom data, audience,
// session and family of the old one, and never outlives its session.
// Revoked tokens, tokens of an unknown, ended or foreign session, tokens
// failing the CSRF checks, and tokens from anywhere but the cookie are
// never refreshed; failures leave the request untouched (the guard
// decides).
//
// Delta must be shorter than the access TTL (else every request would
// renew): a longer one is a mistake in the program, and ImplicitRefresh
// panics with a message saying so, at start-up, as [http.ServeMux.Handle]
// does for a bad pattern. The default is 10 minutes, or half the access
// TTL when that is 10 minutes or less.
func (a *Auth[T]) ImplicitRefresh(ic ImplicitRefreshConfig) func(http.Handler) http.Handler {
	if a.configured() == nil {
		ttl := a.e.cfg.accessTTL
		switch {
		case ic.Delta == 0 && ttl > 10*time.Minute:
			ic.Delta = 10 * time.Minute
		case ic.Delta == 0:
			ic.Delta = ttl / 2
		case ic.Delta < 0 || ic.Delta >= ttl:
			panic(fmt.Sprintf("authx: ImplicitRefreshConfig.Delta %v must be positive and shorter than the access TTL %v (WithAccessTTL), or every request would renew its token", ic.Delta, ttl))
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if a.configured() != nil || !ic.applies(r) {
				next.ServeHTTP(w, r)
				return
			}
			tok, renewed := a.renewCookie(r, ic.Delta)
			if tok == "" {
				next.ServeHTTP(w, r)
				return
			}
			rw := &renewingWriter{ResponseWriter: w, set: func() {
				if err := a.SetAccessCookies(w, tok); err != nil {
					a.e.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "authx: implicit refresh could not set cookies",
						slog.String("error", bound(err.Error(), maxLogError)))
					return
				}
				a.e.emit(r.Context(), r, Event{Kind: EventRefresh}, renewed)
			}}
			next.ServeHTTP(rw, r)
			rw.decide(http.StatusOK) // a handler that wrote nothing answers 200
		})
	}
}

// renewingWriter adds renewed token cookies to a response when its status
// is known, and only to a response that is not a refusal.
type renewingWriter struct {
	http.ResponseWriter
	set     func()
	decided bool
}

func (w *renewingWriter) decide(status int) {
	if w.decided {
		return
	}
	w.decided = true
	if status < http.StatusBadRequest {
		w.set()
	}
}

func (w *renewingWriter) WriteHeader(status int) {
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status) // informational: not yet decided
		return
	}
	w.decide(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *renewingWriter) Write(b []byte) (int, error) {
	w.decide(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Flush sends the headers (deciding as for 200) and flushes.
func (w *renewingWriter) Flush() {
	w.decide(http.StatusOK)
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives [http.ResponseController] (and websocket.Accept) the
// underlying writer.
func (w *renewingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// renewCookie returns a renewed access token for r's access cookie when one
// is due, with the claims of the token it renews, or "".
func (a *Auth[T]) renewCookie(r *http.Request, delta time.Duration) (string, *Claims) {
	e := a.e
	val, err := e.fromCookie(r, Access)
	if err != nil || val == "" || len(val) > e.cfg.maxToken {
		return "", nil // an ambiguous pair of cookies: the guard answers 400
	}
	// Most requests are not due: read exp without verifying first, so the
	// signature (and the guard's own verification) is not paid twice. An
	// unverified exp can only make this skip a renewal.
	if exp, ok := peekExpiry(val); ok && exp.Sub(e.cfg.now()) >= delta {
		return "", nil
	}
	ctx := r.Context()
	c, err := e.check(ctx, val, newPolicySet(nil))
	if err != nil || c.ExpiresAt.Sub(e.cfg.now()) >= delta {
		return "", nil
	}
	if e.checkCSRF(r, c) != nil || e.revoked(ctx, c) != nil || unprovable(c) != nil {
		return "", nil // a bound token is renewed by the refresh endpoint, with proof
	}
	s, err := a.settings(c.Subject, []TokenOption{renewal(c)})
	if err != nil {
		return "", nil
	}
	// A session bounds its tokens: an unknown, ended, foreign or unreadable
	// session is not renewed, and a renewal never outlives it (else "log
	// out everywhere" would miss an active browser).
	sessionEnd, err := e.sessionEnd(ctx, c)
	if err != nil {
		return "", nil
	}
	if s.exp = e.renewedAccessEnd(sessionEnd); !s.exp.After(e.cfg.now().Add(time.Second)) {
		return "", nil // the session ends now: nothing worth renewing
	}
	tok, _, err := a.issue(Access, c.Subject, s)
	if err != nil {
		return "", nil
	}
	return tok, c
}
