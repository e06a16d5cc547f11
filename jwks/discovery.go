package jwks

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4/json"
)

// Discover builds a [Set] from an issuer's metadata: it fetches
// issuer + "/.well-known/openid-configuration" (OpenID Connect Discovery
// 1.0 §4; a trailing "/" of the issuer is dropped first), or, where that
// answers 404, the RFC 8414 document at
// "/.well-known/oauth-authorization-server" inserted before the issuer's
// path. The document's issuer must equal issuer byte for byte (a trailing
// slash counts), else [ErrIssuerMismatch]; its jwks_uri must be https.
// Discover then fetches the keys as [New] does, with [WithIssuer](issuer).
//
// issuer must be an https URL without query or fragment
// ([InsecureAllowHTTP] allows http). The document is bounded by
// [WithMaxResponseBytes] and read once: a jwks_uri the issuer changes
// later is not followed. With [WithTolerantStart], a discovery that
// fails is retried in the background with the keys.
func Discover(ctx context.Context, issuer string, opts ...Option) (*Set, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.issuerSet && cfg.issuer != issuer {
		return nil, fmt.Errorf("%w: WithIssuer(%q) given to Discover(%q): Discover's issuer is the Set's", ErrConfig, cfg.issuer, issuer)
	}
	cfg.issuer, cfg.issuerSet = issuer, true
	urls, err := discoveryURLs(issuer, cfg.insecureHTTP)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := newSet(cfg)
	s.resolve = func(ctx context.Context) (string, error) { return s.discover(ctx, urls) }
	return s.start(ctx)
}

// discoveryURLs returns the metadata URLs of issuer, OpenID Connect's
// first, then RFC 8414's.
func discoveryURLs(issuer string, insecureHTTP bool) ([]string, error) {
	u, err := checkURL("issuer", issuer, insecureHTTP)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery || u.User != nil {
		return nil, fmt.Errorf("issuer %q has a query or user info, which an issuer identifier may not have", cutURL(issuer))
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	origin := u.Scheme + "://" + u.Host
	return []string{
		origin + path + "/.well-known/openid-configuration",
		origin + "/.well-known/oauth-authorization-server" + path,
	}, nil
}

// discover fetches the issuer's metadata and returns its jwks_uri.
func (s *Set) discover(ctx context.Context, urls []string) (string, error) {
	var err error
	for _, u := range urls {
		var body []byte
		body, _, err = s.get(ctx, u, "application/json")
		var status statusError
		if errors.As(err, &status) && status.code == 404 {
			continue
		}
		if err != nil {
			return "", err
		}
		doc, err := parseDiscovery(body)
		if err != nil {
			return "", fmt.Errorf("%w (GET %s)", err, redact(u))
		}
		return checkDiscovery(doc, s.cfg.issuer, s.cfg.insecureHTTP)
	}
	return "", err
}

// discoveryDoc is what a Set reads of an issuer's metadata.
type discoveryDoc struct {
	Issuer  string
	JWKSURI string
}

// parseDiscovery reads an issuer's metadata document (OpenID Connect
// Discovery 1.0 §3, RFC 8414 §2): a JSON object, its members unique,
// with string members issuer and jwks_uri; other members are ignored.
func parseDiscovery(body []byte) (discoveryDoc, error) {
	if !stdjson.Valid(body) { // bounds nesting depth, as in parseJWKS
		return discoveryDoc{}, fmt.Errorf("%w: discovery document is not valid JSON", ErrInvalid)
	}
	var raw struct {
		Issuer  *string `json:"issuer"`
		JWKSURI *string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return discoveryDoc{}, fmt.Errorf("%w: discovery document: %s", ErrInvalid, cutURL(err.Error())) // it may quote a member name
	}
	switch {
	case raw.Issuer == nil || *raw.Issuer == "":
		return discoveryDoc{}, fmt.Errorf("%w: discovery document has no issuer", ErrInvalid)
	case raw.JWKSURI == nil || *raw.JWKSURI == "":
		return discoveryDoc{}, fmt.Errorf("%w: discovery document has no jwks_uri", ErrInvalid)
	}
	return discoveryDoc{Issuer: *raw.Issuer, JWKSURI: *raw.JWKSURI}, nil
}

// checkDiscovery requires doc to be issuer's and returns its jwks_uri.
func checkDiscovery(doc discoveryDoc, issuer string, insecureHTTP bool) (string, error) {
	if doc.Issuer != issuer {
		return "", fmt.Errorf("%w: the discovery document names issuer %q, want %q exactly", ErrIssuerMismatch, cutURL(doc.Issuer), issuer)
	}
	if _, err := checkURL("jwks_uri", doc.JWKSURI, insecureHTTP); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return doc.JWKSURI, nil
}
