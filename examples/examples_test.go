package examples_test

import (
	"bytes"
	"context"
	"crypto/rand"
	gotls "crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bin is the directory the example programs are built into (by TestMain).
var bin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "nodetls-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/nodetls/nodetls/examples/...")
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go %s: %v\n%s", strings.Join(args, " "), err, out)
		return 1
	}
	bin = dir
	return m.Run()
}

const waitLong = 30 * time.Second

// The examples and their tests; TestEveryExampleIsTested keeps it complete.
var exampleTests = []struct {
	name string
	test func(t *testing.T)
}{
	{"echoserver", testEchoServer},
	{"mtlsserver", testMTLSServer},
	{"client", testClient},
	{"pskserver", testPSKServer},
	{"sni", testSNI},
	{"sessionstore", testSessionStore},
	{"ticketkeys", testTicketKeys},
	{"pinning", testPinning},
	{"seclevel", testSeclevel},
	{"keylog", testKeylog},
	{"httpsserver", testHTTPSServer},
}

func TestExamples(t *testing.T) {
	for _, e := range exampleTests {
		t.Run(e.name, e.test)
	}
}

func TestEveryExampleIsTested(t *testing.T) {
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	tested := map[string]bool{}
	for _, e := range exampleTests {
		tested[e.name] = true
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" && e.Name() != "testdata" {
			assert.True(t, tested[e.Name()], "examples/%s has no test", e.Name())
		}
	}
}

// start runs an example program.
func start(t *testing.T, name string, args ...string) *peers.Proc {
	t.Helper()
	return peers.Start(t, filepath.Join(bin, name), args...)
}

var boundLine = regexp.MustCompile(`server bound (\S+)\n`)

// startServer runs an example server on a free port and returns it with
// the address it printed.
func startServer(t *testing.T, name string, args ...string) (*peers.Proc, string) {
	t.Helper()
	p := start(t, name, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	m := p.WaitFor(t, boundLine, waitLong)
	return p, m[1]
}

// startNode runs a node script with arguments and, for servers, waits for
// "server bound ADDR".
func startNode(t *testing.T, script string, server bool, args ...string) (*peers.Proc, string) {
	t.Helper()
	p := peers.Node(t, script, args...)
	if !server {
		return p, ""
	}
	m := p.WaitFor(t, boundLine, waitLong)
	return p, m[1]
}

// stop interrupts a program, as Ctrl-C does, and expects a clean exit.
func stop(t *testing.T, p *peers.Proc) {
	t.Helper()
	require.NoError(t, p.Cmd.Process.Signal(os.Interrupt))
	assert.Equal(t, 0, p.Wait(t, waitLong), "%s exit status\n%s", p.Name, p.Output())
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return p
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

var errorMessage = regexp.MustCompile(`^(tlsClientError \S+): .*$`)

// serverEvents are the lines a server printed about connections, without its
// "server bound" line, with errors cut to their code (messages carry thread
// ids and source paths).
func serverEvents(out string) []string {
	var ev []string
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "server bound") {
			continue
		}
		ev = append(ev, errorMessage.ReplaceAllString(l, "$1"))
	}
	return ev
}

