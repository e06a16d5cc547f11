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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Harness describes the stores under test.
type Harness struct {
	// NewBlocklist, NewRefreshStore, NewSessionStore, NewRateLimiter each return a fresh, empty store (its cleanup registered on t); a nil func skips that part of the suite.
	NewBlocklist    func(t *testing.T) authx.Blocklist
	NewRefreshStore func(t *testing.T) authx.RefreshStore
	NewSessionStore func(t *testing.T) authx.SessionStore
	NewRateLimiter  func(t *testing.T) authx.RateLimiter
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

// -- Blocklist ----------------------------------------------------------

func (s *suite) blocklist(t *testing.T) {
	t.Run("RevokeThenIsRevoked", s.blocklistRevoke)
	t.Run("PastUntil", s.blocklistPastUntil)
	t.Run("Expiry", s.blocklistExpiry)
	t.Run("OddIDs", s.blocklistOddIDs)
	t.Run("Concurrent", s.blocklistConcurrent)
}

func (s *suite) revoke(t *testing.T, bl authx.Blocklist, id string, until time.Time) {
	t.Helper()
	if err := bl.Revoke(t.Context(), id, until); err != nil {
		t.Fatalf("Revoke(%s) error: %v", show(id), err)
	}
}

func isRevoked(t *testing.T, bl authx.Blocklist, ids ...string) bool {
	t.Helper()
	got, err := bl.IsRevoked(t.Context(), ids...)
	if err != nil {
		t.Fatalf("IsRevoked(%s) error: %v", showAll(ids), err)
	}
	return got
}

func (s *suite) blocklistRevoke(t *testing.T) {
	tests := []struct {
		name   string
		revoke []string
		ask    []string
		want   bool
		reason string
	}{
		{name: "one id, revoked", revoke: []string{"jti-1"}, ask: []string{"jti-1"}, want: true, reason: "a revoked id is revoked"},
		{name: "one id, another revoked", revoke: []string{"jti-1"}, ask: []string{"jti-2"}, want: false, reason: "only the revoked id is"},
		{name: "empty store", ask: []string{"jti-1"}, want: false, reason: "a fresh store revokes nothing"},
		{name: "several, first revoked", revoke: []string{"jti-1"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: true, reason: "guards ask for token, family and session at once: any revoked is enough"},
		{name: "several, middle revoked", revoke: []string{"fam:f1"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: true, reason: "any revoked is enough"},
		{name: "several, last revoked", revoke: []string{"sid:s1"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: true, reason: "any revoked is enough"},
		{name: "several, all revoked", revoke: []string{"jti-1", "fam:f1", "sid:s1"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: true, reason: "all revoked"},
		{name: "several, none revoked", revoke: []string{"jti-9", "fam:f9"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: false, reason: "none of them is revoked"},
		{name: "no ids", revoke: []string{"jti-1"}, ask: nil, want: false, reason: "of no ids, none is revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bl := s.h.NewBlocklist(t)
			until := s.h.Now().Add(longTTL)
			for _, id := range tt.revoke {
				s.revoke(t, bl, id, until)
			}
			if got := isRevoked(t, bl, tt.ask...); got != tt.want {
				t.Errorf("after Revoke of %q: IsRevoked(%q) = %v, want %v (%s)", tt.revoke, tt.ask, got, tt.want, tt.reason)
			}
		})
	}
}

func (s *suite) blocklistPastUntil(t *testing.T) {
	bl := s.h.NewBlocklist(t)
	// Logout revokes expired tokens too: a time already past must not be
	// an error, and records nothing.
	s.revoke(t, bl, "expired-jti", s.h.Now().Add(-time.Second))
	if isRevoked(t, bl, "expired-jti") {
		t.Error("Revoke with until in the past: IsRevoked = true, want false (nothing recorded)")
	}
}

func (s *suite) blocklistExpiry(t *testing.T) {
	bl := s.h.NewBlocklist(t)
	now := s.h.Now()
	s.revoke(t, bl, "lapses", now.Add(shortTTL))
	s.revoke(t, bl, "extended", now.Add(shortTTL))
	s.revoke(t, bl, "extended", now.Add(longTTL))
	s.revoke(t, bl, "not-shortened", now.Add(longTTL))
	s.revoke(t, bl, "not-shortened", now.Add(shortTTL))
	ids := []string{"lapses", "extended", "not-shortened"}
	state := func() map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = isRevoked(t, bl, id)
		}
		return m
	}
	before := map[string]bool{"lapses": true, "extended": true, "not-shortened": true}
	if diff := cmp.Diff(before, state()); diff != "" {
		t.Errorf("revoked before until (-want +got):\n%s", diff)
	}
	s.h.Advance(t, pastShort)
	// "lapses" is forgotten after its until; revoking again keeps the
	// later time, whichever order the two revocations came in.
	after := map[string]bool{"lapses": false, "extended": true, "not-shortened": true}
	if diff := cmp.Diff(after, state()); diff != "" {
		t.Errorf("revoked %v later (-want +got):\n%s", pastShort, diff)
	}
}

func (s *suite) blocklistOddIDs(t *testing.T) {
	for _, tt := range oddCases {
		t.Run(tt.name, func(t *testing.T) {
			bl := s.h.NewBlocklist(t)
			until := s.h.Now().Add(longTTL)
			for _, id := range tt.set {
				s.revoke(t, bl, id, until)
			}
			for _, id := range tt.set {
				if !isRevoked(t, bl, id) {
					t.Errorf("IsRevoked(%s) = false after Revoke, want true", show(id))
				}
			}
			for _, id := range tt.others {
				if isRevoked(t, bl, id) {
					t.Errorf("IsRevoked(%s) = true, want false: only %s were revoked", show(id), showAll(tt.set))
				}
			}
			if isRevoked(t, bl, tt.others...) {
				t.Errorf("IsRevoked(%s) = true, want false", showAll(tt.others))
			}
		})
	}
}

func (s *suite) blocklistConcurrent(t *testing.T) {
	bl := s.h.NewBlocklist(t)
	ctx := t.Context()
	until := s.h.Now().Add(longTTL)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			id := fmt.Sprintf("concurrent-%d", i)
			if err := bl.Revoke(ctx, id, until); err != nil {
				t.Errorf("Revoke(%q): %v", id, err)
				return
			}
			if err := bl.Revoke(ctx, "shared", until); err != nil {
				t.Errorf("Revoke(shared): %v", err)
			}
			if got, err := bl.IsRevoked(ctx, "never", id); err != nil || !got {
				t.Errorf("IsRevoked(never, %q) = %v, %v; want true, nil", id, got, err)
			}
			if got, err := bl.IsRevoked(ctx, "never"); err != nil || got {
				t.Errorf("IsRevoked(never) = %v, %v; want false, nil", got, err)
			}
		})
	}
	wg.Wait()
	for i := range workers {
		if id := fmt.Sprintf("concurrent-%d", i); !isRevoked(t, bl, id) {
			t.Errorf("IsRevoked(%q) = false after concurrent Revoke, want true", id)
		}
	}
	if !isRevoked(t, bl, "shared") {
		t.Error("IsRevoked(shared) = false after concurrent Revoke, want true")
	}
}

