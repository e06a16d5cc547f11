package storetest_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/storetest"
	"github.com/google/go-cmp/cmp"
)

var suiteStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// memoryHarness runs the suite on the in-memory stores, all on one
// controllable clock: the suite then takes no real time.
func memoryHarness() storetest.Harness {
	clock := authtest.NewClock(suiteStart)
	return storetest.Harness{
		NewBlocklist:    func(*testing.T) authx.Blocklist { return authx.NewMemoryBlocklist(clock.Now) },
		NewRefreshStore: func(*testing.T) authx.RefreshStore { return authx.NewMemoryRefreshStore(clock.Now) },
		NewSessionStore: func(*testing.T) authx.SessionStore { return authx.NewMemorySessionStore(clock.Now) },
		NewRateLimiter:  func(*testing.T) authx.RateLimiter { return authx.NewMemoryRateLimiter(clock.Now) },
		Now:             clock.Now,
		Advance:         func(_ *testing.T, d time.Duration) { clock.Advance(d) },
	}
}

func TestMemoryStores(t *testing.T) {
	t.Parallel()
	storetest.Run(t, memoryHarness())
}

// mutants are stores each broken in one way (mostly the memory stores
// with one promise of their contract taken away). TestSuiteCatchesBrokenStores
// runs the suite on each, in a child process, and checks that the checks
// for that promise fail.
var mutants = map[string]func(h *storetest.Harness){
	"correct": func(*storetest.Harness) {},

	"blocklist forgets revocations": func(h *storetest.Harness) {
		wrapBlocklist(h, func(bl authx.Blocklist) authx.Blocklist {
			return blocklistFuncs{Blocklist: bl, isRevoked: func(context.Context, ...string) (bool, error) { return false, nil }}
		})
	},
	"blocklist asks the first id only": func(h *storetest.Harness) {
		wrapBlocklist(h, func(bl authx.Blocklist) authx.Blocklist {
			return blocklistFuncs{Blocklist: bl, isRevoked: func(ctx context.Context, ids ...string) (bool, error) {
				if len(ids) == 0 {
					return false, nil
				}
				return bl.IsRevoked(ctx, ids[0])
			}}
		})
	},
	"blocklist never lapses": func(h *storetest.Harness) {
		wrapBlocklist(h, func(bl authx.Blocklist) authx.Blocklist {
			return blocklistFuncs{Blocklist: bl, revoke: func(ctx context.Context, id string, _ time.Time) error {
				return bl.Revoke(ctx, id, suiteStart.Add(1000*time.Hour))
			}}
		})
	},
	"blocklist keeps the last until": func(h *storetest.Harness) {
		now := h.Now
		h.NewBlocklist = func(*testing.T) authx.Blocklist { return &lastWins{now: now, m: map[string]time.Time{}} }
	},
	"blocklist truncates ids": func(h *storetest.Harness) {
		wrapBlocklist(h, func(bl authx.Blocklist) authx.Blocklist {
			return blocklistFuncs{Blocklist: bl,
				revoke: func(ctx context.Context, id string, until time.Time) error { return bl.Revoke(ctx, cut(id), until) },
				isRevoked: func(ctx context.Context, ids ...string) (bool, error) {
					return bl.IsRevoked(ctx, mapIDs(ids, cut)...)
				}}
		})
	},
	"blocklist joins with colons": func(h *storetest.Harness) {
		// "a:b" is stored as "a" and "b", as a store splitting on its own
		// separator would.
		wrapBlocklist(h, func(bl authx.Blocklist) authx.Blocklist {
			return blocklistFuncs{Blocklist: bl, revoke: func(ctx context.Context, id string, until time.Time) error {
				for _, part := range strings.Split(id, ":") {
					if part != "" {
						if err := bl.Revoke(ctx, part, until); err != nil {
							return err
						}
					}
				}
				return bl.Revoke(ctx, id, until)
			}}
		})
	},
	"blocklist ignores case": func(h *storetest.Harness) {
		wrapBlocklist(h, func(bl authx.Blocklist) authx.Blocklist {
			return blocklistFuncs{Blocklist: bl,
				revoke: func(ctx context.Context, id string, until time.Time) error {
					return bl.Revoke(ctx, strings.ToLower(id), until)
				},
				isRevoked: func(ctx context.Context, ids ...string) (bool, error) {
					return bl.IsRevoked(ctx, mapIDs(ids, strings.ToLower)...)
				}}
		})
	},

	"refresh always first": func(h *storetest.Harness) {
		wrapRefresh(h, func(rs authx.RefreshStore) spendFunc {
			return func(context.Context, string, time.Time) (bool, time.Time, error) { return true, time.Time{}, nil }
		})
	},
	"refresh without spentAt": func(h *storetest.Harness) {
		wrapRefresh(h, func(rs authx.RefreshStore) spendFunc {
			return func(ctx context.Context, id string, until time.Time) (bool, time.Time, error) {
				first, _, err := rs.Spend(ctx, id, until)
				return first, time.Time{}, err
			}
		})
	},
	"refresh never forgets": func(h *storetest.Harness) {
		wrapRefresh(h, func(rs authx.RefreshStore) spendFunc {
			return func(ctx context.Context, id string, _ time.Time) (bool, time.Time, error) {
				return rs.Spend(ctx, id, suiteStart.Add(1000*time.Hour))
			}
		})
	},
	"refresh truncates ids": func(h *storetest.Harness) {
		wrapRefresh(h, func(rs authx.RefreshStore) spendFunc {
			return func(ctx context.Context, id string, until time.Time) (bool, time.Time, error) {
				return rs.Spend(ctx, cut(id), until)
			}
		})
	},

	"sessions listed oldest first": func(h *storetest.Harness) {
		wrapSessions(h, func(s *sessionFuncs) {
			s.list = func(ctx context.Context, sub string) ([]authx.SessionInfo, error) {
				out, err := s.SessionStore.List(ctx, sub)
				slices.Reverse(out)
				return out, err
			}
		})
	},
	"sessions lose the device": func(h *storetest.Harness) {
		wrapSessions(h, func(s *sessionFuncs) {
			s.create = func(ctx context.Context, in authx.SessionInfo) error {
				in.Device = nil
				return s.SessionStore.Create(ctx, in)
			}
		})
	},
	"sessions never expire": func(h *storetest.Harness) {
		wrapSessions(h, func(s *sessionFuncs) {
			s.create = func(ctx context.Context, in authx.SessionInfo) error {
				in.ExpiresAt = in.ExpiresAt.Add(time.Hour)
				return s.SessionStore.Create(ctx, in)
			}
		})
	},
	"sessions ignore touch": func(h *storetest.Harness) {
		wrapSessions(h, func(s *sessionFuncs) {
			s.touch = func(context.Context, string, time.Time) error { return nil }
		})
	},
	"sessions ignore revoke": func(h *storetest.Harness) {
		wrapSessions(h, func(s *sessionFuncs) {
			s.revoke = func(context.Context, string) error { return nil }
		})
	},
	"sessions revoke all without ids": func(h *storetest.Harness) {
		wrapSessions(h, func(s *sessionFuncs) {
			s.revokeAll = func(ctx context.Context, sub string) ([]string, error) {
				_, err := s.SessionStore.RevokeAll(ctx, sub)
				return nil, err
			}
		})
	},
	"sessions listed by prefix": func(h *storetest.Harness) {
		// List(sub) also lists subjects that start with sub, as a store
		// scanning "sess:"+sub+"*" would.
		wrapSessions(h, func(s *sessionFuncs) {
			var mu sync.Mutex
			subjects := map[string]bool{}
			s.create = func(ctx context.Context, in authx.SessionInfo) error {
				mu.Lock()
				subjects[in.Subject] = true
				mu.Unlock()
				return s.SessionStore.Create(ctx, in)
			}
			s.list = func(ctx context.Context, sub string) ([]authx.SessionInfo, error) {
				mu.Lock()
				var subs []string
				for x := range subjects {
					if strings.HasPrefix(x, sub) {
						subs = append(subs, x)
					}
				}
				mu.Unlock()
				var out []authx.SessionInfo
				for _, x := range subs {
					got, err := s.SessionStore.List(ctx, x)
					if err != nil {
						return nil, err
					}
					out = append(out, got...)
				}
				return out, nil
			}
		})
	},

	"limiter always allows": func(h *storetest.Harness) {
		wrapLimiter(h, func(rl authx.RateLimiter) limitFunc {
			return func(context.Context, string, authx.Limit) (bool, time.Duration, error) { return true, 0, nil }
		})
	},
	"limiter without retry": func(h *storetest.Harness) {
		wrapLimiter(h, func(rl authx.RateLimiter) limitFunc {
			return func(ctx context.Context, key string, l authx.Limit) (bool, time.Duration, error) {
				ok, _, err := rl.Allow(ctx, key, l)
				return ok, 0, err
			}
		})
	},
	"limiter takes burst 0 as 1": func(h *storetest.Harness) {
		wrapLimiter(h, func(rl authx.RateLimiter) limitFunc {
			return func(ctx context.Context, key string, l authx.Limit) (bool, time.Duration, error) {
				if l.Burst == 0 {
					l.Burst = 1
				}
				return rl.Allow(ctx, key, l)
			}
		})
	},
	"limiter truncates keys": func(h *storetest.Harness) {
		wrapLimiter(h, func(rl authx.RateLimiter) limitFunc {
			return func(ctx context.Context, key string, l authx.Limit) (bool, time.Duration, error) {
				return rl.Allow(ctx, cut(key), l)
			}
		})
	},
	"limiter never refills": func(h *storetest.Harness) {
		wrapLimiter(h, func(rl authx.RateLimiter) limitFunc {
			return func(ctx context.Context, key string, l authx.Limit) (bool, time.Duration, error) {
				l.Per *= 1000
				ok, retry, err := rl.Allow(ctx, key, l)
				return ok, min(retry, time.Second), err
			}
		})
	},
}

