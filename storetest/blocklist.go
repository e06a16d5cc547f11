package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/google/go-cmp/cmp"
)

func (s *suite) blocklist(t *testing.T) {
	t.Run("RevokeThenIsRevoked", s.blocklistRevoke)
	t.Run("PastUntil", s.blocklistPastUntil)
	t.Run("Expiry", s.blocklistExpiry)
	t.Run("OddIDs", s.blocklistOddIDs)
	t.Run("Concurrent", s.blocklistConcurrent)
	t.Run("SubjectBlocklist", s.subjectBlocklist)
}

// subjectBlocklist checks RevokeSubject and IsTokenRevoked of a Blocklist
// that implements authx.SubjectBlocklist (it is skipped for others): the
// cut-off revokes exactly the subject's tokens issued in earlier seconds,
// keeps the later cut-off, answers ids as IsRevoked does, and lapses. The
// tokens asked about are issued after the store began: a store may refuse
// older ones (one that detects the loss of its data does).
func (s *suite) subjectBlocklist(t *testing.T) {
	bl, ok := s.h.NewBlocklist(t).(authx.SubjectBlocklist)
	if !ok {
		t.Skip("the Blocklist is not an authx.SubjectBlocklist")
	}
	now := s.h.Now().Truncate(time.Second).Add(2 * time.Second) // after the store began
	ask := func(sub string, iat time.Time, ids ...string) bool {
		t.Helper()
		got, err := bl.IsTokenRevoked(t.Context(), authx.TokenCheck{IDs: ids, Subject: sub, IssuedAt: iat})
		if err != nil {
			t.Fatalf("IsTokenRevoked(%q, %v) error: %v", sub, iat, err)
		}
		return got
	}
	if ask("alice", now, "jti-a") {
		t.Fatal("a fresh store revokes alice's token")
	}
	until := s.h.Now().Add(shortTTL)
	if err := bl.RevokeSubject(t.Context(), "alice", now, until); err != nil {
		t.Fatalf("RevokeSubject: %v", err)
	}
	if err := bl.RevokeSubject(t.Context(), "alice", now.Add(-time.Hour), until); err != nil {
		t.Fatalf("RevokeSubject with an earlier cut-off: %v", err)
	}
	s.revoke(t, bl, "jti-revoked", now.Add(longTTL))
	tests := []struct {
		name string
		sub  string
		iat  time.Time
		ids  []string
		want bool
	}{
		{"alice, issued a second before", "alice", now.Add(-time.Second), []string{"jti-a"}, true},
		{"alice, issued an hour before", "alice", now.Add(-time.Hour), []string{"jti-a"}, true},
		{"alice, issued in the cut-off's second", "alice", now, []string{"jti-a"}, false},
		{"alice, issued after", "alice", now.Add(time.Second), []string{"jti-a"}, false},
		{"alice, no iat", "alice", time.Time{}, []string{"jti-a"}, true},
		{"bob, issued before", "bob", now.Add(-time.Second), []string{"jti-b"}, false},
		{"bob, a revoked id", "bob", now, []string{"jti-b", "jti-revoked"}, true},
		{"subject that prefixes alice", "alic", now.Add(-time.Second), []string{"jti-c"}, false},
	}
	for _, tt := range tests {
		if got := ask(tt.sub, tt.iat, tt.ids...); got != tt.want {
			t.Errorf("%s: IsTokenRevoked = %v, want %v", tt.name, got, tt.want)
		}
	}
	s.h.Advance(t, pastShort)
	if ask("alice", now.Add(-time.Second), "jti-b") {
		t.Error("the cut-off outlived its until")
	}
}

func (s *suite) revoke(t *testing.T, bl authx.Blocklist, id string, until time.Time) {
	t.Helper()
	if err := bl.Revoke(t.Context(), id, until); err != nil {
		t.Fatalf("Revoke(%s) error: %v", show(id), err)
	}
}

func isRevoked(t *testing.T, bl authx.Blocklist, ids ...string) bool {
	t.Helper()
	got, err := bl.IsRevoked(t.Context(), ids...)
	if err != nil {
		t.Fatalf("IsRevoked(%s) error: %v", showAll(ids), err)
	}
	return got
}

