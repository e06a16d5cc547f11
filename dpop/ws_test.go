package dpop_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
)

// WebSockets with DPoP, through a real websocket.Dial: a client that can
// set headers proves its key on the handshake itself (the proof's htm is
// GET and its htu the http(s) form of the handshake URL); a browser,
// which cannot, proves it at the guarded ticket endpoint and opens the
// connection with the ticket, which keeps the binding. Proofs come from
// authtest.DPoPKey, an implementation independent of the verifier's.
func TestWebSocket(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	key, thief := authtest.NewDPoPKey(t), authtest.NewDPoPKey(t)
	key.Now, thief.Now = f.Clock.Now, f.Clock.Now
	g := f.Auth.Require()
	mux := http.NewServeMux()
	bound := make(chan string, 4)
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, c, err := g.Accept(w, r, nil)
		if err != nil {
			return
		}
		bound <- c.KeyThumbprint
		conn.Close(websocket.StatusNormalClosure, "")
	})
	mux.Handle("POST /ticket", f.Auth.TicketHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	tok, err := f.Auth.CreateAccessToken("alice", authx.BoundToKey(key.Thumbprint()))
	if err != nil {
		t.Fatal(err)
	}
	dial := func(url string, hdr http.Header) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: hdr})
		if err == nil {
			conn.Close(websocket.StatusNormalClosure, "")
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return resp.StatusCode
	}
	handshake := func(k *authtest.DPoPKey) http.Header {
		return http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {k.Proof(t, "GET", srv.URL+"/ws", tok, "")}}
	}
	if code := dial(wsURL, handshake(key)); code != http.StatusSwitchingProtocols {
		t.Fatalf("handshake with a proof by the token's key: %d", code)
	}
	if got := <-bound; got != key.Thumbprint() {
		t.Errorf("connection's binding %q", got)
	}
	if code := dial(wsURL, handshake(thief)); code != http.StatusUnauthorized {
		t.Errorf("handshake with another key's proof: %d, want 401", code)
	}
	if code := dial(wsURL, http.Header{"Authorization": {"DPoP " + tok}}); code != http.StatusUnauthorized {
		t.Errorf("handshake without a proof: %d, want 401", code)
	}
	if code := dial(wsURL, http.Header{"Authorization": {"Bearer " + tok}}); code != http.StatusUnauthorized {
		t.Errorf("handshake with the bound token as a bearer token: %d, want 401", code)
	}
	// The browser's way: a ticket bought with a proof.
	buy := func(k *authtest.DPoPKey) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", srv.URL+"/ticket", nil)
		if err != nil {
			t.Fatal(err)
		}
		k.Sign(t, req, tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct{ Ticket string }
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out.Ticket
	}
	if code, _ := buy(thief); code != http.StatusUnauthorized {
		t.Errorf("a ticket for the bound token with another key's proof: %d, want 401", code)
	}
	code, ticket := buy(key)
	if code != http.StatusOK || ticket == "" {
		t.Fatalf("a ticket with the key's proof: %d", code)
	}
	if code := dial(wsURL+"?ticket="+ticket, nil); code != http.StatusSwitchingProtocols {
		t.Fatalf("handshake with the ticket: %d", code)
	}
	if got := <-bound; got != key.Thumbprint() {
		t.Errorf("the ticket's connection binding %q", got)
	}
	if code := dial(wsURL+"?ticket="+ticket, nil); code != http.StatusUnauthorized {
		t.Errorf("the ticket a second time: %d, want 401", code)
	}
}
