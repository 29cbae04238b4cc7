package tls_test

import (
	"encoding/hex"
	"strings"

	"bytes"
	"time"

	"testing"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Server-side parity: each scenario runs on a node tls.Server and on
// tls.CreateServer with the same client (a node client, openssl s_client, or
// a raw TCP client), and what the server observed (secureConnection fields,
// tlsClientError, session events, socket errors, ...) must be the same, as
// must what the client observed.

// serverCase is one server scenario.
type serverCase struct {
	name   string
	server parity.ServerSpec
	peer   parity.Peer
	// want are events node's run must show (on the server or the peer), so
	// that a scenario cannot pass by both sides doing nothing.
	want []string
	// ignore are keys left out of the comparison.
	ignore []string
}

func runServerCases(t *testing.T, cases []serverCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node, got := parity.RunServer(t, c.server, c.peer)
			for _, w := range c.want {
				require.NotEmpty(t, parity.Events(append(append([]parity.Line{}, node.Server...), node.Client...), w),
					"node's run shows no %q event: server %v, client %v", w, node.Server, node.Client)
			}
			assert.Empty(t, parity.DiffRuns(node, got, c.ignore...))
			t.Logf("node server: %v\nnode peer: %v", node.Server, node.Client)
		})
	}
}

// pem is a string option value.
func pem(b []byte) string { return string(b) }

// merge returns a new map with the entries of all maps, later ones winning.
func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// node client peers.
func nodeClient(opts map[string]any) parity.Peer {
	return parity.NodeClient(parity.ClientSpec{Options: opts})
}

// TestParityServerClientAuth ports test-tls-client-auth, test-tls-server-verify
// and test-tls-pfx-authorizationerror: requestCert x rejectUnauthorized x the
// client's certificate (trusted, missing, untrusted, self-signed, chain
// incomplete), on TLS 1.2 and 1.3.
func TestParityServerClientAuth(t *testing.T) {
	serverCA := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	server := serverCA.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	clientRoot := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "client root"})
	clientSub := clientRoot.Intermediate(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "client sub"})
	client := clientSub.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "client"})
	other := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "other"}).
		Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "stranger"})
	self := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "self"})

	srv := func(extra map[string]any) parity.ServerSpec {
		return parity.ServerSpec{Options: merge(map[string]any{
			"key": pem(server.KeyPEM), "cert": pem(server.ChainPEM), "ca": pem(clientRoot.CertPEM),
		}, extra)}
	}
	cli := func(extra map[string]any) map[string]any {
		return merge(map[string]any{"ca": pem(serverCA.CertPEM), "servername": "localhost"}, extra)
	}
	withCert := func(l *testpki.Leaf, chain []byte, extra map[string]any) map[string]any {
		return cli(merge(map[string]any{"key": pem(l.KeyPEM), "cert": pem(chain)}, extra))
	}
	req := map[string]any{"requestCert": true}
	reqNoReject := map[string]any{"requestCert": true, "rejectUnauthorized": false}
	tls12 := map[string]any{"maxVersion": "TLSv1.2"}

	var cases []serverCase
	for _, v := range []struct {
		name string
		opts map[string]any
	}{{"TLS 1.3", nil}, {"TLS 1.2", tls12}} {
		cases = append(cases,
			serverCase{name: v.name + "/no requestCert, client cert", server: srv(nil),
				peer: nodeClient(withCert(client, client.ChainPEM, v.opts)), want: []string{"secureConnection"}},
			serverCase{name: v.name + "/requestCert, trusted chain", server: srv(req),
				peer: nodeClient(withCert(client, client.ChainPEM, v.opts)), want: []string{"secureConnection"}},
			serverCase{name: v.name + "/requestCert, no client cert", server: srv(req),
				peer: nodeClient(cli(v.opts)), want: []string{"tlsClientError"}},
			serverCase{name: v.name + "/requestCert, untrusted client", server: srv(req),
				peer: nodeClient(withCert(other, other.ChainPEM, v.opts)), want: []string{"tlsClientError"}},
			serverCase{name: v.name + "/requestCert, self-signed client", server: srv(req),
				peer: nodeClient(withCert(self, self.ChainPEM, v.opts)), want: []string{"tlsClientError"}},
			serverCase{name: v.name + "/requestCert, incomplete client chain", server: srv(req),
				peer: nodeClient(withCert(client, client.CertPEM, v.opts)), want: []string{"tlsClientError"}},
			serverCase{name: v.name + "/requestCert no reject, no client cert", server: srv(reqNoReject),
				peer: nodeClient(cli(v.opts)), want: []string{"secureConnection"}},
			serverCase{name: v.name + "/requestCert no reject, self-signed client", server: srv(reqNoReject),
				peer: nodeClient(withCert(self, self.ChainPEM, v.opts)), want: []string{"secureConnection"}},
			serverCase{name: v.name + "/requestCert no reject, untrusted client", server: srv(reqNoReject),
				peer: nodeClient(withCert(other, other.ChainPEM, v.opts)), want: []string{"secureConnection"}},
		)
	}
	runServerCases(t, cases)
}

