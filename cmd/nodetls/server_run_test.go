package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverFiles writes a server's key and chain and the CA a client trusts.
func serverFiles(t *testing.T) (leaf *testpki.Leaf, key, chain, ca string) {
	ca0 := testpki.NewCA(t, testpki.Options{})
	leaf = ca0.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	key, chain, ca = leaf.WriteFiles(t)
	return leaf, key, chain, ca
}

// A signal stops the server cleanly: open connections get close_notify (the
// client reads a clean EOF), a connection still in its handshake is closed,
// no new connection is accepted, the server reports close and exits 0.
func TestServerSignalClosesConnections(t *testing.T) {
	leaf, key, chain, _ := serverFiles(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			srv, port, lines := startCLIServer(t, "--key", key, "--cert", chain)
			client, err := tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: port, SecureContextOptions: tls.SecureContextOptions{CA: leaf.CAPEM}})
			require.NoError(t, err)
			defer client.Close()
			_, err = client.Write([]byte("hello\n"))
			require.NoError(t, err)
			echo := make([]byte, 6)
			_, err = io.ReadFull(client, echo)
			require.NoError(t, err)
			assert.Equal(t, "hello\n", string(echo))
			pending, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)) // no handshake
			require.NoError(t, err)
			defer pending.Close()
			parity.WaitLines(lines, 1, 5*time.Second)

			require.NoError(t, srv.Cmd.Process.Signal(sig))
			require.NoError(t, client.SetReadDeadline(time.Now().Add(10*time.Second)))
			n, err := client.Read(echo)
			assert.Equal(t, 0, n)
			assert.Equal(t, io.EOF, err, "close_notify, not a truncated connection")
			require.NoError(t, pending.SetReadDeadline(time.Now().Add(10*time.Second)))
			_, err = pending.Read(echo)
			assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "the pending connection is closed: %v", err)

			assert.Equal(t, 0, srv.Wait(t, 10*time.Second), srv.Stderr())
			all := parity.ParseLines(t, srv.Stdout())
			require.NotEmpty(t, all)
			assert.Equal(t, "close", all[len(all)-1]["event"])
			_, err = net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
			assert.Error(t, err, "nothing listens after the signal")
			assert.Empty(t, srv.Stderr())
		})
	}
}

// clientKeylogScript is a node client started with --tls-keylog: it sends a
// line, waits for the echo and ends.
const clientKeylogScript = `
const tls = require('tls');
const s = tls.connect({host: '127.0.0.1', port: +process.argv[1], rejectUnauthorized: false, maxVersion: process.argv[2]}, () => s.write('keylog marker\n'));
s.on('data', () => s.end());
`

// --keylog appends NSS key log lines to a file of mode 0600, exactly the
// lines node --tls-keylog writes for the same connection, and they decrypt
// a capture of it (tshark).
func TestServerKeylog(t *testing.T) {
	peers.Require(t, "node")
	_, key, chain, _ := serverFiles(t)
	dir := t.TempDir()
	serverLog := filepath.Join(dir, "server.keys")
	_, port, lines := startCLIServer(t, "--key", key, "--cert", chain, "--keylog", serverLog)

	var nodeLines []string
	for i, version := range []string{"TLSv1.3", "TLSv1.2"} {
		nodeLog := filepath.Join(dir, "node-"+version+".keys")
		node := peers.Start(t, "node", "--tls-keylog="+nodeLog, "-e", clientKeylogScript, strconv.Itoa(port), version)
		assert.Equal(t, 0, node.Wait(t, 30*time.Second), node.Output())
		parity.WaitLines(lines, i+1, 10*time.Second)
		nodeLines = append(nodeLines, readLines(t, nodeLog)...)
	}
	// 5 lines for TLS 1.3, 1 (CLIENT_RANDOM) for TLS 1.2.
	require.Len(t, nodeLines, 6)
	got := waitForLines(t, serverLog, 6)
	assert.ElementsMatch(t, nodeLines, got, "the server wrote the lines node's client wrote")
	for _, l := range got {
		assert.Regexp(t, `^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]+$`, l)
	}
	fi, err := os.Stat(serverLog)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A second server appends to the same file.
	_, port2, lines2 := startCLIServer(t, "--key", key, "--cert", chain, "--keylog", serverLog)
	node := peers.Start(t, "node", "-e", clientKeylogScript, strconv.Itoa(port2), "TLSv1.2")
	node.Wait(t, 30*time.Second)
	parity.WaitLines(lines2, 1, 10*time.Second)
	assert.Len(t, waitForLines(t, serverLog, 7), 7)
}

