package authx_test

import (
	"context"
	"fmt"
	"io"
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

// Optional admits a request without a token, anonymous, and verifies a
// present token exactly as Require does.
func TestOptional(t *testing.T) {
	t.Parallel()
	a, clock := newAuth(t, authx.WithTokenLocations(authx.InHeader, authx.InCookie))
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := authx.ClaimsFrom(r.Context())
		sub, subOK := authx.SubjectFrom[string](r.Context())
		if ok {
			fmt.Fprintf(w, "claims %s, subject %q %v", c.Subject, sub, subOK)
			return
		}
		fmt.Fprintf(w, "anonymous, subject %q %v", sub, subOK)
	})
	g := a.Optional(authx.Scopes("read"))
	if g.String() != `Optional(All(Access, Scopes("read")))` {
		t.Errorf("String() = %s", g.String())
	}
	srv := httptest.NewServer(g.Wrap(who))
	t.Cleanup(srv.Close)
	good := authtest.Token(t, a, "alice", authx.Grant("read"))
	revokedTok := authtest.Token(t, a, "alice", authx.Grant("read"))
	rc, err := a.Verify(t.Context(), revokedTok)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Revoke(t.Context(), rc); err != nil {
		t.Fatal(err)
	}
	expired := authtest.Token(t, a, "alice", authx.Grant("read"), authx.ExpiresAt(clock.Now().Add(-time.Minute)))
	type view struct {
		Status int
		Body   string
	}
	tests := []struct {
		name   string
		header []string
		want   view
	}{
		{"no token", nil, view{200, `anonymous, subject "" false`}},
		{"valid token", []string{"Authorization", "Bearer " + good}, view{200, `claims alice, subject "alice" true`}},
		{"bad token", []string{"Authorization", "Bearer " + authtest.ForgedToken(t, a, "alice")}, view{401, ""}},
		{"expired token", []string{"Authorization", "Bearer " + expired}, view{401, ""}},
		{"revoked token", []string{"Authorization", "Bearer " + revokedTok}, view{401, ""}},
		{"refresh token", []string{"Authorization", "Bearer " + authtest.RefreshToken(t, a, "alice")}, view{401, ""}},
		{"token without the scope", []string{"Authorization", "Bearer " + authtest.Token(t, a, "alice")}, view{403, ""}},
		{"two Authorization headers", []string{"Authorization", "Bearer " + good, "Authorization", "Bearer " + good}, view{400, ""}},
		{"Bearer without a token", []string{"Authorization", "Bearer"}, view{400, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header.Add(tt.header[i], tt.header[i+1])
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := view{resp.StatusCode, string(body)}
			if got.Status != 200 {
				got.Body = ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Check: nil claims and nil error for an anonymous request.
	if c, err := g.Check(httptest.NewRequest(http.MethodGet, "/", nil)); c != nil || err != nil {
		t.Errorf("Check without a token = %v, %v; want nil, nil", c, err)
	}
	if _, err := a.Require().Check(httptest.NewRequest(http.MethodGet, "/", nil)); err == nil {
		t.Error("Require's Check without a token succeeded")
	}
}

// Optional WebSocket handshakes: anonymous without a token, verified with one.
func TestOptionalWebSocket(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	g := a.Optional()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, c, err := g.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		who := "anonymous"
		if c != nil {
			who = c.Subject
		}
		_ = conn.Write(r.Context(), websocket.MessageText, []byte(who))
		_, _, _ = conn.Read(r.Context())
	}))
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for _, tt := range []struct {
		name       string
		header     []string
		wantStatus int
		wantMsg    string
	}{
		{"no token", nil, http.StatusSwitchingProtocols, "anonymous"},
		{"valid token", []string{"Authorization", "Bearer " + authtest.Token(t, a, "alice")}, http.StatusSwitchingProtocols, "alice"},
		{"forged token", []string{"Authorization", "Bearer " + authtest.ForgedToken(t, a, "alice")}, http.StatusUnauthorized, ""},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header(tt.header...)})
		if resp == nil || resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: response %v, %v; want %d", tt.name, resp, err, tt.wantStatus)
			cancel()
			continue
		}
		if conn != nil {
			_, msg, err := conn.Read(ctx)
			if err != nil || string(msg) != tt.wantMsg {
				t.Errorf("%s: message %q, %v; want %q", tt.name, msg, err, tt.wantMsg)
			}
			conn.Close(websocket.StatusNormalClosure, "")
		}
		cancel()
	}
}