// TestParityServerPFX ports test-tls-pfx-authorizationerror: a PFX server
// and a PFX client with requestCert; the client is authorized.
func TestParityServerPFX(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	srvLeaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	cliLeaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "pfx client"})
	pfx := func(l *testpki.Leaf) map[string]any {
		der, err := openssl.CreatePKCS12(l.Key, l.Cert, []*openssl.Certificate{ca.Cert}, "sample")
		require.NoError(t, err)
		return map[string]any{"pfx": parity.Hex(der), "passphrase": "sample"}
	}
	runServerCases(t, []serverCase{{
		name:   "pfx server and client, requestCert",
		server: parity.ServerSpec{Options: merge(pfx(srvLeaf), map[string]any{"requestCert": true, "rejectUnauthorized": false})},
		peer:   nodeClient(merge(pfx(cliLeaf), map[string]any{"servername": "localhost"})),
		want:   []string{"secureConnection", "secureConnect"},
	}})
}

// TestParityServerSNI ports test-tls-add-context, test-tls-sni-server-client,
// test-tls-sni-option, test-tls-empty-sni-context and
// test-tls-sni-servername: addContext with wildcards (newest wins, unknown
// names use the default context, a context's ca verifies client
// certificates), SNICallback contexts, errors and a context without a
// certificate.
func TestParityServerSNI(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := func(cn string, hosts ...string) *testpki.Leaf {
		return ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: cn}, hosts...)
	}
	def, a, wild, b := leaf("default", "localhost"), leaf("a", "a.example.com"), leaf("wild", "*.wild.example.com"), leaf("b", "b.example.com")
	clientCA := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "client CA"})
	client := clientCA.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "sni client"})
	ctx := func(l *testpki.Leaf, extra map[string]any) map[string]any {
		return merge(map[string]any{"key": pem(l.KeyPEM), "cert": pem(l.ChainPEM)}, extra)
	}
	withClientCA := map[string]any{"ca": pem(clientCA.CertPEM)}
	base := merge(ctx(def, nil), map[string]any{"requestCert": true, "rejectUnauthorized": false})
	contexts := map[string]map[string]any{
		"a.example.com":      ctx(a, withClientCA),
		"*.wild.example.com": ctx(wild, nil),
	}
	conn := func(servername string) parity.Peer {
		o := map[string]any{"ca": pem(ca.CertPEM), "key": pem(client.KeyPEM), "cert": pem(client.ChainPEM),
			"rejectUnauthorized": false}
		if servername != "" {
			o["servername"] = servername
		}
		return nodeClient(o)
	}
	sni := map[string]any{
		"a.example.com":    ctx(a, withClientCA),
		"b.example.com":    ctx(b, nil),
		"fail.example.com": "error",
		"none.example.com": "empty",
	}
	runServerCases(t, []serverCase{
		{name: "addContext/exact name with its ca", server: parity.ServerSpec{Options: base, Contexts: contexts},
			peer: conn("a.example.com"), want: []string{"secureConnection"}},
		{name: "addContext/wildcard", server: parity.ServerSpec{Options: base, Contexts: contexts},
			peer: conn("x.wild.example.com"), want: []string{"secureConnection"}},
		{name: "addContext/wildcard is one label", server: parity.ServerSpec{Options: base, Contexts: contexts},
			peer: conn("x.y.wild.example.com"), want: []string{"secureConnection"}},
		{name: "addContext/unknown name uses the default", server: parity.ServerSpec{Options: base, Contexts: contexts},
			peer: conn("unknown.example.com"), want: []string{"secureConnection"}},
		{name: "addContext/no SNI", server: parity.ServerSpec{Options: base, Contexts: contexts},
			peer: conn(""), want: []string{"secureConnection"}},
		{name: "addContext/newest wins", server: parity.ServerSpec{Options: base, Contexts: contexts,
			Calls: []parity.Call{{Call: "addContext", Host: "*.example.com", Options: ctx(b, nil)}}},
			peer: conn("a.example.com"), want: []string{"secureConnection"}},
		{name: "addContext/empty host name", server: parity.ServerSpec{Options: base,
			Calls: []parity.Call{{Call: "addContext", Host: "", Options: ctx(b, nil)}}},
			peer: conn("a.example.com"), want: []string{"call"}},
		{name: "SNICallback/context with ca", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("a.example.com"), want: []string{"SNICallback", "secureConnection"}},
		{name: "SNICallback/other context", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("b.example.com"), want: []string{"secureConnection"}},
		{name: "SNICallback/no context keeps the default", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("other.example.com"), want: []string{"secureConnection"}},
		{name: "SNICallback/not called without SNI", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn(""), want: []string{"secureConnection"}},
		{name: "SNICallback/error, servername in tlsClientError", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("fail.example.com"), want: []string{"tlsClientError"}},
		{name: "SNICallback/context without certificate keeps the default", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("none.example.com"), want: []string{"secureConnection"}},
		{name: "SNICallback/context without certificate, no default certificate",
			server: parity.ServerSpec{Options: map[string]any{}, SNI: sni},
			peer:   conn("none.example.com"), want: []string{"tlsClientError"}},
		{name: "SNICallback/only SNICallback, no default certificate",
			server: parity.ServerSpec{Options: map[string]any{}, SNI: sni},
			peer:   conn("b.example.com"), want: []string{"secureConnection"}},
	})
}