const mutantEnv = "STORETEST_MUTANT"

// TestMutantHelper is not a test: it runs the suite on the mutant named
// by $STORETEST_MUTANT, in the child process TestSuiteCatchesBrokenStores
// starts.
func TestMutantHelper(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("helper process of TestSuiteCatchesBrokenStores")
	}
	mutate, ok := mutants[name]
	if !ok {
		t.Fatalf("unknown mutant %q", name)
	}
	h := memoryHarness()
	mutate(&h)
	storetest.Run(t, h)
}

// TestSuiteCatchesBrokenStores runs the suite on stores broken one way
// each and checks that it fails, in the checks for the broken promise:
// a suite that passes a broken store is itself broken.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	t.Parallel()
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a helper process")
	}
	tests := []struct {
		mutant   string
		wantFail []string // subtests of TestMutantHelper that must fail
		reason   string
	}{
		{mutant: "correct", wantFail: nil, reason: "the memory stores pass: the helper process reports honestly"},
		{mutant: "blocklist forgets revocations", wantFail: []string{"Blocklist/RevokeThenIsRevoked/one_id,_revoked", "Blocklist/Expiry", "Blocklist/OddIDs/10_KB", "Blocklist/Concurrent"}, reason: "IsRevoked always false"},
		{mutant: "blocklist asks the first id only", wantFail: []string{"Blocklist/RevokeThenIsRevoked/several,_middle_revoked", "Blocklist/RevokeThenIsRevoked/several,_last_revoked"}, reason: "guards ask for jti, family and session at once"},
		{mutant: "blocklist never lapses", wantFail: []string{"Blocklist/Expiry", "Blocklist/PastUntil"}, reason: "until ignored"},
		{mutant: "blocklist keeps the last until", wantFail: []string{"Blocklist/Expiry"}, reason: "a second, earlier until shortens a revocation"},
		{mutant: "blocklist truncates ids", wantFail: []string{"Blocklist/OddIDs/10_KB"}, reason: "long ids collide"},
		{mutant: "blocklist joins with colons", wantFail: []string{"Blocklist/OddIDs/separators", "Blocklist/OddIDs/prefixes"}, reason: `"a:b" revokes "a"`},
		{mutant: "blocklist ignores case", wantFail: []string{"Blocklist/OddIDs/case", "Blocklist/OddIDs/unicode"}, reason: "ids differing in case collide"},
		{mutant: "refresh always first", wantFail: []string{"RefreshStore/Spend", "RefreshStore/Concurrent", "RefreshStore/IndependentIDs", "RefreshStore/OddIDs/parts"}, reason: "a refresh token spent any number of times"},
		{mutant: "refresh without spentAt", wantFail: []string{"RefreshStore/Spend", "RefreshStore/Concurrent"}, reason: "the grace window needs the first use's time"},
		{mutant: "refresh never forgets", wantFail: []string{"RefreshStore/Expiry"}, reason: "until ignored"},
		{mutant: "refresh truncates ids", wantFail: []string{"RefreshStore/OddIDs/10_KB"}, reason: "long ids collide"},
		{mutant: "sessions listed oldest first", wantFail: []string{"SessionStore/List/alice", "SessionStore/RoundTrip", "SessionStore/PrefixSubjects", "SessionStore/Concurrent"}, reason: "newest first"},
		{mutant: "sessions lose the device", wantFail: []string{"SessionStore/RoundTrip", "SessionStore/OddIDs/separators"}, reason: "every field round-trips"},
		{mutant: "sessions never expire", wantFail: []string{"SessionStore/Expiry", "SessionStore/RoundTrip"}, reason: "sessions are forgotten after ExpiresAt"},
		{mutant: "sessions ignore touch", wantFail: []string{"SessionStore/Touch"}, reason: "Touch records activity"},
		{mutant: "sessions ignore revoke", wantFail: []string{"SessionStore/Revoke", "SessionStore/List/alice", "SessionStore/RevokeAll", "SessionStore/Expiry"}, reason: "Revoke marks inactive"},
		{mutant: "sessions revoke all without ids", wantFail: []string{"SessionStore/RevokeAll", "SessionStore/PrefixSubjects", "SessionStore/OddIDs/parts"}, reason: "authx blocklists the ids RevokeAll returns"},
		{mutant: "sessions listed by prefix", wantFail: []string{"SessionStore/PrefixSubjects"}, reason: `List("alice") lists "alice2"`},
		{mutant: "limiter always allows", wantFail: []string{"RateLimiter/Limits/3_a_minute", "RateLimiter/Concurrent", "RateLimiter/IndependentKeys", "RateLimiter/OddKeys/parts", "RateLimiter/Refill"}, reason: "no limit at all"},
		{mutant: "limiter without retry", wantFail: []string{"RateLimiter/Limits/3_a_minute", "RateLimiter/Refill"}, reason: "a denial says when to retry"},
		{mutant: "limiter takes burst 0 as 1", wantFail: []string{"RateLimiter/Limits/burst_0_means_rate"}, reason: "Burst 0 is Burst = Rate"},
		{mutant: "limiter truncates keys", wantFail: []string{"RateLimiter/OddKeys/10_KB"}, reason: "long keys collide"},
		{mutant: "limiter never refills", wantFail: []string{"RateLimiter/Refill"}, reason: "buckets refill at Rate per Per"},
	}
	if len(tests) != len(mutants) {
		t.Errorf("%d cases for %d mutants: every mutant needs a case", len(tests), len(mutants))
	}
	for _, tt := range tests {
		t.Run(tt.mutant, func(t *testing.T) {
			t.Parallel()
			if _, ok := mutants[tt.mutant]; !ok {
				t.Fatalf("no mutant %q", tt.mutant)
			}
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMutantHelper$", "-test.v", "-test.count=1", "-test.timeout=2m")
			cmd.Env = append(os.Environ(), mutantEnv+"="+tt.mutant)
			out, err := cmd.CombinedOutput()
			failed := failedTests(string(out))
			if tt.wantFail == nil {
				if err != nil || len(failed) != 0 {
					t.Fatalf("suite on %s: %v, failed %q; want a pass (%s)\n%s", tt.mutant, err, failed, tt.reason, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("suite passed %s (%s); want it caught\n%s", tt.mutant, tt.reason, out)
			}
			var missed []string
			for _, name := range tt.wantFail {
				if !slices.Contains(failed, "TestMutantHelper/"+name) {
					missed = append(missed, name)
				}
			}
			if len(missed) > 0 {
				t.Errorf("suite on %s (%s): checks that did not fail: %q\nfailed: %q", tt.mutant, tt.reason, missed, failed)
			}
		})
	}
}

var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

func failedTests(out string) []string {
	var names []string
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestFailedTests(t *testing.T) {
	t.Parallel()
	out := "=== RUN   TestMutantHelper\n    --- FAIL: TestMutantHelper/Blocklist/Expiry (0.00s)\n--- FAIL: TestMutantHelper (0.01s)\n--- PASS: TestOther (0.00s)\n"
	want := []string{"TestMutantHelper/Blocklist/Expiry", "TestMutantHelper"}
	if diff := cmp.Diff(want, failedTests(out)); diff != "" {
		t.Errorf("failedTests (-want +got):\n%s", diff)
	}
}

// cut truncates an id to 64 bytes, as a careless store would.
func cut(id string) string { return id[:min(len(id), 64)] }

func mapIDs(ids []string, f func(string) string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = f(id)
	}
	return out
}

// blocklistFuncs overrides the methods of a Blocklist that are set.
type blocklistFuncs struct {
	authx.Blocklist
	revoke    func(ctx context.Context, id string, until time.Time) error
	isRevoked func(ctx context.Context, ids ...string) (bool, error)
}

func (b blocklistFuncs) Revoke(ctx context.Context, id string, until time.Time) error {
	if b.revoke != nil {
		return b.revoke(ctx, id, until)
	}
	return b.Blocklist.Revoke(ctx, id, until)
}

func (b blocklistFuncs) IsRevoked(ctx context.Context, ids ...string) (bool, error) {
	if b.isRevoked != nil {
		return b.isRevoked(ctx, ids...)
	}
	return b.Blocklist.IsRevoked(ctx, ids...)
}

func wrapBlocklist(h *storetest.Harness, wrap func(authx.Blocklist) authx.Blocklist) {
	inner := h.NewBlocklist
	h.NewBlocklist = func(t *testing.T) authx.Blocklist { return wrap(inner(t)) }
}

// lastWins is a blocklist whose second Revoke of an id replaces the
// first's time, even with an earlier one.
type lastWins struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]time.Time
}

