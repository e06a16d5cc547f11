package authx_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/coder/websocket"
)

// Two thumbprints (base64url of 32 bytes).
const (
	jktA = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	jktB = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
)

// fakeBinding proves the key named by the request's X-Key header, and
// records what it was shown.
type fakeBinding struct {
	mu    sync.Mutex
	seen  []authx.Presentation
	reply func(p authx.Presentation) (string, error) // nil: prove X-Key
}

func (f *fakeBinding) Scheme() string { return "DPoP" }

func (f *fakeBinding) Check(ctx context.Context, p authx.Presentation) (string, error) {
	f.mu.Lock()
	f.seen = append(f.seen, p)
	reply := f.reply
	f.mu.Unlock()
	if reply != nil {
		return reply(p)
	}
	jkt := p.Request.Header.Get("X-Key")
	if p.Claims != nil && p.Claims.KeyThumbprint != "" && jkt != p.Claims.KeyThumbprint {
		return "", &authx.Error{Status: 401, Code: "invalid_dpop_proof", Message: "no proof",
			Challenge: `DPoP error="invalid_dpop_proof"`, Header: http.Header{"Dpop-Nonce": {"n-1"}}}
	}
	return jkt, nil
}

func (f *fakeBinding) last() authx.Presentation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[len(f.seen)-1]
}

type bindingSite struct {
	a   *authx.Auth[string]
	srv *httptest.Server
}

func newBindingSite(t *testing.T, opts ...authx.Option) bindingSite {
	t.Helper()
	a, err := authx.New[string](append([]authx.Option{authx.WithSecret([]byte("0123456789abcdef0123456789abcdef"))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/me", a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := authx.ClaimsFrom(r.Context())
		io.WriteString(w, c.Subject+" "+c.KeyThumbprint)
	})))
	mux.Handle("POST /refresh", a.RefreshHandler())
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		jkt, err := a.KeyProof(r)
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		var opts []authx.TokenOption
		if jkt != "" {
			opts = append(opts, authx.BoundToKey(jkt))
		}
		pair, err := a.CreateTokenPair("alice", opts...)
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		json.NewEncoder(w).Encode(pair)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return bindingSite{a, srv}
}

// do sends method path with the given headers; it returns the status,
// the headers and the body.
func (s bindingSite) do(t *testing.T, method, path string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// Without a KeyBinding, a token bound to a key is never a bearer token:
// guards, Verify and the refresh endpoint refuse it, and the DPoP scheme
// is not read.
func TestBoundTokensWithoutKeyBinding(t *testing.T) {
	t.Parallel()
	s := newBindingSite(t)
	pair, err := s.a.CreateTokenPair("alice", authx.BoundToKey(jktA))
	if err != nil {
		t.Fatal(err)
	}
	if pair.TokenType != "bearer" {
		t.Errorf("token_type %q without a KeyBinding", pair.TokenType)
	}
	if code, h, _ := s.do(t, "GET", "/me", "Authorization", "Bearer "+pair.AccessToken, "X-Key", jktA); code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("bound token as bearer: %d %q, want 401 invalid_token", code, h.Get("WWW-Authenticate"))
	}
	if _, err := s.a.Verify(context.Background(), pair.AccessToken); !errors.Is(err, authx.ErrKeyBound) {
		t.Errorf("Verify of a bound token: %v, want ErrKeyBound", err)
	}
	if code, _, _ := s.do(t, "POST", "/refresh", "Authorization", "Bearer "+pair.RefreshToken); code != 401 {
		t.Errorf("refresh with a bound refresh token: %d, want 401", code)
	}
	plain, err := s.a.CreateAccessToken("bob")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := s.do(t, "GET", "/me", "Authorization", "DPoP "+plain); code != 401 {
		t.Errorf("the DPoP scheme without a KeyBinding: %d, want 401 (no token found)", code)
	}
	if code, _, body := s.do(t, "GET", "/me", "Authorization", "Bearer "+plain); code != 200 || body != "bob " {
		t.Errorf("an unbound token: %d %q", code, body)
	}
	if _, err := s.a.CreateAccessToken("x", authx.BoundToKey("not-a-thumbprint")); !errors.Is(err, authx.ErrTokenOption) {
		t.Errorf("BoundToKey(bad): %v, want ErrTokenOption", err)
	}
	if jkt, err := s.a.KeyProof(httptest.NewRequest("POST", "/login", nil)); jkt != "" || err != nil {
		t.Errorf("KeyProof without a KeyBinding: %q, %v", jkt, err)
	}
}

