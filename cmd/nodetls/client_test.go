package main

import (
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientScenario is one run of `nodetls client` compared with a node client
// given the same options against the same server.
type clientScenario struct {
	name   string
	server string         // a key of the servers map
	opts   map[string]any // tls.connect options, Node's names; host and port are added
	// resume connects twice: node passes the first session to the second
	// connection, the command saves it with --session-out and reads it back
	// with --session-in.
	resume bool
}

// testServer is a server of the client scenarios (a node echo server, or
// openssl s_server -rev).
type testServer struct{ port int }

// clientPKI is the certificates of the client scenarios.
type clientPKI struct {
	root, inter, clientCA               *testpki.CA
	chain, other, expired, notYet, ecds *testpki.Leaf
	self, client                        *testpki.Leaf
}

func newClientPKI(t *testing.T) *clientPKI {
	p := &clientPKI{}
	p.root = testpki.NewCA(t, testpki.Options{})
	p.inter = p.root.Intermediate(t, testpki.Options{})
	p.chain = p.inter.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	p.other = p.root.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "other.example")
	p.expired = p.root.Leaf(t, testpki.Options{Expired: true}, "localhost", "127.0.0.1")
	p.notYet = p.root.Leaf(t, testpki.Options{NotYetValid: true}, "localhost", "127.0.0.1")
	p.ecds = p.root.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost", "127.0.0.1")
	p.self = testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost", "127.0.0.1")
	p.clientCA = testpki.NewCA(t, testpki.Options{CommonName: "nodetls client CA"})
	p.client = p.clientCA.Leaf(t, testpki.Options{ClientAuth: true, CommonName: "alice"})
	return p
}

