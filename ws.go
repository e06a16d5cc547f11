package authx

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authx-go/authx/internal/jsonscan"
	"github.com/coder/websocket"
)

// WebSocketProtocol is the marker subprotocol of the Sec-WebSocket-Protocol
// token source: a browser that cannot set headers on a WebSocket handshake
// offers ["authx.bearer", token] as subprotocols,
//
//	new WebSocket(url, ["authx.bearer", accessToken])
//
// and the server echoes only the marker, never the token.
const WebSocketProtocol = "authx.bearer"

// ticketType is the type claim of WebSocket tickets (see
// [Auth.TicketHandler]); no guard admits one as a bearer token.
const ticketType TokenType = "ws_ticket"

// Ticket claim names: the id and expiry of the access token a ticket was
// traded for, so that the connection lives and is revoked with it.
const (
	claimTicketJTI = "ati"
	claimTicketExp = "axp"
)

var (
	errForeignOrigin = errors.New("cookie-authenticated WebSocket handshake from a foreign or null Origin")
	errTicketReused  = errors.New("WebSocket ticket already used")
	errOtherSubject  = errors.New("re-authentication with another subject's token")
)

// Accept authenticates a WebSocket handshake and then upgrades it with
// [websocket.Accept]. The guard's policies run on the handshake request
// before any upgrade, so a refusal is a real HTTP response (401, 403, 503)
// with WWW-Authenticate, never an accepted-then-closed socket; on refusal
// Accept has written that response and returns the error.
//
// Token sources, in order: a single-use ticket in the "ticket" query
// parameter (see [Auth.TicketHandler]); the [WebSocketProtocol] subprotocol
// (the client's explicit choice, ahead of any ambient cookie); the
// configured locations (without JSON); then the query parameter
// ([WithQueryParam], "token") and the access cookie. A
// handshake authenticated by a cookie must come from the server's own origin
// (or one of opts.OriginPatterns): a foreign or "null" Origin is refused with
// 403 (cross-site WebSocket hijacking). websocket.Accept's own origin check
// stays on.
//
// opts is copied, never mutated; nil means defaults. On success the
// connection's token is watched while the handler runs: when it expires or
// is revoked (the token, its family or its session), the connection is
// closed with [websocket.StatusPolicyViolation] (1008) and a reason; a
// client can extend it in-band (see [Guard.Reauthenticate]). When the
// handler returns, the connection is closed too (nothing would watch its
// token any more): a handler that hands the connection to another
// goroutine must wait for it. Derive the connection's context with
// [Guard.NewContext]: it carries the claims for [SubjectFrom] and is
// cancelled when the connection is closed for its token.
func (g *Guard) Accept(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions) (*websocket.Conn, *Claims, error) {
	var o websocket.AcceptOptions
	if opts != nil {
		o = *opts
		o.Subprotocols = append([]string(nil), opts.Subprotocols...)
		o.OriginPatterns = append([]string(nil), opts.OriginPatterns...)
	}
	if !isHandshake(r) || !canHijack(w) {
		// A request websocket.Accept refuses by itself — not a well-formed
		// handshake (426, 405, 400), a writer that cannot be hijacked — is
		// answered by it before any token is looked at or any ticket spent.
		_, err := websocket.Accept(w, r, &o)
		return nil, nil, err
	}
	if !acceptsOrigin(r, &o) {
		// websocket.Accept would refuse this Origin after a ticket was
		// spent: refuse it first, as it would (403), in authx's JSON.
		err := newError(ErrCrossOrigin, errForeignOrigin)
		g.deny(w, r, err)
		return nil, nil, err
	}
	c, authErr := g.authenticateWS(r, o.OriginPatterns)
	if authErr != nil {
		g.deny(w, r, authErr)
		return nil, nil, authErr
	}
	if offersMarker(r) {
		// Echo the marker whenever the client offered it (browsers fail a
		// handshake whose answer names no offered protocol), after the
		// application's own protocols; the token is never among
		// o.Subprotocols, so it is never echoed.
		o.Subprotocols = append(o.Subprotocols, WebSocketProtocol)
	}
	conn, err := websocket.Accept(w, r, &o)
	if err != nil {
		return nil, nil, err // websocket.Accept has answered the client
	}
	g.watch(r.Context(), conn, c)
	return conn, c, nil
}