// With a KeyBinding: it sees every verified token as presented, its
// scheme is read, its refusals are written as it made them (challenge,
// DPoP-Nonce), a bound token passes only with its own key proven — even
// if the KeyBinding says yes to another — and its failures deny closed.
func TestKeyBinding(t *testing.T) {
	t.Parallel()
	kb := &fakeBinding{}
	s := newBindingSite(t, authx.WithKeyBinding(kb))
	tok, err := s.a.CreateAccessToken("alice", authx.BoundToKey(jktA))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := s.do(t, "GET", "/me", "Authorization", "DPoP "+tok, "X-Key", jktA); code != 200 || body != "alice "+jktA {
		t.Fatalf("bound token with its key: %d %q", code, body)
	}
	if p := kb.last(); p.Scheme != "DPoP" || p.Token != tok || p.Refresh || p.Claims.KeyThumbprint != jktA {
		t.Errorf("presented: scheme %q, token %v, refresh %v, jkt %q", p.Scheme, p.Token == tok, p.Refresh, p.Claims.KeyThumbprint)
	}
	code, h, body := s.do(t, "GET", "/me", "Authorization", "DPoP "+tok, "X-Key", jktB)
	if code != 401 || h.Get("WWW-Authenticate") != `DPoP error="invalid_dpop_proof"` || h.Get("DPoP-Nonce") != "n-1" || !strings.Contains(body, "invalid_dpop_proof") {
		t.Errorf("bound token with another key: %d %q nonce %q %s", code, h.Get("WWW-Authenticate"), h.Get("DPoP-Nonce"), body)
	}
	plain, err := s.a.CreateAccessToken("bob")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := s.do(t, "GET", "/me", "Authorization", "Bearer "+plain); code != 200 || kb.last().Scheme != "Bearer" {
		t.Errorf("unbound bearer token: %d, scheme shown %q", code, kb.last().Scheme)
	}
	for _, tc := range []struct {
		name  string
		reply func(authx.Presentation) (string, error)
		want  int
	}{
		{"the KeyBinding proves another key", func(authx.Presentation) (string, error) { return jktB, nil }, 401},
		{"the KeyBinding proves none", func(authx.Presentation) (string, error) { return "", nil }, 401},
		{"the KeyBinding cannot answer", func(authx.Presentation) (string, error) { return "", errors.New("store down") }, 503},
		{"the KeyBinding panics", func(authx.Presentation) (string, error) { panic("boom") }, 503},
	} {
		kb.mu.Lock()
		kb.reply = tc.reply
		kb.mu.Unlock()
		if code, _, _ := s.do(t, "GET", "/me", "Authorization", "DPoP "+tok, "X-Key", jktA); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}
	kb.mu.Lock()
	kb.reply = nil
	kb.mu.Unlock()
	// FirstUse: once, in a key space of its own.
	var p authx.Presentation
	kb.mu.Lock()
	p = kb.seen[0]
	kb.mu.Unlock()
	until := time.Now().Add(time.Minute)
	for i, want := range []bool{true, false} {
		if first, err := p.FirstUse(context.Background(), "proof-1", until); err != nil || first != want {
			t.Errorf("FirstUse #%d: %v, %v; want %v", i, first, err, want)
		}
	}
	if first, err := (authx.Presentation{}).FirstUse(context.Background(), "x", until); first || err == nil {
		t.Errorf("FirstUse of a Presentation no Auth made: %v, %v", first, err)
	}
}