// -- RefreshStore -------------------------------------------------------

func (s *suite) refreshStore(t *testing.T) {
	t.Run("Spend", s.refreshSpend)
	t.Run("Concurrent", s.refreshConcurrent)
	t.Run("IndependentIDs", s.refreshIndependent)
	t.Run("Expiry", s.refreshExpiry)
	t.Run("OddIDs", s.refreshOddIDs)
}

// spent is the outcome of one Spend.
type spent struct {
	First   bool
	SpentAt time.Time
}

func spend(t *testing.T, rs authx.RefreshStore, id string, until time.Time) spent {
	t.Helper()
	first, at, err := rs.Spend(t.Context(), id, until)
	if err != nil {
		t.Fatalf("Spend(%s) error: %v", show(id), err)
	}
	return spent{first, at}
}

func (s *suite) refreshSpend(t *testing.T) {
	rs := s.h.NewRefreshStore(t)
	now := s.h.Now()
	until := now.Add(longTTL)
	if diff := cmp.Diff(spent{First: true}, spend(t, rs, "jti-1", until), approxTime); diff != "" {
		t.Errorf("first Spend (-want +got):\n%s", diff)
	}
	// Later uses report the first use's time (to the tolerance): the
	// reuse grace window is measured from it.
	if diff := cmp.Diff(spent{First: false, SpentAt: now}, spend(t, rs, "jti-1", until), approxTime); diff != "" {
		t.Errorf("second Spend (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(spent{First: false, SpentAt: now}, spend(t, rs, "jti-1", until), approxTime); diff != "" {
		t.Errorf("third Spend (-want +got):\n%s", diff)
	}
}

func (s *suite) refreshConcurrent(t *testing.T) {
	rs := s.h.NewRefreshStore(t)
	ctx := t.Context()
	until := s.h.Now().Add(longTTL)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		firsts int
		zero   int
	)
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			first, at, err := rs.Spend(ctx, "contended", until)
			if err != nil {
				t.Errorf("Spend(contended): %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if first {
				firsts++
			} else if at.IsZero() {
				zero++
			}
		})
	}
	close(start)
	wg.Wait()
	if firsts != 1 {
		t.Errorf("%d concurrent Spend of one id: %d reported first, want exactly 1 (Spend must be atomic)", workers, firsts)
	}
	if zero != 0 {
		t.Errorf("%d concurrent Spend reported not first with a zero spentAt", zero)
	}
}