// isHandshake reports whether r is a WebSocket upgrade request that
// websocket.Accept takes (RFC 6455 §4.2.1): HTTP/1.1 or later, GET, the
// Connection and Upgrade tokens, version 13, and one Sec-WebSocket-Key of
// 16 base64 bytes.
func isHandshake(r *http.Request) bool {
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0]))
	return err == nil && len(key) == 16 &&
		r.ProtoAtLeast(1, 1) &&
		r.Method == http.MethodGet &&
		headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket") &&
		r.Header.Get("Sec-WebSocket-Version") == "13"
}

// acceptsOrigin reports whether websocket.Accept's own origin check (which
// Accept keeps on) passes: no Origin, the request's host, or a match of
// o.OriginPatterns; or the check is off.
func acceptsOrigin(r *http.Request, o *websocket.AcceptOptions) bool {
	origin := r.Header.Get("Origin")
	if o.InsecureSkipVerify || origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || originMatches(u, o.OriginPatterns)
}

// originMatches reports whether origin u matches one of patterns, as
// websocket.Accept matches them: host patterns, or scheme://host patterns.
func originMatches(u *url.URL, patterns []string) bool {
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// canHijack reports whether w (or a writer it wraps) can be hijacked, as
// websocket.Accept needs.
func canHijack(w http.ResponseWriter) bool {
	for {
		switch x := w.(type) {
		case http.Hijacker:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return false
		}
	}
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func offersMarker(r *http.Request) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == WebSocketProtocol {
				return true
			}
		}
	}
	return false
}

// NewContext returns ctx carrying c and the lazily resolved subject, as a
// guarded HTTP request's context does; use it after [Guard.Accept] so that
// [ClaimsFrom] and [SubjectFrom] work in the connection's code. For claims
// returned by Accept (or [Guard.Reauthenticate]) of a connection still
// open, the context is also cancelled when the connection is closed for its
// token — expired, revoked, or revocation unknown — once the close
// frame (1008 or 1013) has been exchanged, with [context.Cause] an error matching [ErrExpired],
// [ErrRevoked] or [ErrUnavailable]; so work the handler started for the
// connection (reads, queries, subscriptions) stops with it.
func (g *Guard) NewContext(ctx context.Context, c *Claims) context.Context {
	if g == nil || g.newCtx == nil {
		return ctx
	}
	g.mu.Lock()
	w := g.byClaims[c]
	g.mu.Unlock()
	if w != nil {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		context.AfterFunc(w.ctx, func() { cancel(context.Cause(w.ctx)) })
	}
	return g.newCtx(ctx, c)
}

// authenticateWS runs the guard's pipeline on a handshake request. A
// ticket is spent last, once everything else has passed, so a refused
// handshake does not burn it.
func (g *Guard) authenticateWS(r *http.Request, originPatterns []string) (*Claims, *Error) {
	if g == nil || g.e == nil {
		return nil, newError(ErrNotConfigured, nil)
	}
	if g.ps.err != nil {
		return nil, newError(ErrMisconfigured, g.ps.err)
	}
	e := g.e
	ctx := r.Context()
	var c *Claims
	var loc Location
	var ticketID string
	if t := r.URL.Query()["ticket"]; len(t) > 0 {
		if len(t) > 1 {
			return nil, newError(ErrInvalidRequest, errTwoParams)
		}
		tc, id, err := e.readTicket(t[0])
		if err != nil {
			return nil, asError(err)
		}
		c, loc, ticketID = tc, InQuery, id
	} else {
		tok, l, err := e.locateWS(r, g.ps.look)
		if err != nil {
			return nil, asError(err)
		}
		if c, err = e.check(ctx, tok, g.ps); err != nil {
			return nil, asError(err)
		}
		loc = l
	}
	if loc == InCookie {
		if err := checkWSOrigin(r, originPatterns); err != nil {
			return nil, newError(ErrCrossOrigin, err)
		}
	}
	if _, err := e.admit(ctx, c, g.ps, g.newCtx); err != nil {
		return nil, asError(err)
	}
	if ticketID != "" {
		if err := e.spendTicket(ctx, ticketID); err != nil {
			return nil, asError(err)
		}
	}
	return c, nil
}