// The key log decrypts a capture of the connection: tshark, given the
// client's --keylog file, shows the plaintext both sides sent.
func TestKeylogDecryptsCapture(t *testing.T) {
	peers.RequireCapture(t)
	peers.Require(t, "dumpcap")
	peers.Require(t, "tshark")
	_, key, chain, _ := serverFiles(t)
	dir := t.TempDir()
	_, port, _ := startCLIServer(t, "--key", key, "--cert", chain)
	capture, keylog := filepath.Join(dir, "lo.pcapng"), filepath.Join(dir, "client.keys")
	dump := peers.Start(t, "dumpcap", "-q", "-i", "lo", "-f", "tcp port "+strconv.Itoa(port), "-w", capture)
	dump.WaitFor(t, regexp.MustCompile(`Capturing on`), 20*time.Second)
	time.Sleep(300 * time.Millisecond) // the capture starts after the message

	marker := "keylog capture marker 7f3a\n"
	res := runCLI(t, marker, "client", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--reject-unauthorized=false", "--keylog", keylog)
	require.Equal(t, 0, res.code, res.stderr)
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, dump.Cmd.Process.Signal(os.Interrupt))
	dump.Wait(t, 20*time.Second)

	out := runTool(t, "tshark", "-r", capture, "-o", "tls.keylog_file:"+keylog, "-q", "-z", "follow,tls,ascii,0")
	// The marker goes out and comes back (the echo).
	assert.Equal(t, 2, strings.Count(out, strings.TrimSpace(marker)), out)
}

// A non-JSON server prints human lines like the demo's.
func TestServerHumanOutput(t *testing.T) {
	leaf, key, chain, _ := serverFiles(t)
	srv := peers.Start(t, buildNodetls(t), "server", "--port", "0", "--key", key, "--cert", chain, "--min-version", "TLSv1.3")
	m := srv.WaitFor(t, regexp.MustCompile(`server listening on 127\.0\.0\.1:(\d+)\n`), 20*time.Second)
	port, _ := strconv.Atoi(m[1])
	c, err := tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: port, Servername: "localhost", ALPNProtocols: []string{"h2"},
		SecureContextOptions: tls.SecureContextOptions{CA: leaf.CAPEM}})
	require.NoError(t, err)
	c.Close()
	srv.WaitFor(t, regexp.MustCompile(`secureConnection from 127\.0\.0\.1:\d+: TLSv1\.3 TLS_AES_256_GCM_SHA384, unauthorized, servername localhost\n`), 10*time.Second)
	_, err = tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: port, SecureContextOptions: tls.SecureContextOptions{MaxVersion: "TLSv1.2"}})
	require.Error(t, err)
	srv.WaitFor(t, regexp.MustCompile(`tlsClientError from 127\.0\.0\.1:\d+: ERR_SSL_UNSUPPORTED_PROTOCOL: [0-9A-F]+:error:0A000102:SSL routines:[^:]*:unsupported protocol`), 10*time.Second)
	require.NoError(t, srv.Cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, srv.Wait(t, 10*time.Second))
	assert.True(t, strings.HasSuffix(srv.Stdout(), "server closed\n"), srv.Stdout())
	assert.NotContains(t, srv.Stdout(), "{")
	assertNoRace(t, srv.Stderr())
}

// --ticket-keys: a session saved by `client --session-out` from one server
// resumes with `client --session-in` on another server process with the same
// keys, not on one with other keys. As in Node, the default session ID
// context is a hash of the command line, so the servers share it only when
// they run with the same arguments; with other arguments the session is not
// resumed either.
func TestTicketKeysShared(t *testing.T) {
	_, key, chain, ca := serverFiles(t)
	keys := strings.Repeat("5a", 16) + strings.Repeat("a5", 16) + strings.Repeat("3c", 16)
	other := strings.Repeat("00", 48)
	for _, version := range []string{"TLSv1.2", "TLSv1.3"} {
		t.Run(version, func(t *testing.T) {
			args := func(k string) []string {
				return []string{"--key", key, "--cert", chain, "--max-version", version, "--ticket-keys", k}
			}
			_, port, _ := startCLIServer(t, args(keys)...)
			sess := filepath.Join(t.TempDir(), "session.der")
			first := runCLI(t, "ping\n", "client", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--ca", ca, "--session-out", sess)
			require.Equal(t, 0, first.code, first.stdout+first.stderr)
			require.FileExists(t, sess)

			for _, c := range []struct {
				name   string
				args   []string
				reused bool
			}{
				{"same keys", args(keys), true},
				{"other keys", args(other), false},
				{"same keys, other command line", append(args(keys), "--session-timeout", "300"), false},
			} {
				_, port, lines := startCLIServer(t, c.args...)
				res := runCLI(t, "ping\n", "client", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--ca", ca, "--session-in", sess)
				require.Equal(t, 0, res.code, res.stdout+res.stderr)
				require.NotEmpty(t, res.lines)
				assert.Equal(t, c.reused, res.lines[0]["isSessionReused"], "client: %s", c.name)
				srv := parity.WaitLines(lines, 1, 10*time.Second)
				require.NotEmpty(t, srv)
				assert.Equal(t, c.reused, srv[0]["isSessionReused"], "server: %s", c.name)
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	require.NoError(t, sc.Err())
	sort.Strings(out)
	return out
}

// waitForLines waits until the file has at least n lines and returns them.
func waitForLines(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ls := readLines(t, path)
		if len(ls) >= n || time.Now().After(deadline) {
			return ls
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runTool runs a command and returns its stdout, failing the test on error.
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	res := runCmd(t, name, args...)
	require.Equal(t, 0, res.code, "%s %v: %s", name, args, res.stderr)
	return string(res.stdout)
}
