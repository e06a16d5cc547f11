package authx

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// KeyBinding checks that a request proves possession of the key its token
// is bound to — the token's cnf.jkt, [Claims.KeyThumbprint] — by the proof
// it defines: package github.com/authx-go/authx/dpop checks DPoP proofs
// (RFC 9449). Give one to an Auth with [WithKeyBinding].
//
// Without a KeyBinding, an Auth refuses every bound token ([ErrKeyBound]):
// a token bound to a key is never accepted as a bearer token. With one,
// every token a guard, a WebSocket handshake or the refresh endpoint has
// verified is shown to Check before the blocklist and the policies, bound
// or not, so that it can refuse a bound token presented as a bearer token
// and an unbound one presented as bound.
type KeyBinding interface {
	// Scheme is the Authorization scheme of bound tokens ("DPoP"). The
	// Auth accepts it in the Authorization header besides its own scheme
	// ([WithHeader]; Bearer by default).
	Scheme() string
	// Check decides on p. It returns the thumbprint (RFC 7638: base64url
	// of SHA-256) of the key the request proves it holds, "" when the
	// request proves none, or why p is refused: an *[Error] is written as
	// it is (its Challenge and Header included), any other error denies
	// with 503. For a bound token, a nil error means the request proved
	// that token's key.
	Check(ctx context.Context, p Presentation) (jkt string, err error)
}

// Presentation is a token an Auth has verified, as a request presented it,
// for a [KeyBinding] to decide on.
type Presentation struct {
	// Request is the request: the protected request, the WebSocket
	// handshake, or the refresh or login request.
	Request *http.Request
	// Token is the token exactly as found; "" when the request carries
	// none (a login, [Auth.KeyProof]).
	Token string
	// Scheme is the Authorization scheme the token came under ("Bearer",
	// or the KeyBinding's); "" when it was found elsewhere (a cookie, the
	// refresh endpoint's body) or there is none.
	Scheme string
	// Refresh reports a refresh request: the token is a refresh token, and
	// the tokens issued in exchange are bound to the key returned.
	Refresh bool
	// Claims are the token's verified claims; nil without a token. Their
	// KeyThumbprint is the key the token is bound to, "" for none.
	Claims *Claims

	spend func(ctx context.Context, id string, until time.Time) (bool, time.Time, error)
}

// FirstUse records id — a proof's unique id, say — as used until the
// given time, in the Auth's refresh store ([WithRefreshStore]: in memory,
// or shared by every replica, as redisstore is), and reports whether this
// was its first use. Ids live in their own key space there: no id can
// name a refresh token or a ticket.
func (p Presentation) FirstUse(ctx context.Context, id string, until time.Time) (bool, error) {
	if p.spend == nil {
		return false, errNoSpend
	}
	first, _, err := p.spend(ctx, bindingPrefix+id, until)
	return first, err
}

var errNoSpend = errors.New("authx: Presentation not made by an Auth")
