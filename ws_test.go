package authx_test

import (
	"context"
	"encoding/json"
	"errors"
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

// wsSite is an echo server guarded by authx: each text message m is
// answered "<sub>: m"; re-authentication messages extend the connection.
type wsSite struct {
	a     *authx.Auth[string]
	clock *authtest.Clock
	guard *authx.Guard
	srv   *httptest.Server
	opts  *websocket.AcceptOptions
}

func newWSSite(t *testing.T, policies []authx.Policy, opts ...authx.Option) *wsSite {
	t.Helper()
	a, clock := newAuth(t, append([]authx.Option{
		authx.WithTokenLocations(authx.InHeader),
		authx.WithCookies(authx.CookieConfig{}),
		authx.WithWebSocketRecheck(2 * time.Millisecond),
	}, opts...)...)
	s := &wsSite{a: a, clock: clock, guard: a.Require(policies...), opts: &websocket.AcceptOptions{Subprotocols: []string{"chat"}}}
	mux := http.NewServeMux()
	mux.Handle("POST /ws/ticket", a.TicketHandler())
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, c, err := s.guard.Accept(w, r, s.opts)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		ctx := s.guard.NewContext(r.Context(), c)
		for {
			typ, msg, err := conn.Read(ctx)
			if err != nil {
				return
			}
			if tok, ok := authx.ParseReauth(msg); ok {
				if _, err := s.guard.Reauthenticate(ctx, conn, tok); err != nil {
					return
				}
				continue
			}
			sub, _ := authx.SubjectFrom[string](ctx)
			if err := conn.Write(ctx, typ, []byte(sub+": "+string(msg))); err != nil {
				return
			}
		}
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *wsSite) url(query string) string {
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dialResult is what a client sees of a handshake.
type dialResult struct {
	Status      int
	WWW         string
	Code        string // JSON error code of a refused handshake
	Subprotocol string
}

func (s *wsSite) dial(t *testing.T, query string, opts *websocket.DialOptions) (*websocket.Conn, dialResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, s.url(query), opts)
	var got dialResult
	if resp != nil {
		got.Status = resp.StatusCode
		got.WWW = resp.Header.Get("WWW-Authenticate")
		if resp.Body != nil {
			var body struct{ Code string }
			b, _ := io.ReadAll(resp.Body)
			_ = json.Unmarshal(b, &body)
			got.Code = body.Code
		}
	}
	if err != nil {
		return nil, got
	}
	got.Subprotocol = conn.Subprotocol()
	t.Cleanup(func() { conn.CloseNow() })
	return conn, got
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// echoOnce checks the connection echoes as the subject.
func echoOnce(t *testing.T, conn *websocket.Conn, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatalf("write: %v", err)
	}
	_, msg, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(msg) != want {
		t.Errorf("echo = %q, want %q", msg, want)
	}
}

// closedWith waits for the server to close conn and returns the status and
// reason.
func closedWith(t *testing.T, conn *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := conn.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		t.Fatalf("connection ended without a close frame: %v", err)
		return 0, ""
	}
}

func TestWebSocketTokenSources(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil)
	tok := authtest.Token(t, s.a, "alice")
	sameOrigin := s.srv.URL
	tests := []struct {
		name  string
		query string
		opts  *websocket.DialOptions
		want  dialResult
	}{
		{"authorization header", "", &websocket.DialOptions{HTTPHeader: header("Authorization", "Bearer "+tok)}, dialResult{Status: 101}},
		{"query parameter", "token=" + tok, nil, dialResult{Status: 101}},
		{"cookie from the same origin", "", &websocket.DialOptions{HTTPHeader: header("Cookie", "access_token_cookie="+tok, "Origin", sameOrigin)}, dialResult{Status: 101}},
		{"cookie without Origin (not a browser)", "", &websocket.DialOptions{HTTPHeader: header("Cookie", "access_token_cookie="+tok)}, dialResult{Status: 101}},
		{"subprotocol, marker echoed", "", &websocket.DialOptions{Subprotocols: []string{authx.WebSocketProtocol, tok}}, dialResult{Status: 101, Subprotocol: authx.WebSocketProtocol}},
		{"subprotocol with the app's protocol", "", &websocket.DialOptions{Subprotocols: []string{"chat", authx.WebSocketProtocol, tok}}, dialResult{Status: 101, Subprotocol: "chat"}},
	}
	t.Run("sources", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				conn, got := s.dial(t, tt.query, tt.opts)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Fatalf("handshake (-want +got):\n%s", diff)
				}
				if got.Subprotocol == tok {
					t.Fatalf("the token was echoed as the subprotocol")
				}
				echoOnce(t, conn, "alice: hi")
			})
		}
	})
	// After every handshake above (the group waits for its parallel subtests).
	if diff := cmp.Diff([]string{"chat"}, s.opts.Subprotocols); diff != "" {
		t.Errorf("caller's AcceptOptions mutated (-want +got):\n%s", diff)
	}
}

