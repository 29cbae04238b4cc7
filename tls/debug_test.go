package tls_test

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The NODE_DEBUG and trace tests run their scenario in a child process (this
// test binary again, selected by helperEnv), because NODE_DEBUG is read once
// per process and both write to the process's stderr.
const helperEnv = "NODETLS_TEST_HELPER"

// debugScript is the scenario as a node program: a server that writes "hi"
// and ends, one client; argv: mode, key file, cert file.
const debugScript = `
const tls = require('tls'), fs = require('fs');
const [mode, keyFile, certFile] = process.argv.slice(2);
const sopts = {key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile)};
const copts = {ca: fs.readFileSync(certFile), servername: 'localhost'};
if (mode === 'nocipher') {
  sopts.ciphers = 'ECDHE-ECDSA-AES128-GCM-SHA256'; sopts.maxVersion = 'TLSv1.2';
  copts.ciphers = 'ECDHE-ECDSA-AES256-GCM-SHA384'; copts.maxVersion = 'TLSv1.2';
}
if (mode === 'noverify') { delete copts.ca; copts.rejectUnauthorized = false; }
if (mode === 'alpn') { sopts.ALPNProtocols = ['h2']; copts.ALPNProtocols = ['h2']; }
const srv = tls.createServer(sopts, (s) => { s.end('hi\n'); });
if (mode === 'keylog') srv.on('keylog', () => {});
srv.on('tlsClientError', () => srv.close());
srv.listen(0, '127.0.0.1', () => {
  const c = tls.connect({host: '127.0.0.1', port: srv.address().port, ...copts});
  c.on('error', () => {});
  c.on('data', () => {});
  c.on('end', () => { c.end(); srv.close(); });
});
`

// runDebugScenario is debugScript in Go.
func runDebugScenario(mode, keyFile, certFile string) error {
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	cert, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	sopts := tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: key, Cert: cert}}
	copts := tls.ConnectOptions{Host: "127.0.0.1", Servername: "localhost", SecureContextOptions: tls.SecureContextOptions{CA: cert}}
	switch mode {
	case "nocipher":
		sopts.Ciphers, sopts.MaxVersion = "ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2"
		copts.Ciphers, copts.MaxVersion = "ECDHE-ECDSA-AES256-GCM-SHA384", "TLSv1.2"
	case "noverify":
		copts.CA = nil
		copts.RejectUnauthorized = tls.Bool(false)
	case "alpn":
		sopts.ALPNProtocols = []string{"h2"}
		copts.ALPNProtocols = []string{"h2"}
	}
	served := make(chan struct{}, 1)
	srv, err := tls.CreateServer(sopts, func(s *tls.Socket) {
		defer func() { served <- struct{}{} }()
		s.Write([]byte("hi\n"))
		s.End()
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	if mode == "keylog" {
		srv.OnKeylog(func([]byte, *tls.Socket) {})
	}
	failed := make(chan struct{}, 1)
	srv.OnTLSClientError(func(error, *tls.Socket) { failed <- struct{}{} })
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	copts.Port = srv.Address().(*net.TCPAddr).Port
	c, err := tls.Connect(copts)
	if err != nil {
		select { // let the server report its side before the process ends
		case <-failed:
		case <-time.After(5 * time.Second):
		}
		return nil
	}
	io.Copy(io.Discard, c) //nolint:errcheck // read to the server's end
	c.Close()
	<-served
	return nil
}

// runTraceScenario connects a client to a server with a trace switched on
// the way mode says: the server option, the connect option, or
// Socket.EnableTrace before the handshake.
func runTraceScenario(mode, keyFile, certFile string) error {
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	cert, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	serve := func(s *tls.Socket) {
		s.Write([]byte("hi\n"))
		s.End()
	}
	srv, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: key, Cert: cert},
		EnableTrace:          mode == "server",
	}, serve)
	if err != nil {
		return err
	}
	defer srv.Close()
	if mode == "tlssocket-server" {
		// The server side made by hand: Node's new tls.TLSSocket(socket,
		// {isServer: true, enableTrace: true}).
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		go func() {
			raw, err := l.Accept()
			if err != nil {
				return
			}
			s, err := tls.NewTLSSocket(raw, tls.TLSSocketOptions{
				SecureContextOptions: tls.SecureContextOptions{Key: key, Cert: cert},
				IsServer:             true,
				EnableTrace:          true,
			})
			if err != nil {
				raw.Close()
				return
			}
			defer s.Close()
			serve(s)
		}()
		port := l.Addr().(*net.TCPAddr).Port
		c, err := tls.Connect(tls.ConnectOptions{Port: port, SecureContextOptions: tls.SecureContextOptions{CA: cert}})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = io.Copy(io.Discard, c)
		return err
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	port := srv.Address().(*net.TCPAddr).Port
	ctx := tls.SecureContextOptions{CA: cert}
	var c *tls.Socket
	switch mode {
	case "socket":
		raw, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return err
		}
		c, err = tls.NewTLSSocket(raw, tls.TLSSocketOptions{SecureContextOptions: ctx, Servername: "localhost", RejectUnauthorized: tls.Bool(true)})
		if err != nil {
			return err
		}
		c.EnableTrace()
		if err := c.Handshake(context.Background()); err != nil {
			return err
		}
	default:
		c, err = tls.Connect(tls.ConnectOptions{Port: port, SecureContextOptions: ctx, EnableTrace: mode == "client"})
		if err != nil {
			return err
		}
	}
	defer c.Close()
	_, err = io.Copy(io.Discard, c)
	return err
}