func (s *suite) refreshIndependent(t *testing.T) {
	rs := s.h.NewRefreshStore(t)
	until := s.h.Now().Add(longTTL)
	var got []bool
	for _, id := range []string{"jti-a", "jti-b", "jti-a", "jti-b", "jti-c"} {
		got = append(got, spend(t, rs, id, until).First)
	}
	if diff := cmp.Diff([]bool{true, true, false, false, true}, got); diff != "" {
		t.Errorf("first? of Spend a, b, a, b, c (-want +got):\n%s", diff)
	}
}

func (s *suite) refreshExpiry(t *testing.T) {
	rs := s.h.NewRefreshStore(t)
	until := s.h.Now().Add(shortTTL)
	if !spend(t, rs, "short", until).First {
		t.Fatal("first Spend(short): first = false, want true")
	}
	if spend(t, rs, "short", until).First {
		t.Error("Spend(short) again before until: first = true, want false")
	}
	s.h.Advance(t, pastShort)
	if !spend(t, rs, "short", s.h.Now().Add(longTTL)).First {
		t.Errorf("Spend(short) %v later, past until: first = false, want true (entries are forgotten after until)", pastShort)
	}
}

func (s *suite) refreshOddIDs(t *testing.T) {
	for _, tt := range oddCases {
		t.Run(tt.name, func(t *testing.T) {
			rs := s.h.NewRefreshStore(t)
			until := s.h.Now().Add(longTTL)
			for _, id := range tt.set {
				if !spend(t, rs, id, until).First {
					t.Errorf("first Spend(%s): first = false, want true", show(id))
				}
			}
			for _, id := range tt.others {
				if !spend(t, rs, id, until).First {
					t.Errorf("first Spend(%s): first = false, want true: only %s were spent", show(id), showAll(tt.set))
				}
			}
			for _, id := range tt.set {
				if got := spend(t, rs, id, until); got.First || got.SpentAt.IsZero() {
					t.Errorf("second Spend(%s) = %+v, want not first with a spentAt", show(id), got)
				}
			}
		})
	}
}

// -- SessionStore -------------------------------------------------------

func (s *suite) sessionStore(t *testing.T) {
	t.Run("RoundTrip", s.sessionRoundTrip)
	t.Run("GetUnknown", s.sessionGetUnknown)
	t.Run("List", s.sessionList)
	t.Run("Touch", s.sessionTouch)
	t.Run("Revoke", s.sessionRevoke)
	t.Run("RevokeAll", s.sessionRevokeAll)
	t.Run("Expiry", s.sessionExpiry)
	t.Run("OddIDs", s.sessionOddIDs)
	t.Run("IDsAreNotSubjects", s.sessionIDsAreNotSubjects)
	t.Run("PrefixSubjects", s.sessionPrefixSubjects)
	t.Run("Concurrent", s.sessionConcurrent)
}

// session returns an active session of sub created age ago, living an hour.
func (s *suite) session(id, sub string, age time.Duration) authx.SessionInfo {
	now := s.h.Now()
	return authx.SessionInfo{
		ID:         id,
		Subject:    sub,
		CreatedAt:  now.Add(-age),
		LastActive: now.Add(-age),
		ExpiresAt:  now.Add(longTTL),
		IP:         "192.0.2.1",
		UserAgent:  "storetest",
		Active:     true,
	}
}