func (l *lastWins) Revoke(_ context.Context, id string, until time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.now()) {
		l.m[id] = until
	}
	return nil
}

func (l *lastWins) IsRevoked(_ context.Context, ids ...string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if until, ok := l.m[id]; ok && until.After(l.now()) {
			return true, nil
		}
	}
	return false, nil
}

type spendFunc func(ctx context.Context, id string, until time.Time) (bool, time.Time, error)

func (f spendFunc) Spend(ctx context.Context, id string, until time.Time) (bool, time.Time, error) {
	return f(ctx, id, until)
}

func wrapRefresh(h *storetest.Harness, wrap func(authx.RefreshStore) spendFunc) {
	inner := h.NewRefreshStore
	h.NewRefreshStore = func(t *testing.T) authx.RefreshStore { return wrap(inner(t)) }
}

// sessionFuncs overrides the methods of a SessionStore that are set.
type sessionFuncs struct {
	authx.SessionStore
	create    func(context.Context, authx.SessionInfo) error
	list      func(context.Context, string) ([]authx.SessionInfo, error)
	touch     func(context.Context, string, time.Time) error
	revoke    func(context.Context, string) error
	revokeAll func(context.Context, string) ([]string, error)
}

func (s *sessionFuncs) Create(ctx context.Context, in authx.SessionInfo) error {
	if s.create != nil {
		return s.create(ctx, in)
	}
	return s.SessionStore.Create(ctx, in)
}

