package authx

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestNumericDateRange: decodeClaims and peekExpiry (which implicit refresh
// uses on unverified cookies) accept the same exp values, from the epoch to
// 9999-12-31T23:59:59Z, and read them alike.
func TestNumericDateRange(t *testing.T) {
	t.Parallel()
	last := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name   string
		exp    string
		want   time.Time // zero: refused
		reason string
	}{
		{"epoch", "0", time.Unix(0, 0), "the first representable date"},
		{"2030", "1893456000", time.Unix(1893456000, 0), "an ordinary date"},
		{"fraction", "1893456000.75", time.Unix(1893456000, 0), "whole seconds, truncated"},
		{"last second", "253402300799", last, "9999-12-31T23:59:59Z"},
		{"last second and a half", "253402300799.5", time.Time{}, "past 9999-12-31T23:59:59Z"},
		{"year 10000", "253402300800", time.Time{}, "past the last date"},
		{"1e15", "1e15", time.Time{}, "far past the last date"},
		{"2^53", "9007199254740992", time.Time{}, "the old inclusive bound"},
		{"-1", "-1", time.Time{}, "before the epoch"},
		{"-0.5", "-0.5", time.Time{}, "before the epoch, however little"},
		{"-2^53", "-9007199254740992", time.Time{}, "the old lower bound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			payload := `{"sub":"s","jti":"j","type":"access","exp":` + tt.exp + `}`
			var decoded time.Time
			if c, err := decodeClaims(payload, 256); err == nil {
				decoded = c.ExpiresAt
			}
			var peeked time.Time
			tok := "e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
			if exp, ok := peekExpiry(tok); ok {
				peeked = exp
			}
			type view struct{ Decoded, Peeked time.Time }
			if diff := cmp.Diff(view{tt.want, tt.want}, view{decoded, peeked}); diff != "" {
				t.Errorf("exp %s (-want +got):\n%s\n%s", tt.exp, diff, tt.reason)
			}
		})
	}
}

// TestPeekExpiryLargePayload: implicit refresh peeks exp before verifying;
// a token with custom data (a payload past 1 KiB) must be peeked too, or
// every request pays a second signature check (96 µs for ES256).
func TestPeekExpiryLargePayload(t *testing.T) {
	t.Parallel()
	for _, size := range []int{10, 1000, 4000} {
		payload := `{"sub":"s","jti":"j","type":"access","pad":"` + strings.Repeat("x", size) + `","exp":1893456000}`
		tok := "e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
		if exp, ok := peekExpiry(tok); !ok || !exp.Equal(time.Unix(1893456000, 0)) {
			t.Errorf("payload of %d bytes: peekExpiry = %v, %v", len(payload), exp, ok)
		}
	}
}