// The secureConnect (or error) line of `nodetls client` is, field by field,
// the line a node client prints with the same options against the same
// server: node servers, and openssl s_server.
func TestClientParity(t *testing.T) {
	peers.Require(t, "node")
	peers.Require(t, "openssl")
	p := newClientPKI(t)
	pskKey := []byte("0123456789abcdef0123456789abcdef")
	pskHex := hex.EncodeToString(pskKey)
	pem := func(b []byte) string { return string(b) }

	servers := map[string]testServer{}
	nodeServers := map[string]parity.ServerSpec{
		"chain": {
			Options:  map[string]any{"key": pem(p.chain.KeyPEM), "cert": pem(p.chain.ChainPEM), "ALPNProtocols": []string{"h2", "http/1.1"}},
			Contexts: map[string]map[string]any{"other.example": {"key": pem(p.other.KeyPEM), "cert": pem(p.other.ChainPEM)}},
		},
		"self":     {Options: map[string]any{"key": pem(p.self.KeyPEM), "cert": pem(p.self.ChainPEM)}},
		"expired":  {Options: map[string]any{"key": pem(p.expired.KeyPEM), "cert": pem(p.expired.ChainPEM)}},
		"notYet":   {Options: map[string]any{"key": pem(p.notYet.KeyPEM), "cert": pem(p.notYet.ChainPEM)}},
		"ecdsa":    {Options: map[string]any{"key": pem(p.ecds.KeyPEM), "cert": pem(p.ecds.ChainPEM)}},
		"tls13":    {Options: map[string]any{"key": pem(p.chain.KeyPEM), "cert": pem(p.chain.ChainPEM), "minVersion": "TLSv1.3"}},
		"mtls":     {Options: map[string]any{"key": pem(p.chain.KeyPEM), "cert": pem(p.chain.ChainPEM), "ca": pem(p.clientCA.CertPEM), "requestCert": true}},
		"mtls12":   {Options: map[string]any{"key": pem(p.chain.KeyPEM), "cert": pem(p.chain.ChainPEM), "ca": pem(p.clientCA.CertPEM), "requestCert": true, "maxVersion": "TLSv1.2"}},
		"psk13":    {Options: map[string]any{"ciphers": "TLS_AES_128_GCM_SHA256", "minVersion": "TLSv1.3"}, PSK: map[string]string{"client1": pskHex}},
		"psk12":    {Options: map[string]any{"ciphers": "PSK-AES128-CBC-SHA256", "maxVersion": "TLSv1.2", "pskIdentityHint": "hint"}, PSK: map[string]string{"client1": pskHex}},
		"chacha12": {Options: map[string]any{"key": pem(p.ecds.KeyPEM), "cert": pem(p.ecds.ChainPEM), "ciphers": "ECDHE-ECDSA-CHACHA20-POLY1305", "maxVersion": "TLSv1.2"}},
	}
	for name, spec := range nodeServers {
		servers[name] = testServer{port: nodeServerPort(t, spec)}
	}
	files := newFileWriter(t)
	// s_server sends the intermediate with -cert_chain; it answers "ping\n"
	// with "gnip\n" (-rev).
	leaf := []string{"-key", files.write("key.pem", p.chain.KeyPEM), "-cert", files.write("leaf.pem", p.chain.CertPEM),
		"-cert_chain", files.write("inter.pem", p.inter.CertPEM)}
	clientCA := files.write("client-ca.pem", p.clientCA.CertPEM)
	opensslServers := map[string][]string{
		"s_server":       leaf,
		"s_server tls12": append([]string{"-tls1_2"}, leaf...),
		"s_server alpn":  append([]string{"-alpn", "h2,http/1.1"}, leaf...),
		"s_server mtls":  append([]string{"-Verify", "1", "-CAfile", clientCA}, leaf...),
		"s_server psk":   {"-nocert", "-psk", pskHex, "-psk_identity", "client1"},
	}
	for name, args := range opensslServers {
		_, addr := peers.OpenSSLServer(t, append([]string{"-rev"}, args...)...)
		_, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		n, _ := strconv.Atoi(port)
		servers[name] = testServer{port: n}
	}
	servers["closed"] = testServer{port: closedPort(t)}
	// A server that resets the connection: closing with most of the
	// ClientHello unread makes the kernel send RST.
	servers["resets"] = testServer{port: tcpServer(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 1))
		c.Close()
	})}

	ca := pem(p.root.CertPEM)
	clientKey := map[string]any{"key": pem(p.client.KeyPEM), "cert": pem(p.client.ChainPEM)}
	with := func(extra ...map[string]any) map[string]any {
		m := map[string]any{}
		for _, e := range extra {
			for k, v := range e {
				m[k] = v
			}
		}
		return m
	}
	local := map[string]any{"ca": ca, "servername": "localhost"}
	psk := map[string]any{"psk": parity.PSK("client1", pskKey), "checkServerIdentity": "skip"}
	scenarios := []clientScenario{
		{name: "CA chain", server: "chain", opts: local},
		{name: "CA chain, IP host", server: "chain", opts: map[string]any{"ca": ca}},
		{name: "untrusted CA", server: "chain", opts: map[string]any{"servername": "localhost"}},
		{name: "untrusted CA, reject false", server: "chain", opts: map[string]any{"servername": "localhost", "rejectUnauthorized": false}},
		{name: "self-signed", server: "self", opts: map[string]any{"servername": "localhost"}},
		{name: "self-signed, reject false", server: "self", opts: map[string]any{"servername": "localhost", "rejectUnauthorized": false}},
		{name: "self-signed, trusted", server: "self", opts: map[string]any{"servername": "localhost", "ca": pem(p.self.CertPEM)}},
		{name: "expired", server: "expired", opts: local},
		{name: "expired, reject false", server: "expired", opts: with(local, map[string]any{"rejectUnauthorized": false})},
		{name: "not yet valid", server: "notYet", opts: local},
		{name: "wrong host", server: "chain", opts: map[string]any{"ca": ca, "servername": "evil.example"}},
		{name: "wrong host, reject false", server: "chain", opts: map[string]any{"ca": ca, "servername": "evil.example", "rejectUnauthorized": false}},
		{name: "TLS 1.2", server: "chain", opts: with(local, map[string]any{"maxVersion": "TLSv1.2"})},
		{name: "TLS 1.3 only", server: "tls13", opts: with(local, map[string]any{"minVersion": "TLSv1.3"})},
		{name: "TLS 1.2 client, TLS 1.3 server", server: "tls13", opts: with(local, map[string]any{"maxVersion": "TLSv1.2"})},
		{name: "cipher choice", server: "chain", opts: with(local, map[string]any{"maxVersion": "TLSv1.2", "ciphers": "ECDHE-RSA-AES256-GCM-SHA384"})},
		{name: "TLS 1.3 suite choice", server: "chain", opts: with(local, map[string]any{"ciphers": "TLS_CHACHA20_POLY1305_SHA256"})},
		{name: "no shared cipher", server: "chacha12", opts: with(local, map[string]any{"ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256"})},
		{name: "ECDSA", server: "ecdsa", opts: local},
		{name: "ALPN", server: "chain", opts: with(local, map[string]any{"ALPNProtocols": []string{"http/1.1", "h2"}})},
		{name: "ALPN, no overlap", server: "chain", opts: with(local, map[string]any{"ALPNProtocols": []string{"spdy/1"}})},
		{name: "SNI", server: "chain", opts: map[string]any{"ca": ca, "servername": "other.example"}},
		{name: "mTLS", server: "mtls", opts: with(local, clientKey)},
		{name: "mTLS, no client certificate", server: "mtls", opts: local},
		{name: "mTLS, no client certificate, TLS 1.2", server: "mtls12", opts: local},
		{name: "PSK TLS 1.3", server: "psk13", opts: with(psk, map[string]any{"ciphers": "TLS_AES_128_GCM_SHA256"})},
		{name: "PSK TLS 1.2", server: "psk12", opts: with(psk, map[string]any{"ciphers": "PSK-AES128-CBC-SHA256", "maxVersion": "TLSv1.2"})},
		{name: "PSK, wrong key", server: "psk13", opts: map[string]any{"psk": parity.PSK("client1", []byte("another key, quite wrong")), "checkServerIdentity": "skip", "ciphers": "TLS_AES_128_GCM_SHA256"}},
		{name: "resumption TLS 1.3", server: "chain", opts: local, resume: true},
		{name: "resumption TLS 1.2", server: "chain", opts: with(local, map[string]any{"maxVersion": "TLSv1.2"}), resume: true},
		{name: "connection refused", server: "closed", opts: local},
		{name: "server resets the connection in the handshake", server: "resets", opts: local},
		{name: "s_server CA chain", server: "s_server", opts: local},
		{name: "s_server TLS 1.2", server: "s_server tls12", opts: local},
		{name: "s_server ALPN", server: "s_server alpn", opts: with(local, map[string]any{"ALPNProtocols": []string{"http/1.1"}})},
		{name: "s_server mTLS", server: "s_server mtls", opts: with(local, clientKey)},
		{name: "s_server PSK", server: "s_server psk", opts: with(psk, map[string]any{"ciphers": "TLS_AES_128_GCM_SHA256"})},
		{name: "s_server resumption", server: "s_server", opts: local, resume: true},
		{name: "s_server resumption TLS 1.2", server: "s_server tls12", opts: local, resume: true},
	}
	var compared atomic.Int32
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.name
	}
	runScenarios(t, names, func(t *testing.T, i int) {
		sc := scenarios[i]
		{
			opts := with(sc.opts, map[string]any{"host": "127.0.0.1", "port": servers[sc.server].port})
			spec := parity.ClientSpec{Options: opts}
			if sc.resume {
				spec.Connections, spec.Resume = 2, true
			}
			node := parity.RunNodeClient(t, spec)
			require.NotEmpty(t, node, "node printed nothing")

			w := newFileWriter(t)
			args := append([]string{"client"}, clientArgs(t, w, opts)...)
			var got []parity.Line
			if sc.resume {
				sess := filepath.Join(w.dir, "session.der")
				first := runCLI(t, "ping\n", append(args, "--session-out", sess)...)
				assert.Equal(t, 0, first.code, "first run: %s%s", first.stdout, first.stderr)
				der, err := os.ReadFile(sess)
				require.NoError(t, err)
				require.NotEmpty(t, der, "--session-out wrote no session")
				second := runCLI(t, "ping\n", append(args, "--session-in", sess)...)
				assert.Equal(t, 0, second.code, "second run: %s%s", second.stdout, second.stderr)
				got = append(first.lines, second.lines...)
				if assert.Len(t, got, 2) {
					assert.Equal(t, true, got[1]["isSessionReused"], "--session-in resumed the session")
				}
			} else {
				res := runCLI(t, "ping\n", args...)
				got = res.lines
				wantCode := 0
				if node[len(node)-1]["event"] == "error" {
					wantCode = 1
				}
				assert.Equal(t, wantCode, res.code, "exit status; stderr: %s", res.stderr)
				assert.Empty(t, res.stderr)
			}
			// The command prints an error's code and message (the contract);
			// the node script also prints Node's err.host and err.port.
			if assert.Empty(t, parity.Diff(node, got, "host", "port"), "node %v\ncli  %v", node, got) {
				compared.Add(1)
			}
			t.Logf("node: %v", node)
		}
	})
	t.Logf("%d of %d scenarios print what node prints", compared.Load(), len(scenarios))
}