// TestParityServerNegotiation ports test-tls-alpn-server-client (server
// preference, no overlap, one side only, ALPNCallback and its errors),
// test-tls-server-setkeycert, test-tls-honorcipherorder, and the handshake
// failures of §2.15 (no shared cipher, no shared group, version mismatch).
func TestParityServerNegotiation(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	alt := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "alternative"}, "localhost")
	base := map[string]any{"key": pem(leaf.KeyPEM), "cert": pem(leaf.ChainPEM)}
	srv := func(extra map[string]any) parity.ServerSpec { return parity.ServerSpec{Options: merge(base, extra)} }
	cli := func(extra map[string]any) parity.Peer {
		return nodeClient(merge(map[string]any{"ca": pem(ca.CertPEM), "servername": "localhost"}, extra))
	}
	alpn := func(p ...string) map[string]any { return map[string]any{"ALPNProtocols": p} }
	withCallback := func(mode string, extra map[string]any) parity.ServerSpec {
		s := srv(extra)
		s.ALPNCallback = mode
		return s
	}
	setKeyCert := withCallback("first", map[string]any{"minVersion": "TLSv1.3"})
	setKeyCert.SetKeyCert = map[string]any{"key": pem(alt.KeyPEM), "cert": pem(alt.ChainPEM)}
	tls12 := map[string]any{"maxVersion": "TLSv1.2"}
	ecdsa128, ecdsa256 := "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"

	runServerCases(t, []serverCase{
		{name: "ALPN/server preference wins", server: srv(alpn("h2", "http/1.1")),
			peer: cli(alpn("http/1.1", "h2")), want: []string{"secureConnection"}},
		{name: "ALPN/no overlap", server: srv(alpn("a")), peer: cli(alpn("b")), want: []string{"tlsClientError"}},
		{name: "ALPN/no overlap, TLS 1.2", server: srv(alpn("a")), peer: cli(merge(alpn("b"), tls12)), want: []string{"tlsClientError"}},
		{name: "ALPN/server only", server: srv(alpn("h2")), peer: cli(nil), want: []string{"secureConnection"}},
		{name: "ALPN/client only", server: srv(nil), peer: cli(alpn("h2")), want: []string{"secureConnection"}},
		{name: "ALPNCallback/picks", server: withCallback("first", nil), peer: cli(alpn("x", "y")), want: []string{"secureConnection"}},
		{name: "ALPNCallback/refuses", server: withCallback("none", nil), peer: cli(alpn("x", "y")), want: []string{"tlsClientError"}},
		{name: "ALPNCallback/invalid result", server: withCallback("invalid", nil), peer: cli(alpn("x", "y")), want: []string{"tlsClientError"}},
		{name: "ALPNCallback/not called without ALPN", server: withCallback("invalid", nil), peer: cli(nil), want: []string{"secureConnection"}},
		{name: "ALPNCallback/with ALPNProtocols", server: withCallback("first", alpn("x")), peer: nil, want: []string{"createError"}},
		{name: "ALPNCallback/setKeyCert", server: setKeyCert, peer: cli(alpn("acme-tls/1")), want: []string{"secureConnection"}},
		{name: "honorCipherOrder/server order by default",
			server: srv(map[string]any{"ciphers": ecdsa128 + ":" + ecdsa256}),
			peer:   cli(merge(tls12, map[string]any{"ciphers": ecdsa256 + ":" + ecdsa128})), want: []string{"secureConnection"}},
		{name: "honorCipherOrder/false: client order",
			server: srv(map[string]any{"ciphers": ecdsa128 + ":" + ecdsa256, "honorCipherOrder": false}),
			peer:   cli(merge(tls12, map[string]any{"ciphers": ecdsa256 + ":" + ecdsa128})), want: []string{"secureConnection"}},
		{name: "no shared cipher", server: srv(map[string]any{"ciphers": ecdsa128, "maxVersion": "TLSv1.2"}),
			peer: cli(merge(tls12, map[string]any{"ciphers": ecdsa256})), want: []string{"tlsClientError"}},
		{name: "no shared group", server: srv(map[string]any{"ecdhCurve": "P-384"}),
			peer: cli(map[string]any{"ecdhCurve": "P-256"}), want: []string{"tlsClientError"}},
		{name: "version mismatch", server: srv(map[string]any{"minVersion": "TLSv1.3"}),
			peer: cli(tls12), want: []string{"tlsClientError"}},
		{name: "ecdhCurve list", server: srv(map[string]any{"ecdhCurve": "P-521:P-384"}),
			peer: cli(map[string]any{"ecdhCurve": "P-256:P-384"}), want: []string{"secureConnection"}},
		{name: "ecdhCurve unsupported", server: srv(map[string]any{"ecdhCurve": "prime192v3"}), want: []string{"createError"}},
	})
}

