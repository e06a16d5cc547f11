package rules_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/rules"
	"github.com/google/go-cmp/cmp"
)

// forbiddenBody is authx's generic 403: it names no rule and no reason.
const forbiddenBody = `{"code":"forbidden","message":"Access denied."}`

// logBuffer collects a logger's output across the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestHTTP guards a real server with a rule set, on each route of a
// ServeMux and around the whole ServeMux: the rules' path values come
// from their own patterns, so both placements answer alike.
func TestHTTP(t *testing.T) {
	t.Parallel()
	logs := new(logBuffer)
	a := newAuth(t, authx.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	set := rules.Set(
		rules.Allow("GET /docs/{id}", authx.Scopes("docs:read")),
		rules.Deny("DELETE /docs/{id}").Because("delete disabled"),
		rules.Allow("DELETE /docs/{id}", authx.Scopes("docs:write")),
		rules.Allow("GET /tenants/{tenant}/invoices", rules.Claim("tenant_id").EqualsPathValue("tenant")),
		rules.Allow("POST /users/{id}/ban", authx.Scopes("admin:users:ban")),
	)
	g := a.Require(set)
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s %s", r.Method, r.URL.Path)
	})
	routes := []string{"GET /docs/{id}", "DELETE /docs/{id}", "GET /tenants/{tenant}/invoices", "POST /users/{id}/ban", "GET /reports"}
	perRoute, whole := http.NewServeMux(), http.NewServeMux()
	for _, p := range routes {
		perRoute.Handle(p, g.Wrap(app))
		whole.Handle(p, app)
	}
	servers := map[string]*httptest.Server{
		"per route":      httptest.NewServer(perRoute),
		"around the mux": httptest.NewServer(g.Wrap(whole)),
	}
	for _, srv := range servers {
		t.Cleanup(srv.Close)
	}
	reader := authtest.Token(t, a, "alice", authx.Grant("docs:read"), authx.Claim("tenant_id", "acme"))
	writer := authtest.Token(t, a, "alice", authx.Grant("docs:read", "docs:write"))
	admin := authtest.Token(t, a, "alice", authx.Grant("admin:*"))
	tests := []struct {
		name         string
		method, path string
		token        string
		wantStatus   int
		reason       string
	}{
		{"read with the scope", "GET", "/docs/1", reader, 200, "the first rule allows"},
		{"HEAD is GET", "HEAD", "/docs/1", reader, 200, "ServeMux's GET patterns match HEAD"},
		{"read without the scope", "GET", "/docs/1", admin, 403, "docs:read is not granted"},
		{"no token", "GET", "/docs/1", "", 401, "the guard authenticates before the rules"},
		{"bad token", "GET", "/docs/1", authtest.ForgedToken(t, a, "alice"), 401, "the guard verifies before the rules"},
		{"deny overrides", "DELETE", "/docs/1", writer, 403, "the deny rule wins over the later allow"},
		{"own tenant", "GET", "/tenants/acme/invoices", reader, 200, "the path's tenant is the token's"},
		{"other tenant", "GET", "/tenants/globex/invoices", reader, 403, "the path's tenant is not the token's"},
		{"tenant claim missing", "GET", "/tenants/acme/invoices", admin, 403, "no tenant_id claim"},
		{"admin:* covers admin:users:ban", "POST", "/users/7/ban", admin, 200, "AuthX's policy_required with an admin:* rule"},
		{"no rule matches", "GET", "/reports", admin, 403, "AuthX's policy_required without a matching rule: default deny"},
	}
	for _, placement := range []string{"per route", "around the mux"} {
		for _, tt := range tests {
			t.Run(placement+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				status, body := do(t, servers[placement], tt.method, tt.path, tt.token)
				if status != tt.wantStatus {
					t.Errorf("%s %s: status %d, want %d (%s); body %s", tt.method, tt.path, status, tt.wantStatus, tt.reason, body)
				}
				if status == 403 {
					if diff := cmp.Diff(forbiddenBody, body); diff != "" {
						t.Errorf("403 body (-want +got):\n%s", diff)
					}
				}
			})
		}
	}
	t.Run("the reason goes to the logger", func(t *testing.T) {
		t.Parallel()
		status, body := do(t, servers["per route"], "DELETE", "/docs/42", writer)
		if status != 403 || strings.Contains(body, "delete disabled") || strings.Contains(body, "/docs") {
			t.Fatalf("status %d, body %s: want a 403 that names neither the reason nor the pattern", status, body)
		}
		var line string
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, "path=/docs/42") {
				line = l
			}
		}
		if !strings.Contains(line, "delete disabled") || !strings.Contains(line, `DELETE /docs/{id}`) {
			t.Errorf("the denial's log line lacks the reason and the rule: %q", line)
		}
	})
}