// nodeServerPort starts a node server for spec and returns its port.
func nodeServerPort(t *testing.T, spec parity.ServerSpec) int {
	port, _ := parity.StartNodeServer(t, spec)
	return port
}

// tcpServer listens on 127.0.0.1 and hands every connection to handle; it
// stops with the test.
func tcpServer(t *testing.T, handle func(net.Conn)) int {
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
	return l.Addr().(*net.TCPAddr).Port
}

// --timeout gives up a connection that does not become secure in time:
// ETIMEDOUT, exit status 1.
func TestClientTimeout(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	port := tcpServer(t, func(c net.Conn) {
		<-hold
		c.Close()
	})
	start := time.Now()
	res := runCLI(t, "", "client", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--timeout", "300")
	assert.Equal(t, 1, res.code, res.stderr)
	require.Len(t, res.lines, 1, res.stdout)
	assert.Equal(t, "error", res.lines[0]["event"])
	assert.Equal(t, "ETIMEDOUT", res.lines[0]["code"])
	assert.Less(t, time.Since(start), 10*time.Second)
}

// closedPort is a port nobody listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// The data path: what stdin holds reaches the server, what the server sends
// reaches stdout, after the secureConnect line.
func TestClientCopiesBothWays(t *testing.T) {
	leaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost", "127.0.0.1")
	port := nodeServerPort(t, parity.ServerSpec{Options: map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.CertPEM)}})
	w := newFileWriter(t)
	input := strings.Repeat("0123456789abcdef", 4096) + "\nend\n"
	res := runCLI(t, input, "client", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--ca", w.write("ca.pem", leaf.CAPEM))
	require.Equal(t, 0, res.code, res.stderr)
	first, rest, ok := strings.Cut(res.stdout, "\n")
	require.True(t, ok)
	assert.Contains(t, first, `{"event":"secureConnect","authorized":true,`)
	assert.Equal(t, input, rest, "the echo of stdin")
}