// TestParityServerJunk ports test-tls-junk-closes-server,
// test-tls-server-failed-handshake-emits-clienterror,
// test-tls-hello-parser-failure, an HTTP request to a TLS server, a client
// that leaves before its handshake, and test-tls-timeout-server
// (handshakeTimeout reports ERR_TLS_HANDSHAKE_TIMEOUT and leaves the socket
// open unless the handler destroys it).
func TestParityServerJunk(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	base := map[string]any{"key": pem(leaf.KeyPEM), "cert": pem(leaf.ChainPEM)}
	bonkers := bytes.Repeat([]byte{42}, 1<<20)
	wait := 1500 * time.Millisecond
	timeout := parity.ServerSpec{Options: merge(base, map[string]any{"handshakeTimeout": 300})}
	timeoutKeep := timeout
	timeoutKeep.KeepOnError = true
	withCache := parity.ServerSpec{Options: base, SessionCache: true}
	runServerCases(t, []serverCase{
		{name: "junk", server: parity.ServerSpec{Options: base},
			peer: parity.RawClient([]byte("blah\nblah\nblah\n"), wait), want: []string{"tlsClientError"}},
		{name: "HTTP request", server: parity.ServerSpec{Options: base},
			peer: parity.RawClient([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), wait), want: []string{"tlsClientError"}},
		{name: "1 MB of junk", server: parity.ServerSpec{Options: base},
			peer: parity.RawClient(bonkers, wait), want: []string{"tlsClientError"}},
		{name: "1 MB of junk, ClientHello parser", server: withCache,
			peer: parity.RawClient(bonkers, wait), want: []string{"tlsClientError"}},
		{name: "close before the handshake", server: parity.ServerSpec{Options: base},
			peer: parity.RawClient(nil, 200*time.Millisecond), want: []string{"tlsClientError"}},
		{name: "handshake timeout, handler destroys", server: timeout,
			peer: parity.RawClient(nil, wait), want: []string{"tlsClientError"}},
		{name: "handshake timeout, socket left open", server: timeoutKeep,
			peer: parity.RawClient(nil, wait), want: []string{"tlsClientError"}},
	})
}

