//go:build !race

package authx_test

const raceEnabled = false