// Logins and the refresh endpoint: KeyProof returns the proven key, the
// pair is bound to it (token_type DPoP), a bound refresh token renews
// only with its key and into tokens bound to it, and an unbound one
// presented with a proof renews into bound tokens.
func TestKeyBindingRefresh(t *testing.T) {
	t.Parallel()
	kb := &fakeBinding{}
	s := newBindingSite(t, authx.WithKeyBinding(kb))
	login := func(key string) authx.TokenPair {
		t.Helper()
		req, _ := http.NewRequest("POST", s.srv.URL+"/login", nil)
		if key != "" {
			req.Header.Set("X-Key", key)
		}
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var pair authx.TokenPair
		if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil {
			t.Fatal(err)
		}
		return pair
	}
	bound := login(jktA)
	if bound.TokenType != "DPoP" {
		t.Errorf("token_type %q, want DPoP", bound.TokenType)
	}
	if p := kb.last(); p.Claims != nil || p.Token != "" {
		t.Errorf("KeyProof presented claims %v, token %q", p.Claims, p.Token)
	}
	if code, _, _ := s.do(t, "POST", "/refresh", "Authorization", "Bearer "+bound.RefreshToken, "X-Key", jktB); code != 401 {
		t.Errorf("bound refresh token with another key: %d, want 401", code)
	}
	code, _, body := s.do(t, "POST", "/refresh", "Authorization", "Bearer "+bound.RefreshToken, "X-Key", jktA)
	if code != 200 {
		t.Fatalf("bound refresh token with its key: %d %s", code, body)
	}
	if !kb.last().Refresh {
		t.Error("the refresh endpoint's presentation is not marked Refresh")
	}
	var renewed authx.TokenPair
	if err := json.Unmarshal([]byte(body), &renewed); err != nil {
		t.Fatal(err)
	}
	if renewed.TokenType != "DPoP" {
		t.Errorf("renewed token_type %q", renewed.TokenType)
	}
	if code, _, got := s.do(t, "GET", "/me", "Authorization", "DPoP "+renewed.AccessToken, "X-Key", jktA); code != 200 || got != "alice "+jktA {
		t.Errorf("renewed access token: %d %q, want bound to the same key", code, got)
	}
	unbound := login("")
	code, _, body = s.do(t, "POST", "/refresh", "Authorization", "Bearer "+unbound.RefreshToken, "X-Key", jktB)
	if code != 200 {
		t.Fatalf("unbound refresh with a proof: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &renewed); err != nil {
		t.Fatal(err)
	}
	if code, _, got := s.do(t, "GET", "/me", "Authorization", "DPoP "+renewed.AccessToken, "X-Key", jktB); code != 200 || got != "alice "+jktB {
		t.Errorf("tokens renewed with a proof: %d %q, want bound to the proven key", code, got)
	}
}

// WithKeyBinding's mistakes are New's, and a confirmation other than jkt
// (or a malformed one) refuses the token.
func TestKeyBindingConfigAndCnf(t *testing.T) {
	t.Parallel()
	for _, kb := range []authx.KeyBinding{nil, schemeBinding("D PoP"), schemeBinding("")} {
		if _, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")), authx.WithKeyBinding(kb)); !errors.Is(err, authx.ErrConfig) {
			t.Errorf("WithKeyBinding(%v): %v, want ErrConfig", kb, err)
		}
	}
	a, err := authx.New[string](authx.WithSecret(badSecret), authx.WithClock(badClock), authx.WithKeyBinding(&fakeBinding{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, cnf := range []string{
		`{"x5t#S256":"` + jktA + `"}`,
		`{"jkt":"` + jktA + `","jwk":{}}`,
		`{"jkt":"` + jktA + `","jkt":"` + jktA + `"}`,
		`{"jkt":"short"}`,
		`{"jkt":"` + jktA[:42] + `B"}`, // stray bits in the last character
		`{}`, `"` + jktA + `"`, `null`, `[]`,
	} {
		tok := badForge(t, badHS256, strings.Replace(badValid, `"csrf":"c1",`, `"csrf":"c1","cnf":`+cnf+`,`, 1), badSecret)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "DPoP "+tok)
		if _, err := a.Require().Check(r); !errors.Is(err, authx.ErrMalformed) {
			t.Errorf("cnf %s: %v, want ErrMalformed", cnf, err)
		}
	}
	tok := badForge(t, badHS256, strings.Replace(badValid, `"csrf":"c1",`, `"csrf":"c1","cnf":{"jkt":"`+jktA+`"},`, 1), badSecret)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "DPoP "+tok)
	r.Header.Set("X-Key", jktA)
	if c, err := a.Require().Check(r); err != nil || c.KeyThumbprint != jktA {
		t.Errorf("a token with cnf.jkt: %v, %+v", err, c)
	}
}

type schemeBinding string

func (s schemeBinding) Scheme() string { return string(s) }
func (s schemeBinding) Check(context.Context, authx.Presentation) (string, error) {
	return "", nil
}

var _ = authtest.NewClock

// WebSockets: a handshake carrying a bound token is shown to the
// KeyBinding like any request (a client that can set headers proves its
// key on the handshake); a browser trades its bound token for a ticket at
// the guarded ticket endpoint, where the proof is checked, and the ticket
// then opens a connection whose claims keep the binding.
func TestKeyBindingWebSocket(t *testing.T) {
	t.Parallel()
	kb := &fakeBinding{}
	s := newBindingSite(t, authx.WithKeyBinding(kb))
	mux := http.NewServeMux()
	g := s.a.Require()
	var got sync.Map
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, c, err := g.Accept(w, r, nil)
		if err != nil {
			return
		}
		got.Store(c.ID, c.KeyThumbprint)
		conn.Close(websocket.StatusNormalClosure, "")
	})
	mux.Handle("POST /ticket", s.a.TicketHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	tok, err := s.a.CreateAccessToken("alice", authx.BoundToKey(jktA))
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
	if code := dial(wsURL, http.Header{"Authorization": {"DPoP " + tok}, "X-Key": {jktA}}); code != http.StatusSwitchingProtocols {
		t.Errorf("handshake with the bound token and its key: %d", code)
	}
	if code := dial(wsURL, http.Header{"Authorization": {"DPoP " + tok}, "X-Key": {jktB}}); code != http.StatusUnauthorized {
		t.Errorf("handshake with the bound token and another key: %d, want 401", code)
	}
	ticket := func(key string) (int, string) {
		t.Helper()
		code, _, body := s.doAt(t, srv.URL, "POST", "/ticket", "Authorization", "DPoP "+tok, "X-Key", key)
		var out struct{ Ticket string }
		json.Unmarshal([]byte(body), &out)
		return code, out.Ticket
	}
	if code, _ := ticket(jktB); code != http.StatusUnauthorized {
		t.Errorf("a ticket for the bound token with another key: %d, want 401", code)
	}
	code, tk := ticket(jktA)
	if code != 200 || tk == "" {
		t.Fatalf("a ticket with the key: %d", code)
	}
	if code := dial(wsURL+"?ticket="+tk, nil); code != http.StatusSwitchingProtocols {
		t.Fatalf("handshake with the ticket: %d", code)
	}
	found := false
	got.Range(func(_, v any) bool {
		found = found || v == jktA
		return true
	})
	if !found {
		t.Error("the ticket's connection lost the binding")
	}
}

