//go:build unix

package redisstore_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/redisstore"
)

// TestFailover: the primary dies right after a burst of revocations and a
// replica whose link lags 10 ms is promoted. Without replica
// acknowledgements the last revocations can be lost; with
// WithReplicaAcks(1, …) every revocation that was answered survives.
func TestFailover(t *testing.T) {
	t.Parallel()
	const (
		n   = 200
		lag = 10 * time.Millisecond
	)
	tests := []struct {
		name string
		acks int
	}{
		{"no acknowledgements", 0},
		{"WithReplicaAcks(1)", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			primary := startRedis(t)
			link := startProxy(t, primary.Addr())
			host, port, _ := net.SplitHostPort(link.Addr())
			replica := startRedis(t, "--replicaof", host, port)
			waitFor(t, "the replica's link", func() bool {
				info, err := replica.Client(t).Info(t.Context(), "replication").Result()
				return err == nil && strings.Contains(info, "master_link_status:up")
			})
			clock := authtest.NewClock(time.Now())
			prefix := testPrefix(t)
			opts := []redisstore.Option{redisstore.WithPrefix(prefix), redisstore.WithClock(clock.Now), redisstore.WithTimeout(5 * time.Second)}
			if tt.acks > 0 {
				opts = append(opts, redisstore.WithReplicaAcks(tt.acks, 2*time.Second))
			}
			s := redisstore.New(primary.Client(t), opts...)
			if _, err := s.Init(t.Context()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the epoch on the replica", func() bool {
				keys, err := scanKeys(t.Context(), replica.Client(t), prefix)
				return err == nil && len(keys) > 0
			})
			link.SetDelay(lag)

			start := time.Now()
			for i := range n {
				if err := s.Revoke(t.Context(), fmt.Sprintf("jti-%d", i), time.Now().Add(time.Hour)); err != nil {
					t.Fatalf("Revoke %d: %v", i, err)
				}
			}
			took := time.Since(start)
			primary.Kill()
			if err := replica.Client(t).ReplicaOf(t.Context(), "NO", "ONE").Err(); err != nil {
				t.Fatal(err)
			}

			promoted := redisstore.New(replica.Client(t), redisstore.WithPrefix(prefix), redisstore.WithClock(clock.Now))
			lost := 0
			for i := range n {
				revoked, err := promoted.IsTokenRevoked(t.Context(), authx.TokenCheck{IDs: []string{fmt.Sprintf("jti-%d", i)}, Subject: "alice", IssuedAt: clock.Now()})
				if err != nil {
					t.Fatal(err)
				}
				if !revoked {
					lost++
				}
			}
			t.Logf("%s: %d revocations in %v (%v each); after the failover %d/%d were lost",
				tt.name, n, took.Round(time.Millisecond), (took / n).Round(time.Microsecond), lost, n)
			if tt.acks > 0 && lost != 0 {
				t.Errorf("with replica acknowledgements, %d/%d answered revocations were lost", lost, n)
			}
		})
	}
}

// WithReplicaAcks with no replica: the write is refused (503), not taken.
func TestReplicaAcksWithoutReplica(t *testing.T) {
	t.Parallel()
	p := startRedis(t)
	s := redisstore.New(p.Client(t), redisstore.WithPrefix(testPrefix(t)), redisstore.WithReplicaAcks(1, 50*time.Millisecond))
	err := s.Revoke(t.Context(), "jti", time.Now().Add(time.Hour))
	if !errors.Is(err, redisstore.ErrReplicas) {
		t.Errorf("Revoke without a replica: %v, want ErrReplicas", err)
	}
	st := newSite(t, s, nil)
	c := &authx.Claims{ID: "jti-2", ExpiresAt: time.Now().Add(time.Hour)}
	if err := st.a.Revoke(t.Context(), c); authx.StatusOf(err) != 503 {
		t.Errorf("authx Revoke without a replica: %v (status %d), want 503", err, authx.StatusOf(err))
	}
	// The epoch cannot be written with its acknowledgement either: a
	// guarded request fails closed.
	r := authtest.Request(t, st.a, authx.InHeader, "GET", "/", authtest.Token(t, st.a, "alice"))
	if got := serve(st.guarded, r).StatusCode; got != 503 {
		t.Errorf("guarded request without a replica: %d, want 503", got)
	}
}

// waitFor polls cond until it holds, failing t after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
