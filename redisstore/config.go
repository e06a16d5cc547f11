package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// InsecureAllowLossyConfig makes [Store.CheckConfig] accept a Redis that
// may lose keys — one that evicts them at maxmemory, keeps no AOF, or
// whose settings cannot be read — reporting what it found as a warning on
// the Store's logger ([WithLogger]) instead of an error. What Redis loses,
// authx forgets: a revoked token becomes valid again, a spent refresh
// token can be used again, a session ended everywhere comes back, a rate
// limit starts afresh. Accept it only where that is acceptable (a cache of
// rate limits, a test). Default: CheckConfig refuses such a Redis.
func InsecureAllowLossyConfig() Option {
	return optionFunc(func(s *Store) { s.lossy = true })
}

// CheckConfig reads the settings of the Redis the Store uses (every node
// of a Redis Cluster or Ring) and returns an error wrapping
// [ErrUnsafeConfig], saying which setting to change and what is lost
// otherwise, unless Redis keeps every key the Store writes until it
// expires:
//
//   - maxmemory-policy noeviction: any other policy evicts keys at
//     maxmemory, and the volatile-* policies evict exactly the Store's keys,
//     which all carry a TTL. With noeviction Redis refuses writes when
//     full, and authx answers 503.
//   - appendonly yes: without the AOF a restart loses every key written
//     since the last RDB snapshot, or all of them with save "".
//   - appendfsync everysec (a host crash loses up to a second of writes) or
//     always (loses none; every write waits for the disk), not no (the
//     kernel flushes when it likes, about every 30 s on Linux).
//
// It asks CONFIG GET, and where CONFIG is renamed or forbidden, as managed
// services do, INFO persistence and INFO memory, which show the policy and
// whether the AOF is on but not appendfsync (then left unchecked). If
// neither answers, the configuration is unknown and refused as unsafe.
// With [InsecureAllowLossyConfig] these findings are logged at Warn and
// CheckConfig returns nil. Any other error (Redis unreachable, the
// Store's timeout, a misbuilt Store) is returned either way. Call it at
// start-up: settings can change under a running service, and replicas
// promoted by a failover have settings of their own.
func (s *Store) CheckConfig(ctx context.Context) error {
	if err := s.Err(); err != nil {
		return err
	}
	var (
		mu       sync.Mutex
		problems []string
	)
	err := s.run(ctx, "config check", func(ctx context.Context) error {
		return s.eachNode(ctx, func(ctx context.Context, name string, c nodeClient) error {
			found, err := checkNode(ctx, c)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range found {
				problems = append(problems, name+": "+p)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	msg := strings.Join(problems, "; ")
	if s.lossy {
		s.logger.WarnContext(ctx, "redisstore: Redis may lose keys; accepted with InsecureAllowLossyConfig", "problems", msg)
		return nil
	}
	return fmt.Errorf("%w: %s (to run on it anyway, accepting the loss, build the Store with redisstore.InsecureAllowLossyConfig())", ErrUnsafeConfig, msg)
}

// nodeClient is what CheckConfig asks of one Redis.
type nodeClient interface {
	ConfigGet(ctx context.Context, parameter string) *redis.MapStringStringCmd
	Info(ctx context.Context, sections ...string) *redis.StringCmd
}

// eachNode calls f for every node of the Store's client, concurrently for
// a Redis Cluster or Ring, with a name for messages.
func (s *Store) eachNode(ctx context.Context, f func(ctx context.Context, name string, c nodeClient) error) error {
	node := func(ctx context.Context, c *redis.Client) error { return f(ctx, c.Options().Addr, c) }
	switch c := s.c.(type) {
	case *redis.Client:
		return node(ctx, c)
	case *redis.ClusterClient:
		return c.ForEachShard(ctx, node)
	case *redis.Ring:
		return c.ForEachShard(ctx, node)
	}
	return f(ctx, "redis", s.c)
}

// settings are the durability settings of one Redis; appendfsync is ""
// when they were read from INFO, which does not show it.
type settings struct {
	policy, appendonly, appendfsync string
}

// errUnreadable: a setting is missing from Redis's answer.
var errUnreadable = errors.New("setting missing from the reply")

// checkNode returns what is unsafe in c's settings. An error is one that
// stopped it asking (a connection, a timeout), not a refusal to answer.
func checkNode(ctx context.Context, c nodeClient) ([]string, error) {
	cfg, cfgErr := configGet(ctx, c)
	if cfgErr != nil {
		if !refused(cfgErr) {
			return nil, cfgErr
		}
		var infoErr error
		cfg, infoErr = infoGet(ctx, c)
		if infoErr != nil {
			if !refused(infoErr) {
				return nil, infoErr
			}
			return []string{fmt.Sprintf("its settings cannot be read (CONFIG GET: %v; INFO: %v), so it may evict keys or lose them on a restart: "+
				"allow the Store's Redis user CONFIG GET or INFO", cfgErr, infoErr)}, nil
		}
	}
	return cfg.problems(), nil
}

// refused reports whether err is Redis's answer (an error reply such as an
// unknown command or a missing permission, or a missing setting) rather
// than a failure to get one.
func refused(err error) bool {
	var reply redis.Error
	return errors.Is(err, errUnreadable) || (errors.As(err, &reply) && !errors.Is(err, redis.Nil))
}

// configGet reads the settings with CONFIG GET.
func configGet(ctx context.Context, c nodeClient) (settings, error) {
	var cfg settings
	for _, p := range []struct {
		name string
		to   *string
	}{{"maxmemory-policy", &cfg.policy}, {"appendonly", &cfg.appendonly}, {"appendfsync", &cfg.appendfsync}} {
		m, err := c.ConfigGet(ctx, p.name).Result()
		if err != nil {
			return settings{}, err
		}
		v, ok := m[p.name]
		if !ok {
			return settings{}, fmt.Errorf("%w: %s", errUnreadable, p.name)
		}
		*p.to = strings.ToLower(v)
	}
	return cfg, nil
}

// infoGet reads the settings INFO shows: maxmemory_policy in its memory
// section, aof_enabled in its persistence section.
func infoGet(ctx context.Context, c nodeClient) (settings, error) {
	info, err := c.Info(ctx, "persistence", "memory").Result()
	if err != nil {
		return settings{}, err
	}
	var cfg settings
	for line := range strings.Lines(info) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "maxmemory_policy":
			cfg.policy = strings.ToLower(v)
		case "aof_enabled":
			cfg.appendonly = map[string]string{"1": "yes", "0": "no"}[v]
		}
	}
	switch {
	case cfg.policy == "":
		return settings{}, fmt.Errorf("%w: INFO memory maxmemory_policy", errUnreadable)
	case cfg.appendonly == "":
		return settings{}, fmt.Errorf("%w: INFO persistence aof_enabled", errUnreadable)
	}
	return cfg, nil
}

// problems says what is unsafe in cfg, what to set instead and what is
// lost otherwise.
func (cfg settings) problems() []string {
	var out []string
	if cfg.policy != "noeviction" {
		out = append(out, fmt.Sprintf("maxmemory-policy is %s: set maxmemory-policy noeviction; otherwise Redis evicts keys at maxmemory "+
			"(the volatile-* policies exactly the Store's, which all carry a TTL), and an evicted key is a revoked token valid again, "+
			"a spent refresh token usable again, a session or rate limit forgotten", cfg.policy))
	}
	if cfg.appendonly != "yes" {
		out = append(out, fmt.Sprintf("appendonly is %s: set appendonly yes; otherwise a restart loses every key written since "+
			"the last RDB snapshot (all of them with save \"\"): revocations, spent refresh tokens, sessions", cfg.appendonly))
	}
	if cfg.appendfsync == "no" {
		out = append(out, "appendfsync is no: set appendfsync everysec (a host crash loses up to 1 s of writes) or always "+
			"(loses none); otherwise the kernel flushes the AOF when it likes, and a host crash loses about 30 s of writes on Linux")
	}
	return out
}
