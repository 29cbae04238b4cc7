package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad flags and unreadable files: exit status 2 and one line on stderr that
// names the flag, never a panic or a stack trace, nothing on stdout.
func TestServerAndClientBadFlags(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(key, []byte("not a key\n"), 0o600))
	missing := filepath.Join(dir, "missing.pem")
	noDir := filepath.Join(dir, "no", "such", "dir", "file")

	cases := []struct {
		args []string
		flag string // what the message must name
	}{
		{[]string{"server", "--port", "x"}, "port"},
		{[]string{"server", "--port", "70000"}, "port"},
		{[]string{"server", "--port", "-1"}, "port"},
		{[]string{"server", "--bogus"}, "bogus"},
		{[]string{"server", "--key"}, "key"},
		{[]string{"server", "--key", missing}, "key"},
		{[]string{"server", "--cert", missing}, "cert"},
		{[]string{"server", "--ca", missing}, "ca"},
		{[]string{"server", "--pfx", missing}, "pfx"},
		{[]string{"server", "--dhparam", missing}, "dhparam"},
		{[]string{"server", "--sni", "example.com"}, "sni"},
		{[]string{"server", "--sni", "example.com="}, "sni"},
		{[]string{"server", "--sni", "=" + key + "," + key}, "sni"},
		{[]string{"server", "--sni", "example.com=" + key}, "sni"},
		{[]string{"server", "--sni", "example.com=" + missing + "," + key}, "sni"},
		{[]string{"server", "--psk", "client1"}, "psk"},
		{[]string{"server", "--psk", "=00ff"}, "psk"},
		{[]string{"server", "--psk", "client1="}, "psk"},
		{[]string{"server", "--psk", "client1=xyz"}, "psk"},
		{[]string{"server", "--ticket-keys", "00ff"}, "ticket-keys"},
		{[]string{"server", "--ticket-keys", strings.Repeat("zz", 48)}, "ticket-keys"},
		{[]string{"server", "--handshake-timeout", "-1"}, "handshake-timeout"},
		{[]string{"server", "--handshake-timeout", "soon"}, "handshake-timeout"},
		{[]string{"server", "--session-timeout", "-5"}, "session-timeout"},
		{[]string{"server", "--alpn-protocols", "h2,,http/1.1"}, "alpn-protocols"},
		{[]string{"server", "--keylog", noDir}, "keylog"},
		{[]string{"server", "--request-cert=maybe"}, "request-cert"},
		{[]string{"server", "--reject-unauthorized=nope"}, "reject-unauthorized"},
		{[]string{"server", "--json=yes"}, "json"},
		{[]string{"server", "extra"}, "extra"},
		{[]string{"client", "--port", "x"}, "port"},
		{[]string{"client", "--port", "65536"}, "port"},
		{[]string{"client", "--timeout", "-1"}, "timeout"},
		{[]string{"client", "--psk", "a=00", "--psk", "b=00"}, "psk"},
		{[]string{"client", "--psk", "a=0"}, "psk"},
		{[]string{"client", "--session-in", missing}, "session-in"},
		{[]string{"client", "--session-out", noDir}, "session-out"},
		{[]string{"client", "--keylog", noDir}, "keylog"},
		{[]string{"client", "--ca", missing}, "ca"},
		{[]string{"client", "--key", missing}, "key"},
		{[]string{"client", "--reject-unauthorized=nah"}, "reject-unauthorized"},
		{[]string{"client", "--alpn-protocols", ","}, "alpn-protocols"},
		{[]string{"client", "--servername"}, "servername"},
		{[]string{"client", "localhost"}, "localhost"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			res := runCLI(t, "", c.args...)
			assert.Equal(t, 2, res.code, "exit status; stderr: %s", res.stderr)
			assert.Empty(t, res.stdout)
			lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
			require.Len(t, lines, 1, "one line on stderr: %q", res.stderr)
			assert.True(t, strings.HasPrefix(lines[0], "nodetls "+c.args[0]+": "), lines[0])
			assert.Contains(t, lines[0], c.flag, "the line names what is wrong")
			assert.NotContains(t, res.stderr, "goroutine")
			assert.NotContains(t, res.stderr, "panic")
		})
	}
	// --session-out is checked before connecting; a file made only for
	// the check does not stay behind when the connection fails.
	out := filepath.Join(dir, "session.der")
	res := runCLI(t, "", "client", "--port", strconv.Itoa(closedPort(t)), "--host", "127.0.0.1", "--session-out", out)
	assert.Equal(t, 1, res.code)
	assert.NoFileExists(t, out)
}