func (s *sessionFuncs) List(ctx context.Context, sub string) ([]authx.SessionInfo, error) {
	if s.list != nil {
		return s.list(ctx, sub)
	}
	return s.SessionStore.List(ctx, sub)
}

func (s *sessionFuncs) Touch(ctx context.Context, id string, at time.Time) error {
	if s.touch != nil {
		return s.touch(ctx, id, at)
	}
	return s.SessionStore.Touch(ctx, id, at)
}

func (s *sessionFuncs) Revoke(ctx context.Context, id string) error {
	if s.revoke != nil {
		return s.revoke(ctx, id)
	}
	return s.SessionStore.Revoke(ctx, id)
}

func (s *sessionFuncs) RevokeAll(ctx context.Context, sub string) ([]string, error) {
	if s.revokeAll != nil {
		return s.revokeAll(ctx, sub)
	}
	return s.SessionStore.RevokeAll(ctx, sub)
}

func wrapSessions(h *storetest.Harness, mutate func(*sessionFuncs)) {
	inner := h.NewSessionStore
	h.NewSessionStore = func(t *testing.T) authx.SessionStore {
		s := &sessionFuncs{SessionStore: inner(t)}
		mutate(s)
		return s
	}
}

type limitFunc func(ctx context.Context, key string, l authx.Limit) (bool, time.Duration, error)

func (f limitFunc) Allow(ctx context.Context, key string, l authx.Limit) (bool, time.Duration, error) {
	return f(ctx, key, l)
}

func wrapLimiter(h *storetest.Harness, wrap func(authx.RateLimiter) limitFunc) {
	inner := h.NewRateLimiter
	h.NewRateLimiter = func(t *testing.T) authx.RateLimiter { return wrap(inner(t)) }
}