// TestParityServerPSK ports test-tls-psk-circuit, test-tls-psk-server and
// test-tls-psk-errors: TLS 1.2 and 1.3 PSK with node and openssl clients, an
// unknown identity, a wrong key, and a pskIdentityHint OpenSSL refuses.
func TestParityServerPSK(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	psk := map[string]string{"client1": hex.EncodeToString(key)}
	server := func(extra map[string]any) parity.ServerSpec {
		return parity.ServerSpec{Options: merge(map[string]any{"ciphers": "PSK+HIGH:TLS_AES_128_GCM_SHA256"}, extra), PSK: psk}
	}
	client := func(identity string, k []byte, extra map[string]any) parity.Peer {
		return nodeClient(merge(map[string]any{"ciphers": "PSK+HIGH:TLS_AES_128_GCM_SHA256",
			"psk": parity.PSK(identity, k), "checkServerIdentity": "skip"}, extra))
	}
	tls12 := map[string]any{"maxVersion": "TLSv1.2"}
	tls13 := map[string]any{"minVersion": "TLSv1.3"}
	wrong := []byte("fedcba9876543210fedcba9876543210")
	hinted := server(map[string]any{"pskIdentityHint": "HINT"})
	runServerCases(t, []serverCase{
		{name: "TLS 1.3", server: server(tls13), peer: client("client1", key, tls13), want: []string{"secureConnection"}},
		{name: "TLS 1.2 with hint", server: hinted, peer: client("client1", key, tls12), want: []string{"secureConnection"}},
		{name: "default versions", server: server(nil), peer: client("client1", key, nil), want: []string{"secureConnection"}},
		{name: "unknown identity, TLS 1.3", server: server(nil), peer: client("nobody", key, nil), want: []string{"tlsClientError"}},
		{name: "unknown identity, TLS 1.2", server: server(nil), peer: client("nobody", key, tls12), want: []string{"tlsClientError"}},
		{name: "wrong key, TLS 1.3", server: server(nil), peer: client("client1", wrong, nil), want: []string{"tlsClientError"}},
		{name: "wrong key, TLS 1.2", server: server(nil), peer: client("client1", wrong, tls12), want: []string{"tlsClientError"}},
		{name: "identity hint too long", server: server(map[string]any{"pskIdentityHint": strings.Repeat("a", 512)}),
			peer: client("client1", key, tls12), want: []string{"tlsClientError"}},
		{name: "openssl s_client, TLS 1.2", server: hinted,
			peer: parity.OpenSSLClient("ping\n", "-tls1_2", "-cipher", "PSK-AES128-CBC-SHA256",
				"-psk", hex.EncodeToString(key), "-psk_identity", "client1"), want: []string{"secureConnection", "s_client"}},
		{name: "openssl s_client, TLS 1.3", server: server(nil),
			peer: parity.OpenSSLClient("ping\n", "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
				"-psk", hex.EncodeToString(key), "-psk_identity", "client1"), want: []string{"secureConnection", "s_client"}},
	})
}
