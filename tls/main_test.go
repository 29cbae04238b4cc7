package tls_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain lets the parity scenarios, which mostly wait on node and openssl
// child processes, run several at a time even on a 2-core machine, unless
// -parallel was given.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "6")
	}
	os.Exit(m.Run())
}