// waitEvents waits until a server has printed n event lines and returns them.
func waitEvents(t *testing.T, p *peers.Proc, n int) []string {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		ev := serverEvents(p.Stdout())
		if len(ev) >= n || time.Now().After(deadline) {
			return ev
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sClientEcho connects openssl s_client, sends "hello", and returns its
// output once the echo came back and it exited after stdin ended.
func sClientEcho(t *testing.T, addr string, args ...string) string {
	t.Helper()
	c := peers.OpenSSLClient(t, addr, args...)
	c.WaitFor(t, regexp.MustCompile(`welcome!\n`), waitLong)
	c.Send(t, "hello\n")
	c.WaitFor(t, regexp.MustCompile(`(?s)welcome!\n.*hello\n`), waitLong)
	c.CloseStdin()
	c.Wait(t, waitLong)
	return c.Output()
}

// sClientRefused connects openssl s_client to a server that will refuse it
// (during the handshake, or by closing the connection right after it) and
// returns its output once it exited.
func sClientRefused(t *testing.T, addr string, args ...string) string {
	t.Helper()
	c := peers.OpenSSLClient(t, addr, args...)
	c.Wait(t, waitLong)
	assert.NotContains(t, c.Output(), "welcome!", "s_client was refused")
	return c.Output()
}

// compareServers runs the same client against the Go example and its node
// counterpart and asserts both print the same events.
func compareServers(t *testing.T, goSrv, nodeSrv *peers.Proc, goAddr, nodeAddr string, client func(t *testing.T, addr string) string, nEvents int) (goOut, nodeOut string) {
	t.Helper()
	nodeOut = client(t, nodeAddr)
	want := waitEvents(t, nodeSrv, nEvents)
	goOut = client(t, goAddr)
	got := waitEvents(t, goSrv, nEvents)
	assert.Equal(t, want, got, "server lines: node, then the Go example")
	return goOut, nodeOut
}

func testEchoServer(t *testing.T) {
	leaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost", "127.0.0.1")
	keyFile, certFile, _ := leaf.WriteFiles(t)

	t.Run("as node's documentation server", func(t *testing.T) {
		goSrv, goAddr := startServer(t, "echoserver", "-key", keyFile, "-cert", certFile)
		nodeSrv, nodeAddr := startNode(t, nodeEchoServer, true, keyFile, certFile, "")
		goOut, _ := compareServers(t, goSrv, nodeSrv, goAddr, nodeAddr, func(t *testing.T, addr string) string {
			return sClientEcho(t, addr, "-CAfile", certFile, "-servername", "localhost", "-verify_return_error")
		}, 1)
		assert.Contains(t, goOut, "Verify return code: 0 (ok)")
		assert.Equal(t, []string{"server connected unauthorized"}, serverEvents(goSrv.Stdout()))
		stop(t, goSrv)
	})

	t.Run("certificate made at start", func(t *testing.T) {
		certOut := filepath.Join(t.TempDir(), "echo.pem")
		srv, addr := startServer(t, "echoserver", "-cert-out", certOut)
		out := sClientEcho(t, addr, "-CAfile", certOut, "-servername", "localhost", "-verify_return_error")
		assert.Contains(t, out, "Verify return code: 0 (ok)")
		assert.Contains(t, out, "subject=CN = localhost")
		stop(t, srv)
	})

	t.Run("node's documentation client", func(t *testing.T) {
		srv, addr := startServer(t, "echoserver", "-key", keyFile, "-cert", certFile)
		c, _ := startNode(t, nodeClient, false, port(t, addr), fmt.Sprintf(`{"ca":%q}`, certFile))
		c.WaitFor(t, regexp.MustCompile(`welcome!`), waitLong)
		c.Send(t, "hello\n")
		c.WaitFor(t, regexp.MustCompile(`hello`), waitLong)
		c.CloseStdin()
		assert.Equal(t, 0, c.Wait(t, waitLong))
		assert.Equal(t, []string{"client connected authorized", "welcome!", "hello", "server ends connection"}, lines(c.Stdout()))
		stop(t, srv)
	})
}

func testMTLSServer(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	server := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost", "127.0.0.1")
	client := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "alice"})
	stranger := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "mallory"})
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "server-key.pem", server.KeyPEM)
	certFile := writeFile(t, dir, "server-cert.pem", server.ChainPEM)
	caFile := writeFile(t, dir, "ca.pem", ca.CertPEM)
	clientKey := writeFile(t, dir, "client-key.pem", client.KeyPEM)
	clientCert := writeFile(t, dir, "client-cert.pem", client.CertPEM)
	strangerKey := writeFile(t, dir, "stranger-key.pem", stranger.KeyPEM)
	strangerCert := writeFile(t, dir, "stranger-cert.pem", stranger.CertPEM)

	goSrv, goAddr := startServer(t, "mtlsserver", "-key", keyFile, "-cert", certFile, "-ca", caFile)
	nodeSrv, nodeAddr := startNode(t, nodeEchoServer, true, keyFile, certFile, caFile)
	events := 0
	cases := []struct {
		name   string
		client func(t *testing.T, addr string) string
		events int
		want   []string // Go server lines of this case, as node printed them too
	}{
		{"client certificate", func(t *testing.T, addr string) string {
			return sClientEcho(t, addr, "-CAfile", caFile, "-cert", clientCert, "-key", clientKey, "-verify_return_error")
		}, 2, []string{"server connected authorized", "client certificate: alice"}},
		{"no client certificate", func(t *testing.T, addr string) string {
			return sClientRefused(t, addr, "-CAfile", caFile, "-ign_eof")
		}, 1, nil},
		{"certificate of another issuer", func(t *testing.T, addr string) string {
			return sClientRefused(t, addr, "-CAfile", caFile, "-cert", strangerCert, "-key", strangerKey, "-ign_eof")
		}, 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(serverEvents(goSrv.Stdout()))
			events += c.events
			compareServers(t, goSrv, nodeSrv, goAddr, nodeAddr, c.client, events)
			got := serverEvents(goSrv.Stdout())[before:]
			if c.want != nil {
				assert.Equal(t, c.want, got)
			} else {
				require.Len(t, got, 1)
				assert.True(t, strings.HasPrefix(got[0], "tlsClientError "), got[0])
			}
		})
	}
	stop(t, goSrv)

	t.Run("credentials made at start", func(t *testing.T) {
		dir := t.TempDir()
		srv, addr := startServer(t, "mtlsserver", "-dir", dir)
		assert.Contains(t, srv.Stdout(), "client credentials in "+dir)
		c := start(t, "client", "-port", port(t, addr), "-ca", filepath.Join(dir, "ca.pem"),
			"-key", filepath.Join(dir, "client-key.pem"), "-cert", filepath.Join(dir, "client-cert.pem"))
		c.WaitFor(t, regexp.MustCompile(`welcome!`), waitLong)
		c.CloseStdin()
		assert.Equal(t, 0, c.Wait(t, waitLong), c.Output())
		assert.Equal(t, []string{"client connected authorized", "welcome!", "server ends connection"}, lines(c.Stdout()))
		assert.Equal(t, []string{"server connected authorized", "client certificate: nodetls example client"},
			serverEvents(srv.Stdout())[2:]) // after the "client credentials" and "try:" lines
		stop(t, srv)
	})
}