// locateWS finds the handshake's token: the subprotocol (an explicit
// choice of the client, ahead of any ambient cookie), the configured
// locations (a handshake has no JSON body), then the query and cookie.
func (e *engine) locateWS(r *http.Request, look kinds) (string, Location, error) {
	tok, err := protocolToken(r)
	if err != nil {
		return "", InHeader, err
	}
	if tok != "" {
		if len(tok) > e.cfg.maxToken {
			return "", InHeader, newError(ErrTokenTooLarge, nil)
		}
		return tok, InHeader, nil
	}
	locs := make([]Location, 0, 4)
	for _, l := range e.cfg.locations {
		if l != InJSON {
			locs = append(locs, l)
		}
	}
	for _, l := range []Location{InQuery, InCookie} {
		if !slices.Contains(locs, l) {
			locs = append(locs, l)
		}
	}
	return e.locateIn(r, locs, look)
}

// protocolToken reads the token offered after the marker subprotocol.
func protocolToken(r *http.Request) (string, error) {
	var protos []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				protos = append(protos, p)
			}
		}
	}
	tok, found := "", false
	for i, p := range protos {
		if p != WebSocketProtocol {
			continue
		}
		if found {
			return "", newError(ErrInvalidRequest, errors.New("marker subprotocol offered twice"))
		}
		if i+1 >= len(protos) {
			return "", newError(ErrMalformed, errors.New("marker subprotocol without a token"))
		}
		tok, found = protos[i+1], true
	}
	return tok, nil
}

// checkWSOrigin refuses a cookie-authenticated handshake unless its Origin
// is the request's host or matches a pattern (as websocket.Accept matches
// them). A missing Origin is not a browser, which always sends one.
func checkWSOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return errForeignOrigin // includes "null"
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && (r.TLS != nil || scheme != "http") {
		return errForeignOrigin // an https page's socket comes from https only
	}
	if strings.EqualFold(u.Host, r.Host) || originMatches(u, patterns) {
		return nil
	}
	return errForeignOrigin
}

// wsWatch is the live state of one accepted connection.
type wsWatch struct {
	conn   *websocket.Conn
	mu     sync.Mutex
	claims *Claims
	wake   chan struct{} // a re-authentication moved the expiry
	// ctx ends with the watch, its cause saying why (see Guard.NewContext).
	ctx    context.Context
	cancel context.CancelCauseFunc
	handed []*Claims // claims handed to the application (g.byClaims keys); g.mu
}

func (w *wsWatch) current() *Claims {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.claims
}

// watch closes conn when its token expires or is revoked, until ctx (the
// handshake request's, cancelled when the handler returns) is done.
func (g *Guard) watch(ctx context.Context, conn *websocket.Conn, c *Claims) {
	// The watcher keeps its own copy: the application may read (or copy)
	// the claims Accept returned while the watcher checks them.
	w := &wsWatch{conn: conn, claims: c.Clone(), wake: make(chan struct{}, 1)}
	w.ctx, w.cancel = context.WithCancelCause(context.Background())
	g.mu.Lock()
	if g.conns == nil {
		g.conns = make(map[*websocket.Conn]*wsWatch)
		g.byClaims = make(map[*Claims]*wsWatch)
	}
	g.conns[conn] = w
	g.handTo(w, c)
	g.mu.Unlock()
	go g.watchLoop(ctx, w)
}

// handTo records that c, handed to the application, belongs to w; g.mu is
// held.
func (g *Guard) handTo(w *wsWatch, c *Claims) {
	g.byClaims[c] = w
	w.handed = append(w.handed, c)
}

