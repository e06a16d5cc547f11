package scope

import (
	"errors"
	"strings"
	"testing"
)

// TestMatch follows Python AuthX's tests/internal/test_scopes.py (match_scope)
// and its documented semantics, plus the edges we decide ourselves.
func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		required string
		granted  string
		want     bool
		reason   string
	}{
		// test_scopes.py: match_scope.
		{name: "exact", required: "read", granted: "read", want: true},
		{name: "mismatch", required: "read", granted: "write", want: false},
		{name: "hierarchical exact", required: "admin:users", granted: "admin:users", want: true},
		{name: "wildcard covers child", required: "admin:users", granted: "admin:*", want: true},
		{name: "wildcard covers settings", required: "admin:settings", granted: "admin:*", want: true},
		{name: "wildcard covers logs", required: "admin:logs", granted: "admin:*", want: true},
		{name: "wildcard covers namespace itself", required: "admin", granted: "admin:*", want: true},
		{name: "wildcard covers grandchild", required: "admin:users:edit", granted: "admin:*", want: true},
		{name: "wildcard not other namespace", required: "users:read", granted: "admin:*", want: false},
		{name: "wildcard not longer name", required: "administrator", granted: "admin:*", want: false,
			reason: `"admin:*" must not cover names that merely start with "admin"`},
		{name: "users wildcard", required: "users:profile", granted: "users:*", want: true},
		{name: "posts wildcard", required: "posts:comments", granted: "posts:*", want: true},

		// Required wildcards are literal.
		{name: "required wildcard, same granted", required: "admin:*", granted: "admin:*", want: true},
		{name: "required wildcard, granted child", required: "admin:*", granted: "admin:users", want: false,
			reason: "no wildcard on the required side"},
		{name: "required wildcard, granted namespace", required: "admin:*", granted: "admin", want: false},
		{name: "required nested wildcard, granted parent wildcard", required: "admin:users:*", granted: "admin:*", want: true,
			reason: `Python: "admin:users:*" starts with "admin:"`},
		{name: "required parent wildcard, granted nested wildcard", required: "admin:*", granted: "admin:users:*", want: false},

		// Bare "*" is not global.
		{name: "bare star not global", required: "read", granted: "*", want: false},
		{name: "bare star not global for namespaced", required: "admin:users", granted: "*", want: false},
		{name: "bare star equals itself", required: "*", granted: "*", want: true, reason: "equal strings match; Validate refuses such a pattern"},
		{name: "empty namespace wildcard", required: "a", granted: ":*", want: false},
		{name: "empty namespace wildcard, colon child", required: ":a", granted: ":*", want: false},

		// Nested wildcards.
		{name: "nested wildcard covers child", required: "admin:users:edit", granted: "admin:users:*", want: true},
		{name: "nested wildcard covers its namespace", required: "admin:users", granted: "admin:users:*", want: true},
		{name: "nested wildcard not parent", required: "admin", granted: "admin:users:*", want: false},
		{name: "nested wildcard not sibling", required: "admin:settings", granted: "admin:users:*", want: false},
		{name: "nested wildcard not longer name", required: "admin:usersx", granted: "admin:users:*", want: false},

		// Literal comparison: case-sensitive, no trimming, star only as a suffix.
		{name: "case sensitive", required: "Admin:users", granted: "admin:*", want: false},
		{name: "case sensitive exact", required: "READ", granted: "read", want: false},
		{name: "no trimming", required: " read", granted: "read", want: false},
		{name: "star inside granted is literal", required: "admin:users", granted: "admin:*:users", want: false},
		{name: "trailing star without colon", required: "admin", granted: "admin*", want: false},
		{name: "prefix without wildcard", required: "admin:users", granted: "admin", want: false,
			reason: "a granted namespace does not cover its children"},
		{name: "prefix with colon", required: "admin:users", granted: "admin:", want: false},
		{name: "empty required", required: "", granted: "admin:*", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Match(tt.required, tt.granted); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v %s", tt.required, tt.granted, got, tt.want, tt.reason)
			}
		})
	}
}

