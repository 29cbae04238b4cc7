// Package peers starts the real TLS peers that nodetls is tested against
// (openssl s_server / s_client, node, gnutls-serv / gnutls-cli, curl) as child
// processes on 127.0.0.1, and gives tests their output as it arrives.
//
// A missing peer binary fails the test in CI (env CI set) and skips it
// elsewhere, naming the binary: CI installs every peer (see .ci/run).
package peers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Require fails (in CI) or skips (elsewhere) the test when a binary is missing.
func Require(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%s is not installed (CI installs it)", name)
		}
		t.Fatalf("%s is required but not installed: %v", name, err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and many readers, which
// wakes waiters on every write.
type syncBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	cond *sync.Cond
}

func newSyncBuffer() *syncBuffer {
	b := &syncBuffer{}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	b.cond.Broadcast()
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Proc is a running peer program.
type Proc struct {
	Name   string
	Cmd    *exec.Cmd
	Stdin  io.WriteCloser
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error
	cancel context.CancelFunc
}

// Start runs name with args; the process is killed when the test ends.
func Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	Require(t, name)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	p := &Proc{Name: name, Cmd: cmd, stdout: newSyncBuffer(), stderr: newSyncBuffer(), done: make(chan struct{}), cancel: cancel}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatalf("peers: %v", err)
	}
	p.Stdin = stdin
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("peers: start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
		// Wake waiters so they notice the exit.
		p.stdout.Write(nil)
		p.stderr.Write(nil)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("%s %s\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), p.Stdout(), p.Stderr())
		}
	})
	return p
}

// Stdout is everything the process printed on stdout so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// Stderr is everything the process printed on stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Output is stdout followed by stderr.
func (p *Proc) Output() string { return p.Stdout() + p.Stderr() }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitFor waits until stdout or stderr matches re and returns the first match's
// submatches; it fails the test on timeout or if the process exits first.
func (p *Proc) WaitFor(t testing.TB, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := p.Output()
		if m := re.FindStringSubmatch(out); m != nil {
			return m
		}
		if p.Exited() {
			// One more look: the last output may have arrived with the exit.
			if m := re.FindStringSubmatch(p.Output()); m != nil {
				return m
			}
			t.Fatalf("%s exited (%v) before printing %q\nstdout:\n%s\nstderr:\n%s", p.Name, p.err, re, p.Stdout(), p.Stderr())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within %v\nstdout:\n%s\nstderr:\n%s", p.Name, re, timeout, p.Stdout(), p.Stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Contains waits up to timeout for s to appear in the output; it reports
// whether it did (without failing the test).
func (p *Proc) Contains(s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(p.Output(), s) {
			return true
		}
		if p.Exited() || time.Now().After(deadline) {
			return strings.Contains(p.Output(), s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Send writes s to the process's stdin.
func (p *Proc) Send(t testing.TB, s string) {
	t.Helper()
	if _, err := io.WriteString(p.Stdin, s); err != nil {
		t.Fatalf("peers: write to %s: %v", p.Name, err)
	}
}

// CloseStdin closes the process's stdin (EOF for the peer).
func (p *Proc) CloseStdin() { _ = p.Stdin.Close() }

// Wait waits for the process to exit and returns its exit code; it fails the
// test on timeout.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v\nstdout:\n%s\nstderr:\n%s", p.Name, timeout, p.Stdout(), p.Stderr())
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// Kill ends the process (idempotent) and waits for it.
func (p *Proc) Kill() {
	p.cancel()
	<-p.done
}

var acceptLine = regexp.MustCompile(`ACCEPT (\S+):(\d+)`)

// OpenSSLServer starts `openssl s_server -accept 127.0.0.1:0 ARGS...` and
// returns it with the address it listens on.
func OpenSSLServer(t testing.TB, args ...string) (*Proc, string) {
	t.Helper()
	all := append([]string{"s_server", "-accept", "127.0.0.1:0"}, args...)
	p := Start(t, "openssl", all...)
	m := p.WaitFor(t, acceptLine, 10*time.Second)
	return p, fmt.Sprintf("127.0.0.1:%s", m[2])
}

// OpenSSLClient starts `openssl s_client -connect ADDR ARGS...`.
func OpenSSLClient(t testing.TB, addr string, args ...string) *Proc {
	t.Helper()
	all := append([]string{"s_client", "-connect", addr}, args...)
	return Start(t, "openssl", all...)
}

// Node starts `node -e SCRIPT ARGS...`.
func Node(t testing.TB, script string, args ...string) *Proc {
	t.Helper()
	all := append([]string{"-e", script}, args...)
	return Start(t, "node", all...)
}

// RequireCapture skips a test that captures loopback packets (tshark,
// dumpcap) where the environment says capture is impossible:
// NODETLS_NO_PACKET_CAPTURE=1, which Dockerfile.build sets because a container
// build has no CAP_NET_RAW. CI runs these tests on the host, as root.
func RequireCapture(t testing.TB) {
	t.Helper()
	if os.Getenv("NODETLS_NO_PACKET_CAPTURE") == "1" {
		t.Skip("packet capture is unavailable here (NODETLS_NO_PACKET_CAPTURE=1: no CAP_NET_RAW in a container build)")
	}
}
