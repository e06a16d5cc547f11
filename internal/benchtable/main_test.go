package main

import (
	"strconv"
	"strings"
	"testing"
)

// The table pairs rounds, takes medians of per-round ratios, and fails a
// cell past its target.
func TestRun(t *testing.T) {
	ns := map[string]float64{
		"Floor/golang-jwt-typed-HS256": 1000, "Floor/golang-jwt-typed-ES256": 100000,
		"Guard/HS256/valid": 100, "Guard/HS256/no-token": 20, "Guard/HS256/expired": 105,
		"CryptoFloor/ES256": 50000, "CryptoFloor/EdDSA": 50000, "CryptoFloor/RS256": 50000,
		"Guard/ES256/valid": 50500, "Guard/EdDSA/valid": 50500, "Guard/RS256/valid": 50500,
		"Guard/HS256/cache-hit": 40, "Guard/ES256/cache-hit": 500,
	}
	input := func(ns map[string]float64) string {
		var in strings.Builder
		in.WriteString("cpu: Test CPU\n")
		for round := range 3 {
			slow := 1.0
			if round == 1 {
				slow = 2 // a noisy round slows both sides: the ratio holds
			}
			for name, v := range ns {
				in.WriteString("Benchmark" + name + "-2 \t 100 \t " + strconv.FormatFloat(v*slow, 'f', -1, 64) + " ns/op \t 0 B/op \t 3 allocs/op\n")
			}
		}
		return in.String()
	}
	var out strings.Builder
	ok, err := run(strings.NewReader(input(ns)), &out)
	if err != nil || !ok {
		t.Fatalf("run: %v %v\n%s", ok, err, out.String())
	}
	for _, want := range []string{"Test CPU, GOMAXPROCS 2", "over 3 rounds", "| **0.100×** |", "| **1.050×** |", "| **1.010×** |", "| **0.005×** |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	ns["Guard/HS256/valid"] = 300
	if ok, err := run(strings.NewReader(input(ns)), &out); err != nil || ok {
		t.Errorf("a cell past its target: ok %v, err %v", ok, err)
	}
}
