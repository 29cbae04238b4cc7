package tls_test

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientCase is one client-side parity scenario: tls.connect options (Node's
// names) run by a node client and by tls.Connect against the same peer.
type clientCase struct {
	name string
	opts map[string]any
	spec parity.ClientSpec // Options is filled from opts, host and port
	// ignore names keys whose values differ between any two connections
	// (checked by the case itself, through check).
	ignore []string
	check  func(t *testing.T, node, goLines []parity.Line)
}

// runClientCases runs each case against 127.0.0.1:port as a subtest.
func runClientCases(t *testing.T, port int, cases []clientCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node, goLines := runClientParity(t, port, c.opts, c.spec, c.ignore...)
			if c.check != nil {
				c.check(t, node, goLines)
			}
		})
	}
}

// runClientParity runs one scenario on both sides and asserts that they
// printed the same lines.
func runClientParity(t *testing.T, port int, opts map[string]any, spec parity.ClientSpec, ignore ...string) (node, goLines []parity.Line) {
	t.Helper()
	o := map[string]any{"host": "127.0.0.1", "port": port}
	for k, v := range opts {
		o[k] = v
	}
	spec.Options = o
	node = parity.RunNodeClient(t, spec)
	goLines = parity.RunGoClient(t, spec)
	require.NotEmpty(t, node, "node printed nothing")
	assert.Empty(t, parity.Diff(node, goLines, ignore...), "node %v\ngo   %v", node, goLines)
	t.Logf("node: %v", node)
	return node, goLines
}

// events lists the event names of lines, in order.
func events(lines []parity.Line) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		s, _ := l["event"].(string)
		out = append(out, s)
	}
	return out
}

// lineOf returns the first line of an event (nil if none).
func lineOf(lines []parity.Line, event string) parity.Line {
	for _, l := range lines {
		if l["event"] == event {
			return l
		}
	}
	return nil
}

// linesOf returns every line of an event.
func linesOf(lines []parity.Line, event string) []parity.Line {
	var out []parity.Line
	for _, l := range lines {
		if l["event"] == event {
			out = append(out, l)
		}
	}
	return out
}

// plainServer listens on 127.0.0.1 with a handler per accepted TCP
// connection (a peer that does not speak TLS).
func plainServer(t *testing.T, handle func(net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	port, _ := strconv.Atoi(p)
	return port
}

func str(b []byte) string { return string(b) }

// runClientParityServer is runClientParity that also compares what the
// server printed for each client (srvLines lines per run; ignore applies to
// both comparisons).
func runClientParityServer(t *testing.T, port int, get func() []parity.Line, srvLines int, opts map[string]any,
	spec parity.ClientSpec, ignore ...string) (node, goLines, nodeSrv, goSrv []parity.Line) {
	t.Helper()
	o := map[string]any{"host": "127.0.0.1", "port": port}
	for k, v := range opts {
		o[k] = v
	}
	spec.Options = o
	nodeSrv = serverLinesDuring(t, get, srvLines, func() { node = parity.RunNodeClient(t, spec) })
	goSrv = serverLinesDuring(t, get, srvLines, func() { goLines = parity.RunGoClient(t, spec) })
	require.NotEmpty(t, node, "node printed nothing")
	assert.Empty(t, parity.Diff(node, goLines, ignore...), "client lines\nnode %v\ngo   %v", node, goLines)
	assert.Empty(t, parity.Diff(nodeSrv, goSrv, ignore...), "server lines\nnode client: %v\ngo client:   %v", nodeSrv, goSrv)
	t.Logf("node: %v\nserver: %v", node, nodeSrv)
	return node, goLines, nodeSrv, goSrv
}

// serverLinesDuring runs f and returns the want lines the server printed
// for it (waiting up to 5 s for them).
func serverLinesDuring(t *testing.T, get func() []parity.Line, want int, f func()) []parity.Line {
	t.Helper()
	before := len(parity.WaitLines(get, 0, 0))
	f()
	all := parity.WaitLines(get, before+want, 5*time.Second)
	require.GreaterOrEqual(t, len(all), before+want, "server lines: %v", all)
	return all[before : before+want]
}

// startNodeServers starts one node server per spec and returns their ports.
func startNodeServers(t *testing.T, specs map[string]parity.ServerSpec) map[string]int {
	t.Helper()
	ports := map[string]int{}
	for name, spec := range specs {
		ports[name], _ = parity.StartNodeServer(t, spec)
	}
	return ports
}

// dhParams makes DH parameters with the openssl command: "512" and "1024"
// (DSA-style generation, fast), "2048" (RFC 7919 ffdhe2048).
func dhParams(t testing.TB, bits string) string {
	t.Helper()
	peers.Require(t, "openssl")
	var args []string
	switch bits {
	case "2048":
		args = []string{"genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"}
	case "512":
		args = []string{"dhparam", "512"}
	default:
		args = []string{"dhparam", "-dsaparam", bits}
	}
	out, err := exec.Command("openssl", args...).Output()
	require.NoError(t, err, "openssl %v", args)
	return string(out)
}

// rsaLeaf makes a leaf for hosts with an RSA key of the given size, signed
// by ca (testpki makes 2048-bit keys only).
func rsaLeaf(t testing.TB, ca *testpki.CA, bits int, hosts ...string) (keyPEM, certPEM string) {
	t.Helper()
	key, err := openssl.GenerateRSAKey(bits)
	require.NoError(t, err)
	t.Cleanup(key.Free)
	tmpl := &openssl.CertificateTemplate{Subject: openssl.Name{{Type: "CN", Value: hosts[0]}}, DNSNames: hosts}
	cert, err := openssl.CreateCertificate(tmpl, key, ca.Cert, ca.Key)
	require.NoError(t, err)
	t.Cleanup(cert.Free)
	k, err := key.MarshalPKCS8PEM()
	require.NoError(t, err)
	c, err := cert.PEM()
	require.NoError(t, err)
	return string(k), string(c)
}

func itoa(n int) string { return strconv.Itoa(n) }