func create(t *testing.T, ss authx.SessionStore, infos ...authx.SessionInfo) {
	t.Helper()
	for _, in := range infos {
		if err := ss.Create(t.Context(), in); err != nil {
			t.Fatalf("Create(%s) error: %v", show(in.ID), err)
		}
	}
}

func get(t *testing.T, ss authx.SessionStore, id string) (authx.SessionInfo, bool) {
	t.Helper()
	got, ok, err := ss.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s) error: %v", show(id), err)
	}
	return got, ok
}

// listIDs returns the ids List reports, in its order.
func listIDs(t *testing.T, ss authx.SessionStore, sub string) []string {
	t.Helper()
	got, err := ss.List(t.Context(), sub)
	if err != nil {
		t.Fatalf("List(%s) error: %v", show(sub), err)
	}
	ids := []string{}
	for _, x := range got {
		if x.Subject != sub {
			t.Errorf("List(%s) holds session %s of subject %s", show(sub), show(x.ID), show(x.Subject))
		}
		ids = append(ids, x.ID)
	}
	return ids
}

func revokeSession(t *testing.T, ss authx.SessionStore, id string) {
	t.Helper()
	if err := ss.Revoke(t.Context(), id); err != nil {
		t.Fatalf("Revoke(%s) error: %v", show(id), err)
	}
}

// revokeAll returns the ids RevokeAll reports, sorted (their order is not
// part of the contract).
func revokeAll(t *testing.T, ss authx.SessionStore, sub string) []string {
	t.Helper()
	ids, err := ss.RevokeAll(t.Context(), sub)
	if err != nil {
		t.Fatalf("RevokeAll(%s) error: %v", show(sub), err)
	}
	ids = append([]string{}, ids...)
	slices.Sort(ids)
	return ids
}

func (s *suite) sessionRoundTrip(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	now := s.h.Now()
	full := authx.SessionInfo{
		ID:         "s-full",
		Subject:    "alice",
		CreatedAt:  now.Add(-time.Minute),
		LastActive: now,
		ExpiresAt:  now.Add(longTTL),
		IP:         "2001:db8::1",
		UserAgent:  "Mozilla/5.0 (X11; Linux x86_64) ☃ \"quoted\"",
		Device:     map[string]string{"name": "laptop", "os": "linux", "empty": "", "ünï": "☃", "a:b": "{c}"},
		Active:     true,
	}
	bare := authx.SessionInfo{
		ID:         "s-bare",
		Subject:    "alice",
		CreatedAt:  now.Add(-2 * time.Minute),
		LastActive: now.Add(-2 * time.Minute),
		ExpiresAt:  now.Add(longTTL),
		Active:     true,
	}
	in := full
	in.Device = map[string]string{}
	for k, v := range full.Device {
		in.Device[k] = v
	}
	create(t, ss, in, bare)
	in.Device["name"] = "changed after Create"

	for _, want := range []authx.SessionInfo{full, bare} {
		got, ok := get(t, ss, want.ID)
		if !ok {
			t.Errorf("Get(%q) after Create: not found", want.ID)
			continue
		}
		if diff := cmp.Diff(want, got, approxTime, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Get(%q) after Create (-want +got):\n%s", want.ID, diff)
		}
		if got.Device != nil {
			got.Device["name"] = "changed after Get"
		}
	}
	if got, _ := get(t, ss, full.ID); got.Device["name"] != "laptop" {
		t.Errorf("Device[name] = %q, want %q: a caller's map must not alias the stored one", got.Device["name"], "laptop")
	}
	list, err := ss.List(t.Context(), "alice")
	if err != nil {
		t.Fatalf("List(alice) error: %v", err)
	}
	if diff := cmp.Diff([]authx.SessionInfo{full, bare}, list, approxTime, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("List(alice) (-want +got):\n%s", diff)
	}
}

func (s *suite) sessionGetUnknown(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	create(t, ss, s.session("known", "alice", 0))
	for _, id := range []string{"unknown", "know", "known ", "alice"} {
		if got, ok := get(t, ss, id); ok {
			t.Errorf("Get(%q) = %+v, true; want not found", id, got)
		}
	}
}

