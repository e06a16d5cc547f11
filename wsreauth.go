package authx

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/authx-go/authx/internal/jsonscan"
	"github.com/coder/websocket"
)

var (
	errOtherSubject = errors.New("re-authentication with another subject's token")
	errReauthKey    = errors.New("re-authentication with a token bound to a key the connection did not prove")
)

// Reauthenticate extends a connection accepted by [Guard.Accept] with a new
// access token the client sent in-band (see [ParseReauth]): the token must
// pass the guard's policies and belong to the same subject, and a token
// bound to a key ([BoundToKey]) must be bound to the key the connection
// proved when it opened. On success the
// connection lives until the new token expires and the new claims are
// returned (a context made earlier with [Guard.NewContext] keeps the old
// ones); on failure it is closed with 1008 (1013 when a store cannot
// answer) and the error returned.
func (g *Guard) Reauthenticate(ctx context.Context, conn *websocket.Conn, token string) (*Claims, error) {
	if g != nil && g.alts != nil {
		if o := g.owner(conn, nil); o != nil {
			return o.Reauthenticate(ctx, conn, token)
		}
		return nil, newError(ErrMisconfigured, errors.New("connection not accepted by this guard, or no longer watched"))
	}
	if g == nil || g.e == nil {
		return nil, newError(ErrNotConfigured, nil)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	w := g.live.forConn(conn)
	if w == nil {
		return nil, newError(ErrMisconfigured, errors.New("connection not accepted by this guard, or no longer watched"))
	}
	c, err := g.e.check(ctx, token, g.ps)
	if err == nil && c.Subject != w.current().Subject {
		err = newError(ErrForbidden, errOtherSubject)
	}
	if err == nil && c.KeyThumbprint != "" && c.KeyThumbprint != w.current().KeyThumbprint {
		// No proof travels in-band: a bound token may only renew a
		// connection whose handshake (or ticket) proved that same key.
		err = newError(ErrKeyBound, errReauthKey)
	}
	if err == nil {
		_, err = g.e.admit(ctx, nil, c, g.ps, g.newSlot())
	}
	if err != nil {
		e := asError(err)
		status, reason := websocket.StatusPolicyViolation, "re-authentication failed"
		if e.Status >= 500 {
			status, reason = websocket.StatusTryAgainLater, "authentication unavailable"
		}
		g.e.emit(ctx, nil, Event{Kind: EventWebSocketClose, Code: strconv.Itoa(int(status)), Err: e}, w.current())
		_ = conn.Close(status, reason)
		return nil, e
	}
	g.live.extend(w, c)
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