func TestWebSocketSubprotocolBeatsCookie(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil, authx.WithTokenLocations(authx.InCookie))
	expired := authtest.ExpiredToken(t, s.a, "mallory")
	conn, got := s.dial(t, "", &websocket.DialOptions{
		Subprotocols: []string{authx.WebSocketProtocol, authtest.Token(t, s.a, "alice")},
		HTTPHeader:   header("Cookie", "access_token_cookie="+expired, "Origin", s.srv.URL),
	})
	if conn == nil || got.Subprotocol != authx.WebSocketProtocol {
		t.Fatalf("handshake %+v: the explicit subprotocol token must win over an ambient cookie, and the marker be echoed", got)
	}
	echoOnce(t, conn, "alice: hi")
}

func TestWebSocketCookieOriginScheme(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil)
	s.opts = &websocket.AcceptOptions{InsecureSkipVerify: true} // our own check must still hold
	tok := authtest.Token(t, s.a, "alice")
	host := strings.TrimPrefix(s.srv.URL, "http://")
	for origin, want := range map[string]int{
		"http://" + host:             101,
		"HTTP://" + host:             101,
		"ftp://" + host:              403,
		"http://evil.example":        403,
		"null":                       403,
		"http://" + host + ".evil":   403,
		"http://evil.example:" + "1": 403,
	} {
		_, got := s.dial(t, "", &websocket.DialOptions{HTTPHeader: header("Cookie", "access_token_cookie="+tok, "Origin", origin)})
		if got.Status != want {
			t.Errorf("Origin %q: status %d, want %d", origin, got.Status, want)
		}
	}
}

func TestWebSocketHandlerReturnClosesConnection(t *testing.T) {
	t.Parallel()
	a, _ := newAuth(t, authx.WithWebSocketRecheck(time.Hour))
	guard := a.Require()
	handedOff := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := guard.Accept(w, r, nil)
		if err != nil {
			return
		}
		handedOff <- conn // a hub takes it; the handler returns at once
	}))
	t.Cleanup(srv.Close)
	conn, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/?token="+authtest.Token(t, a, "alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	<-handedOff
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, _, err := conn.Read(ctx); err == nil || ctx.Err() != nil {
		t.Errorf("read after the handler returned: %v (ctx %v); want the server to have closed the unwatched connection", err, ctx.Err())
	}
}