// startFailureScript is what a node program does with the same options: it
// creates and starts the server and prints the error it gets, as the
// command does ({"event":"error",...}), or the listening line.
const startFailureScript = `
const tls = require('tls');
const spec = JSON.parse(process.argv[1]); // node -e SCRIPT ARG
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const fail = (e) => { out({event: 'error', code: e.code ?? null, message: e.message}); process.exit(1); };
try {
  const s = tls.createServer(spec.options);
  s.on('error', fail);
  s.listen(spec.port, '127.0.0.1', () => { out({event: 'listening', port: s.address().port}); s.close(); });
} catch (e) { fail(e); }
`

// A server that cannot start prints Node's error as {"event":"error",...}
// and exits 1; node's createServer/listen gives the same code and message.
func TestServerStartFailures(t *testing.T) {
	peers.Require(t, "node")
	ca := testpki.NewCA(t, testpki.Options{})
	leaf := ca.Leaf(t, testpki.Options{}, "localhost")
	other := ca.Leaf(t, testpki.Options{}, "localhost")
	p := newServerPKI(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	busyPort := busy.Addr().(*net.TCPAddr).Port

	good := map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.CertPEM)}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{"key": good["key"], "cert": good["cert"]}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		opts map[string]any
		port int
	}{
		{"key is not PEM", with(map[string]any{"key": "not a key\n"}), 0},
		{"certificate is not PEM", with(map[string]any{"cert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}), 0},
		{"key does not match the certificate", with(map[string]any{"key": string(other.KeyPEM)}), 0},
		{"encrypted key, no passphrase", with(map[string]any{"key": string(p.encryptedKey)}), 0},
		{"encrypted key, wrong passphrase", with(map[string]any{"key": string(p.encryptedKey), "passphrase": "wrong"}), 0},
		{"cipher list matches nothing", with(map[string]any{"ciphers": "NOPE"}), 0},
		{"unknown minimum version", with(map[string]any{"minVersion": "TLSv9"}), 0},
		{"unknown curve", with(map[string]any{"ecdhCurve": "P-999"}), 0},
		{"bad sigalgs", with(map[string]any{"sigalgs": "NOPE+SHA256"}), 0},
		{"port in use", good, busyPort},
	}
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.name
	}
	runScenarios(t, names, func(t *testing.T, i int) {
		c := cases[i]
		{
			node := peers.Node(t, startFailureScript, mustJSONString(t, map[string]any{"options": c.opts, "port": c.port}))
			code := node.Wait(t, 30*time.Second)
			want := parity.ParseLines(t, node.Stdout())
			require.Len(t, want, 1, "node: %s%s", node.Stdout(), node.Stderr())
			require.Equal(t, "error", want[0]["event"], "node started: %v", want)
			require.Equal(t, 1, code)

			args := append([]string{"server", "--json", "--port", strconv.Itoa(c.port)},
				serverArgs(t, newFileWriter(t), parity.ServerSpec{Options: c.opts})...)
			res := runCLI(t, "", args...)
			assert.Equal(t, 1, res.code, "exit status; stderr: %s", res.stderr)
			assert.Empty(t, parity.Diff(want, res.lines), "node %v\ncli  %v", want, res.lines)
		}
	})
}
