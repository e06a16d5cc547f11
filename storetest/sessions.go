package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func (s *suite) sessionStore(t *testing.T) {
	t.Run("RoundTrip", s.sessionRoundTrip)
	t.Run("GetUnknown", s.sessionGetUnknown)
	t.Run("List", s.sessionList)
	t.Run("Touch", s.sessionTouch)
	t.Run("Revoke", s.sessionRevoke)
	t.Run("RevokeAll", s.sessionRevokeAll)
	t.Run("Expiry", s.sessionExpiry)
	t.Run("ExpiredIDReused", s.sessionExpiredIDReused)
	t.Run("OddIDs", s.sessionOddIDs)
	t.Run("IDsAreNotSubjects", s.sessionIDsAreNotSubjects)
	t.Run("PrefixSubjects", s.sessionPrefixSubjects)
	t.Run("Concurrent", s.sessionConcurrent)
}

// session returns an active session of sub created age ago, living an hour.
func (s *suite) session(id, sub string, age time.Duration) authx.SessionInfo {
	now := s.h.Now()
	return authx.SessionInfo{
		ID:         id,
		Subject:    sub,
		CreatedAt:  now.Add(-age),
		LastActive: now.Add(-age),
		ExpiresAt:  now.Add(longTTL),
		IP:         "192.0.2.1",
		UserAgent:  "storetest",
		Active:     true,
	}
}

func create(t *testing.T, ss authx.SessionStore, infos ...authx.SessionInfo) {
	t.Helper()
	for _, in := range infos {
		if err := ss.Create(t.Context(), in); err != nil {
			t.Fatalf("Create(%s) error: %v", show(in.ID), err)
		}
	}
}

func get(t *testing.T, ss authx.SessionStore, id string) (authx.SessionInfo, bool) {
	t.Helper()
	got, ok, err := ss.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s) error: %v", show(id), err)
	}
	return got, ok
}

// listIDs returns the ids List reports, in its order.
func listIDs(t *testing.T, ss authx.SessionStore, sub string) []string {
	t.Helper()
	got, err := ss.List(t.Context(), sub)
	if err != nil {
		t.Fatalf("List(%s) error: %v", show(sub), err)
	}
	ids := []string{}
	for _, x := range got {
		if x.Subject != sub {
			t.Errorf("List(%s) holds session %s of subject %s", show(sub), show(x.ID), show(x.Subject))
		}
		ids = append(ids, x.ID)
	}
	return ids
}

func revokeSession(t *testing.T, ss authx.SessionStore, id string) {
	t.Helper()
	if err := ss.Revoke(t.Context(), id); err != nil {
		t.Fatalf("Revoke(%s) error: %v", show(id), err)
	}
}

// revokeAll returns the ids RevokeAll reports, sorted (their order is not
// part of the contract).
func revokeAll(t *testing.T, ss authx.SessionStore, sub string) []string {
	t.Helper()
	ids, err := ss.RevokeAll(t.Context(), sub)
	if err != nil {
		t.Fatalf("RevokeAll(%s) error: %v", show(sub), err)
	}
	ids = append([]string{}, ids...)
	slices.Sort(ids)
	return ids
}

func (s *suite) sessionRoundTrip(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	now := s.h.Now()
	full := authx.SessionInfo{
		ID:         "s-full",
		Subject:    "alice",
		CreatedAt:  now.Add(-time.Minute),
		LastActive: now,
		ExpiresAt:  now.Add(longTTL),
		IP:         "2001:db8::1",
		UserAgent:  "Mozilla/5.0 (X11; Linux x86_64) ☃ \"quoted\"",
		Device:     map[string]string{"name": "laptop", "os": "linux", "empty": "", "ünï": "☃", "a:b": "{c}"},
		Active:     true,
	}
	bare := authx.SessionInfo{
		ID:         "s-bare",
		Subject:    "alice",
		CreatedAt:  now.Add(-2 * time.Minute),
		LastActive: now.Add(-2 * time.Minute),
		ExpiresAt:  now.Add(longTTL),
		Active:     true,
	}
	in := full
	in.Device = map[string]string{}
	for k, v := range full.Device {
		in.Device[k] = v
	}
	create(t, ss, in, bare)
	in.Device["name"] = "changed after Create"

	for _, want := range []authx.SessionInfo{full, bare} {
		got, ok := get(t, ss, want.ID)
		if !ok {
			t.Errorf("Get(%q) after Create: not found", want.ID)
			continue
		}
		if diff := cmp.Diff(want, got, approxTime, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Get(%q) after Create (-want +got):\n%s", want.ID, diff)
		}
		if got.Device != nil {
			got.Device["name"] = "changed after Get"
		}
	}
	if got, _ := get(t, ss, full.ID); got.Device["name"] != "laptop" {
		t.Errorf("Device[name] = %q, want %q: a caller's map must not alias the stored one", got.Device["name"], "laptop")
	}
	list, err := ss.List(t.Context(), "alice")
	if err != nil {
		t.Fatalf("List(alice) error: %v", err)
	}
	if diff := cmp.Diff([]authx.SessionInfo{full, bare}, list, approxTime, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("List(alice) (-want +got):\n%s", diff)
	}
}

