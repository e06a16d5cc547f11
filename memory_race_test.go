//go:build race

package authx_test

// raceEnabled: the race detector is on, so the scale tests use fewer
// entries (it multiplies time and memory).
const raceEnabled = true
