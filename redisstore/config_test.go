//go:build unix

package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/authx-go/authx/redisstore"
	"github.com/google/go-cmp/cmp"
)

// TestCheckConfig starts a Redis of its own per case: CheckConfig accepts
// only one that keeps every key (noeviction, AOF on, fsynced), reads INFO
// where CONFIG is renamed away, refuses one whose settings it cannot read,
// and with InsecureAllowLossyConfig warns instead of refusing.
func TestCheckConfig(t *testing.T) {
	t.Parallel()
	safe := []string{"--maxmemory-policy", "noeviction", "--appendonly", "yes", "--appendfsync", "everysec"}
	noConfig := []string{"--rename-command", "CONFIG", ""}
	noInfo := []string{"--rename-command", "INFO", ""}
	with := func(base []string, more ...string) []string { return append(append([]string{}, base...), more...) }
	tests := []struct {
		name     string
		args     []string // of redis-server, after the harness's (no persistence)
		lossy    bool     // InsecureAllowLossyConfig
		wantErr  error
		wantIn   []string // in the error, or in the warning when lossy
		wantWarn bool
		reason   string
	}{
		{name: "safe", args: safe, reason: "noeviction, appendonly yes, appendfsync everysec keep every key"},
		{name: "safe, appendfsync always", args: with(safe, "--appendfsync", "always"), reason: "always loses nothing"},
		{name: "allkeys-lru", args: with(safe, "--maxmemory-policy", "allkeys-lru"), wantErr: redisstore.ErrUnsafeConfig,
			wantIn: []string{"maxmemory-policy is allkeys-lru", "set maxmemory-policy noeviction", "InsecureAllowLossyConfig"}, reason: "evicts any key"},
		{name: "volatile-lru", args: with(safe, "--maxmemory-policy", "volatile-lru"), wantErr: redisstore.ErrUnsafeConfig,
			wantIn: []string{"maxmemory-policy is volatile-lru", "set maxmemory-policy noeviction"}, reason: "evicts keys with a TTL: all of the Store's"},
		{name: "appendonly no", args: with(safe, "--appendonly", "no"), wantErr: redisstore.ErrUnsafeConfig,
			wantIn: []string{"appendonly is no", "set appendonly yes"}, reason: "a restart loses every key"},
		{name: "appendfsync no", args: with(safe, "--appendfsync", "no"), wantErr: redisstore.ErrUnsafeConfig,
			wantIn: []string{"appendfsync is no", "set appendfsync everysec"}, reason: "a host crash loses ~30 s"},
		{name: "harness defaults", wantErr: redisstore.ErrUnsafeConfig, wantIn: []string{"appendonly is no"},
			reason: `--save "" --appendonly no is for tests only`},
		{name: "CONFIG renamed, safe", args: with(safe, noConfig...), reason: "INFO shows noeviction and aof_enabled:1"},
		{name: "CONFIG renamed, allkeys-lru", args: with(safe, with(noConfig, "--maxmemory-policy", "allkeys-lru")...), wantErr: redisstore.ErrUnsafeConfig,
			wantIn: []string{"maxmemory-policy is allkeys-lru"}, reason: "INFO memory shows the policy"},
		{name: "CONFIG renamed, appendonly no", args: with(safe, with(noConfig, "--appendonly", "no")...), wantErr: redisstore.ErrUnsafeConfig,
			wantIn: []string{"appendonly is no"}, reason: "INFO persistence shows aof_enabled:0"},
		{name: "CONFIG and INFO renamed", args: with(safe, with(noConfig, noInfo...)...), wantErr: redisstore.ErrUnsafeConfig,
			wantIn: []string{"cannot be read", "InsecureAllowLossyConfig"}, reason: "an unknown configuration is not a safe one"},
		{name: "allkeys-lru, InsecureAllowLossyConfig", args: with(safe, "--maxmemory-policy", "allkeys-lru"), lossy: true,
			wantWarn: true, wantIn: []string{"maxmemory-policy is allkeys-lru"}, reason: "the risk accepted: a warning, not an error"},
		{name: "unreadable, InsecureAllowLossyConfig", args: with(safe, with(noConfig, noInfo...)...), lossy: true,
			wantWarn: true, wantIn: []string{"cannot be read"}, reason: "the risk accepted: a warning, not an error"},
		{name: "safe, InsecureAllowLossyConfig", args: safe, lossy: true, reason: "nothing to warn about"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rp := startRedis(t, tt.args...)
			var log bytes.Buffer
			opts := []redisstore.Option{redisstore.WithLogger(slog.New(slog.NewTextHandler(&log, nil)))}
			if tt.lossy {
				opts = append(opts, redisstore.InsecureAllowLossyConfig())
			}
			s := redisstore.New(rp.Client(t), opts...)
			err := s.CheckConfig(t.Context())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("CheckConfig() = %v, want %v: %s", err, tt.wantErr, tt.reason)
			}
			if diff := cmp.Diff(tt.wantWarn, strings.Contains(log.String(), "level=WARN")); diff != "" {
				t.Errorf("warned (-want +got):\n%s\nlog: %s", diff, log.String())
			}
			said := log.String()
			if err != nil {
				said = err.Error()
				t.Logf("CheckConfig: %v", err)
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(said, w) {
					t.Errorf("CheckConfig said %q; want it to say %q", said, w)
				}
			}
		})
	}
}

// TestCheckConfigUnreachable: a Redis that cannot be asked is an error,
// not a finding, with InsecureAllowLossyConfig too.
func TestCheckConfigUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lossy bool
	}{
		{name: "default"},
		{name: "InsecureAllowLossyConfig", lossy: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []redisstore.Option
			if tt.lossy {
				opts = append(opts, redisstore.InsecureAllowLossyConfig())
			}
			rp := startRedis(t)
			s := redisstore.New(rp.Client(t), opts...)
			rp.Pause(t)
			err := s.CheckConfig(context.Background())
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redisstore.ErrUnsafeConfig) {
				t.Errorf("CheckConfig of a paused Redis = %v, want context.DeadlineExceeded, not ErrUnsafeConfig", err)
			}
			rp.Kill()
			err = s.CheckConfig(context.Background())
			if err == nil || errors.Is(err, redisstore.ErrUnsafeConfig) {
				t.Errorf("CheckConfig of a killed Redis = %v, want a connection error, not ErrUnsafeConfig", err)
			}
		})
	}
}