func (s *suite) sessionList(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	create(t, ss,
		s.session("a-mid", "alice", 2*time.Hour),
		s.session("a-new", "alice", time.Hour),
		s.session("b-1", "bob", 0),
		s.session("a-old", "alice", 3*time.Hour),
		s.session("a-revoked", "alice", 30*time.Minute),
	)
	revokeSession(t, ss, "a-revoked")
	tests := []struct {
		name   string
		sub    string
		want   []string
		reason string
	}{
		{name: "alice", sub: "alice", want: []string{"a-new", "a-mid", "a-old"}, reason: "active sessions only, newest (CreatedAt) first"},
		{name: "bob", sub: "bob", want: []string{"b-1"}, reason: "only the subject's own"},
		{name: "nobody", sub: "carol", want: []string{}, reason: "a subject without sessions has none (and no error)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, listIDs(t, ss, tt.sub)); diff != "" {
				t.Errorf("List(%q): %s (-want +got):\n%s", tt.sub, tt.reason, diff)
			}
		})
	}
}

func (s *suite) sessionTouch(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	in := s.session("s-touch", "alice", time.Hour)
	t0 := in.LastActive
	create(t, ss, in)
	ctx := t.Context()
	steps := []struct {
		name   string
		id     string
		at     time.Time
		want   time.Time // LastActive of s-touch after the step
		reason string
	}{
		{name: "later", id: "s-touch", at: t0.Add(30 * time.Minute), want: t0.Add(30 * time.Minute), reason: "Touch records activity"},
		{name: "earlier", id: "s-touch", at: t0.Add(10 * time.Minute), want: t0.Add(30 * time.Minute), reason: "an earlier time (a slow replica) is ignored"},
		{name: "later again", id: "s-touch", at: t0.Add(45 * time.Minute), want: t0.Add(45 * time.Minute), reason: "Touch records activity"},
		{name: "unknown id", id: "unknown", at: t0.Add(50 * time.Minute), want: t0.Add(45 * time.Minute), reason: "touching an unknown session is not an error and changes nothing"},
	}
	for _, st := range steps {
		if err := ss.Touch(ctx, st.id, st.at); err != nil {
			t.Fatalf("%s: Touch(%q) error: %v", st.name, st.id, err)
		}
		want := in
		want.LastActive = st.want
		got, ok := get(t, ss, "s-touch")
		if diff := cmp.Diff(want, got, approxTime, cmpopts.EquateEmpty()); !ok || diff != "" {
			t.Errorf("%s: %s; Get after Touch (found %v) (-want +got):\n%s", st.name, st.reason, ok, diff)
		}
	}
	if got, ok := get(t, ss, "unknown"); ok {
		t.Errorf("Get(unknown) after Touch(unknown) = %+v, true; want not found: Touch creates nothing", got)
	}
}

func (s *suite) sessionRevoke(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	s1, s2 := s.session("s-1", "alice", 2*time.Minute), s.session("s-2", "alice", time.Minute)
	create(t, ss, s1, s2)
	revokeSession(t, ss, "s-1")
	want := s1
	want.Active = false
	got, ok := get(t, ss, "s-1")
	if diff := cmp.Diff(want, got, approxTime, cmpopts.EquateEmpty()); !ok || diff != "" {
		t.Errorf("Get of a revoked session (found %v): want it with Active false until it expires (-want +got):\n%s", ok, diff)
	}
	if diff := cmp.Diff([]string{"s-2"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) after Revoke(s-1) (-want +got):\n%s", diff)
	}
	if got, _ := get(t, ss, "s-2"); !got.Active {
		t.Error("Revoke(s-1) ended s-2 too")
	}
	revokeSession(t, ss, "s-1")     // again: not an error
	revokeSession(t, ss, "unknown") // unknown: not an error
	if got, ok := get(t, ss, "unknown"); ok {
		t.Errorf("Get(unknown) after Revoke(unknown) = %+v, true; want not found: Revoke creates nothing", got)
	}
}