func (s *suite) blocklistRevoke(t *testing.T) {
	tests := []struct {
		name   string
		revoke []string
		ask    []string
		want   bool
		reason string
	}{
		{name: "one id, revoked", revoke: []string{"jti-1"}, ask: []string{"jti-1"}, want: true, reason: "a revoked id is revoked"},
		{name: "one id, another revoked", revoke: []string{"jti-1"}, ask: []string{"jti-2"}, want: false, reason: "only the revoked id is"},
		{name: "empty store", ask: []string{"jti-1"}, want: false, reason: "a fresh store revokes nothing"},
		{name: "several, first revoked", revoke: []string{"jti-1"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: true, reason: "guards ask for token, family and session at once: any revoked is enough"},
		{name: "several, middle revoked", revoke: []string{"fam:f1"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: true, reason: "any revoked is enough"},
		{name: "several, last revoked", revoke: []string{"sid:s1"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: true, reason: "any revoked is enough"},
		{name: "several, all revoked", revoke: []string{"jti-1", "fam:f1", "sid:s1"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: true, reason: "all revoked"},
		{name: "several, none revoked", revoke: []string{"jti-9", "fam:f9"}, ask: []string{"jti-1", "fam:f1", "sid:s1"}, want: false, reason: "none of them is revoked"},
		{name: "no ids", revoke: []string{"jti-1"}, ask: nil, want: false, reason: "of no ids, none is revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bl := s.h.NewBlocklist(t)
			until := s.h.Now().Add(longTTL)
			for _, id := range tt.revoke {
				s.revoke(t, bl, id, until)
			}
			if got := isRevoked(t, bl, tt.ask...); got != tt.want {
				t.Errorf("after Revoke of %q: IsRevoked(%q) = %v, want %v (%s)", tt.revoke, tt.ask, got, tt.want, tt.reason)
			}
		})
	}
}

func (s *suite) blocklistPastUntil(t *testing.T) {
	bl := s.h.NewBlocklist(t)
	// Logout revokes expired tokens too: a time already past must not be
	// an error, and records nothing.
	s.revoke(t, bl, "expired-jti", s.h.Now().Add(-time.Second))
	if isRevoked(t, bl, "expired-jti") {
		t.Error("Revoke with until in the past: IsRevoked = true, want false (nothing recorded)")
	}
}

func (s *suite) blocklistExpiry(t *testing.T) {
	bl := s.h.NewBlocklist(t)
	now := s.h.Now()
	s.revoke(t, bl, "lapses", now.Add(shortTTL))
	s.revoke(t, bl, "extended", now.Add(shortTTL))
	s.revoke(t, bl, "extended", now.Add(longTTL))
	s.revoke(t, bl, "not-shortened", now.Add(longTTL))
	s.revoke(t, bl, "not-shortened", now.Add(shortTTL))
	ids := []string{"lapses", "extended", "not-shortened"}
	state := func() map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = isRevoked(t, bl, id)
		}
		return m
	}
	before := map[string]bool{"lapses": true, "extended": true, "not-shortened": true}
	if diff := cmp.Diff(before, state()); diff != "" {
		t.Errorf("revoked before until (-want +got):\n%s", diff)
	}
	s.h.Advance(t, pastShort)
	// "lapses" is forgotten after its until; revoking again keeps the
	// later time, whichever order the two revocations came in.
	after := map[string]bool{"lapses": false, "extended": true, "not-shortened": true}
	if diff := cmp.Diff(after, state()); diff != "" {
		t.Errorf("revoked %v later (-want +got):\n%s", pastShort, diff)
	}
}

func (s *suite) blocklistOddIDs(t *testing.T) {
	for _, tt := range oddCases {
		t.Run(tt.name, func(t *testing.T) {
			bl := s.h.NewBlocklist(t)
			until := s.h.Now().Add(longTTL)
			for _, id := range tt.set {
				s.revoke(t, bl, id, until)
			}
			for _, id := range tt.set {
				if !isRevoked(t, bl, id) {
					t.Errorf("IsRevoked(%s) = false after Revoke, want true", show(id))
				}
			}
			for _, id := range tt.others {
				if isRevoked(t, bl, id) {
					t.Errorf("IsRevoked(%s) = true, want false: only %s were revoked", show(id), showAll(tt.set))
				}
			}
			if isRevoked(t, bl, tt.others...) {
				t.Errorf("IsRevoked(%s) = true, want false", showAll(tt.others))
			}
		})
	}
}

func (s *suite) blocklistConcurrent(t *testing.T) {
	bl := s.h.NewBlocklist(t)
	ctx := t.Context()
	until := s.h.Now().Add(longTTL)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			id := fmt.Sprintf("concurrent-%d", i)
			if err := bl.Revoke(ctx, id, until); err != nil {
				t.Errorf("Revoke(%q): %v", id, err)
				return
			}
			if err := bl.Revoke(ctx, "shared", until); err != nil {
				t.Errorf("Revoke(shared): %v", err)
			}
			if got, err := bl.IsRevoked(ctx, "never", id); err != nil || !got {
				t.Errorf("IsRevoked(never, %q) = %v, %v; want true, nil", id, got, err)
			}
			if got, err := bl.IsRevoked(ctx, "never"); err != nil || got {
				t.Errorf("IsRevoked(never) = %v, %v; want false, nil", got, err)
			}
		})
	}
	wg.Wait()
	for i := range workers {
		if id := fmt.Sprintf("concurrent-%d", i); !isRevoked(t, bl, id) {
			t.Errorf("IsRevoked(%q) = false after concurrent Revoke, want true", id)
		}
	}
	if !isRevoked(t, bl, "shared") {
		t.Error("IsRevoked(shared) = false after concurrent Revoke, want true")
	}
}
