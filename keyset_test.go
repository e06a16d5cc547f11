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
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// Tokens of another issuer, through its key set: the token's iss selects the
// keys, the audience is required, the scopes come from the issuer's claims,
// and guards, policies and WebSockets work on them unchanged.
func TestKeySetTokens(t *testing.T) {
	t.Parallel()
	idp, other := authtest.NewIssuer(t), authtest.NewIssuer(t)
	a, err := authx.New[string](authx.WithKeySet(idp.KeySet(), authx.Audience("api")),
		authx.WithKeySet(other.KeySet(), authx.Audience("api"), authx.ScopesFrom("realm_access.roles", "cognito:groups", "permissions"), authx.RequireAccessTokenType()))
	if err != nil {
		t.Fatal(err)
	}
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := authx.ClaimsFrom(r.Context())
		sub, _ := authx.SubjectFrom[string](r.Context())
		sid, _ := c.Get("sid")
		fmt.Fprintf(w, "%s %s %v sid=%v session=%q", sub, c.Issuer, c.Scopes, sid, c.SessionID)
	})
	mux := http.NewServeMux()
	mux.Handle("/read", a.Require(authx.Scopes("read")).Wrap(who))
	mux.Handle("/admin", a.Require(authx.Scopes("admin")).Wrap(who))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	forged := func(claims jwt.MapClaims, method jwt.SigningMethod, key any) string {
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = "key-1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := time.Now().Add(time.Minute).Unix()
	other.Typ = "JWT"
	typedJWT := other.Token(t, "bob", map[string]any{"aud": "api", "permissions": []string{"admin"}})
	other.Typ = ""
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	invalid := response{Status: 401, WWW: `Bearer realm="api", error="invalid_token"`}
	tests := []struct {
		name, path string
		tok        string
		want       response
		reason     string
	}{
		{"scope string", "/read", idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read write", "sid": "idp-session"}),
			response{Status: 200, Body: fmt.Sprintf(`alice %s [read write] sid=idp-session session=""`, idp.URL)},
			"the issuer's sid is its own, not a session of ours"},
		{"scp array, audience among several", "/read", idp.Token(t, "alice", map[string]any{"aud": []string{"other", "api"}, "scp": []string{"read"}}),
			response{Status: 200, Body: fmt.Sprintf(`alice %s [read] sid=<nil> session=""`, idp.URL)}, ""},
		{"no jti", "/read", idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read", "jti": nil}),
			response{Status: 200, Body: fmt.Sprintf(`alice %s [read] sid=<nil> session=""`, idp.URL)}, "jti is not required of another issuer"},
		{"scope missing", "/read", idp.Token(t, "alice", map[string]any{"aud": "api"}),
			response{Status: 403, WWW: `Bearer realm="api", error="insufficient_scope", scope="read"`}, ""},
		{"Keycloak and Cognito and Auth0 shapes", "/admin", other.Token(t, "bob", map[string]any{"aud": "api",
			"realm_access": map[string]any{"roles": []string{"admin"}}, "cognito:groups": []string{"ops"}, "permissions": []string{"read"}}),
			response{Status: 200, Body: fmt.Sprintf(`bob %s [admin ops read] sid=<nil> session=""`, other.URL)}, ""},
		{"no audience", "/read", idp.Token(t, "alice", map[string]any{"scope": "read"}), invalid, "an issuer's token for nobody in particular"},
		{"another audience", "/read", idp.Token(t, "alice", map[string]any{"aud": "billing", "scope": "read"}), invalid, ""},
		{"expired", "/read", idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read", "exp": time.Now().Add(-time.Minute).Unix()}), invalid, ""},
		{"no exp", "/read", idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read", "exp": nil}), invalid, ""},
		{"an ID token", "/read", idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read", "nonce": "n-0S6_WzA2Mj", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}), invalid,
			"an ID token proves a login to a client; it opens no API"},
		{"a refresh token of the issuer", "/read", idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read", "type": "refresh"}), invalid, ""},
		{"claims one issuer, signed by another's key", "/read", other.Token(t, "alice", map[string]any{"iss": idp.URL, "aud": "api", "scope": "read"}), invalid,
			"a key of one issuer never verifies a token claiming another"},
		{"an untrusted issuer", "/read", authtest.NewIssuer(t).Token(t, "alice", map[string]any{"aud": "api", "scope": "read"}), invalid, ""},
		{"HS256 with the issuer's name", "/read", forged(jwt.MapClaims{"iss": idp.URL, "sub": "alice", "aud": "api", "scope": "read", "exp": exp}, jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef")),
			invalid, "a key set never admits HMAC"},
		{"typ JWT where at+jwt is required", "/admin", typedJWT, invalid, "RequireAccessTokenType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := doRequest(t, "GET", srv.URL+tt.path, bearer(tt.tok))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s\n%s", diff, tt.reason)
			}
		})
	}

	t.Run("rotation", func(t *testing.T) {
		idp.Rotate(t)
		tok := idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read"})
		if got := doRequest(t, "GET", srv.URL+"/read", bearer(tok)); got.Status != 200 {
			t.Errorf("a token of the new key: %+v", got)
		}
	})
	t.Run("revocation", func(t *testing.T) {
		tok := idp.Token(t, "carol", map[string]any{"aud": "api", "scope": "read"})
		c, err := a.Verify(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Revoke(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if got := doRequest(t, "GET", srv.URL+"/read", bearer(tok)); got.Status != 401 {
			t.Errorf("revoked: %+v", got)
		}
		noJTI, err := a.Verify(t.Context(), idp.Token(t, "carol", map[string]any{"aud": "api", "jti": nil}))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Revoke(t.Context(), noJTI); err == nil {
			t.Error("Revoke of a token without jti succeeded: it would revoke nothing, or every jti-less token")
		}
	})
	t.Run("cannot issue", func(t *testing.T) {
		if _, err := a.CreateAccessToken("alice"); !errors.Is(err, authx.ErrNoSigningKey) {
			t.Errorf("CreateAccessToken: %v, want ErrNoSigningKey", err)
		}
	})
	t.Run("WebSocket", func(t *testing.T) {
		g := a.Require(authx.Scopes("read"))
		ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, c, err := g.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer conn.CloseNow()
			_ = conn.Write(r.Context(), websocket.MessageText, []byte(c.Subject))
		}))
		t.Cleanup(ws.Close)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		tok := idp.Token(t, "alice", map[string]any{"aud": "api", "scope": "read"})
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ws.URL, "http"), &websocket.DialOptions{Subprotocols: []string{authx.WebSocketProtocol, tok}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		if _, msg, err := conn.Read(ctx); err != nil || string(msg) != "alice" {
			t.Errorf("message %q, %v", msg, err)
		}
	})
}