// doAt is do against another server of the same Auth.
func (s bindingSite) doAt(t *testing.T, base, method, path string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	url := base + path
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// OpenAPI: with a KeyBinding the document names the DPoP scheme, and a
// header guard's requirement offers it beside Bearer, with the same scopes.
func TestKeyBindingOpenAPI(t *testing.T) {
	t.Parallel()
	a, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")), authx.WithKeyBinding(&fakeBinding{}))
	if err != nil {
		t.Fatal(err)
	}
	schemes := a.SecuritySchemes()
	if s, ok := schemes["AuthXDPoP"]; !ok || s.Type != "http" || s.Scheme != "DPoP" {
		t.Errorf("AuthXDPoP: %+v, %v", s, ok)
	}
	got, _ := json.Marshal(a.Require(authx.Scopes("read")).Security())
	if want := `[{"AuthXBearer":["read"]},{"AuthXDPoP":["read"]}]`; string(got) != want {
		t.Errorf("Security: %s, want %s", got, want)
	}
	plain, err := authx.New[string](authx.WithSecret([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.SecuritySchemes()["AuthXDPoP"]; ok {
		t.Error("AuthXDPoP without a KeyBinding")
	}
}

// NewError answers as given and wraps its cause; an *Error built by hand,
// without a sentinel, still prints.
func TestNewError(t *testing.T) {
	t.Parallel()
	cause := errors.New("proof replayed")
	e := authx.NewError(401, "invalid_dpop_proof", "The proof is invalid.", cause)
	if !errors.Is(e, cause) || e.Status != 401 || e.Code != "invalid_dpop_proof" {
		t.Errorf("NewError: %+v", e)
	}
	if got := e.Error(); got != "authx: invalid_dpop_proof: proof replayed" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&authx.Error{Status: 503}).Error(); got != "authx: Service Unavailable" {
		t.Errorf("bare Error() = %q", got)
	}
	w := httptest.NewRecorder()
	e.Challenge = `DPoP error="invalid_dpop_proof"`
	authx.WriteError(w, "api", e)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != e.Challenge || !strings.Contains(w.Body.String(), `"code":"invalid_dpop_proof"`) {
		t.Errorf("written: %d %q %s", w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
	}
}

// In-band re-authentication carries no proof: a bound token renews only a
// connection that proved the same key when it opened.
func TestKeyBindingReauth(t *testing.T) {
	t.Parallel()
	kb := &fakeBinding{}
	s := newBindingSite(t, authx.WithKeyBinding(kb))
	g := s.a.Require()
	results := make(chan error, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := g.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		_, msg, err := conn.Read(r.Context())
		if err != nil {
			results <- err
			return
		}
		tok, _ := authx.ParseReauth(msg)
		_, err = g.Reauthenticate(r.Context(), conn, tok)
		results <- err
	}))
	t.Cleanup(srv.Close)
	mint := func(jkt string) string {
		var opts []authx.TokenOption
		if jkt != "" {
			opts = append(opts, authx.BoundToKey(jkt))
		}
		tok, err := s.a.CreateAccessToken("alice", opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tc := range []struct {
		name       string
		open, with string // the connection's key (""= bearer) and the new token's
		want       error
	}{
		{"same key", jktA, jktA, nil},
		{"another key", jktA, jktB, authx.ErrKeyBound},
		{"bound token on a bearer connection", "", jktA, authx.ErrKeyBound},
		{"bearer token on a bound connection", jktA, "", nil},
	} {
		hdr := http.Header{"Authorization": {"Bearer " + mint("")}}
		if tc.open != "" {
			hdr = http.Header{"Authorization": {"DPoP " + mint(tc.open)}, "X-Key": {tc.open}}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{HTTPHeader: hdr})
		if err != nil {
			cancel()
			t.Fatalf("%s: dial: %v", tc.name, err)
		}
		if err := conn.Write(ctx, websocket.MessageText, authx.ReauthMessage(mint(tc.with))); err != nil {
			t.Fatal(err)
		}
		_, _, rerr := conn.Read(ctx) // answers the server's close
		got := <-results
		if (tc.want == nil) != (got == nil) || (tc.want != nil && !errors.Is(got, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if tc.want != nil && websocket.CloseStatus(rerr) != websocket.StatusPolicyViolation {
			t.Errorf("%s: the client saw %v, want a 1008 close", tc.name, rerr)
		}
		conn.CloseNow()
		cancel()
	}
}