func TestCovered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		required string
		granted  []string
		want     bool
	}{
		{name: "nil granted", required: "read", granted: nil, want: false},
		{name: "empty granted", required: "read", granted: []string{}, want: false},
		{name: "in list", required: "write", granted: []string{"read", "write"}, want: true},
		{name: "not in list", required: "admin", granted: []string{"read", "write"}, want: false},
		{name: "wildcard in list", required: "admin:users", granted: []string{"read", "admin:*"}, want: true},
		{name: "wildcard covers several", required: "admin:settings", granted: []string{"admin:*"}, want: true},
		{name: "other namespace's wildcard", required: "posts:read", granted: []string{"admin:*", "users:*"}, want: false},
		{name: "bare star in list", required: "read", granted: []string{"*"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Covered(tt.required, tt.granted); got != tt.want {
				t.Errorf("Covered(%q, %q) = %v, want %v", tt.required, tt.granted, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pattern string
		wantErr error
		reason  string
	}{
		// Accepted.
		{name: "word", pattern: "read"},
		{name: "one character", pattern: "x"},
		{name: "namespaced", pattern: "admin:users"},
		{name: "deep", pattern: "admin:users:edit"},
		{name: "wildcard", pattern: "admin:*"},
		{name: "nested wildcard", pattern: "admin:users:*"},
		{name: "short namespace wildcard", pattern: "a:*"},
		{name: "URL-like", pattern: "https://api.example.com/read"},
		{name: "every allowed punctuation", pattern: "!#$%&'()+,-./;<=>?@[]^_`{|}~", reason: "RFC 6749 scope-token: %x21 / %x23-5B / %x5D-7E"},
		{name: "at length bound", pattern: strings.Repeat("a", MaxLen)},

		// Rejected.
		{name: "empty", pattern: "", wantErr: ErrEmpty},
		{name: "too long", pattern: strings.Repeat("a", MaxLen+1), wantErr: ErrTooLong},
		{name: "space", pattern: "admin users", wantErr: ErrChar, reason: "space separates scopes in OAuth"},
		{name: "leading space", pattern: " read", wantErr: ErrChar},
		{name: "tab", pattern: "read\t", wantErr: ErrChar},
		{name: "newline", pattern: "read\n", wantErr: ErrChar},
		{name: "NUL", pattern: "re\x00ad", wantErr: ErrChar},
		{name: "quote", pattern: `re"ad`, wantErr: ErrChar},
		{name: "backslash", pattern: `re\ad`, wantErr: ErrChar},
		{name: "DEL", pattern: "read\x7f", wantErr: ErrChar},
		{name: "non-ASCII", pattern: "lés", wantErr: ErrChar},
		{name: "bare star", pattern: "*", wantErr: ErrWildcard, reason: "bare * would read as global and is not"},
		{name: "empty namespace wildcard", pattern: ":*", wantErr: ErrWildcard},
		{name: "star without colon", pattern: "admin*", wantErr: ErrWildcard},
		{name: "star in the middle", pattern: "admin:*:users", wantErr: ErrWildcard},
		{name: "star as prefix", pattern: "*:read", wantErr: ErrWildcard},
		{name: "partial segment wildcard", pattern: "admin:us*", wantErr: ErrWildcard},
		{name: "double star", pattern: "admin:**", wantErr: ErrWildcard},
		{name: "leading colon", pattern: ":read", wantErr: ErrEmpty},
		{name: "trailing colon", pattern: "read:", wantErr: ErrEmpty},
		{name: "double colon", pattern: "admin::users", wantErr: ErrEmpty},
		{name: "double colon wildcard", pattern: "admin::*", wantErr: ErrEmpty},
		{name: "lone colon", pattern: ":", wantErr: ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tt.pattern)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("Validate(%q) = %v, want nil %s", tt.pattern, err, tt.reason)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Validate(%q) = %v, want %v %s", tt.pattern, err, tt.wantErr, tt.reason)
			}
		})
	}
}

// TestMatchProperties checks, over every pair of a set of valid scopes, that
// a granted scope without a wildcard covers only itself, that every scope
// covers itself, and that "ns:*" covers exactly ns and the names below "ns:".
func TestMatchProperties(t *testing.T) {
	t.Parallel()
	scopes := []string{
		"a", "ab", "a:b", "a:bc", "a:b:c", "ab:c", "b", "a:*", "ab:*", "a:b:*", "b:*", "admin", "admin:*",
		"administrator", "admin:users", "admin:users:*", "admin:users:edit", "users:read",
	}
	for _, s := range scopes {
		if err := Validate(s); err != nil {
			t.Fatalf("Validate(%q): %v", s, err)
		}
	}
	for _, g := range scopes {
		for _, r := range scopes {
			got := Match(r, g)
			var want bool
			if ns, ok := strings.CutSuffix(g, ":*"); ok {
				want = r == g || r == ns || strings.HasPrefix(r, ns+":")
			} else {
				want = r == g
			}
			if got != want {
				t.Errorf("Match(%q, %q) = %v, want %v", r, g, got, want)
			}
		}
	}
}
