//go:build unix

package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// redisProc is a redis-server the test started and owns: a child process
// (not daemonized) on a loopback port, in its own process group, killed
// when the test ends. Its data directory is the test's temporary directory,
// so what survives [redisProc.Restart] is what its persistence settings
// keep (none by default: --save "" --appendonly no, which later args may
// override).
type redisProc struct {
	bin  string
	port int
	dir  string
	args []string // all of them, --port to the caller's

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil once killed
	done chan struct{} // closed when cmd has been waited for
	log  *bytes.Buffer // cmd's stdout and stderr
}

// redisServer returns the path of redis-server. Without one it skips tb,
// or fails it under CI=true, where Redis is part of the environment (as
// requireRedis does).
func redisServer(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := fmt.Sprintf("no redis-server binary (%v): install Redis 7 to run this test", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return bin
}

// startRedis starts a redis-server of its own on a free loopback port with
// no persistence, then args (later settings win, so args may turn
// persistence on), and waits until it answers PING. It is killed when tb
// ends.
func startRedis(tb testing.TB, args ...string) *redisProc {
	tb.Helper()
	p := &redisProc{bin: redisServer(tb), dir: tb.TempDir()}
	tb.Cleanup(p.Kill)
	var err error
	for range 3 { // a free port may be taken before redis-server binds it
		p.port, err = freePort()
		if err != nil {
			tb.Fatal(err)
		}
		p.args = append([]string{
			"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", p.dir,
			"--daemonize", "no", "--logfile", "",
		}, args...)
		if err = p.start(); err == nil {
			return p
		}
	}
	tb.Fatalf("starting redis-server: %v", err)
	return nil
}

// freePort returns a loopback port nothing listened on a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start runs redis-server with p's args and waits, polling PING with a
// deadline, until it answers; if it does not, it is killed.
func (p *redisProc) start() error {
	log := &bytes.Buffer{}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done, p.log = cmd, done, log
	p.mu.Unlock()

	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, DialerRetries: 1,
		DialTimeout: time.Second, ContextTimeoutEnabled: true})
	defer c.Close()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			p.Kill()
			return fmt.Errorf("redis-server %v exited: %s", p.args, log.String())
		case <-deadline:
			p.Kill()
			return fmt.Errorf("redis-server %v did not answer PING within 10s (%v): %s", p.args, err, log.String())
		case <-tick.C:
		}
	}
}

// Addr returns the host:port the server listens on.
func (p *redisProc) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// Client returns a client of the server, with ContextTimeoutEnabled and
// failing fast, closed when tb ends.
func (p *redisProc) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	return newClient(tb, p.Addr(), failFast)
}

// Restart kills the server and starts it again with the same port, args
// and directory: what it kept on disk is what its settings made it keep.
func (p *redisProc) Restart(tb testing.TB) {
	tb.Helper()
	p.Kill()
	if err := p.start(); err != nil {
		tb.Fatalf("restarting redis-server: %v", err)
	}
}

// Pause stops the server (SIGSTOP): connections are accepted by the
// kernel, commands are sent, nothing is answered, as a Redis stalled by a
// fork, a swap storm or a partition.
func (p *redisProc) Pause(tb testing.TB) {
	tb.Helper()
	p.signal(tb, syscall.SIGSTOP)
}

// Resume continues a paused server (SIGCONT).
func (p *redisProc) Resume(tb testing.TB) {
	tb.Helper()
	p.signal(tb, syscall.SIGCONT)
}

func (p *redisProc) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil {
		tb.Fatalf("signal %v: redis-server is not running", sig)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("signal %v to redis-server: %v", sig, err)
	}
}

// Kill kills the server and any child it forked (its process group, by
// the server's PID) with SIGKILL, paused or not, and waits for it to
// exit. Killing a killed server does nothing.
func (p *redisProc) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = cmd.Process.Kill()
	}
	<-done
}

// TestRedisProc checks the harness itself: what a restart keeps is what the
// server's persistence settings keep, a paused server answers nothing
// until resumed, and a killed one is gone.
func TestRedisProc(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantKept bool
		reason   string
	}{
		{name: "no persistence", wantKept: false, reason: `--save "" --appendonly no keeps nothing across a restart`},
		{name: "AOF", args: []string{"--appendonly", "yes", "--appendfsync", "always"}, wantKept: true,
			reason: "appendonly yes replays the AOF at start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startRedis(t, tt.args...)
			c := p.Client(t)
			if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			p.Restart(t)
			n, err := c.Exists(t.Context(), "k").Result()
			if err != nil {
				t.Fatalf("EXISTS after restart: %v", err)
			}
			if diff := cmp.Diff(tt.wantKept, n == 1); diff != "" {
				t.Errorf("key kept across a restart (-want +got):\n%s\n%s", diff, tt.reason)
			}

			p.Pause(t)
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			err = c.Ping(ctx).Err()
			cancel()
			if err == nil {
				t.Errorf("PING of a paused server: no error")
			}
			p.Resume(t)
			if err := c.Ping(t.Context()).Err(); err != nil {
				t.Errorf("PING after Resume: %v", err)
			}

			p.Kill()
			if err := c.Ping(t.Context()).Err(); err == nil {
				t.Errorf("PING of a killed server: no error")
			}
		})
	}
}
