package dpop

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Option configures a [Verifier] ([New]) or a [Prover] ([NewProver]).
// [WithClock] applies to both; the others only to a Verifier, and
// NewProver refuses them.
type Option interface {
	apply(*settings)
}

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

// proverOption marks the options a Prover takes.
type proverOption struct{ optionFunc }

// settings collects the options of a Verifier or a Prover.
type settings struct {
	algs      []string
	window    time.Duration
	leeway    time.Duration
	now       func() time.Time
	trusted   []netip.Prefix
	publicURL string // normalised scheme://host, "" for none
	nonces    NonceSource
	required  bool

	verifierOnly bool // an option a Prover does not take was given
	errs         []error
}

func (s *settings) errorf(format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf(format, args...))
}

// verifierOption marks f as an option of a Verifier only.
func verifierOption(f func(*settings)) Option {
	return optionFunc(func(s *settings) { s.verifierOnly = true; f(s) })
}

// defaultAlgorithms are the proof algorithms a Verifier accepts unless
// [WithAlgorithms] says otherwise.
var defaultAlgorithms = []string{"ES256", "ES384", "ES512", "EdDSA", "RS256", "PS256"}

// supported are the algorithms WithAlgorithms may name: asymmetric ones
// only (never none, never HS*).
var supported = []string{"ES256", "ES384", "ES512", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// WithAlgorithms sets the proof algorithms accepted (the JWS alg of the
// proof), in the order the challenge's algs lists them. Default ES256,
// ES384, ES512, EdDSA, RS256, PS256. Only asymmetric algorithms can be
// named: "none" and the HMAC algorithms are refused by [New].
func WithAlgorithms(algs ...string) Option {
	return verifierOption(func(s *settings) {
		if len(algs) == 0 {
			s.errorf("WithAlgorithms: no algorithm")
			return
		}
		for _, a := range algs {
			if !slices.Contains(supported, a) {
				s.errorf("WithAlgorithms: %q is not an asymmetric JWS algorithm (one of %s)", a, strings.Join(supported, ", "))
				return
			}
		}
		s.algs = slices.Compact(slices.Clone(algs))
	})
}

// WithWindow sets how far a proof's iat may lie from now, either side:
// default 5 minutes. A proof is accepted, once, for this long; its jti is
// remembered until then. Between 1 second and 1 hour.
func WithWindow(d time.Duration) Option {
	return verifierOption(func(s *settings) {
		if d < time.Second || d > time.Hour {
			s.errorf("WithWindow(%v): want 1s to 1h", d)
			return
		}
		s.window = d
	})
}

// WithLeeway widens the iat window ([WithWindow]) by d on each side, for
// clock skew between clients and the server. Default 0; at most 5 minutes.
func WithLeeway(d time.Duration) Option {
	return verifierOption(func(s *settings) {
		if d < 0 || d > 5*time.Minute {
			s.errorf("WithLeeway(%v): want 0 to 5m", d)
			return
		}
		s.leeway = d
	})
}

// WithClock sets the clock: of a Verifier (iat and nonces), of a Prover
// (the iat it writes). Default time.Now. For tests.
func WithClock(now func() time.Time) Option {
	return proverOption{func(s *settings) {
		if now == nil {
			s.errorf("WithClock(nil)")
			return
		}
		s.now = now
	}}
}

// WithTrustedProxies names the TCP peers (r.RemoteAddr) whose
// X-Forwarded-Proto and X-Forwarded-Host headers say the URI a client
// addressed, for the htu check: the last value of each, the one the
// nearest proxy set. Requests from any other peer are checked against the
// scheme and Host they arrived with. Default none. Naming a network whose
// hosts are not all proxies that overwrite these headers lets a client
// choose the URI its proof is checked against; [WithPublicURL] is
// simpler when the service has one public origin.
func WithTrustedProxies(prefixes ...netip.Prefix) Option {
	return verifierOption(func(s *settings) {
		for _, p := range prefixes {
			if !p.IsValid() {
				s.errorf("WithTrustedProxies: invalid prefix %v", p)
				return
			}
			s.trusted = append(s.trusted, p.Masked())
		}
	})
}

// WithPublicURL sets the scheme and host (and port) clients address the
// service by, for the htu check, whatever the request's Host or proxy
// headers say: "https://api.example.com". It must be an absolute http or
// https URL without path (other than "/"), query, fragment or user
// information. Default: from the request.
func WithPublicURL(u string) Option {
	return verifierOption(func(s *settings) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil ||
			(p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "" || p.ForceQuery || p.Opaque != "" {
			s.errorf("WithPublicURL(%.100q): want an absolute http(s) URL with a host and no path, query or fragment", u)
			return
		}
		n, err := normalizeURI(p.Scheme + "://" + p.Host)
		if err != nil {
			s.errorf("WithPublicURL(%.100q): %v", u, err)
			return
		}
		s.publicURL = strings.TrimSuffix(n, "/")
	})
}

// WithNonces makes the Verifier require server nonces (RFC 9449 §8): a
// proof must carry a nonce src accepts, or it is refused with
// use_dpop_nonce and a fresh nonce in the DPoP-Nonce header (the
// [Prover]'s Transport retries with it). See [Verifier.Nonce] and
// [Verifier.SendNonce] to hand out nonces on successful responses.
// Default off.
func WithNonces(src NonceSource) Option {
	return verifierOption(func(s *settings) {
		if src == nil {
			s.errorf("WithNonces(nil)")
			return
		}
		s.nonces = src
	})
}

// Required makes every request prove a key: a token bound to no key is
// refused under either scheme, as is a refresh or login (Auth.KeyProof)
// without a proof. Default: unbound bearer tokens are accepted (and a DPoP
// header beside one is ignored).
func Required() Option {
	return verifierOption(func(s *settings) { s.required = true })
}

var errConfig = errors.New("dpop: invalid configuration")