func (s *suite) sessionGetUnknown(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	create(t, ss, s.session("known", "alice", 0))
	for _, id := range []string{"unknown", "know", "known ", "alice"} {
		if got, ok := get(t, ss, id); ok {
			t.Errorf("Get(%q) = %+v, true; want not found", id, got)
		}
	}
}

func (s *suite) sessionList(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	create(t, ss,
		s.session("a-mid", "alice", 2*time.Hour),
		s.session("a-new", "alice", time.Hour),
		s.session("b-1", "bob", 0),
		s.session("a-old", "alice", 3*time.Hour),
		s.session("a-revoked", "alice", 30*time.Minute),
	)
	revokeSession(t, ss, "a-revoked")
	tests := []struct {
		name   string
		sub    string
		want   []string
		reason string
	}{
		{name: "alice", sub: "alice", want: []string{"a-new", "a-mid", "a-old"}, reason: "active sessions only, newest (CreatedAt) first"},
		{name: "bob", sub: "bob", want: []string{"b-1"}, reason: "only the subject's own"},
		{name: "nobody", sub: "carol", want: []string{}, reason: "a subject without sessions has none (and no error)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, listIDs(t, ss, tt.sub)); diff != "" {
				t.Errorf("List(%q): %s (-want +got):\n%s", tt.sub, tt.reason, diff)
			}
		})
	}
}

func (s *suite) sessionTouch(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	in := s.session("s-touch", "alice", time.Hour)
	t0 := in.LastActive
	create(t, ss, in)
	ctx := t.Context()
	steps := []struct {
		name   string
		id     string
		at     time.Time
		want   time.Time // LastActive of s-touch after the step
		reason string
	}{
		{name: "later", id: "s-touch", at: t0.Add(30 * time.Minute), want: t0.Add(30 * time.Minute), reason: "Touch records activity"},
		{name: "earlier", id: "s-touch", at: t0.Add(10 * time.Minute), want: t0.Add(30 * time.Minute), reason: "an earlier time (a slow replica) is ignored"},
		{name: "later again", id: "s-touch", at: t0.Add(45 * time.Minute), want: t0.Add(45 * time.Minute), reason: "Touch records activity"},
		{name: "unknown id", id: "unknown", at: t0.Add(50 * time.Minute), want: t0.Add(45 * time.Minute), reason: "touching an unknown session is not an error and changes nothing"},
	}
	for _, st := range steps {
		if err := ss.Touch(ctx, st.id, st.at); err != nil {
			t.Fatalf("%s: Touch(%q) error: %v", st.name, st.id, err)
		}
		want := in
		want.LastActive = st.want
		got, ok := get(t, ss, "s-touch")
		if diff := cmp.Diff(want, got, approxTime, cmpopts.EquateEmpty()); !ok || diff != "" {
			t.Errorf("%s: %s; Get after Touch (found %v) (-want +got):\n%s", st.name, st.reason, ok, diff)
		}
	}
	if got, ok := get(t, ss, "unknown"); ok {
		t.Errorf("Get(unknown) after Touch(unknown) = %+v, true; want not found: Touch creates nothing", got)
	}
}

func (s *suite) sessionRevoke(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	s1, s2 := s.session("s-1", "alice", 2*time.Minute), s.session("s-2", "alice", time.Minute)
	create(t, ss, s1, s2)
	revokeSession(t, ss, "s-1")
	want := s1
	want.Active = false
	got, ok := get(t, ss, "s-1")
	if diff := cmp.Diff(want, got, approxTime, cmpopts.EquateEmpty()); !ok || diff != "" {
		t.Errorf("Get of a revoked session (found %v): want it with Active false until it expires (-want +got):\n%s", ok, diff)
	}
	if diff := cmp.Diff([]string{"s-2"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) after Revoke(s-1) (-want +got):\n%s", diff)
	}
	if got, _ := get(t, ss, "s-2"); !got.Active {
		t.Error("Revoke(s-1) ended s-2 too")
	}
	revokeSession(t, ss, "s-1")     // again: not an error
	revokeSession(t, ss, "unknown") // unknown: not an error
	if got, ok := get(t, ss, "unknown"); ok {
		t.Errorf("Get(unknown) after Revoke(unknown) = %+v, true; want not found: Revoke creates nothing", got)
	}
}