func TestWebSocketRefusals(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, []authx.Policy{authx.Scopes("chat:write")})
	good := authtest.Token(t, s.a, "alice", authx.Grant("chat:*"))
	noScope := authtest.Token(t, s.a, "bob")
	bearer := func(tok string) *websocket.DialOptions {
		return &websocket.DialOptions{HTTPHeader: header("Authorization", "Bearer "+tok)}
	}
	invalid := `Bearer realm="api", error="invalid_token"`
	tests := []struct {
		name  string
		query string
		opts  *websocket.DialOptions
		want  dialResult
	}{
		{"no token", "", nil, dialResult{Status: 401, WWW: `Bearer realm="api"`, Code: "missing_token"}},
		{"expired", "", bearer(authtest.ExpiredToken(t, s.a, "alice", authx.Grant("chat:*"))), dialResult{Status: 401, WWW: invalid, Code: "token_expired"}},
		{"forged", "", bearer(authtest.ForgedToken(t, s.a, "alice", authx.Grant("chat:*"))), dialResult{Status: 401, WWW: invalid, Code: "invalid_token"}},
		{"refresh token", "", bearer(authtest.RefreshToken(t, s.a, "alice", authx.Grant("chat:*"))), dialResult{Status: 401, WWW: invalid, Code: "access_token_required"}},
		{"insufficient scope", "", bearer(noScope), dialResult{Status: 403, WWW: `Bearer realm="api", error="insufficient_scope", scope="chat:write"`, Code: "insufficient_scope"}},
		{"marker without token", "", &websocket.DialOptions{Subprotocols: []string{authx.WebSocketProtocol}}, dialResult{Status: 401, WWW: invalid, Code: "invalid_token"}},
		{"cookie from a foreign origin", "", &websocket.DialOptions{HTTPHeader: header("Cookie", "access_token_cookie="+good, "Origin", "https://evil.example")}, dialResult{Status: 403, Code: "cross_origin"}},
		{"cookie from a null origin", "", &websocket.DialOptions{HTTPHeader: header("Cookie", "access_token_cookie="+good, "Origin", "null")}, dialResult{Status: 403, Code: "cross_origin"}},
		{"header token from a foreign origin: the Origin websocket.Accept would refuse is refused first (no ticket spent), in JSON", "", &websocket.DialOptions{HTTPHeader: header("Authorization", "Bearer "+good, "Origin", "https://evil.example")}, dialResult{Status: 403, Code: "cross_origin"}},
		{"two tickets", "ticket=a&ticket=b", nil, dialResult{Status: 400, WWW: `Bearer realm="api", error="invalid_request"`, Code: "invalid_request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, got := s.dial(t, tt.query, tt.opts)
			if conn != nil {
				t.Fatalf("handshake accepted")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("refusal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebSocketCookieOriginPatterns(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil)
	s.opts = &websocket.AcceptOptions{OriginPatterns: []string{"app.example.com"}}
	tok := authtest.Token(t, s.a, "alice")
	conn, got := s.dial(t, "", &websocket.DialOptions{HTTPHeader: header("Cookie", "access_token_cookie="+tok, "Origin", "https://app.example.com")})
	if conn == nil || got.Status != 101 {
		t.Fatalf("trusted origin refused: %+v", got)
	}
	echoOnce(t, conn, "alice: hi")
}

func TestWebSocketStoreDown(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil, authx.WithBlocklist(failingBlocklist{}))
	_, got := s.dial(t, "token="+authtest.Token(t, s.a, "alice"), nil)
	if diff := cmp.Diff(dialResult{Status: 503, Code: "unavailable"}, got); diff != "" {
		t.Errorf("blocklist down (-want +got):\n%s", diff)
	}
}

func TestWebSocketExpiryAndRevocationClose(t *testing.T) {
	t.Parallel()
	t.Run("expiry", func(t *testing.T) {
		t.Parallel()
		s := newWSSite(t, nil)
		conn, _ := s.dial(t, "token="+authtest.Token(t, s.a, "alice", authx.ExpiresIn(time.Minute)), nil)
		echoOnce(t, conn, "alice: hi")
		s.clock.Advance(time.Minute)
		code, reason := closedWith(t, conn)
		if code != websocket.StatusPolicyViolation || reason != "token expired" {
			t.Errorf("closed with %d %q, want 1008 \"token expired\"", code, reason)
		}
	})
	t.Run("revocation", func(t *testing.T) {
		t.Parallel()
		s := newWSSite(t, nil)
		tok := authtest.Token(t, s.a, "alice")
		conn, _ := s.dial(t, "token="+tok, nil)
		echoOnce(t, conn, "alice: hi")
		c, err := s.a.Verify(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.a.Revoke(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		code, reason := closedWith(t, conn)
		if code != websocket.StatusPolicyViolation || reason != "token revoked" {
			t.Errorf("closed with %d %q, want 1008 \"token revoked\"", code, reason)
		}
	})
	t.Run("family revoked by logout elsewhere", func(t *testing.T) {
		t.Parallel()
		s := newWSSite(t, nil)
		pair := authtest.Pair(t, s.a, "alice")
		conn, _ := s.dial(t, "token="+pair.AccessToken, nil)
		echoOnce(t, conn, "alice: hi")
		c, _ := s.a.Verify(t.Context(), pair.RefreshToken, authx.Refresh)
		if err := s.a.RevokeFamily(t.Context(), c.FamilyID); err != nil {
			t.Fatal(err)
		}
		if code, reason := closedWith(t, conn); code != websocket.StatusPolicyViolation || reason != "token revoked" {
			t.Errorf("closed with %d %q", code, reason)
		}
	})
}

func TestWebSocketReauthentication(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil)
	conn, _ := s.dial(t, "token="+authtest.Token(t, s.a, "alice", authx.ExpiresIn(time.Minute)), nil)
	s.clock.Advance(50 * time.Second)
	fresh := authtest.Token(t, s.a, "alice", authx.ExpiresIn(time.Minute))
	ctx := t.Context()
	if err := conn.Write(ctx, websocket.MessageText, authx.ReauthMessage(fresh)); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, conn, "alice: hi")    // the re-authentication was handled before this echo
	s.clock.Advance(30 * time.Second) // past the first token's expiry
	echoOnce(t, conn, "alice: hi")
	s.clock.Advance(31 * time.Second) // past the new token's expiry
	if code, reason := closedWith(t, conn); code != websocket.StatusPolicyViolation || reason != "token expired" {
		t.Errorf("closed with %d %q, want 1008 \"token expired\"", code, reason)
	}

	t.Run("another subject's token", func(t *testing.T) {
		t.Parallel()
		s := newWSSite(t, nil)
		conn, _ := s.dial(t, "token="+authtest.Token(t, s.a, "alice"), nil)
		if err := conn.Write(t.Context(), websocket.MessageText, authx.ReauthMessage(authtest.Token(t, s.a, "mallory"))); err != nil {
			t.Fatal(err)
		}
		if code, reason := closedWith(t, conn); code != websocket.StatusPolicyViolation || reason != "re-authentication failed" {
			t.Errorf("closed with %d %q", code, reason)
		}
	})
	t.Run("an expired token", func(t *testing.T) {
		t.Parallel()
		s := newWSSite(t, nil)
		conn, _ := s.dial(t, "token="+authtest.Token(t, s.a, "alice"), nil)
		if err := conn.Write(t.Context(), websocket.MessageText, authx.ReauthMessage(authtest.ExpiredToken(t, s.a, "alice"))); err != nil {
			t.Fatal(err)
		}
		if code, _ := closedWith(t, conn); code != websocket.StatusPolicyViolation {
			t.Errorf("closed with %d, want 1008", code)
		}
	})
}

func TestParseReauth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg    string
		want   string
		wantOK bool
	}{
		{string(authx.ReauthMessage("abc")), "abc", true},
		{`{"token":"abc","type":"authx.reauth","extra":[1]}`, "abc", true},
		{`{"type":"authx.reauth"}`, "", false},
		{`{"type":"chat","token":"abc"}`, "", false},
		{`{"type":"authx.reauth","token":1}`, "", false},
		{`hello`, "", false},
		{`{"type":"authx.reauth","token":"abc"} trailing`, "", false},
	}
	for _, tt := range tests {
		got, ok := authx.ParseReauth([]byte(tt.msg))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseReauth(%s) = %q, %v; want %q, %v", tt.msg, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestWebSocketTicket(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, []authx.Policy{authx.Scopes("chat:write")})
	access := authtest.Token(t, s.a, "alice", authx.Grant("chat:*"), authx.ExpiresIn(10*time.Minute))
	ticket := func(t *testing.T, tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.srv.URL+"/ws/ticket", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Ticket    string `json:"ticket"`
			ExpiresIn int    `json:"expires_in"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode == 200 && body.ExpiresIn != 30 {
			t.Errorf("expires_in = %d, want 30", body.ExpiresIn)
		}
		return resp.StatusCode, body.Ticket
	}
	if code, _ := ticket(t, ""); code != 401 {
		t.Errorf("ticket without a token: %d, want 401", code)
	}
	code, tk := ticket(t, access)
	if code != 200 || tk == "" {
		t.Fatalf("ticket: %d", code)
	}
	if _, err := s.a.Verify(t.Context(), tk); !errors.Is(err, authx.ErrAccessRequired) {
		t.Errorf("a ticket used as a bearer token: %v, want ErrAccessRequired", err)
	}
	// A plain GET (a link preview) does not burn the ticket.
	if resp, err := s.srv.Client().Get(s.srv.URL + "/ws?ticket=" + tk); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode == 200 {
			t.Errorf("plain GET with a ticket: %d", resp.StatusCode)
		}
	}
	// Tickets are not bearer tokens, even for guards that mention Refresh.
	for _, p := range []authx.Policy{authx.Any(authx.Refresh, authx.Scopes("chat:*")), authx.Refresh} {
		if _, err := s.a.Verify(t.Context(), tk, p); err == nil {
			t.Errorf("ticket verified as a bearer token under %v", p)
		}
	}
	conn, got := s.dial(t, "ticket="+tk, nil)
	if conn == nil {
		t.Fatalf("ticket refused: %+v", got)
	}
	echoOnce(t, conn, "alice: hi")
	if _, again := s.dial(t, "ticket="+tk, nil); again.Status != 401 || again.Code != "token_revoked" {
		t.Errorf("ticket reused: %+v, want 401 token_revoked", again)
	}
	_, late := ticket(t, access)
	s.clock.Advance(31 * time.Second)
	if _, got := s.dial(t, "ticket="+late, nil); got.Status != 401 || got.Code != "token_expired" {
		t.Errorf("expired ticket: %+v", got)
	}
	// The ticket's connection lives with the access token it was traded for,
	// not with the ticket's 30 seconds.
	echoOnce(t, conn, "alice: hi")
	s.clock.Advance(10 * time.Minute)
	if code, reason := closedWith(t, conn); code != websocket.StatusPolicyViolation || reason != "token expired" {
		t.Errorf("ticket connection closed with %d %q", code, reason)
	}
	// A ticket keeps the scopes of its access token: without them, refused.
	_, bare := ticket(t, authtest.Token(t, s.a, "bob"))
	if _, got := s.dial(t, "ticket="+bare, nil); got.Status != 403 {
		t.Errorf("ticket of a token without the scope: %+v, want 403", got)
	}
}

// ticket buys a ticket at the site's ticket endpoint with access.
func (s *wsSite) ticket(t *testing.T, access string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.srv.URL+"/ws/ticket", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Ticket string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Ticket == "" {
		t.Fatalf("ticket: %d %v", resp.StatusCode, err)
	}
	return body.Ticket
}

func TestWebSocketTicketRevokedWithAccessToken(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil)
	access := authtest.Token(t, s.a, "alice")
	conn, _ := s.dial(t, "ticket="+s.ticket(t, access), nil)
	if conn == nil {
		t.Fatal("ticket refused")
	}
	c, _ := s.a.Verify(t.Context(), access)
	if err := s.a.Revoke(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if code, reason := closedWith(t, conn); code != websocket.StatusPolicyViolation || reason != "token revoked" {
		t.Errorf("closed with %d %q, want the access token's revocation to close it", code, reason)
	}
}

func TestWebSocketTicketEdges(t *testing.T) {
	t.Parallel()
	s := newWSSite(t, nil, authx.WithTokenLocations(authx.InHeader, authx.InCookie))
	post := func(t *testing.T, method string, h http.Header) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.srv.URL+"/ws/ticket", nil)
		req.Header = h
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Ticket string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Ticket
	}
	tok := authtest.Token(t, s.a, "alice")
	if code, _ := post(t, "GET", header("Authorization", "Bearer "+tok)); code != http.StatusMethodNotAllowed {
		t.Errorf("GET ticket: %d, want 405", code)
	}
	c, _ := s.a.Verify(t.Context(), tok)
	cookie := header("Cookie", "access_token_cookie="+tok)
	if code, _ := post(t, "POST", cookie); code != 403 {
		t.Errorf("cookie POST without CSRF: %d, want 403", code)
	}
	cookie.Set("X-CSRF-TOKEN", c.CSRF)
	if code, tk := post(t, "POST", cookie); code != 200 || tk == "" {
		t.Errorf("cookie POST with CSRF: %d", code)
	}
	// A ticket never outlives its access token.
	short := authtest.Token(t, s.a, "alice", authx.ExpiresIn(5*time.Second))
	code, tk := post(t, "POST", header("Authorization", "Bearer "+short))
	if code != 200 {
		t.Fatalf("ticket for a short token: %d", code)
	}
	s.clock.Advance(6 * time.Second)
	if _, got := s.dial(t, "ticket="+tk, nil); got.Status != 401 || got.Code != "token_expired" {
		t.Errorf("ticket after its access token expired: %+v, want 401 token_expired", got)
	}
	// A refused handshake (revoked access token) does not spend the ticket;
	// the ticket still dies with its token.
	tok2 := authtest.Token(t, s.a, "alice")
	_, tk2 := post(t, "POST", header("Authorization", "Bearer "+tok2))
	c2, _ := s.a.Verify(t.Context(), tok2)
	_ = s.a.Revoke(t.Context(), c2)
	if _, got := s.dial(t, "ticket="+tk2, nil); got.Status != 401 || got.Code != "token_revoked" {
		t.Errorf("ticket of a revoked token: %+v", got)
	}
}
