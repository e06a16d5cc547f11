package authx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

type member struct{ Name string }
type operator struct{ Name string }

// identities builds the Auths of a service with three identity types: members
// and operators share a key and differ by login type; partners have a key
// of their own.
func identities(t *testing.T) (*authx.Auth[member], *authx.Auth[operator], *authx.Auth[string], *authtest.Clock) {
	t.Helper()
	clock := authtest.NewClock(testNow)
	members, err := authx.New[member](authx.WithSecret(secret32), authx.WithClock(clock.Now), authx.WithLoginType("user"),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (member, error) { return member{c.Subject}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	operators, err := authx.New[operator](authx.WithSecret(secret32), authx.WithClock(clock.Now), authx.WithLoginType("admin"),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (operator, error) { return operator{c.Subject}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	partners, err := authx.New[string](authx.WithSecret([]byte("another key of thirty-two bytes!")), authx.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return members, operators, partners, clock
}

// whoIs tells which identity type the request was admitted as.
func whoIs(ctx context.Context) string {
	if m, ok := authx.SubjectFrom[member](ctx); ok {
		return "member " + m.Name
	}
	if o, ok := authx.SubjectFrom[operator](ctx); ok {
		return "operator " + o.Name
	}
	if p, ok := authx.SubjectFrom[string](ctx); ok {
		return "partner " + p
	}
	return "anonymous"
}

// OneOf serves several identity types on one route: the Auth that owns the
// token decides, and its refusal never falls through to another.
func TestOneOf(t *testing.T) {
	t.Parallel()
	members, operators, partners, clock := identities(t)
	plain, _ := newAuth(t) // the shared key, no login type
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, whoIs(r.Context())) })
	g := authx.OneOf(members.Require(), operators.Require(authx.Scopes("ops")), partners.Require())
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`OneOf(All(Access), All(Access, Scopes("ops")), All(Access))`, g.String()); diff != "" {
		t.Errorf("String (-want +got)\n%s", diff)
	}
	wantSec := []map[string][]string{{"AuthXBearer": {}}, {"AuthXBearer": {"ops"}}}
	if diff := cmp.Diff(wantSec, g.Security()); diff != "" {
		t.Errorf("Security (-want +got)\n%s", diff)
	}
	mux := http.NewServeMux()
	mux.Handle("/me", g.Wrap(who))
	mux.Handle("/maybe", authx.OneOf(members.Optional(), operators.Optional()).Wrap(who))
	mux.Handle("/query", g.From(authx.InQuery).Wrap(who))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	revoked := authtest.Token(t, operators, "root", authx.Grant("ops"))
	rc, err := operators.Verify(t.Context(), revoked)
	if err != nil {
		t.Fatal(err)
	}
	if err := operators.Revoke(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	invalid := response{Status: 401, WWW: `Bearer realm="api", error="invalid_token"`}
	tests := []struct {
		name, path string
		header     []string
		want       response
		reason     string
	}{
		{"member", "/me", bearer(authtest.Token(t, members, "alice")), response{Status: 200, Body: "member alice"}, ""},
		{"operator", "/me", bearer(authtest.Token(t, operators, "root", authx.Grant("ops"))), response{Status: 200, Body: "operator root"}, ""},
		{"partner", "/me", bearer(authtest.Token(t, partners, "acme")), response{Status: 200, Body: "partner acme"}, "a key of its own"},
		{"operator without the scope", "/me", bearer(authtest.Token(t, operators, "root")),
			response{Status: 403, WWW: `Bearer realm="api", error="insufficient_scope", scope="ops"`},
			"the operators' guard owns the token and decides; the partners' is not asked"},
		{"revoked operator token", "/me", bearer(revoked), invalid, "a revocation is final"},
		{"expired member token", "/me", bearer(authtest.Token(t, members, "alice", authx.ExpiresAt(clock.Now().Add(-time.Minute)))), invalid, ""},
		{"forged token", "/me", bearer(authtest.ForgedToken(t, members, "alice")), invalid, ""},
		{"a token of no login type", "/me", bearer(authtest.Token(t, plain, "alice")), invalid, "no guard owns it"},
		{"a member's refresh token", "/me", bearer(authtest.RefreshToken(t, members, "alice")), invalid, ""},
		{"no token", "/me", nil, response{Status: 401, WWW: `Bearer realm="api"`}, ""},
		{"two tokens", "/me", append(bearer(authtest.Token(t, members, "alice")), bearer(authtest.Token(t, operators, "root"))...),
			response{Status: 400, WWW: `Bearer realm="api", error="invalid_request"`}, "ambiguous"},
		{"optional: no token", "/maybe", nil, response{Status: 200, Body: "anonymous"}, ""},
		{"optional: operator", "/maybe", bearer(authtest.Token(t, operators, "root")), response{Status: 200, Body: "operator root"}, ""},
		{"narrowed: header token", "/query", bearer(authtest.Token(t, members, "alice")), response{Status: 401, WWW: `Bearer realm="api"`},
			"From narrows every guard"},
		{"narrowed: query token", "/query?token=" + authtest.Token(t, operators, "root", authx.Grant("ops")), nil,
			response{Status: 200, Body: "operator root"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := doRequest(t, "GET", srv.URL+tt.path, tt.header)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s\n%s", diff, tt.reason)
			}
		})
	}
	t.Run("Check", func(t *testing.T) {
		t.Parallel()
		c, err := g.Check(authtest.Request(t, operators, authx.InHeader, "GET", "/", authtest.Token(t, operators, "root", authx.Grant("ops"))))
		if err != nil || c.Subject != "root" || c.LoginType != "admin" {
			t.Errorf("Check = %+v, %v; want root's admin claims", c, err)
		}
		_, err = g.Check(authtest.Request(t, operators, authx.InHeader, "GET", "/", authtest.Token(t, operators, "root")))
		if !errors.Is(err, authx.ErrInsufficientScope) {
			t.Errorf("Check without the scope: %v, want ErrInsufficientScope", err)
		}
	})
}

// A OneOf guard built wrong panics at start-up; one holding a guard of an
// unconfigured Auth denies.
func TestOneOfBuild(t *testing.T) {
	t.Parallel()
	members, _, _, _ := identities(t)
	for _, tt := range []struct {
		name string
		f    func()
		want string
	}{
		{"no guard", func() { authx.OneOf() }, "authx: OneOf needs at least one guard"},
		{"a nil guard", func() { authx.OneOf(members.Require(), nil) }, "authx: OneOf: guard 1 is nil"},
		{"misbuilt by From", func() { authx.OneOf(members.Require()).From(authx.InHeader, authx.InHeader) }, "authx: Guard.From: token location header listed twice"},
	} {
		if got := panicMessage(tt.f); got != tt.want {
			t.Errorf("%s: panicked with %q, want %q", tt.name, got, tt.want)
		}
	}
	var unconfigured *authx.Auth[member]
	g := authx.OneOf(members.Require(), unconfigured.Require())
	if err := g.Err(); !errors.Is(err, authx.ErrNotConfigured) {
		t.Errorf("Err() = %v, want ErrNotConfigured", err)
	}
	srv := httptest.NewServer(g.Wrap(http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	if got := doRequest(t, "GET", srv.URL, []string{"Authorization", "Bearer " + authtest.Token(t, members, "alice")}); got.Status != 500 {
		t.Errorf("%d, want 500", got.Status)
	}
}

// WebSocket handshakes through OneOf: the owner accepts, watches and
// re-authenticates the connection; NewContext resolves its subject type.
func TestOneOfWebSocket(t *testing.T) {
	t.Parallel()
	members, operators, _, _ := identities(t)
	g := authx.OneOf(members.Require(), operators.Require())
	reauth := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, c, err := g.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		ctx := g.NewContext(r.Context(), c)
		_ = conn.Write(ctx, websocket.MessageText, []byte(whoIs(ctx)))
		if tok := <-reauth; tok != "" {
			c2, err := g.Reauthenticate(ctx, conn, tok)
			msg := "reauth failed"
			if err == nil {
				msg = "reauth " + c2.Subject
			}
			_ = conn.Write(ctx, websocket.MessageText, []byte(msg))
		}
		_, _, _ = conn.Read(ctx)
	}))
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	dial := func(tok string) (*websocket.Conn, int) {
		t.Helper()
		conn, resp, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{Subprotocols: []string{authx.WebSocketProtocol, tok}})
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return conn, resp.StatusCode
	}
	read := func(conn *websocket.Conn) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, msg, err := conn.Read(ctx)
		if err != nil {
			return err.Error()
		}
		return string(msg)
	}
	if _, status := dial(authtest.ForgedToken(t, operators, "root")); status != http.StatusUnauthorized {
		t.Errorf("forged token: %d, want 401", status)
	}
	conn, status := dial(authtest.Token(t, operators, "root"))
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("operator token: %d, want 101", status)
	}
	defer conn.CloseNow()
	if got := read(conn); got != "operator root" {
		t.Errorf("first message %q, want operator root", got)
	}
	reauth <- authtest.Token(t, operators, "root")
	if got := read(conn); got != "reauth root" {
		t.Errorf("after re-authentication %q, want reauth root", got)
	}

	conn2, status := dial(authtest.Token(t, members, "alice"))
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("member token: %d, want 101", status)
	}
	defer conn2.CloseNow()
	if got := read(conn2); got != "member alice" {
		t.Errorf("first message %q, want member alice", got)
	}
	reauth <- authtest.Token(t, operators, "alice") // an operator's token cannot extend a member's connection
	if got := read(conn2); !strings.Contains(got, "StatusPolicyViolation") || !strings.Contains(got, "re-authentication failed") {
		t.Errorf("re-authentication with another identity's token: %q, want the connection closed with 1008", got)
	}
}
