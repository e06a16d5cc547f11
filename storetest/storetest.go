// Package storetest checks implementations of the authx store interfaces
// — [authx.Blocklist], [authx.RefreshStore], [authx.SessionStore] and
// [authx.RateLimiter] — against their documented contracts, as
// testing/slogtest does for slog handlers. Run it from a test of the
// package that implements the stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			// Each returns a fresh, empty store: a new key prefix, say,
//			// its keys deleted by a cleanup registered on t.
//			NewBlocklist:    func(t *testing.T) authx.Blocklist { return newStore(t) },
//			NewRefreshStore: func(t *testing.T) authx.RefreshStore { return newStore(t) },
//			NewSessionStore: func(t *testing.T) authx.SessionStore { return newSessionStore(t) },
//			NewRateLimiter:  func(t *testing.T) authx.RateLimiter { return newStore(t) },
//			Now:             time.Now,
//			Advance:         func(t *testing.T, d time.Duration) { time.Sleep(d) },
//		})
//	}
//
// In-memory stores built on a controllable clock (authtest.Clock) pass
// Now: clock.Now and an Advance calling clock.Advance(d), and the suite
// then takes no real time. For stores that keep real time it takes a few
// seconds: the entries meant to lapse live 300 ms, it waits 500 ms for
// them four times in all, and it compares times to within a second.
//
// Every check is a subtest named after the promise it checks
// (Blocklist/Expiry, SessionStore/List, RateLimiter/OddKeys/10_KB, …), so
// a failure names the broken promise; rerun one with
// go test -run 'TestConformance/SessionStore/List'.
//
// Beyond the interfaces' doc comments, the suite holds stores to what
// authx relies on: IsRevoked with no ids is false; Revoke with a time
// already past is not an error (logout revokes expired tokens) and records
// nothing; ids, keys and subjects are arbitrary strings — separators, CR
// and LF, NUL, hash tags, glob characters, Unicode, 10 KB — kept apart
// byte for byte.
package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Harness describes the stores under test.
type Harness struct {
	// NewBlocklist returns a fresh, empty Blocklist (its cleanup registered
	// on t); nil skips the Blocklist part of the suite.
	NewBlocklist func(t *testing.T) authx.Blocklist
	// NewRefreshStore returns a fresh, empty RefreshStore; nil skips that
	// part of the suite.
	NewRefreshStore func(t *testing.T) authx.RefreshStore
	// NewSessionStore returns a fresh, empty SessionStore; nil skips that
	// part of the suite.
	NewSessionStore func(t *testing.T) authx.SessionStore
	// NewRateLimiter returns a fresh RateLimiter with no counts; nil skips
	// that part of the suite.
	NewRateLimiter func(t *testing.T) authx.RateLimiter
	// Now returns the stores' current time (time.Now for real stores).
	Now func() time.Time
	// Advance moves the stores' time forward by d: a fake clock's Advance for in-memory stores, a real sleep for stores that keep real time (such as Redis TTLs).
	Advance func(t *testing.T, d time.Duration)
}

// Durations of the suite, short enough for stores that keep real time.
const (
	shortTTL  = 300 * time.Millisecond // life of entries meant to lapse
	pastShort = 500 * time.Millisecond // an Advance past shortTTL
	longTTL   = time.Hour              // life of entries meant to outlive the suite
	tolerance = time.Second            // stores may round times (to ms in Redis)
	workers   = 32                     // goroutines of the concurrency checks
)

// Run runs the conformance suite as subtests of t (sequentially: Advance moves a shared clock).
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Now == nil || h.Advance == nil {
		t.Fatal("storetest: Harness.Now and Harness.Advance are required")
	}
	s := &suite{h: h}
	if h.NewBlocklist != nil {
		t.Run("Blocklist", s.blocklist)
	}
	if h.NewRefreshStore != nil {
		t.Run("RefreshStore", s.refreshStore)
	}
	if h.NewSessionStore != nil {
		t.Run("SessionStore", s.sessionStore)
	}
	if h.NewRateLimiter != nil {
		t.Run("RateLimiter", s.rateLimiter)
	}
}

type suite struct{ h Harness }

// approxTime equates times within the tolerance (zero only with zero).
var approxTime = cmpopts.EquateApproxTime(tolerance)

// show prints an id for a failure message, abbreviating long ones.
func show(id string) string {
	if len(id) > 48 {
		return fmt.Sprintf("%q…(%d bytes)", id[:24], len(id))
	}
	return fmt.Sprintf("%q", id)
}

func showAll(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = show(id)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// big is a 10 KiB id: stores must neither truncate nor refuse it.
var big = strings.Repeat("0123456789abcdef", 640)

// oddCase is a set of ids (or keys, or subjects) a store must keep apart:
// every id of set is recorded; no id of others may then be found. The
// cases catch stores that build keys by concatenation, truncate, hash a
// prefix, normalise case or Unicode, treat ids as patterns, or stop at a
// NUL byte.
type oddCase struct {
	name   string
	set    []string
	others []string
}

var oddCases = []oddCase{
	{"separators", []string{"a:b"}, []string{"a", "b", "a:", ":b", "ab", "a b", "a::b", "b:a"}},
	{"parts", []string{"a", "b"}, []string{"a:b", "ab", "b:a", "a\x00b", "a b", ":a", "b:"}},
	{"prefixes", []string{"fam:x", "sid:x"}, []string{"x", "fam:", "sid:", "fam:x:", "jti:x", "fam:sid:x"}},
	{"whitespace", []string{"with space", " lead", "trail ", "tab\tsep"}, []string{"with", "space", "withspace", "with  space", "lead", "trail", "tab", "sep", "tab sep"}},
	{"line breaks", []string{"crlf\r\nX-Injected: 1", "\r\n"}, []string{"crlf", "X-Injected: 1", "\r", "\n", "crlf\r\n", "\n\r", "crlf\n"}},
	{"hash tags", []string{"{hash}tags}", "{a}b"}, []string{"{hash}", "hash", "tags}", "{tags}", "{a}", "a", "b", "{a}c"}},
	{"patterns", []string{"*", "a?", "[ab]", "%s"}, []string{"x", "a1", "a", "b", "ab", "%d", "[ab"}},
	{"unicode", []string{"ünïcødé ☃", "日本語", "\u00e9"}, []string{"unicode", "ünïcødé", "日本", "e\u0301", "E", "\u00c9"}},
	{"NUL byte", []string{"nul\x00byte"}, []string{"nul", "byte", "nul byte", "nulbyte", "nul\x00"}},
	{"case", []string{"CaseSensitive"}, []string{"casesensitive", "CASESENSITIVE"}},
	{"10 KB", []string{big}, []string{big[:len(big)-1], big + "0", big[:64], big[:200], big[:256], big[:1024], "X" + big[1:], big[:len(big)-1] + "X"}},
}
