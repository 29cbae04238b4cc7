package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nodetlsBin is the command built once for the tests that run it as a process.
var nodetlsBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nodetls-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nodetlsBin = filepath.Join(dir, "nodetls")
	args := []string{"build", "-o", nodetlsBin}
	if raceEnabled {
		// The command runs with the race detector too; without its
		// one-second sleep at exit, as the tests run it hundreds of times.
		args = append(args, "-race")
		os.Setenv("GORACE", "atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildNodetls returns the path of the command built for this test run.
func buildNodetls(t *testing.T) string {
	t.Helper()
	return nodetlsBin
}
