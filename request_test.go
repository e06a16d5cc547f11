package authx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
)

// A request-aware policy: the token's tenant must be the one in the path.
var sameTenant = authx.PolicyFunc(func(ctx context.Context, c *authx.Claims) error {
	r, ok := authx.RequestFrom(ctx)
	if !ok {
		return authx.ErrForbidden
	}
	if t, _ := c.Get("tenant"); t != r.PathValue("tenant") {
		return authx.ErrForbidden
	}
	return nil
})

// RequestFrom gives policies (and handlers) the guarded request, with its
// path values, on HTTP and WebSocket handshakes; outside a request it
// reports false.
func TestRequestFrom(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t)
	g := a.Require(sameTenant)
	mux := http.NewServeMux()
	mux.Handle("GET /t/{tenant}/items", g.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		if req, ok := authx.RequestFrom(r.Context()); !ok || req.PathValue("tenant") == "" {
			http.Error(w, "handler without the request", 500)
		}
	}))
	mux.HandleFunc("GET /ws/{tenant}", func(w http.ResponseWriter, r *http.Request) {
		if conn, _, err := g.Accept(w, r, nil); err == nil {
			conn.Close(websocket.StatusNormalClosure, "")
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	acme := authtest.Token(t, a, "alice", authx.Claim("tenant", "acme"))
	for _, tt := range []struct {
		path string
		want int
	}{{"/t/acme/items", 200}, {"/t/globex/items", 403}} {
		r, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+tt.path, nil)
		r.Header.Set("Authorization", "Bearer "+acme)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.path, resp.StatusCode, tt.want)
		}
	}
	for _, tt := range []struct {
		path string
		want int
	}{{"/ws/acme", http.StatusSwitchingProtocols}, {"/ws/globex", http.StatusForbidden}} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, resp, _ := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+tt.path, &websocket.DialOptions{HTTPHeader: header("Authorization", "Bearer "+acme)})
		cancel()
		if resp == nil || resp.StatusCode != tt.want {
			t.Errorf("handshake %s: %v, want %d", tt.path, resp, tt.want)
		}
	}
	// Verify has no request: the policy sees none and denies.
	if _, err := a.Verify(t.Context(), acme, sameTenant); !errors.Is(err, authx.ErrForbidden) {
		t.Errorf("Verify with a request-aware policy: %v, want ErrForbidden", err)
	}
	if _, ok := authx.RequestFrom(context.Background()); ok {
		t.Error("RequestFrom(Background) reported a request")
	}
}