func (s *suite) sessionRevokeAll(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	create(t, ss,
		s.session("a-1", "alice", 3*time.Minute),
		s.session("a-2", "alice", 2*time.Minute),
		s.session("a-revoked", "alice", time.Minute),
		s.session("b-1", "bob", 0),
	)
	revokeSession(t, ss, "a-revoked")
	if diff := cmp.Diff([]string{"a-1", "a-2"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice): want exactly alice's active sessions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) after RevokeAll (-want +got):\n%s", diff)
	}
	for _, id := range []string{"a-1", "a-2"} {
		if got, ok := get(t, ss, id); !ok || got.Active {
			t.Errorf("Get(%q) after RevokeAll = Active %v, found %v; want inactive, found", id, got.Active, ok)
		}
	}
	if diff := cmp.Diff([]string{"b-1"}, listIDs(t, ss, "bob")); diff != "" {
		t.Errorf("List(bob) after RevokeAll(alice): other subjects are left alone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice) again: want no ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, revokeAll(t, ss, "nobody")); diff != "" {
		t.Errorf("RevokeAll(nobody): want no ids (-want +got):\n%s", diff)
	}
}

func (s *suite) sessionExpiry(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	short := s.session("short", "alice", 0)
	short.ExpiresAt = s.h.Now().Add(shortTTL)
	long := s.session("long", "alice", time.Minute)
	revoked := s.session("short-revoked", "alice", 2*time.Minute)
	revoked.ExpiresAt = short.ExpiresAt
	create(t, ss, short, long, revoked)
	revokeSession(t, ss, "short-revoked")
	if _, ok := get(t, ss, "short"); !ok {
		t.Error("Get(short) before it expires: not found")
	}
	if diff := cmp.Diff([]string{"short", "long"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) before expiry (-want +got):\n%s", diff)
	}
	s.h.Advance(t, pastShort)
	for _, id := range []string{"short", "short-revoked"} {
		if got, ok := get(t, ss, id); ok {
			t.Errorf("Get(%q) %v past its ExpiresAt = %+v, true; want not found", id, pastShort-shortTTL, got)
		}
	}
	if diff := cmp.Diff([]string{"long"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) after expiry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"long"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice) after expiry: an expired session is not reported (-want +got):\n%s", diff)
	}
}

func (s *suite) sessionOddIDs(t *testing.T) {
	for _, tt := range oddCases {
		t.Run(tt.name, func(t *testing.T) {
			ss := s.h.NewSessionStore(t)
			// Each odd value is one session's id and its subject's name.
			want := map[string]authx.SessionInfo{}
			for i, v := range tt.set {
				in := s.session(v, v, time.Duration(i)*time.Minute)
				in.Device = map[string]string{v: v}
				want[v] = in
				create(t, ss, in)
			}
			for _, v := range tt.set {
				got, ok := get(t, ss, v)
				if diff := cmp.Diff(want[v], got, approxTime); !ok || diff != "" {
					t.Errorf("Get(%s) (found %v) (-want +got):\n%s", show(v), ok, diff)
				}
				if diff := cmp.Diff([]string{v}, listIDs(t, ss, v)); diff != "" {
					t.Errorf("List(%s) (-want +got):\n%s", show(v), diff)
				}
			}
			for _, o := range tt.others {
				if got, ok := get(t, ss, o); ok {
					t.Errorf("Get(%s) = session %s, want not found: only %s exist", show(o), show(got.ID), showAll(tt.set))
				}
				if got := listIDs(t, ss, o); len(got) != 0 {
					t.Errorf("List(%s) = %s, want none", show(o), showAll(got))
				}
				if got := revokeAll(t, ss, o); len(got) != 0 {
					t.Errorf("RevokeAll(%s) = %s, want none", show(o), showAll(got))
				}
				if err := ss.Revoke(t.Context(), o); err != nil {
					t.Errorf("Revoke(%s) error: %v", show(o), err)
				}
			}
			for _, v := range tt.set {
				if got, _ := get(t, ss, v); !got.Active {
					t.Errorf("session %s inactive after revoking only other ids and subjects", show(v))
				}
				if diff := cmp.Diff([]string{v}, revokeAll(t, ss, v)); diff != "" {
					t.Errorf("RevokeAll(%s) (-want +got):\n%s", show(v), diff)
				}
			}
		})
	}
}