func (s *suite) sessionRevokeAll(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	create(t, ss,
		s.session("a-1", "alice", 3*time.Minute),
		s.session("a-2", "alice", 2*time.Minute),
		s.session("a-revoked", "alice", time.Minute),
		s.session("b-1", "bob", 0),
	)
	revokeSession(t, ss, "a-revoked")
	if diff := cmp.Diff([]string{"a-1", "a-2"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice): want exactly alice's active sessions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) after RevokeAll (-want +got):\n%s", diff)
	}
	for _, id := range []string{"a-1", "a-2"} {
		if got, ok := get(t, ss, id); !ok || got.Active {
			t.Errorf("Get(%q) after RevokeAll = Active %v, found %v; want inactive, found", id, got.Active, ok)
		}
	}
	if diff := cmp.Diff([]string{"b-1"}, listIDs(t, ss, "bob")); diff != "" {
		t.Errorf("List(bob) after RevokeAll(alice): other subjects are left alone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice) again: want no ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, revokeAll(t, ss, "nobody")); diff != "" {
		t.Errorf("RevokeAll(nobody): want no ids (-want +got):\n%s", diff)
	}
}

func (s *suite) sessionExpiry(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	short := s.session("short", "alice", 0)
	short.ExpiresAt = s.h.Now().Add(shortTTL)
	long := s.session("long", "alice", time.Minute)
	revoked := s.session("short-revoked", "alice", 2*time.Minute)
	revoked.ExpiresAt = short.ExpiresAt
	create(t, ss, short, long, revoked)
	revokeSession(t, ss, "short-revoked")
	if _, ok := get(t, ss, "short"); !ok {
		t.Error("Get(short) before it expires: not found")
	}
	if diff := cmp.Diff([]string{"short", "long"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) before expiry (-want +got):\n%s", diff)
	}
	s.h.Advance(t, pastShort)
	for _, id := range []string{"short", "short-revoked"} {
		if got, ok := get(t, ss, id); ok {
			t.Errorf("Get(%q) %v past its ExpiresAt = %+v, true; want not found", id, pastShort-shortTTL, got)
		}
	}
	if diff := cmp.Diff([]string{"long"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) after expiry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"long"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice) after expiry: an expired session is not reported (-want +got):\n%s", diff)
	}
}