func (g *Guard) watchLoop(ctx context.Context, w *wsWatch) {
	defer func() {
		w.cancel(context.Canceled) // no-op when a close already said why
		g.mu.Lock()
		delete(g.conns, w.conn)
		for _, c := range w.handed {
			delete(g.byClaims, c)
		}
		g.mu.Unlock()
	}()
	e := g.e
	interval := e.cfg.wsRecheck
	for {
		c := w.current()
		wait := min(interval, c.ExpiresAt.Add(e.cfg.leeway).Sub(e.cfg.now()))
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				// The handler returned: nothing watches the token any more,
				// so the connection ends with it (fail closed). Keep the
				// handler running for as long as the connection lives.
				t.Stop()
				_ = w.conn.CloseNow()
				return
			case <-w.wake:
				t.Stop()
				continue
			case <-t.C:
			}
		}
		c = w.current()
		reason, status := "", websocket.StatusPolicyViolation
		var why error
		if !e.cfg.now().Before(c.ExpiresAt.Add(e.cfg.leeway)) {
			reason, why = "token expired", newError(ErrExpired, nil)
		} else if err := e.liveCheck(ctx, c); err != nil {
			if ctx.Err() != nil {
				_ = w.conn.CloseNow()
				return
			}
			reason, why = "token revoked", err
			if errors.Is(err, ErrUnavailable) {
				reason, status = "authentication unavailable", websocket.StatusTryAgainLater
			}
		}
		if reason != "" {
			e.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "authx: closing WebSocket",
				slog.String("sub", bound(c.Subject, maxLogPath)), slog.String("reason", reason))
			_ = w.conn.Close(status, reason)
			// Then the handler's work stops (not before: a read cancelled
			// by its context would drop the connection without the close
			// frame that tells the client why).
			w.cancel(why)
			return
		}
	}
}

// liveCheck is what a live connection's token must keep passing: the
// blocklist, and its session (unknown, ended or foreign ends it too).
func (e *engine) liveCheck(ctx context.Context, c *Claims) error {
	if err := e.revoked(ctx, c); err != nil {
		return err
	}
	_, err := e.checkSession(ctx, c)
	return err
}

// Reauthenticate extends a connection accepted by [Guard.Accept] with a new
// access token the client sent in-band (see [ParseReauth]): the token must
// pass the guard's policies and belong to the same subject. On success the
// connection lives until the new token expires and the new claims are
// returned (a context made earlier with [Guard.NewContext] keeps the old
// ones); on failure it is closed with 1008 (1013 when a store cannot
// answer) and the error returned.
func (g *Guard) Reauthenticate(ctx context.Context, conn *websocket.Conn, token string) (*Claims, error) {
	if g == nil || g.e == nil {
		return nil, newError(ErrNotConfigured, nil)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	g.mu.Lock()
	w := g.conns[conn]
	g.mu.Unlock()
	if w == nil {
		return nil, newError(ErrMisconfigured, errors.New("connection not accepted by this guard, or no longer watched"))
	}
	c, err := g.e.check(ctx, token, g.ps)
	if err == nil && c.Subject != w.current().Subject {
		err = newError(ErrForbidden, errOtherSubject)
	}
	if err == nil {
		_, err = g.e.admit(ctx, c, g.ps, g.newCtx)
	}
	if err != nil {
		e := asError(err)
		if e.Status >= 500 {
			_ = conn.Close(websocket.StatusTryAgainLater, "authentication unavailable")
		} else {
			_ = conn.Close(websocket.StatusPolicyViolation, "re-authentication failed")
		}
		return nil, e
	}
	w.mu.Lock()
	w.claims = c.Clone()
	w.mu.Unlock()
	g.mu.Lock()
	if g.conns[conn] == w { // still watched
		g.handTo(w, c)
	}
	g.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return c, nil
}

// reauthMessage is the agreed shape of an in-band re-authentication.
type reauthMessage struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

const reauthType = "authx.reauth"

// ReauthMessage returns the in-band re-authentication message carrying
// token: {"type":"authx.reauth","token":"…"}. A client sends it as a text
// message before its token expires.
func ReauthMessage(token string) []byte {
	b, _ := json.Marshal(reauthMessage{Type: reauthType, Token: token})
	return b
}

// ParseReauth reports whether msg is a re-authentication message and
// returns its token. Call it on each message the connection reads and hand
// the token to [Guard.Reauthenticate].
func ParseReauth(msg []byte) (string, bool) {
	sc := jsonscan.New(msg)
	if sc.Begin() != nil {
		return "", false
	}
	var typ, tok string
	for {
		k, done, err := sc.Next()
		if err != nil {
			return "", false
		}
		if done {
			break
		}
		switch string(k) {
		case "type", "token":
			v, err := sc.String()
			if err != nil {
				return "", false
			}
			if string(k) == "type" {
				typ = string(v)
			} else {
				tok = string(v)
			}
		default:
			if _, err := sc.Skip(); err != nil {
				return "", false
			}
		}
	}
	if sc.End() != nil || typ != reauthType || tok == "" {
		return "", false
	}
	return tok, true
}

// TicketHandler returns an endpoint (POST; other methods get 405) that
// trades a valid access token (from the configured locations, with the CSRF
// checks for cookies) for a WebSocket ticket: {"ticket": "…", "expires_in":
// seconds}. A ticket is a signed token valid for [WithTicketTTL] (30 s by
// default) and never past the access token's own expiry, bound to the
// access token's subject, scopes, custom data, session and family, and
// usable once, in the "ticket" query parameter of a handshake — so
// long-lived tokens never appear in URLs and access logs. The connection it
// opens lives, and is revoked, with the access token it was traded for.
// Tickets are spent in the [RefreshStore]: several replicas need a shared
// one (redisstore) for "once" to hold across them.
func (a *Auth[T]) TicketHandler() http.Handler {
	issue := a.Require().WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := ClaimsFrom(r.Context())
		tok, ttl, err := a.issueTicket(c)
		if err != nil {
			a.WriteError(w, r, classify(err, ErrMisconfigured))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		noStore(w.Header())
		_ = json.NewEncoder(w).Encode(map[string]any{"ticket": tok, "expires_in": int64(ttl / time.Second)})
	})
	// A cookie-borne GET needs no CSRF header; tickets are POST only.
	return a.postOnly(issue.ServeHTTP)
}

