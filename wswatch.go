package authx

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsWatch is the live state of one accepted connection.
type wsWatch struct {
	conn   *websocket.Conn
	mu     sync.Mutex
	claims *Claims
	wake   chan struct{} // a re-authentication moved the expiry
	// ctx ends with the watch, its cause saying why (see Guard.NewContext).
	ctx    context.Context
	cancel context.CancelCauseFunc
	handed []*Claims // claims handed to the application (liveConns.byClaims keys); liveConns.mu
}

func (w *wsWatch) current() *Claims {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.claims
}

// liveConns is a guard's registry of the WebSocket connections it accepted
// and still watches. The zero value is ready to use.
type liveConns struct {
	mu       sync.Mutex
	conns    map[*websocket.Conn]*wsWatch
	byClaims map[*Claims]*wsWatch // the claims handed to the application
}

// watch closes conn when its token expires or is revoked (as e decides),
// until ctx (the handshake request's, cancelled when the handler returns)
// is done.
func (l *liveConns) watch(e *engine, ctx context.Context, conn *websocket.Conn, c *Claims) {
	// The watcher keeps its own copy: the application may read (or copy)
	// the claims Accept returned while the watcher checks them.
	w := &wsWatch{conn: conn, claims: c.Clone(), wake: make(chan struct{}, 1)}
	w.ctx, w.cancel = context.WithCancelCause(context.Background())
	l.mu.Lock()
	if l.conns == nil {
		l.conns = make(map[*websocket.Conn]*wsWatch)
		l.byClaims = make(map[*Claims]*wsWatch)
	}
	l.conns[conn] = w
	l.handTo(w, c)
	l.mu.Unlock()
	go l.watchLoop(e, ctx, w)
}

// handTo records that c, handed to the application, belongs to w; l.mu is
// held.
func (l *liveConns) handTo(w *wsWatch, c *Claims) {
	l.byClaims[c] = w
	w.handed = append(w.handed, c)
}

// forConn returns conn's watch, or nil once it is no longer watched.
func (l *liveConns) forConn(conn *websocket.Conn) *wsWatch {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[conn]
}

// forClaims returns the watch of the connection c was handed out for.
func (l *liveConns) forClaims(c *Claims) *wsWatch {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byClaims[c]
}

// extend makes c w's current claims, and records them as handed out while
// w is still watched.
func (l *liveConns) extend(w *wsWatch, c *Claims) {
	w.mu.Lock()
	w.claims = c.Clone()
	w.mu.Unlock()
	l.mu.Lock()
	if l.conns[w.conn] == w {
		l.handTo(w, c)
	}
	l.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (l *liveConns) watchLoop(e *engine, ctx context.Context, w *wsWatch) {
	defer func() {
		w.cancel(context.Canceled) // no-op when a close already said why
		l.mu.Lock()
		delete(l.conns, w.conn)
		for _, c := range w.handed {
			delete(l.byClaims, c)
		}
		l.mu.Unlock()
	}()
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
			e.emit(ctx, nil, Event{Kind: EventWebSocketClose, Code: strconv.Itoa(int(status)), Err: why}, c)
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