func (s *suite) sessionIDsAreNotSubjects(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	// Stores that keep ids and subject indexes in one key space mix these up.
	create(t, ss, s.session("alice", "bob", time.Minute), s.session("bob", "alice", 0))
	if got, _ := get(t, ss, "alice"); got.Subject != "bob" {
		t.Errorf("Get(alice).Subject = %q, want bob", got.Subject)
	}
	if diff := cmp.Diff([]string{"bob"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bob"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice) (-want +got):\n%s", diff)
	}
	if got, ok := get(t, ss, "alice"); !ok || !got.Active {
		t.Errorf("session alice (of bob) after RevokeAll(alice): found %v, active %v; want found, active", ok, got.Active)
	}
}

func (s *suite) sessionPrefixSubjects(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	subjects := []string{"alice", "alice2", "alic", "alice:", "alice*", "*", "Alice", "{alice}"}
	for i, sub := range subjects {
		create(t, ss, s.session(sub+"#1", sub, time.Duration(2*i+1)*time.Minute), s.session(sub+"#2", sub, time.Duration(2*i)*time.Minute))
	}
	for _, sub := range subjects {
		if diff := cmp.Diff([]string{sub + "#2", sub + "#1"}, listIDs(t, ss, sub)); diff != "" {
			t.Errorf("List(%q): only its own sessions (-want +got):\n%s", sub, diff)
		}
	}
	if diff := cmp.Diff([]string{"alice#1", "alice#2"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"*#1", "*#2"}, revokeAll(t, ss, "*")); diff != "" {
		t.Errorf("RevokeAll(*) is not a pattern (-want +got):\n%s", diff)
	}
	for _, sub := range subjects[1:] {
		if sub == "*" {
			continue
		}
		if diff := cmp.Diff([]string{sub + "#2", sub + "#1"}, listIDs(t, ss, sub)); diff != "" {
			t.Errorf("List(%q) after RevokeAll(alice) and RevokeAll(*) (-want +got):\n%s", sub, diff)
		}
	}
}

func (s *suite) sessionConcurrent(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	want := make([]string, 0, workers)
	for i := range workers {
		id := fmt.Sprintf("crowd-%02d", i)
		want = append(want, id)
		in := s.session(id, "crowd", time.Duration(i)*time.Second)
		wg.Go(func() {
			if err := ss.Create(ctx, in); err != nil {
				t.Errorf("Create(%q): %v", id, err)
				return
			}
			if err := ss.Touch(ctx, id, in.LastActive.Add(time.Minute)); err != nil {
				t.Errorf("Touch(%q): %v", id, err)
			}
			if _, ok, err := ss.Get(ctx, id); err != nil || !ok {
				t.Errorf("Get(%q) = found %v, %v; want found", id, ok, err)
			}
			if _, err := ss.List(ctx, "crowd"); err != nil {
				t.Errorf("List(crowd): %v", err)
			}
		})
	}
	wg.Wait()
	if diff := cmp.Diff(want, listIDs(t, ss, "crowd")); diff != "" {
		t.Errorf("List(crowd) after concurrent Create (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, revokeAll(t, ss, "crowd")); diff != "" {
		t.Errorf("RevokeAll(crowd) (-want +got):\n%s", diff)
	}
}

// -- RateLimiter --------------------------------------------------------

func (s *suite) rateLimiter(t *testing.T) {
	t.Run("Limits", s.limitLimits)
	t.Run("IndependentKeys", s.limitIndependent)
	t.Run("OddKeys", s.limitOddKeys)
	t.Run("Concurrent", s.limitConcurrent)
	t.Run("Refill", s.limitRefill)
}

// allowN calls Allow n times and returns which were allowed, checking
// that every denial says when to retry: within (0, l.Per].
func allowN(t *testing.T, rl authx.RateLimiter, key string, l authx.Limit, n int) []bool {
	t.Helper()
	got := make([]bool, n)
	for i := range n {
		ok, retry, err := rl.Allow(t.Context(), key, l)
		if err != nil {
			t.Fatalf("Allow(%s, %v) error: %v", show(key), l, err)
		}
		got[i] = ok
		if !ok && (retry <= 0 || retry > l.Per) {
			t.Errorf("Allow(%s, %v) denied with retryAfter %v, want within (0, %v]", show(key), l, retry, l.Per)
		}
	}
	return got
}

// allowed returns n trues then m falses.
func allowed(n, m int) []bool {
	out := make([]bool, n+m)
	for i := range n {
		out[i] = true
	}
	return out
}

func (s *suite) limitLimits(t *testing.T) {
	tests := []struct {
		name   string
		limit  authx.Limit
		want   int // events allowed at once
		reason string
	}{
		{name: "3 a minute", limit: authx.Limit{Rate: 3, Per: time.Minute, Burst: 3}, want: 3, reason: "a full bucket holds Burst events"},
		{name: "burst 0 means rate", limit: authx.Limit{Rate: 3, Per: time.Minute}, want: 3, reason: "Burst 0 is Burst = Rate"},
		{name: "burst above rate", limit: authx.Limit{Rate: 1, Per: time.Minute, Burst: 4}, want: 4, reason: "bursts of up to Burst"},
		{name: "burst below rate", limit: authx.Limit{Rate: 5, Per: time.Minute, Burst: 1}, want: 1, reason: "bursts of up to Burst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl := s.h.NewRateLimiter(t)
			if diff := cmp.Diff(allowed(tt.want, 2), allowN(t, rl, "key", tt.limit, tt.want+2)); diff != "" {
				t.Errorf("Allow × %d under %v: %s (-want +got):\n%s", tt.want+2, tt.limit, tt.reason, diff)
			}
		})
	}
}