func (a *Auth[T]) issueTicket(c *Claims) (string, time.Duration, error) {
	s, err := a.settings(c.Subject, []TokenOption{renewal(c)})
	if err != nil {
		return "", 0, err
	}
	now := a.e.cfg.now().Truncate(time.Second)
	ttl := min(a.e.cfg.ticketTTL, c.ExpiresAt.Sub(now))
	if ttl < time.Second {
		return "", 0, newError(ErrExpired, errors.New("the access token expires too soon for a ticket"))
	}
	s.ttl = ttl
	s.fresh = c.Fresh
	s.ticketFor = c
	s.iat, s.nbf = c.IssuedAt, c.NotBefore // a ticket does not make a token younger
	tok, _, err := a.issue(ticketType, c.Subject, s)
	return tok, ttl, err
}

// readTicket verifies a ticket and returns the claims of the access token
// it stands for, and its own id for spending.
func (e *engine) readTicket(tok string) (*Claims, string, error) {
	if len(tok) > e.cfg.maxToken {
		return nil, "", newError(ErrTokenTooLarge, nil)
	}
	c, err := e.keys.parse(tok, e.cfg.maxScopes)
	if err != nil {
		return nil, "", err
	}
	if c.Type != ticketType || c.ticketJTI == "" || c.ticketExp.IsZero() {
		return nil, "", newError(ErrMalformed, errors.New("not a WebSocket ticket"))
	}
	// The ticket's own window (exp), without the iat check: a ticket
	// carries the access token's iat.
	now, lee := e.cfg.now(), e.cfg.leeway
	if !now.Before(c.ExpiresAt.Add(lee)) || !now.Before(c.ticketExp.Add(lee)) {
		return nil, "", newError(ErrExpired, nil)
	}
	if err := e.validateParties(c); err != nil {
		return nil, "", err
	}
	access := c.Clone()
	access.Type = Access
	access.ID = c.ticketJTI
	access.ExpiresAt = c.ticketExp
	access.ticketJTI, access.ticketExp = "", time.Time{}
	return access, c.ID, nil
}

// spendTicket uses a ticket once, atomically, in the refresh store.
func (e *engine) spendTicket(ctx context.Context, id string) error {
	first, _, err := e.cfg.refresh.Spend(ctx, ticketPrefix+id, e.cfg.now().Add(e.cfg.ticketTTL+e.cfg.leeway))
	if err != nil {
		return newError(ErrUnavailable, fmt.Errorf("refresh store: %w", err))
	}
	if !first {
		return newError(ErrRevoked, errTicketReused)
	}
	return nil
}
