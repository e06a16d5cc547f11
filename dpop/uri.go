package dpop

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// This file compares the proof's htu with the request's own URI, both
// normalised as RFC 3986 §6.2.2 and §6.2.3 say (RFC 9449 §4.3 step 9).

var errURI = errors.New("not an absolute http(s) URI")

// normalizeURI returns the absolute http(s) URI s without its query and
// fragment, normalised: scheme and host in lower case, the default port
// left out, percent-encodings in upper case and those of unreserved
// characters decoded, dot segments removed, an empty path "/".
func normalizeURI(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "", errURI
		}
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", errURI
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return "", errURI
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if strings.ContainsRune(authority, '@') {
		return "", errURI // user information has no place in htu
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		host, port = authority[:i], authority[i+1:]
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", errURI
		}
	}
	port = strings.TrimLeft(port, "0")
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	host, err := normalizePercent(strings.ToLower(host))
	if err != nil || host == "" {
		return "", errURI
	}
	host = strings.ToLower(host)
	path, err = normalizePercent(path)
	if err != nil {
		return "", errURI
	}
	path = removeDotSegments(path)
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + 1 + len(port) + len(path))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(path)
	return b.String(), nil
}

// normalizePercent decodes the percent-encodings of unreserved characters
// in s and writes the others with upper-case hex digits. A '%' not followed
// by two hex digits is an error.
func normalizePercent(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", errURI
		}
		d := unhex(s[i+1])<<4 | unhex(s[i+2])
		if isUnreserved(d) {
			b.WriteByte(d)
		} else {
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[d>>4])
			b.WriteByte(hex[d&15])
		}
		i += 2
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments is RFC 3986 §5.2.4's algorithm.
func removeDotSegments(in string) string {
	if !strings.Contains(in, ".") {
		return in
	}
	var out []string // the output buffer's segments, each with its leading "/"
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			i := strings.IndexByte(in[1:], '/')
			if i < 0 {
				out = append(out, in)
				in = ""
			} else {
				out = append(out, in[:i+1])
				in = in[i+1:]
			}
		}
	}
	return strings.Join(out, "")
}

// requestURI returns the normalised URI r was addressed to, without query:
// the scheme and host of WithPublicURL, else of the nearest trusted proxy's
// X-Forwarded-Proto and X-Forwarded-Host, else of the connection and Host.
func (v *Verifier) requestURI(r *http.Request) (string, error) {
	path := r.URL.EscapedPath()
	if v.publicURL != "" {
		return normalizeURI(v.publicURL + path)
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if host == "" {
		host = r.URL.Host
	}
	if v.trustedPeer(r) {
		if p := lastForwarded(r.Header, "X-Forwarded-Proto"); p != "" {
			scheme = strings.ToLower(p)
		}
		if h := lastForwarded(r.Header, "X-Forwarded-Host"); h != "" {
			host = h
		}
	}
	if strings.ContainsAny(host, "/?#@") {
		return "", errURI
	}
	return normalizeURI(scheme + "://" + host + path)
}

// trustedPeer reports whether r's TCP peer is a trusted proxy.
func (v *Verifier) trustedPeer(r *http.Request) bool {
	if len(v.trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range v.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// lastForwarded returns the last comma-separated value of header name in
// h, trimmed: the one the nearest proxy wrote.
func lastForwarded(h http.Header, name string) string {
	vals := h.Values(name)
	if len(vals) == 0 {
		return ""
	}
	last := vals[len(vals)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}