// TestHelperProcess is the child side of the NODE_DEBUG and trace tests; it
// does nothing unless started by them.
func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	parts := strings.Split(spec, ",")
	var err error
	switch parts[0] {
	case "debug":
		err = runDebugScenario(parts[1], parts[2], parts[3])
	case "trace":
		err = runTraceScenario(parts[1], parts[2], parts[3])
	}
	if err != nil {
		os.Stderr.WriteString("helper failed: " + err.Error() + "\n")
		os.Exit(2)
	}
	os.Exit(0)
}

// runHelper runs this test binary as a child with the given helper spec and
// extra environment, and returns its stderr.
func runHelper(t *testing.T, spec string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+spec), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "helper %s:\n%s", spec, stderr.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("helper %s did not finish:\n%s", spec, stderr.String())
	}
	return stderr.String()
}

// debugKinds are the NODE_DEBUG=tls lines of Node's lib/_tls_wrap.js by what
// they report (the text before their arguments), longest first.
var debugKinds = []string{
	"client emit secureConnect. rejectUnauthorized",
	"client emit secureConnect. authorized",
	"net.Server.on(connection): new TLSSocket",
	"server emit secureConnection",
	"server emit tlsClientError",
	"server oncertcb emit OCSPRequest",
	"server resumeSession callback",
	"server onhandshakestart",
	"client onocspresponse",
	"server onclienthello",
	"onnewsession done",
	"client emit session",
	"onhandshakedone",
	"renegotiate()",
	"client emit:",
	"onnewsession",
	"_finishInit",
	"initRead",
	"onkeylog",
	"onerror",
	"_start",
	"_init",
}

var debugLine = regexp.MustCompile(`(?m)^TLS (\d+): (.*)$`)

// debugTrace is what a NODE_DEBUG=tls run printed, by kind: the ordered kinds
// of each side (consecutive repeats folded) and the kinds of lines that name
// no side (onkeylog, onnewsession).
type debugTrace struct {
	client, server []string
	other          map[string]bool
}

