package authx_test

import (
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
)

// TestDecodeDataNames: DecodeData rebuilds the custom claims as one JSON
// object, so every claim name must be written as a JSON string. Go's
// strconv.Quote is not one: it writes \x01, \a, \v and \U000e0001, which
// JSON does not have, and DecodeData then failed on a token that verified.
func TestDecodeDataNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claim  string
		reason string
	}{
		{name: "quote", claim: `say "hi"`, reason: `\" is the same in Go and JSON`},
		{name: "backslash", claim: `back\slash`, reason: `\\ is the same in Go and JSON`},
		{name: "control byte", claim: "ctl\x01", reason: `Go writes \x01, JSON \u0001`},
		{name: "bell and vertical tab", claim: "bell\a\v", reason: `Go writes \a and \v, JSON has neither`},
		{name: "NUL", claim: "nul\x00", reason: `Go writes \x00`},
		{name: "DEL", claim: "del\x7f", reason: `Go writes \x7f; JSON needs no escape`},
		{name: "tab and newline", claim: "tab\tnl\n", reason: "escaped alike"},
		{name: "non-ASCII", claim: "ünïcødé ☃ 日本", reason: "printable: kept as is"},
		{name: "U+2028", claim: "line\u2028sep\u2029", reason: "Go escapes it as \\u2028, which JSON reads back"},
		{name: "non-printable astral", claim: "tag\U000e0001", reason: `Go writes \U000e0001, JSON has no \U`},
		{name: "HTML", claim: "<b>&amp;</b>", reason: "encoding/json escapes <, > and & as \\u003c…"},
	}
	a, _ := newAuth(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := authtest.Token(t, a, "alice", authx.Claim(tt.claim, "v"), authx.Claim("other", 1))
			c, err := a.Verify(t.Context(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var got map[string]any
			if err := c.DecodeData(&got); err != nil {
				t.Fatalf("DecodeData: %v (%s)", err, tt.reason)
			}
			if diff := cmp.Diff(map[string]any{tt.claim: "v", "other": 1.0}, got); diff != "" {
				t.Errorf("DecodeData (-want +got): %s\n%s", tt.reason, diff)
			}
			if diff := cmp.Diff(c.Data(), got); diff != "" {
				t.Errorf("DecodeData disagrees with Data (-Data +DecodeData):\n%s", diff)
			}
		})
	}
}