// TestFailClosed: a condition that cannot answer ends the decision with
// its error, in deny and allow rules alike, so that no outage lifts a
// deny rule; a denial ("no") only makes the rule not match.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	suspended := rules.Subject(a, func(u *User) bool { return u.Suspended })
	errBoom := errors.New("boom")
	fails := func(err error) authx.Policy {
		return authx.PolicyFunc(func(context.Context, *authx.Claims) error { return err })
	}
	tests := []struct {
		name       string
		set        rules.SetPolicy
		sub        string
		path       string
		wantStatus int
		wantIs     error // nil: allowed
		reason     string
	}{
		{"subject passes", rules.Set(rules.Deny("/", suspended), rules.Allow("/")), "alice", "/x", 200, nil,
			"alice is not suspended: the deny rule does not match"},
		{"subject denied", rules.Set(rules.Deny("/", suspended), rules.Allow("/")), "mallory", "/x", 403, authx.ErrForbidden,
			"mallory is suspended"},
		{"subject store down", rules.Set(rules.Deny("/", suspended), rules.Allow("/")), "outage", "/x", 503, authx.ErrUnavailable,
			"the outage is not a 'no': the deny rule cannot be skipped"},
		{"subject unknown", rules.Set(rules.Deny("/", suspended), rules.Allow("/")), "ghost", "/x", 401, authx.ErrSubjectNotFound,
			"there is no subject to ask about"},
		{"unavailable in a deny rule", rules.Set(rules.Allow("/"), rules.Deny("/", fails(authx.ErrUnavailable))), "alice", "/x", 503, authx.ErrUnavailable,
			"a 503 from a deny rule's condition propagates"},
		{"unavailable in an allow rule", rules.Set(rules.Allow("/", fails(authx.ErrUnavailable)), rules.Allow("/")), "alice", "/x", 503, authx.ErrUnavailable,
			"a 503 from an allow rule's condition propagates too, though a later rule would allow"},
		{"misconfigured condition", rules.Set(rules.Allow("/", fails(authx.ErrMisconfigured))), "alice", "/x", 500, authx.ErrMisconfigured,
			"a 500 propagates"},
		{"unknown error", rules.Set(rules.Allow("/"), rules.Deny("/", fails(errBoom))), "alice", "/x", 403, errBoom,
			"an error authx does not know is no 'no' either: the set fails, and authx denies it with 403"},
		{"not a match, not evaluated", rules.Set(rules.Allow("/"), rules.Deny("/admin/", fails(authx.ErrUnavailable))), "alice", "/x", 200, nil,
			"a rule whose pattern does not match does not run its conditions"},
		{"a denial is a no", rules.Set(rules.Allow("/"), rules.Deny("/", fails(authx.ErrNotFresh))), "alice", "/x", 200, nil,
			"ErrNotFresh (401) from a condition is a denial: the deny rule does not match"},
		{"known subject first", rules.Set(rules.Allow("/", a.KnownSubject())), "ghost", "/x", 401, authx.ErrSubjectNotFound,
			"KnownSubject as a condition: an unknown subject is 401, not a 'no'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := a.Require(tt.set)
			_, err := g.Check(request(t, a, "GET", tt.path, tt.sub))
			if got := authx.StatusOf(err); got != tt.wantStatus {
				t.Errorf("status %d, want %d (%s): %v", got, tt.wantStatus, tt.reason, err)
			}
			if tt.wantIs == nil && err != nil || tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Check: %v, want %v (%s)", err, tt.wantIs, tt.reason)
			}
			d, derr := decide(t, a, tt.set, request(t, a, "GET", tt.path, tt.sub))
			if tt.wantStatus >= 500 || tt.wantIs == authx.ErrSubjectNotFound || tt.wantIs == errBoom {
				if derr == nil || d.Allowed {
					t.Errorf("Decide = %+v, %v; want a failure to decide", d, derr)
				}
			} else if derr != nil {
				t.Errorf("Decide: %v", derr)
			}
		})
	}
}

// TestGlobalCondition: AuthX's global evaluators, applied to every rule,
// are policies beside the set in the guard: authx.All(cond, set).
func TestGlobalCondition(t *testing.T) {
	t.Parallel()
	a := newAuth(t)
	set := rules.Set(rules.Allow("GET /docs/{id}"))
	notSuspended := rules.Subject(a, func(u *User) bool { return !u.Suspended })
	g := a.Require(a.KnownSubject(), notSuspended, set)
	if got, want := g.String(), `All(Access, KnownSubject, rules.Subject(func(*rules_test.User) bool), rules.Set(rules.Allow("GET /docs/{id}")))`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	tests := []struct {
		name       string
		sub        string
		wantStatus int
		reason     string
	}{
		{"known and active", "alice", 200, "every policy allows"},
		{"unknown subject", "ghost", 401, "KnownSubject denies before the set runs"},
		{"suspended", "mallory", 403, "the global condition denies, whatever the rules say"},
		{"store down", "outage", 503, "the subject store's outage is a 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := g.Check(request(t, a, "GET", "/docs/1", tt.sub))
			if got := authx.StatusOf(err); got != tt.wantStatus {
				t.Errorf("status %d, want %d (%s): %v", got, tt.wantStatus, tt.reason, err)
			}
		})
	}
}
