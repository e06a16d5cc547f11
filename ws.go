package authx

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

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

var errForeignOrigin = errors.New("cookie-authenticated WebSocket handshake from a foreign or null Origin")

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
	by, c, authErr := g.pickWS(r, o.OriginPatterns)
	if authErr != nil {
		by.deny(w, r, authErr)
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
	if c != nil { // an anonymous connection (Optional) has no token to watch
		by.live.watch(by.e, r.Context(), conn, c)
	}
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
	if g != nil && g.alts != nil {
		if o := g.owner(nil, c); o != nil {
			return o.NewContext(ctx, c)
		}
		return ctx
	}
	if g == nil || g.newSlot == nil {
		return ctx
	}
	w := g.live.forClaims(c)
	if w != nil {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		context.AfterFunc(w.ctx, func() { cancel(context.Cause(w.ctx)) })
	}
	return g.newSlot().bind(ctx, c)
}

// pickWS is pick for a handshake: it returns the guard whose answer it is.
func (g *Guard) pickWS(r *http.Request, originPatterns []string) (*Guard, *Claims, *Error) {
	if g == nil || g.alts == nil {
		c, err := g.authenticateWS(r, originPatterns)
		return g, c, err
	}
	if g.ps.err != nil {
		return g, nil, newError(ErrMisconfigured, g.ps.err)
	}
	var first *Error
	var firstBy *Guard
	for _, alt := range g.alts {
		by, c, err := alt.pickWS(r, originPatterns)
		if err == nil || !notItsToken(err) {
			return by, c, err
		}
		if first == nil {
			first, firstBy = err, by
		}
	}
	return firstBy, nil, first
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
	start := e.startVerify()
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
		tok, l, err := e.locateWS(r, g.ps)
		if err != nil {
			if g.ps.optional && errors.Is(err, ErrNoToken) {
				return nil, nil // anonymous, as Optional allows
			}
			return nil, asError(err)
		}
		if c, err = e.check(ctx, tok, g.ps); err != nil {
			return nil, asError(err)
		}
		// A ticket's key was proven when it was handed out (the ticket
		// endpoint is guarded); a token on the handshake itself is shown
		// to the KeyBinding as on any request.
		if _, err := e.checkBinding(ctx, r, tok, l, c, false); err != nil {
			return nil, asError(err).withClaims(c)
		}
		loc = l
	}
	if loc == InCookie {
		if err := checkWSOrigin(r, originPatterns); err != nil {
			return nil, newError(ErrCrossOrigin, err)
		}
	}
	if _, err := e.admit(ctx, r, c, g.ps, g.newSlot()); err != nil {
		return nil, asError(err).withClaims(c)
	}
	if ticketID != "" {
		if err := e.spendTicket(ctx, ticketID); err != nil {
			return nil, asError(err)
		}
	}
	e.verified(r, c, start)
	return c, nil
}

// locateWS finds the handshake's token: the subprotocol (an explicit
// choice of the client, ahead of any ambient cookie), the configured
// locations (a handshake has no JSON body), then the query and cookie.
func (e *engine) locateWS(r *http.Request, ps policySet) (string, Location, error) {
	if ps.locs == nil || slices.Contains(ps.locs, InHeader) {
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
	}
	locs := make([]Location, 0, 4)
	for _, l := range e.locations(ps) {
		if l != InJSON {
			locs = append(locs, l)
		}
	}
	if ps.locs == nil { // a browser cannot set headers: the fallbacks
		for _, l := range []Location{InQuery, InCookie} {
			if !slices.Contains(locs, l) {
				locs = append(locs, l)
			}
		}
	}
	return e.locateIn(r, locs, ps.look)
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