func testClient(t *testing.T) {
	// The documentation's setting: a server that asks for a client
	// certificate and trusts the (self-signed) client certificate itself.
	serverLeaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	otherLeaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "other.example")
	clientLeaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "client"})
	dir := t.TempDir()
	serverKey := writeFile(t, dir, "server-key.pem", serverLeaf.KeyPEM)
	serverCert := writeFile(t, dir, "server-cert.pem", serverLeaf.CertPEM)
	otherKey := writeFile(t, dir, "other-key.pem", otherLeaf.KeyPEM)
	otherCert := writeFile(t, dir, "other-cert.pem", otherLeaf.CertPEM)
	clientKey := writeFile(t, dir, "client-key.pem", clientLeaf.KeyPEM)
	clientCert := writeFile(t, dir, "client-cert.pem", clientLeaf.CertPEM)

	_, mtlsAddr := startNode(t, nodeEchoServer, true, serverKey, serverCert, clientCert)
	_, otherAddr := startNode(t, nodeEchoServer, true, otherKey, otherCert, clientCert)

	cases := []struct {
		name         string
		addr         string
		ca, key, crt string
		skipIdentity bool
	}{
		{"client certificate", mtlsAddr, serverCert, clientKey, clientCert, false},
		{"no client certificate", mtlsAddr, serverCert, "", "", false},
		{"untrusted server", mtlsAddr, "", clientKey, clientCert, false},
		{"certificate for another host", otherAddr, otherCert, clientKey, clientCert, false},
		{"certificate for another host, no identity check", otherAddr, otherCert, clientKey, clientCert, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// What Node's documentation client prints, then what ours does.
			spec := map[string]any{"ca": c.ca, "key": c.key, "cert": c.crt, "skipIdentity": c.skipIdentity}
			nodeOut := runClient(t, func() *peers.Proc {
				p, _ := startNode(t, nodeClient, false, port(t, c.addr), mustJSON(spec))
				return p
			})
			args := []string{"-port", port(t, c.addr)}
			for flag, v := range map[string]string{"-ca": c.ca, "-key": c.key, "-cert": c.crt} {
				if v != "" {
					args = append(args, flag, v)
				}
			}
			if c.skipIdentity {
				args = append(args, "-skip-identity-check")
			}
			goOut := runClient(t, func() *peers.Proc { return start(t, "client", args...) })
			if nodeOut.Error != "" {
				// Node emits 'end' after the 'error' of a connection the server
				// closed; a Go Read returns the one error, so the Go client
				// reports the error only.
				nodeOut.Stdout = without(nodeOut.Stdout, "server ends connection")
			}
			assert.Equal(t, nodeOut, goOut)
		})
	}
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// clientRun is what a client example (or node's) showed: its stdout lines,
// the error code it reported, and its exit status.
type clientRun struct {
	Stdout []string
	Error  string
	Status int
}

var errorCode = regexp.MustCompile(`(?m)^(?:error )?([A-Z][A-Z0-9_]+)\b`)

