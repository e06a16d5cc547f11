package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// WithReplicaAcks makes every write that decides access — a revocation, a
// subject's cut-off, a spent refresh token, a session created or ended,
// the epoch — wait until n replicas have acknowledged it (Redis WAIT n,
// up to timeout), and fail with [ErrReplicas] (authx answers 503) when
// fewer did. A failover then promotes a replica that has every
// acknowledged write, so a revocation that was answered cannot be lost to
// replication lag. Default 0: no waiting, and a failover may lose the
// writes of the last few milliseconds.
//
// Each such write costs one replica round trip more, on a connection of
// its own. Run Redis with min-replicas-to-write (so that a primary
// without replicas refuses writes instead of accepting them) and let
// Sentinel or Cluster promote only replicas in sync. timeout must be
// positive and shorter than [WithTimeout]'s; n from 1 to 16. It needs a
// *redis.Client or *redis.ClusterClient (WAIT runs on the node that owns
// the key).
func WithReplicaAcks(n int, timeout time.Duration) Option {
	return optionFunc(func(s *Store) {
		if n < 1 || n > 16 || timeout <= 0 {
			s.err = fmt.Errorf("%w: WithReplicaAcks(%d, %v): want 1 to 16 replicas and a positive timeout", ErrConfig, n, timeout)
			return
		}
		s.acks, s.ackWait = n, timeout
	})
}

// cmdWriter is what a write needs of a client or connection.
type cmdWriter interface {
	redis.Cmdable
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// write runs f, a write to key, on a connection that then waits for the
// replicas WithReplicaAcks asks for; without it, on the Store's client.
func (s *Store) write(ctx context.Context, key string, f func(cmdWriter) error) error {
	if s.acks == 0 {
		return f(s.c)
	}
	var node *redis.Client
	switch c := s.c.(type) {
	case *redis.Client:
		node = c
	case *redis.ClusterClient:
		var err error
		if node, err = c.MasterForKey(ctx, key); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: WithReplicaAcks needs a *redis.Client or *redis.ClusterClient, got %T", ErrConfig, s.c)
	}
	// WAIT counts the writes of its own connection: both go on one.
	conn := node.Conn()
	defer conn.Close()
	if err := f(conn); err != nil {
		return err
	}
	n, err := conn.Wait(ctx, s.acks, s.ackWait).Result()
	if err != nil {
		return err
	}
	if n < int64(s.acks) {
		return fmt.Errorf("%w: %d of %d within %v", ErrReplicas, n, s.acks, s.ackWait)
	}
	return nil
}
