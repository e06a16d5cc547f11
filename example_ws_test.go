package authx_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
)

// Example_webSocket guards a WebSocket endpoint: the handshake is
// authenticated before the upgrade (a refusal is a plain HTTP 401/403), the
// handler knows its caller, and the connection is closed with 1008 when the
// token that opened it expires.
func Example_webSocket() {
	clock := authtest.NewClock(exampleNow)
	a, _ := authx.New[string](authx.WithSecret(exampleSecret), authx.WithClock(clock.Now),
		authx.WithWebSocketRecheck(time.Millisecond))
	guard := a.Require(authx.Scopes("chat:write"))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /chat", func(w http.ResponseWriter, r *http.Request) {
		conn, claims, err := guard.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered 401/403 with WWW-Authenticate
		}
		defer conn.CloseNow()
		ctx := guard.NewContext(r.Context(), claims)
		for {
			typ, msg, err := conn.Read(ctx)
			if err != nil {
				return
			}
			if tok, ok := authx.ParseReauth(msg); ok { // in-band re-authentication
				if _, err := guard.Reauthenticate(ctx, conn, tok); err != nil {
					return
				}
				continue
			}
			sub, _ := authx.SubjectFrom[string](ctx)
			_ = conn.Write(ctx, typ, []byte(sub+": "+string(msg)))
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"
	ctx := context.Background()

	// A browser offers the token as a subprotocol after the marker:
	//   new WebSocket(url, ["authx.bearer", token])
	tok, _ := a.CreateAccessToken("alice", authx.Grant("chat:*"), authx.ExpiresIn(time.Minute))
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{authx.WebSocketProtocol, tok}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.CloseNow()
	fmt.Println("subprotocol:", conn.Subprotocol())
	_ = conn.Write(ctx, websocket.MessageText, []byte("hello"))
	_, msg, _ := conn.Read(ctx)
	fmt.Println(string(msg))

	clock.Advance(time.Minute) // the token expires
	_, _, err = conn.Read(ctx)
	fmt.Println(websocket.CloseStatus(err))

	// Without a valid token there is no upgrade, just an HTTP answer.
	_, resp, _ := websocket.Dial(ctx, url, nil)
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	// Output:
	// subprotocol: authx.bearer
	// alice: hello
	// StatusPolicyViolation
	// 401 Bearer realm="api"
}