// runClient starts a client, sends "hello" and ends stdin once it is
// connected, and collects what it showed.
func runClient(t *testing.T, startClient func() *peers.Proc) clientRun {
	t.Helper()
	p := startClient()
	connected := regexp.MustCompile(`client connected|error|\S+: `)
	p.WaitFor(t, connected, waitLong)
	if strings.Contains(p.Stdout(), "client connected") {
		// The server may have refused the client by now: a failed write is
		// part of what the case shows.
		_, _ = io.WriteString(p.Stdin, "hello\n")
	}
	time.Sleep(200 * time.Millisecond) // let the echo come back before stdin ends
	p.CloseStdin()
	r := clientRun{Status: p.Wait(t, waitLong)}
	r.Stdout = lines(p.Stdout())
	if m := errorCode.FindStringSubmatch(p.Stderr()); m != nil {
		r.Error = m[1]
	}
	return r
}

func testPSKServer(t *testing.T) {
	const identity, key = "TestUser", "d731ef57be09e5204f0b205b60627028"
	goSrv, goAddr := startServer(t, "pskserver", "-identity", identity, "-psk", key)
	nodeSrv, nodeAddr := startNode(t, nodePSKServer, true, identity, key, "PSK+HIGH")
	cipherLine := regexp.MustCompile(`(New|Reused), (TLSv1\.[23]), Cipher is (\S+)`)
	events := 0
	cases := []struct {
		name   string
		args   []string
		ok     bool
		events int
	}{
		{"TLS 1.3", []string{"-psk_identity", identity, "-psk", key}, true, 1},
		{"TLS 1.2", []string{"-psk_identity", identity, "-psk", key, "-tls1_2", "-cipher", "PSK-AES128-GCM-SHA256"}, true, 1},
		{"unknown identity", []string{"-psk_identity", "Bob", "-psk", key, "-tls1_2", "-cipher", "PSK-AES128-GCM-SHA256"}, false, 2},
		{"wrong key", []string{"-psk_identity", identity, "-psk", "00" + key[2:], "-tls1_2", "-cipher", "PSK-AES128-GCM-SHA256"}, false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(serverEvents(goSrv.Stdout()))
			events += c.events
			goOut, _ := compareServers(t, goSrv, nodeSrv, goAddr, nodeAddr, func(t *testing.T, addr string) string {
				if c.ok {
					return sClientEcho(t, addr, c.args...)
				}
				return sClientRefused(t, addr, append(c.args, "-ign_eof")...)
			}, events)
			got := serverEvents(goSrv.Stdout())[before:]
			if c.ok {
				// The server reports the protocol and cipher s_client negotiated.
				m := cipherLine.FindStringSubmatch(goOut)
				require.NotNil(t, m, goOut)
				assert.Equal(t, []string{"server connected " + m[2] + " " + m[3]}, got)
			} else {
				assert.True(t, strings.HasPrefix(got[len(got)-1], "tlsClientError ERR_SSL_"), "%v", got)
			}
		})
	}
	stop(t, goSrv)

	t.Run("random key", func(t *testing.T) {
		srv, addr := startServer(t, "pskserver")
		m := regexp.MustCompile(`psk for TestUser: ([0-9a-f]{64})\n`).FindStringSubmatch(srv.Stdout())
		require.NotNil(t, m, srv.Stdout())
		sClientEcho(t, addr, "-psk_identity", "TestUser", "-psk", m[1])
		stop(t, srv)
	})
}