func parseDebug(t *testing.T, stderr string) debugTrace {
	t.Helper()
	tr := debugTrace{other: map[string]bool{}}
	add := func(seq *[]string, k string) {
		if n := len(*seq); n == 0 || (*seq)[n-1] != k {
			*seq = append(*seq, k)
		}
	}
	for _, m := range debugLine.FindAllStringSubmatch(stderr, -1) {
		line := m[2]
		side := ""
		rest := line
		if s, r, ok := strings.Cut(line, " "); ok && (s == "client" || s == "server") {
			side, rest = s, r
		}
		kind := ""
		for _, k := range debugKinds {
			if strings.HasPrefix(line, k) || (side != "" && strings.HasPrefix(rest, k)) {
				kind = k
				break
			}
		}
		if kind == "" {
			kind = "unknown line: " + line
		}
		switch {
		case side == "client":
			add(&tr.client, kind)
		case side == "server" || strings.HasPrefix(line, "net.Server"):
			add(&tr.server, kind)
		default:
			tr.other[kind] = true
		}
	}
	return tr
}

func debugPKI(t *testing.T) (keyFile, certFile string) {
	t.Helper()
	leaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	dir := t.TempDir()
	keyFile, certFile = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	require.NoError(t, os.WriteFile(keyFile, leaf.KeyPEM, 0o600))
	require.NoError(t, os.WriteFile(certFile, leaf.CertPEM, 0o600))
	return keyFile, certFile
}

// NODE_DEBUG=tls: the same scenario run by node and by nodetls prints the same
// kinds of lines, in the same order on each side.
func TestNodeDebugMatchesNode(t *testing.T) {
	peers.Require(t, "node")
	keyFile, certFile := debugPKI(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "debug.js")
	require.NoError(t, os.WriteFile(script, []byte(debugScript), 0o600))

	for _, mode := range []string{"basic", "keylog", "nocipher", "noverify", "alpn"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command("node", script, mode, keyFile, certFile)
			cmd.Env = append(os.Environ(), "NODE_DEBUG=tls")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			want := parseDebug(t, string(out))
			require.NotEmpty(t, want.client, "node printed no client lines:\n%s", out)

			stderr := runHelper(t, "debug,"+mode+","+keyFile+","+certFile, "NODE_DEBUG=tls")
			got := parseDebug(t, stderr)
			assert.Equal(t, want.client, got.client, "client side\nnode:\n%s\nnodetls:\n%s", out, stderr)
			assert.Equal(t, want.server, got.server, "server side\nnode:\n%s\nnodetls:\n%s", out, stderr)
			assert.Equal(t, want.other, got.other, "other lines\nnode:\n%s\nnodetls:\n%s", out, stderr)
			for _, m := range debugLine.FindAllStringSubmatch(stderr, -1) {
				assert.NotEqual(t, "0", m[1], "the pid")
			}
		})
	}
}

// Without NODE_DEBUG nothing is printed.
func TestNodeDebugOff(t *testing.T) {
	keyFile, certFile := debugPKI(t)
	stderr := runHelper(t, "debug,basic,"+keyFile+","+certFile, "NODE_DEBUG=net")
	assert.NotRegexp(t, debugLine, stderr)
}

// EnableTrace through each of its switches writes OpenSSL's protocol
// trace to stderr, as Node's test-tls-enable-trace expects of enableTrace.
func TestEnableTrace(t *testing.T) {
	keyFile, certFile := debugPKI(t)
	for _, mode := range []string{"server", "client", "socket", "tlssocket-server"} {
		t.Run(mode, func(t *testing.T) {
			stderr := runHelper(t, "trace,"+mode+","+keyFile+","+certFile)
			assert.Contains(t, stderr, "Received Record")
			assert.Contains(t, stderr, "ClientHello")
			assert.NotContains(t, stderr, "SSL_trace", "this OpenSSL has SSL_trace")
		})
	}
	t.Run("off", func(t *testing.T) {
		stderr := runHelper(t, "trace,none,"+keyFile+","+certFile)
		assert.NotContains(t, stderr, "Received Record")
	})
}
