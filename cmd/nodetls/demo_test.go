package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The demo, answered by openssl s_client: it sees welcome! and its echo, and
// the server reports the connection.
func TestDemoAnsweredByOpenSSLClient(t *testing.T) {
	bin := buildNodetls(t)
	demo := peers.Start(t, bin, "demo", "--port", "0")
	m := demo.WaitFor(t, regexp.MustCompile(`openssl s_client -connect (127\.0\.0\.1:\d+) -servername localhost`), 20*time.Second)
	assert.Contains(t, demo.Stdout(), "server bound\n")
	assert.Regexp(t, `certificate SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}\n`, demo.Stdout())

	cli := peers.OpenSSLClient(t, m[1], "-servername", "localhost", "-quiet", "-no_ign_eof")
	cli.WaitFor(t, regexp.MustCompile(`welcome!`), 10*time.Second)
	cli.Send(t, "echo me\n")
	cli.WaitFor(t, regexp.MustCompile(`echo me`), 10*time.Second)
	demo.WaitFor(t, regexp.MustCompile(`server connected unauthorized`), 10*time.Second)
	cli.CloseStdin()
	cli.Wait(t, 10*time.Second)
	assert.Equal(t, 1, strings.Count(demo.Stdout(), "server bound"))
}

func TestDemoBadFlags(t *testing.T) {
	bin := buildNodetls(t)
	for _, args := range [][]string{
		{"demo", "--port", "x"},
		{"demo", "--port", "70000"},
		{"demo", "--bogus"},
		{"demo", "--key", "/nonexistent/key.pem", "--cert", "/nonexistent/cert.pem"},
		{"demo", "--key", "/nonexistent/key.pem"},
	} {
		cmd := exec.Command(bin, args...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "%v", args)
		assert.Equal(t, 2, ee.ExitCode(), "%v: %s", args, out)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		assert.Len(t, lines, 1, "one line on stderr for %v: %s", args, out)
		assert.True(t, strings.HasPrefix(lines[0], "nodetls demo: "), "%v: %s", args, out)
		assert.NotContains(t, string(out), "goroutine", "no stack trace")
	}
}