func testSNI(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	dir := t.TempDir()
	caFile := writeFile(t, dir, "ca.pem", ca.CertPEM)
	files := map[string][2]string{}
	for _, name := range []string{"localhost", "a.example", "*.b.example"} {
		leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, name)
		base := strings.ReplaceAll(name, "*", "star")
		files[name] = [2]string{writeFile(t, dir, base+"-key.pem", leaf.KeyPEM), writeFile(t, dir, base+"-cert.pem", leaf.ChainPEM)}
	}
	args := []string{"-key", files["localhost"][0], "-cert", files["localhost"][1]}
	var contexts [][]string
	for _, name := range []string{"a.example", "*.b.example"} {
		args = append(args, "-context", name+"="+files[name][0]+","+files[name][1])
		contexts = append(contexts, []string{name, files[name][0], files[name][1]})
	}
	goSrv, goAddr := startServer(t, "sni", args...)
	nodeSrv, nodeAddr := startNode(t, nodeSNIServer, true, files["localhost"][0], files["localhost"][1], mustJSON(contexts))

	subject := regexp.MustCompile(`subject=CN = (\S+)`)
	for i, name := range []string{"a.example", "x.b.example", "b.example", "y.x.b.example", "A.EXAMPLE", ""} {
		t.Run("servername "+name, func(t *testing.T) {
			sClient := func(t *testing.T, addr string) string {
				a := []string{"-CAfile", caFile}
				if name != "" {
					a = append(a, "-servername", name)
				} else {
					a = append(a, "-noservername")
				}
				c := peers.OpenSSLClient(t, addr, a...)
				c.WaitFor(t, regexp.MustCompile(`hello \S+\n`), waitLong)
				c.CloseStdin()
				c.Wait(t, waitLong)
				return c.Output()
			}
			goOut, nodeOut := compareServers(t, goSrv, nodeSrv, goAddr, nodeAddr, sClient, i+1)
			// The certificate s_client saw is the one node served.
			want, got := subject.FindStringSubmatch(nodeOut), subject.FindStringSubmatch(goOut)
			require.NotNil(t, want, nodeOut)
			require.NotNil(t, got, goOut)
			assert.Equal(t, want[1], got[1])
			assert.Contains(t, goOut, "Verify return code: 0 (ok)")
		})
	}
	stop(t, goSrv)

	t.Run("certificates made at start", func(t *testing.T) {
		caOut := filepath.Join(t.TempDir(), "ca.pem")
		srv, addr := startServer(t, "sni", "-ca-out", caOut)
		c := peers.OpenSSLClient(t, addr, "-CAfile", caOut, "-servername", "x.b.example", "-verify_hostname", "x.b.example")
		c.WaitFor(t, regexp.MustCompile(`hello x\.b\.example\n`), waitLong)
		c.CloseStdin()
		c.Wait(t, waitLong)
		assert.Contains(t, c.Output(), "subject=CN = *.b.example")
		assert.Contains(t, c.Output(), "Verify return code: 0 (ok)")
		assert.Equal(t, []string{"servername x.b.example certificate *.b.example"}, waitEvents(t, srv, 1))
		stop(t, srv)
	})
}