// Our own tokens keep working beside a key set, and are checked as ours.
func TestKeySetBesideOwnKeys(t *testing.T) {
	t.Parallel()
	idp := authtest.NewIssuer(t)
	a, clock := newAuth(t, authx.WithKeySet(idp.KeySet(), authx.Audience("api")))
	idp.Now = clock.Now
	g := a.Require()
	srv := httptest.NewServer(g.Wrap(echo))
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		name string
		tok  string
		want int
	}{
		{"ours", authtest.Token(t, a, "alice"), 200},
		{"ours, refresh", authtest.RefreshToken(t, a, "alice"), 401},
		{"the issuer's", idp.Token(t, "alice", map[string]any{"aud": "api"}), 200},
	} {
		if got := doRequest(t, "GET", srv.URL, []string{"Authorization", "Bearer " + tt.tok}); got.Status != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got.Status, tt.want)
		}
	}
}

// A key set that cannot answer fails closed: 503, never an admission.
func TestKeySetUnavailable(t *testing.T) {
	t.Parallel()
	idp := authtest.NewIssuer(t)
	tok := idp.Token(t, "alice", map[string]any{"aud": "api"})
	for _, tt := range []struct {
		name string
		ks   authx.KeySet
	}{
		{"error", brokenKeySet{iss: idp.URL, err: errors.New("jwks endpoint down")}},
		{"panic", brokenKeySet{iss: idp.URL, panics: true}},
	} {
		a, err := authx.New[string](authx.WithKeySet(tt.ks, authx.Audience("api")))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Require().Wrap(echo))
		got := doRequest(t, "GET", srv.URL, []string{"Authorization", "Bearer " + tok})
		srv.Close()
		if got.Status != 503 {
			t.Errorf("%s: %+v, want 503", tt.name, got)
		}
	}
}

type brokenKeySet struct {
	iss    string
	err    error
	panics bool
}

func (b brokenKeySet) Issuer() string { return b.iss }
func (b brokenKeySet) Keys(context.Context, string) ([]authx.PublicKey, error) {
	if b.panics {
		panic("boom")
	}
	return nil, b.err
}

// WithKeySet's mistakes are New's errors.
func TestKeySetConfig(t *testing.T) {
	t.Parallel()
	idp := authtest.NewIssuer(t)
	for _, tt := range []struct {
		name string
		opts []authx.Option
		want string
	}{
		{"no audience", []authx.Option{authx.WithKeySet(idp.KeySet())}, "no Audience"},
		{"nil key set", []authx.Option{authx.WithKeySet(nil)}, "nil KeySet"},
		{"an issuer twice", []authx.Option{authx.WithKeySet(idp.KeySet(), authx.Audience("a")), authx.WithKeySet(idp.KeySet(), authx.Audience("b"))}, "two key sets of issuer"},
		{"empty scope claim", []authx.Option{authx.WithKeySet(idp.KeySet(), authx.Audience("a"), authx.ScopesFrom("realm_access..roles"))}, "empty segment"},
		{"nil option", []authx.Option{authx.WithKeySet(idp.KeySet(), nil)}, "option 0 (counting from 0) is nil"},
	} {
		_, err := authx.New[string](tt.opts...)
		if !errors.Is(err, authx.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrConfig mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := authx.New[string](authx.WithKeySet(idp.KeySet(), authx.InsecureAnyAudience())); err != nil {
		t.Errorf("InsecureAnyAudience: %v", err)
	}
}
