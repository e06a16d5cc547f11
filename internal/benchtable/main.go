// Command benchtable turns one run of the root package's benchmarks into
// the README's "Speed" table: each cell of issue 15, authx beside the floor
// measured in the same run, as the median over rounds of per-round ratios
// (the i-th result of a benchmark is paired with the i-th of its floor).
//
//	go test -run '^$' -bench 'Guard/|Floor' -benchmem -count 6 . | tee bench.txt
//	go run ./internal/benchtable < bench.txt
//
// It exits 1 when a cell misses its target, so that a regression shows.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// result is one benchmark line.
type result struct {
	ns     float64
	allocs int
}

// cell is one row: authx's benchmark, the floor it is compared with, the
// ratio it must not exceed, and the most allocations it may make (-1: any).
type cell struct {
	name, bench, floor string
	target             float64
	maxAllocs          int
}

var cells = []cell{
	{"HS256 valid, uncached (× golang-jwt typed parse)", "Guard/HS256/valid", "Floor/golang-jwt-typed-HS256", 0.20, 3},
	{"HS256 no token → 401 (× golang-jwt typed parse of a valid token)", "Guard/HS256/no-token", "Floor/golang-jwt-typed-HS256", 0.04, -1},
	{"HS256 expired → 401 (× authx valid)", "Guard/HS256/expired", "Guard/HS256/valid", 1.10, -1},
	{"ES256 valid, uncached (× bare ecdsa.VerifyASN1)", "Guard/ES256/valid", "CryptoFloor/ES256", 1.02, -1},
	{"EdDSA valid, uncached (× bare ed25519.Verify)", "Guard/EdDSA/valid", "CryptoFloor/EdDSA", 1.02, -1},
	{"RS256 valid, uncached (× bare rsa.VerifyPKCS1v15)", "Guard/RS256/valid", "CryptoFloor/RS256", 1.02, -1},
	{"cache hit, HS256 (× golang-jwt typed parse)", "Guard/HS256/cache-hit", "Floor/golang-jwt-typed-HS256", 0.05, -1},
	{"cache hit, ES256 (× golang-jwt typed parse, ES256)", "Guard/ES256/cache-hit", "Floor/golang-jwt-typed-ES256", 0.01, -1},
}

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-(\d+))?\s+\d+\s+([\d.]+) ns/op(?:\s+\d+ B/op\s+(\d+) allocs/op)?`)

func main() {
	ok, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) (bool, error) {
	results := map[string][]result{}
	var cpu, procs string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		text := sc.Text()
		if v, found := strings.CutPrefix(text, "cpu: "); found {
			cpu = strings.TrimSpace(v)
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return false, err
		}
		allocs := -1
		if m[4] != "" {
			allocs, _ = strconv.Atoi(m[4])
		}
		procs = m[2]
		results[m[1]] = append(results[m[1]], result{ns, allocs})
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	fmt.Fprintf(out, "Measured on %s, GOMAXPROCS %s, %s %s/%s; medians of per-round ratios over %d rounds.\n\n",
		orUnknown(cpu), orUnknown(procs), runtime.Version(), runtime.GOOS, runtime.GOARCH, rounds(results))
	fmt.Fprintln(out, "| cell | authx | floor | ratio | must reach |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	allOK := true
	for _, c := range cells {
		a, f := results[c.bench], results[c.floor]
		if len(a) == 0 || len(f) == 0 {
			return false, fmt.Errorf("no results for %s or %s", c.bench, c.floor)
		}
		n := min(len(a), len(f))
		ratios := make([]float64, n)
		for i := range n {
			ratios[i] = a[i].ns / f[i].ns
		}
		ratio := median(ratios)
		allocs := a[0].allocs
		good := ratio <= c.target && (c.maxAllocs < 0 || allocs <= c.maxAllocs)
		allOK = allOK && good
		mark := "✓"
		if !good {
			mark = "✗"
		}
		target := fmt.Sprintf("≤ %.2f×", c.target)
		if c.maxAllocs >= 0 {
			target += fmt.Sprintf(", ≤ %d allocs", c.maxAllocs)
		}
		fmt.Fprintf(out, "| %s | %s, %d allocs | %s | **%.3f×** | %s %s |\n", c.name,
			duration(medianNS(a)), allocs, duration(medianNS(f)), ratio, target, mark)
	}
	return allOK, nil
}

func rounds(results map[string][]result) int {
	n := 0
	for _, c := range cells {
		n = max(n, len(results[c.bench]))
	}
	return n
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown machine"
	}
	return s
}

func medianNS(rs []result) float64 {
	ns := make([]float64, len(rs))
	for i, r := range rs {
		ns[i] = r.ns
	}
	return median(ns)
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func duration(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
