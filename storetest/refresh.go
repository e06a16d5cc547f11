package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/google/go-cmp/cmp"
)

func (s *suite) refreshStore(t *testing.T) {
	t.Run("Spend", s.refreshSpend)
	t.Run("Concurrent", s.refreshConcurrent)
	t.Run("IndependentIDs", s.refreshIndependent)
	t.Run("Expiry", s.refreshExpiry)
	t.Run("OddIDs", s.refreshOddIDs)
}

// spent is the outcome of one Spend.
type spent struct {
	First   bool
	SpentAt time.Time
}

func spend(t *testing.T, rs authx.RefreshStore, id string, until time.Time) spent {
	t.Helper()
	first, at, err := rs.Spend(t.Context(), id, until)
	if err != nil {
		t.Fatalf("Spend(%s) error: %v", show(id), err)
	}
	return spent{first, at}
}

func (s *suite) refreshSpend(t *testing.T) {
	rs := s.h.NewRefreshStore(t)
	now := s.h.Now()
	until := now.Add(longTTL)
	if diff := cmp.Diff(spent{First: true}, spend(t, rs, "jti-1", until), approxTime); diff != "" {
		t.Errorf("first Spend (-want +got):\n%s", diff)
	}
	// Later uses report the first use's time (to the tolerance): the
	// reuse grace window is measured from it.
	if diff := cmp.Diff(spent{First: false, SpentAt: now}, spend(t, rs, "jti-1", until), approxTime); diff != "" {
		t.Errorf("second Spend (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(spent{First: false, SpentAt: now}, spend(t, rs, "jti-1", until), approxTime); diff != "" {
		t.Errorf("third Spend (-want +got):\n%s", diff)
	}
}

func (s *suite) refreshConcurrent(t *testing.T) {
	rs := s.h.NewRefreshStore(t)
	ctx := t.Context()
	until := s.h.Now().Add(longTTL)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		firsts int
		zero   int
	)
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			first, at, err := rs.Spend(ctx, "contended", until)
			if err != nil {
				t.Errorf("Spend(contended): %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if first {
				firsts++
			} else if at.IsZero() {
				zero++
			}
		})
	}
	close(start)
	wg.Wait()
	if firsts != 1 {
		t.Errorf("%d concurrent Spend of one id: %d reported first, want exactly 1 (Spend must be atomic)", workers, firsts)
	}
	if zero != 0 {
		t.Errorf("%d concurrent Spend reported not first with a zero spentAt", zero)
	}
}

func (s *suite) refreshIndependent(t *testing.T) {
	rs := s.h.NewRefreshStore(t)
	until := s.h.Now().Add(longTTL)
	var got []bool
	for _, id := range []string{"jti-a", "jti-b", "jti-a", "jti-b", "jti-c"} {
		got = append(got, spend(t, rs, id, until).First)
	}
	if diff := cmp.Diff([]bool{true, true, false, false, true}, got); diff != "" {
		t.Errorf("first? of Spend a, b, a, b, c (-want +got):\n%s", diff)
	}
}

func (s *suite) refreshExpiry(t *testing.T) {
	rs := s.h.NewRefreshStore(t)
	until := s.h.Now().Add(shortTTL)
	if !spend(t, rs, "short", until).First {
		t.Fatal("first Spend(short): first = false, want true")
	}
	if spend(t, rs, "short", until).First {
		t.Error("Spend(short) again before until: first = true, want false")
	}
	s.h.Advance(t, pastShort)
	if !spend(t, rs, "short", s.h.Now().Add(longTTL)).First {
		t.Errorf("Spend(short) %v later, past until: first = false, want true (entries are forgotten after until)", pastShort)
	}
}

func (s *suite) refreshOddIDs(t *testing.T) {
	for _, tt := range oddCases {
		t.Run(tt.name, func(t *testing.T) {
			rs := s.h.NewRefreshStore(t)
			until := s.h.Now().Add(longTTL)
			for _, id := range tt.set {
				if !spend(t, rs, id, until).First {
					t.Errorf("first Spend(%s): first = false, want true", show(id))
				}
			}
			for _, id := range tt.others {
				if !spend(t, rs, id, until).First {
					t.Errorf("first Spend(%s): first = false, want true: only %s were spent", show(id), showAll(tt.set))
				}
			}
			for _, id := range tt.set {
				if got := spend(t, rs, id, until); got.First || got.SpentAt.IsZero() {
					t.Errorf("second Spend(%s) = %+v, want not first with a spentAt", show(id), got)
				}
			}
		})
	}
}
