package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxURLBytes bounds the URLs a Set fetches, a discovered jwks_uri too.
const maxURLBytes = 2048

// checkURL requires raw to be an absolute https URL (http with
// InsecureAllowHTTP) with a host and no fragment. what names it in errors.
func checkURL(what, raw string, insecureHTTP bool) (*url.URL, error) {
	if len(raw) > maxURLBytes {
		return nil, fmt.Errorf("%s is %d bytes, more than %d", what, len(raw), maxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case u.Scheme == "http" && !insecureHTTP:
		return nil, fmt.Errorf("%s %q is plain http: anyone on the path could replace the keys (InsecureAllowHTTP allows it for tests)", what, cutURL(raw))
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("%s %q is not an https URL", what, cutURL(raw))
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("%s %q has no host", what, cutURL(raw))
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("%s %q has a fragment", what, cutURL(raw))
	}
	return u, nil
}

// statusError is a response with a status other than 200.
type statusError struct{ code int }

// Error says the status.
func (e statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

// get fetches rawURL and returns its body, at most maxBytes, and headers.
// The request is bounded by the fetch timeout and ctx.
func (s *Set) get(ctx context.Context, rawURL string, accept string) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.fetchTimeout)
	defer cancel()
	shown := redact(rawURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	req.Header.Set("Accept", accept)
	resp, err := s.cfg.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%w: no answer within WithFetchTimeout(%v): %w", ErrFetch, s.cfg.fetchTimeout, err)
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.URL.Scheme != "https" && !s.cfg.insecureHTTP {
		return nil, nil, fmt.Errorf("%w: GET %s was redirected to plain http %q", ErrFetch, shown, cutURL(resp.Request.URL.Redacted()))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%w: GET %s: %w", ErrFetch, shown, statusError{resp.StatusCode})
	}
	if resp.ContentLength > s.cfg.maxBytes {
		return nil, nil, fmt.Errorf("%w: GET %s: Content-Length %d, more than WithMaxResponseBytes(%d)", ErrTooLarge, shown, resp.ContentLength, s.cfg.maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.maxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: GET %s: reading the body: %w", ErrFetch, shown, err)
	}
	if int64(len(body)) > s.cfg.maxBytes {
		return nil, nil, fmt.Errorf("%w: GET %s: body longer than WithMaxResponseBytes(%d)", ErrTooLarge, shown, s.cfg.maxBytes)
	}
	return body, resp.Header, nil
}

// redact returns raw for logs and errors, a password in it replaced.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return cutURL(raw)
	}
	return u.Redacted()
}

// cacheLifetime returns how long a response with headers h, received at
// now, is fresh (RFC 9111 §4.2.1, for a private cache), clamped into
// [min, max], and where the value came from, for the log:
//
//   - Cache-Control no-store or no-cache: min;
//   - Cache-Control max-age=N: N seconds, less Age; an invalid or repeated
//     max-age counts as 0 (stale), so gives min;
//   - else Expires, less Date (or now without a valid Date); an invalid
//     Expires is in the past, so gives min;
//   - else DefaultLifetime.
func cacheLifetime(h http.Header, now time.Time, min, max time.Duration) (time.Duration, string) {
	clamp := func(d time.Duration, src string) (time.Duration, string) {
		return time.Duration(clampInt(int64(d), int64(min), int64(max))), src
	}
	maxAge, found := time.Duration(0), 0
	for _, line := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return clamp(0, "Cache-Control "+strings.ToLower(name))
			case "max-age":
				found++
				maxAge = parseSeconds(strings.Trim(strings.TrimSpace(value), `"`), max)
			}
		}
	}
	if found > 1 {
		return clamp(0, "Cache-Control with several max-age")
	}
	if found == 1 {
		if maxAge > 0 {
			if age := parseSeconds(h.Get("Age"), max); age > 0 {
				maxAge -= age
			}
		}
		return clamp(maxAge, "Cache-Control max-age")
	}
	if exp := h.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil {
			return clamp(0, "invalid Expires")
		}
		base := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			base = d
		}
		return clamp(t.Sub(base), "Expires")
	}
	return clamp(DefaultLifetime, "default")
}

// parseSeconds reads a delta-seconds value (RFC 9111 §1.2.2): digits only.
// Invalid values are 0; values beyond max are max.
func parseSeconds(v string, max time.Duration) time.Duration {
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > int64(max/time.Second) {
		return max
	}
	return time.Duration(n) * time.Second
}

func clampInt(v, lo, hi int64) int64 {
	return min(max(v, lo), hi)
}