// goClient connects nodetls's client to an example server, reads its
// welcome, and returns whether the session was reused and the sessions it
// received (TLS 1.3 sends them after the handshake).
func goClient(t *testing.T, addr, caFile, maxVersion string, session []byte) (reused bool, sessions [][]byte) {
	t.Helper()
	ca, err := os.ReadFile(caFile)
	require.NoError(t, err)
	p, err := strconv.Atoi(port(t, addr))
	require.NoError(t, err)
	s, err := tls.Connect(tls.ConnectOptions{
		Host: "127.0.0.1", Port: p, Servername: "localhost",
		SecureContextOptions: tls.SecureContextOptions{CA: ca, MaxVersion: maxVersion},
		Session:              session,
	})
	require.NoError(t, err)
	defer s.Close()
	got := make(chan []byte, 8)
	s.OnSession(func(sess []byte) { got <- sess })
	buf := make([]byte, len("welcome!\n"))
	_, err = io.ReadFull(s, buf)
	require.NoError(t, err)
	assert.Equal(t, "welcome!\n", string(buf))
	// TLS 1.3 tickets may follow the data: read a little longer.
	require.NoError(t, s.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	_, _ = s.Read(make([]byte, 1))
	close(got)
	for sess := range got {
		sessions = append(sessions, sess)
	}
	return s.IsSessionReused(), sessions
}

func testSessionStore(t *testing.T) {
	certOut := filepath.Join(t.TempDir(), "cert.pem")
	srv, addr := startServer(t, "sessionstore", "-cert-out", certOut)

	t.Run("openssl s_client -reconnect, TLS 1.2", func(t *testing.T) {
		c := peers.OpenSSLClient(t, addr, "-CAfile", certOut, "-tls1_2", "-reconnect")
		c.CloseStdin()
		c.Wait(t, waitLong)
		out := c.Output()
		assert.Equal(t, 1, strings.Count(out, "New, TLSv1.2"), out)
		assert.Equal(t, 5, strings.Count(out, "Reused, TLSv1.2"), out)
		ev := waitEvents(t, srv, 2*6)
		require.NotEmpty(t, ev)
		m := regexp.MustCompile(`^newSession ([0-9a-f]+)$`).FindStringSubmatch(ev[0])
		require.NotNil(t, m, "%v", ev)
		assert.Equal(t, 5, count(ev, "resumeSession "+m[1]+" found"), "%v", ev)
		assert.Equal(t, 5, count(ev, "server connected TLSv1.2 reused"), "%v", ev)
		assert.Equal(t, 1, count(ev, "server connected TLSv1.2 new"), "%v", ev)
	})

	t.Run("nodetls client, TLSv1.2", func(t *testing.T) {
		before := len(serverEvents(srv.Stdout()))
		reused, sessions := goClient(t, addr, certOut, "TLSv1.2", nil)
		assert.False(t, reused)
		require.NotEmpty(t, sessions)
		reused, _ = goClient(t, addr, certOut, "TLSv1.2", sessions[len(sessions)-1])
		assert.True(t, reused)
		ev := serverEvents(srv.Stdout())[before:]
		assert.Equal(t, 1, count(ev, "server connected TLSv1.2 new"), "%v", ev)
		assert.Equal(t, 1, count(ev, "server connected TLSv1.2 reused"), "%v", ev)
		assert.Equal(t, 1, countPrefix(ev, "resumeSession "), "%v", ev)
		assert.True(t, strings.HasSuffix(find(ev, "resumeSession "), " found"), "%v", ev)
	})
	// As in Node, a session-ID store does not resume TLS 1.3: the
	// ClientHello's session id is the random legacy one (resumeSession finds
	// nothing), and the stateful ticket the client offers is not looked up.
	// TLS 1.3 resumes with tickets instead (see the ticketkeys example).
	t.Run("nodetls client, TLSv1.3", func(t *testing.T) {
		before := len(serverEvents(srv.Stdout()))
		reused, sessions := goClient(t, addr, certOut, "TLSv1.3", nil)
		assert.False(t, reused)
		require.NotEmpty(t, sessions)
		reused, _ = goClient(t, addr, certOut, "TLSv1.3", sessions[len(sessions)-1])
		assert.False(t, reused)
		ev := serverEvents(srv.Stdout())[before:]
		assert.Equal(t, 2, count(ev, "server connected TLSv1.3 new"), "%v", ev)
		assert.Equal(t, 2, countPrefix(ev, "resumeSession "), "one legacy session id per ClientHello: %v", ev)
		assert.Equal(t, 0, count(ev, "server connected TLSv1.3 reused"), "%v", ev)
	})
	stop(t, srv)
}

func count(ev []string, s string) int {
	n := 0
	for _, e := range ev {
		if e == s {
			n++
		}
	}
	return n
}

func countPrefix(ev []string, prefix string) int {
	n := 0
	for _, e := range ev {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func find(ev []string, prefix string) string {
	for _, e := range ev {
		if strings.HasPrefix(e, prefix) {
			return e
		}
	}
	return ""
}

var keyNameLine = regexp.MustCompile(`ticket keys (set|rotated), key name ([0-9a-f]{32})\n`)

func testTicketKeys(t *testing.T) {
	t.Run("SIGHUP", func(t *testing.T) {
		certOut := filepath.Join(t.TempDir(), "cert.pem")
		srv, addr := startServer(t, "ticketkeys", "-every", "1h", "-cert-out", certOut)
		first := srv.WaitFor(t, keyNameLine, waitLong)

		reused, sessions := goClient(t, addr, certOut, "", nil)
		assert.False(t, reused)
		require.NotEmpty(t, sessions)
		old := sessions[0]
		reused, _ = goClient(t, addr, certOut, "", old)
		assert.True(t, reused, "resumed under the keys that made the ticket")

		require.NoError(t, srv.Cmd.Process.Signal(syscall.SIGHUP))
		srv.WaitFor(t, regexp.MustCompile(`ticket keys rotated`), waitLong)
		names := keyNameLine.FindAllStringSubmatch(srv.Stdout(), -1)
		require.Len(t, names, 2)
		assert.Equal(t, first[2], names[0][2])
		assert.NotEqual(t, names[0][2], names[1][2], "new keys")

		reused, sessions = goClient(t, addr, certOut, "", old)
		assert.False(t, reused, "a ticket under replaced keys gets a full handshake")
		require.NotEmpty(t, sessions)
		reused, _ = goClient(t, addr, certOut, "", sessions[0])
		assert.True(t, reused, "the fresh ticket resumes")
		stop(t, srv)
	})

	t.Run("timer", func(t *testing.T) {
		srv, _ := startServer(t, "ticketkeys", "-every", "100ms")
		srv.WaitFor(t, regexp.MustCompile(`(?:ticket keys rotated.*\n){3}`), waitLong)
		names := keyNameLine.FindAllStringSubmatch(srv.Stdout(), -1)
		seen := map[string]bool{}
		for _, n := range names {
			assert.False(t, seen[n[2]], "each rotation makes new keys")
			seen[n[2]] = true
		}
		stop(t, srv)
	})
}

// opensslOut runs the openssl command with stdin and returns its stdout.
func opensslOut(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	peers.Require(t, "openssl")
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = strings.NewReader(string(stdin))
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
	}
	require.NoError(t, err)
	return out
}

// pinOf is the pin-sha256 of a certificate as the openssl command computes
// it: the SHA-256 of the DER public key, in base64.
func pinOf(t *testing.T, certFile string) string {
	t.Helper()
	pub := opensslOut(t, nil, "x509", "-in", certFile, "-noout", "-pubkey")
	der := opensslOut(t, pub, "pkey", "-pubin", "-outform", "DER")
	sum := opensslOut(t, der, "dgst", "-sha256", "-binary")
	return base64.StdEncoding.EncodeToString(sum)
}

// fingerprintOf is the certificate's SHA-256 fingerprint as openssl prints it.
func fingerprintOf(t *testing.T, certFile string) string {
	t.Helper()
	out := string(opensslOut(t, nil, "x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"))
	_, fp, ok := strings.Cut(strings.TrimSpace(out), "=")
	require.True(t, ok, out)
	return fp
}

func testPinning(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1") // RSA
	keyFile, chainFile, caFile := leaf.WriteFiles(t)
	leafFile := writeFile(t, t.TempDir(), "leaf.pem", leaf.CertPEM)
	_, addr := peers.OpenSSLServer(t, "-key", keyFile, "-cert", chainFile)
	pin, fp := pinOf(t, leafFile), fingerprintOf(t, leafFile)
	caPin, caFP := pinOf(t, caFile), fingerprintOf(t, caFile)
	require.NotEqual(t, pin, caPin)

	cases := []struct {
		name      string
		args      []string
		status    int
		stderr    string
		chainShow bool
	}{
		{"pinned key", []string{"-pin", pin}, 0, "", true},
		{"pinned key and certificate", []string{"-pin", pin, "-fingerprint", fp}, 0, "", true},
		{"another key", []string{"-pin", caPin}, 1,
			"Certificate verification error: The public key of 'localhost' does not match our pinned fingerprint", true},
		{"another certificate", []string{"-pin", pin, "-fingerprint", caFP}, 1,
			"Certificate verification error: The certificate of 'localhost' does not match our pinned fingerprint", true},
		{"another host", []string{"-pin", pin, "-servername", "other.example"}, 1, "ERR_TLS_CERT_ALTNAME_INVALID", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-host", "127.0.0.1", "-port", port(t, addr), "-ca", caFile}, c.args...)
			if !contains(c.args, "-servername") {
				args = append(args, "-servername", "localhost")
			}
			p := start(t, "pinning", args...)
			assert.Equal(t, c.status, p.Wait(t, waitLong), p.Output())
			out := p.Stdout()
			if c.chainShow {
				// The chain as the documentation's loop prints it: the
				// server's certificate, then its issuer, the root.
				assert.Equal(t, []string{
					"Subject Common Name: localhost",
					"  Certificate SHA256 fingerprint: " + fp,
					"  Public key pin-sha256: " + pin,
					"Subject Common Name: nodetls test CA",
					"  Certificate SHA256 fingerprint: " + caFP,
					"  Public key pin-sha256: " + caPin,
				}, lines(out)[:6])
			} else {
				assert.NotContains(t, out, "Subject Common Name")
			}
			if c.status == 0 {
				assert.Contains(t, out, "with the pinned key, authorized: true")
			} else {
				assert.Contains(t, p.Stderr(), c.stderr)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func testSeclevel(t *testing.T) {
	leaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	keyFile, certFile, _ := leaf.WriteFiles(t)
	cases := []struct{ level, version string }{
		{"0", "TLSv1"},
		{"1", "TLSv1"},
		{"0", "TLSv1.1"},
		{"1", "TLSv1.1"},
		{"2", "TLSv1.2"},
		{"2", "TLSv1.3"},
	}
	for _, c := range cases {
		t.Run("level "+c.level+" "+c.version, func(t *testing.T) {
			node, _ := startNode(t, nodeSeclevel, false, c.level, c.version, keyFile, certFile)
			nodeStatus := node.Wait(t, waitLong)
			p := start(t, "seclevel", "-level", c.level, "-version", c.version)
			status := p.Wait(t, waitLong)
			want, got := lines(node.Stdout()), lines(p.Stdout())
			sort.Strings(want)
			sort.Strings(got)
			assert.Equal(t, want, got, "node:\n%s\nnodetls:\n%s", node.Output(), p.Output())
			assert.Equal(t, nodeStatus, status)
		})
	}
}

func testKeylog(t *testing.T) {
	leaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	keyFile, certFile, _ := leaf.WriteFiles(t)
	dir := t.TempDir()
	serverLog := filepath.Join(dir, "server-keys.log")
	clientLog := filepath.Join(dir, "client-keys.log")
	_, addr := peers.OpenSSLServer(t, "-key", keyFile, "-cert", certFile, "-rev", "-keylogfile", serverLog)

	for run := 1; run <= 2; run++ {
		p := start(t, "keylog", "-port", port(t, addr), "-ca", certFile, "-keylog", clientLog)
		require.Equal(t, 0, p.Wait(t, waitLong), p.Output())
		assert.Equal(t, []string{"received: olleh", "key log lines written: 5"}, lines(p.Stdout()))

		// The client's key log holds the secrets openssl s_server logged for
		// the same connections (its file adds a comment line).
		var want []string
		for _, l := range lines(readFile(t, serverLog)) {
			if !strings.HasPrefix(l, "#") {
				want = append(want, l)
			}
		}
		got := lines(readFile(t, clientLog))
		assert.Len(t, got, 5*run, "appended")
		sort.Strings(want)
		sort.Strings(got)
		assert.Equal(t, want, got)
	}
	info, err := os.Stat(clientLog)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		b, err := os.ReadFile(name)
		if err == nil || time.Now().After(deadline) {
			require.NoError(t, err)
			return string(b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// testHTTPSServer serves net/http over nodetls to curl, Go's HTTP client
// (crypto/tls) and node's https: a GET reports the connection, a POST's body
// of a few megabytes comes back whole, and a client's requests share one
// kept-alive connection.
func testHTTPSServer(t *testing.T) {
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	p, addr := startServer(t, "httpsserver", "-cert-out", certFile)
	url := "https://localhost:" + port(t, addr)
	resolve := "localhost:" + port(t, addr) + ":127.0.0.1"
	body := make([]byte, 3<<20+17)
	_, err := rand.Read(body)
	require.NoError(t, err)
	bodyFile := writeFile(t, dir, "body.bin", body)

	// curl (OpenSSL or GnuTLS underneath, whichever the system's curl has).
	curl := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command("curl", append([]string{"-sS", "--http1.1", "--cacert", certFile, "--resolve", resolve}, args...)...)
		out, err := cmd.Output()
		require.NoError(t, err, "curl %v", args)
		return out
	}
	assert.Regexp(t, `^hello from nodetls: TLSv1\.3 TLS_AES_256_GCM_SHA384 alpn=http/1\.1\n$`, string(curl(url+"/")))
	assert.True(t, bytes.Equal(body, curl("--data-binary", "@"+bodyFile, url+"/echo")), "curl's POST came back changed")
	assert.Regexp(t, `^hello from nodetls: TLSv1\.2 ECDHE-ECDSA-AES128-GCM-SHA256 alpn=http/1\.1\n$`,
		string(curl("--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256", url+"/")))

	// Go's client: every request on the one connection it keeps alive.
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(readFile(t, certFile))))
	tr := &http.Transport{TLSClientConfig: &gotls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: waitLong}
	conns := 0
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			conns++
		}
	}}
	for i := 0; i < 10; i++ {
		ctx := httptrace.WithClientTrace(context.Background(), trace)
		req, err := http.NewRequestWithContext(ctx, "POST", url+"/echo", bytes.NewReader(body[:len(body)-i*100000]))
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.True(t, bytes.Equal(body[:len(body)-i*100000], got), "Go client's POST %d came back changed", i)
		req, err = http.NewRequestWithContext(ctx, "GET", url+"/", nil)
		require.NoError(t, err)
		resp, err = client.Do(req)
		require.NoError(t, err)
		got, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "hello from nodetls: TLSv1.3 TLS_AES_256_GCM_SHA384 alpn=http/1.1\n", string(got))
	}
	assert.Equal(t, 1, conns, "connections the Go client opened for 20 requests")

	// node's https.
	script := `
const https = require('https'), fs = require('fs');
const [url, ca] = process.argv.slice(1);
https.get(url, { ca: fs.readFileSync(ca), lookup: (h, o, cb) => cb(null, o.all ? [{ address: '127.0.0.1', family: 4 }] : '127.0.0.1', 4) }, (res) => {
  let data = '';
  res.on('data', (d) => { data += d; });
  res.on('end', () => { process.stdout.write(res.statusCode + ' ' + data); });
}).on('error', (e) => { console.error(e); process.exit(1); });
`
	n := peers.Node(t, script, url+"/", certFile)
	require.Equal(t, 0, n.Wait(t, waitLong), n.Output())
	assert.Regexp(t, `^200 hello from nodetls: TLSv1\.3 TLS_AES_256_GCM_SHA384 alpn=none\n$`, n.Stdout())

	stop(t, p)
	assert.Empty(t, serverEvents(p.Stdout()), "the server reported errors")
}