// sessionExpiredIDReused: once a session has expired its id is free, and
// a session of another subject may take it. The new session is the new
// subject's alone: the old subject's List and RevokeAll must not reach it
// (a store that keeps the id in the old subject's index ends bob's
// session when alice logs out everywhere).
func (s *suite) sessionExpiredIDReused(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	old := s.session("reused", "alice", time.Minute)
	old.ExpiresAt = s.h.Now().Add(shortTTL)
	create(t, ss, old, s.session("alice-long", "alice", 2*time.Minute))
	s.h.Advance(t, pastShort)
	create(t, ss, s.session("reused", "bob", 0))

	if got, ok := get(t, ss, "reused"); !ok || got.Subject != "bob" || !got.Active {
		t.Errorf("Get(reused) = subject %q, active %v, found %v; want bob's active session", got.Subject, got.Active, ok)
	}
	if diff := cmp.Diff([]string{"alice-long"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) after bob took her expired session's id (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"alice-long"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice): only her own sessions, not bob's on her old id (-want +got):\n%s", diff)
	}
	if got, ok := get(t, ss, "reused"); !ok || !got.Active {
		t.Errorf("Get(reused) after RevokeAll(alice) = active %v, found %v; want bob's session active", got.Active, ok)
	}
	if diff := cmp.Diff([]string{"reused"}, listIDs(t, ss, "bob")); diff != "" {
		t.Errorf("List(bob) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"reused"}, revokeAll(t, ss, "bob")); diff != "" {
		t.Errorf("RevokeAll(bob) (-want +got):\n%s", diff)
	}
}

func (s *suite) sessionOddIDs(t *testing.T) {
	for _, tt := range oddCases {
		t.Run(tt.name, func(t *testing.T) {
			ss := s.h.NewSessionStore(t)
			// Each odd value is one session's id and its subject's name.
			want := map[string]authx.SessionInfo{}
			for i, v := range tt.set {
				in := s.session(v, v, time.Duration(i)*time.Minute)
				in.Device = map[string]string{v: v}
				want[v] = in
				create(t, ss, in)
			}
			for _, v := range tt.set {
				got, ok := get(t, ss, v)
				if diff := cmp.Diff(want[v], got, approxTime); !ok || diff != "" {
					t.Errorf("Get(%s) (found %v) (-want +got):\n%s", show(v), ok, diff)
				}
				if diff := cmp.Diff([]string{v}, listIDs(t, ss, v)); diff != "" {
					t.Errorf("List(%s) (-want +got):\n%s", show(v), diff)
				}
			}
			for _, o := range tt.others {
				if got, ok := get(t, ss, o); ok {
					t.Errorf("Get(%s) = session %s, want not found: only %s exist", show(o), show(got.ID), showAll(tt.set))
				}
				if got := listIDs(t, ss, o); len(got) != 0 {
					t.Errorf("List(%s) = %s, want none", show(o), showAll(got))
				}
				if got := revokeAll(t, ss, o); len(got) != 0 {
					t.Errorf("RevokeAll(%s) = %s, want none", show(o), showAll(got))
				}
				if err := ss.Revoke(t.Context(), o); err != nil {
					t.Errorf("Revoke(%s) error: %v", show(o), err)
				}
			}
			for _, v := range tt.set {
				if got, _ := get(t, ss, v); !got.Active {
					t.Errorf("session %s inactive after revoking only other ids and subjects", show(v))
				}
				if diff := cmp.Diff([]string{v}, revokeAll(t, ss, v)); diff != "" {
					t.Errorf("RevokeAll(%s) (-want +got):\n%s", show(v), diff)
				}
			}
		})
	}
}

func (s *suite) sessionIDsAreNotSubjects(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	// Stores that keep ids and subject indexes in one key space mix these up.
	create(t, ss, s.session("alice", "bob", time.Minute), s.session("bob", "alice", 0))
	if got, _ := get(t, ss, "alice"); got.Subject != "bob" {
		t.Errorf("Get(alice).Subject = %q, want bob", got.Subject)
	}
	if diff := cmp.Diff([]string{"bob"}, listIDs(t, ss, "alice")); diff != "" {
		t.Errorf("List(alice) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bob"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice) (-want +got):\n%s", diff)
	}
	if got, ok := get(t, ss, "alice"); !ok || !got.Active {
		t.Errorf("session alice (of bob) after RevokeAll(alice): found %v, active %v; want found, active", ok, got.Active)
	}
}

func (s *suite) sessionPrefixSubjects(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	subjects := []string{"alice", "alice2", "alic", "alice:", "alice*", "*", "Alice", "{alice}"}
	for i, sub := range subjects {
		create(t, ss, s.session(sub+"#1", sub, time.Duration(2*i+1)*time.Minute), s.session(sub+"#2", sub, time.Duration(2*i)*time.Minute))
	}
	for _, sub := range subjects {
		if diff := cmp.Diff([]string{sub + "#2", sub + "#1"}, listIDs(t, ss, sub)); diff != "" {
			t.Errorf("List(%q): only its own sessions (-want +got):\n%s", sub, diff)
		}
	}
	if diff := cmp.Diff([]string{"alice#1", "alice#2"}, revokeAll(t, ss, "alice")); diff != "" {
		t.Errorf("RevokeAll(alice) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"*#1", "*#2"}, revokeAll(t, ss, "*")); diff != "" {
		t.Errorf("RevokeAll(*) is not a pattern (-want +got):\n%s", diff)
	}
	for _, sub := range subjects[1:] {
		if sub == "*" {
			continue
		}
		if diff := cmp.Diff([]string{sub + "#2", sub + "#1"}, listIDs(t, ss, sub)); diff != "" {
			t.Errorf("List(%q) after RevokeAll(alice) and RevokeAll(*) (-want +got):\n%s", sub, diff)
		}
	}
}

func (s *suite) sessionConcurrent(t *testing.T) {
	ss := s.h.NewSessionStore(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	want := make([]string, 0, workers)
	for i := range workers {
		id := fmt.Sprintf("crowd-%02d", i)
		want = append(want, id)
		in := s.session(id, "crowd", time.Duration(i)*time.Second)
		wg.Go(func() {
			if err := ss.Create(ctx, in); err != nil {
				t.Errorf("Create(%q): %v", id, err)
				return
			}
			if err := ss.Touch(ctx, id, in.LastActive.Add(time.Minute)); err != nil {
				t.Errorf("Touch(%q): %v", id, err)
			}
			if _, ok, err := ss.Get(ctx, id); err != nil || !ok {
				t.Errorf("Get(%q) = found %v, %v; want found", id, ok, err)
			}
			if _, err := ss.List(ctx, "crowd"); err != nil {
				t.Errorf("List(crowd): %v", err)
			}
		})
	}
	wg.Wait()
	if diff := cmp.Diff(want, listIDs(t, ss, "crowd")); diff != "" {
		t.Errorf("List(crowd) after concurrent Create (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, revokeAll(t, ss, "crowd")); diff != "" {
		t.Errorf("RevokeAll(crowd) (-want +got):\n%s", diff)
	}
}
