package jwks_test

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if any goroutine of package jwks outlives the
// tests: every Set's background goroutine must end with its context.
func TestMain(m *testing.M) {
	code := m.Run()
	// Not while fuzzing: the fuzz workers run jwks code on their own
	// goroutines until the coordinator stops them.
	if f := flag.Lookup("test.fuzz"); code == 0 && (f == nil || f.Value.String() == "") {
		if leaked := waitForLeaks(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by jwks:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitForLeaks returns the stacks of goroutines running jwks code (outside
// tests: not the test functions of either test package, nor goroutines
// they start) that are still alive after the deadline, or "".
func waitForLeaks(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		leaked := jwksGoroutines()
		if leaked == "" || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(10 * time.Millisecond) // polling the runtime, not waiting on a result
	}
}

// jwksGoroutines returns the stacks of the goroutines in jwks code.
func jwksGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/authx-go/authx/jwks.") && !strings.Contains(g, "jwks_test.") &&
			!strings.Contains(g, "testing.tRunner") && !strings.Contains(g, "testing.(*M)") && !strings.Contains(g, "testing.(*F)") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
