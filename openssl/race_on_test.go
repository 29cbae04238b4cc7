//go:build race

package openssl_test

// raceEnabled: the tests run with -race.
const raceEnabled = true