func (s *suite) limitIndependent(t *testing.T) {
	rl := s.h.NewRateLimiter(t)
	l := authx.Limit{Rate: 3, Per: time.Minute, Burst: 3}
	steps := []struct {
		key  string
		n    int
		want []bool
	}{
		{"login:ip:192.0.2.1", 4, allowed(3, 1)},
		{"login:ip:192.0.2.2", 4, allowed(3, 1)},
		{"api:ip:192.0.2.1", 1, allowed(1, 0)},
		{"login:ip:192.0.2.1", 1, allowed(0, 1)},
	}
	for i, st := range steps {
		if diff := cmp.Diff(st.want, allowN(t, rl, st.key, l, st.n)); diff != "" {
			t.Errorf("step %d: Allow(%q) × %d: keys are independent (-want +got):\n%s", i, st.key, st.n, diff)
		}
	}
}

func (s *suite) limitOddKeys(t *testing.T) {
	l := authx.Limit{Rate: 1, Per: time.Minute, Burst: 1}
	for _, tt := range oddCases {
		t.Run(tt.name, func(t *testing.T) {
			rl := s.h.NewRateLimiter(t)
			for _, k := range tt.set {
				if got := allowN(t, rl, k, l, 1); !got[0] {
					t.Errorf("first Allow(%s) denied, want allowed", show(k))
				}
			}
			for _, k := range tt.others {
				if got := allowN(t, rl, k, l, 1); !got[0] {
					t.Errorf("first Allow(%s) denied, want allowed: only %s were used", show(k), showAll(tt.set))
				}
			}
			for _, k := range tt.set {
				if got := allowN(t, rl, k, l, 1); got[0] {
					t.Errorf("second Allow(%s) under %v allowed, want denied", show(k), l)
				}
			}
		})
	}
}

func (s *suite) limitConcurrent(t *testing.T) {
	rl := s.h.NewRateLimiter(t)
	ctx := t.Context()
	l := authx.Limit{Rate: 10, Per: time.Minute, Burst: 10}
	const callers = 50
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got int
	)
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			ok, _, err := rl.Allow(ctx, "contended", l)
			if err != nil {
				t.Errorf("Allow(contended): %v", err)
				return
			}
			if ok {
				mu.Lock()
				got++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if got != l.Burst {
		t.Errorf("%d concurrent Allow under %v: %d allowed, want exactly %d", callers, l, got, l.Burst)
	}
}

func (s *suite) limitRefill(t *testing.T) {
	rl := s.h.NewRateLimiter(t)
	l := authx.Limit{Rate: 2, Per: 400 * time.Millisecond} // burst 2, a token every 200 ms
	if diff := cmp.Diff(allowed(2, 1), allowN(t, rl, "refill", l, 3)); diff != "" {
		t.Errorf("Allow × 3 under %v (-want +got):\n%s", l, diff)
	}
	s.h.Advance(t, pastShort)
	if got := allowN(t, rl, "refill", l, 1); !got[0] {
		t.Errorf("Allow under %v, %v after the bucket emptied: denied, want allowed (the bucket refills)", l, pastShort)
	}
}
