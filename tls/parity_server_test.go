package tls_test

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
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
	// peerIgnore are keys left out of the comparison of the peer's lines.
	peerIgnore []string
	// byEvent compares the server lines grouped by event (parity.ByEvent),
	// for peers whose connections overlap.
	byEvent bool
}

func runServerCases(t *testing.T, cases []serverCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			node, got := parity.RunServer(t, c.server, c.peer, c.want...)
			if c.byEvent {
				node.Server, got.Server = parity.ByEvent(node.Server), parity.ByEvent(got.Server)
			}
			for _, w := range c.want {
				require.NotEmpty(t, parity.Events(append(append([]parity.Line{}, node.Server...), node.Client...), w),
					"node's run shows no %q event: server %v, client %v", w, node.Server, node.Client)
			}
			// The two servers listen on different ports: a client error's
			// port (Node's err.port) names each one's own.
			peerIgnore := append(append([]string{"port"}, c.ignore...), c.peerIgnore...)
			d := parity.Diff(node.Server, got.Server, c.ignore...) + parity.Diff(node.Client, got.Client, peerIgnore...)
			if testing.Verbose() {
				t.Logf("node server: %s\nnode peer: %s", parity.Show(node.Server), parity.Show(node.Client))
			}
			if d != "" {
				t.Errorf("%s\nnode server: %s\ngo server:   %s\nnode peer: %s\ngo peer:   %s", d,
					parity.Show(node.Server), parity.Show(got.Server), parity.Show(node.Client), parity.Show(got.Client))
			}
		})
	}
}

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
	t.Parallel()
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
			"key": str(server.KeyPEM), "cert": str(server.ChainPEM), "ca": str(clientRoot.CertPEM),
		}, extra)}
	}
	cli := func(extra map[string]any) map[string]any {
		return merge(map[string]any{"ca": str(serverCA.CertPEM), "servername": "localhost"}, extra)
	}
	withCert := func(l *testpki.Leaf, chain []byte, extra map[string]any) map[string]any {
		return cli(merge(map[string]any{"key": str(l.KeyPEM), "cert": str(chain)}, extra))
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
	// test-tls-server-verify: openssl s_client with and without a
	// certificate, and a CRL revoking one client (the check covers the whole
	// chain, so these clients come from a CA without intermediates).
	simpleCA := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "simple CA"})
	good := simpleCA.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "good"})
	revoked := simpleCA.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "revoked"})
	crl, err := openssl.CreateCRL(simpleCA.Cert, simpleCA.Key, []openssl.RevokedCertificate{{Serial: revoked.Serial}},
		time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	crlServer := func(extra map[string]any) parity.ServerSpec {
		return parity.ServerSpec{Options: merge(map[string]any{"key": str(server.KeyPEM), "cert": str(server.ChainPEM),
			"ca": str(simpleCA.CertPEM), "crl": str(crl)}, extra)}
	}
	sClient := func(l *testpki.Leaf, args ...string) parity.Peer {
		if l != nil {
			args = append(args, "-cert", parity.WriteTemp(t, "cert.pem", l.ChainPEM), "-key", parity.WriteTemp(t, "key.pem", l.KeyPEM))
		}
		return parity.OpenSSLClient("ping\n", append(args, "-servername", "localhost")...)
	}
	cases = append(cases,
		serverCase{name: "s_client/with certificate, TLS 1.3", server: crlServer(req), peer: sClient(good, "-tls1_3"),
			want: []string{"secureConnection", "s_client"}},
		serverCase{name: "s_client/with certificate, TLS 1.2", server: crlServer(req), peer: sClient(good, "-tls1_2"),
			want: []string{"secureConnection", "s_client"}},
		serverCase{name: "s_client/without certificate, TLS 1.2", server: crlServer(req), peer: sClient(nil, "-tls1_2"),
			want: []string{"tlsClientError"}},
		serverCase{name: "s_client/without certificate, no reject", server: crlServer(reqNoReject), peer: sClient(nil, "-tls1_2"),
			want: []string{"secureConnection"}},
		serverCase{name: "CRL/revoked client, no reject", server: crlServer(reqNoReject),
			peer: nodeClient(withCert(revoked, revoked.ChainPEM, nil)), want: []string{"secureConnection"}},
		serverCase{name: "CRL/revoked client", server: crlServer(req),
			peer: nodeClient(withCert(revoked, revoked.ChainPEM, nil)), want: []string{"tlsClientError"}},
		serverCase{name: "CRL/client not revoked", server: crlServer(req),
			peer: nodeClient(withCert(good, good.ChainPEM, nil)), want: []string{"secureConnection"}},
	)
	runServerCases(t, cases)
}

// TestParityServerPFX ports test-tls-pfx-authorizationerror: a PFX server
// and a PFX client with requestCert; the client is authorized.
func TestParityServerPFX(t *testing.T) {
	t.Parallel()
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
	}, {
		name: "pfx server, getCertificate twice",
		server: parity.ServerSpec{Options: merge(pfx(srvLeaf), map[string]any{"requestCert": true, "rejectUnauthorized": false}),
			Certificate: true},
		peer: nodeClient(map[string]any{"servername": "localhost", "ca": str(ca.CertPEM)}),
		want: []string{"secureConnection"},
	}})
}

// TestParityServerSNI ports test-tls-add-context, test-tls-sni-server-client,
// test-tls-sni-option, test-tls-empty-sni-context and
// test-tls-sni-servername: addContext with wildcards (newest wins, unknown
// names use the default context, a context's ca verifies client
// certificates), SNICallback contexts, errors and a context without a
// certificate.
func TestParityServerSNI(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := func(cn string, hosts ...string) *testpki.Leaf {
		return ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: cn}, hosts...)
	}
	def, a, wild, b := leaf("default", "localhost"), leaf("a", "a.example.com"), leaf("wild", "*.wild.example.com"), leaf("b", "b.example.com")
	clientCA := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "client CA"})
	client := clientCA.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "sni client"})
	ctx := func(l *testpki.Leaf, extra map[string]any) map[string]any {
		return merge(map[string]any{"key": str(l.KeyPEM), "cert": str(l.ChainPEM)}, extra)
	}
	withClientCA := map[string]any{"ca": str(clientCA.CertPEM)}
	base := merge(ctx(def, nil), map[string]any{"requestCert": true, "rejectUnauthorized": false})
	contexts := map[string]map[string]any{
		"a.example.com":      ctx(a, withClientCA),
		"*.wild.example.com": ctx(wild, nil),
	}
	conn := func(servername string, extra ...map[string]any) parity.Peer {
		o := merge(append([]map[string]any{{"ca": str(ca.CertPEM), "key": str(client.KeyPEM), "cert": str(client.ChainPEM),
			"rejectUnauthorized": false}}, extra...)...)
		if servername != "" {
			o["servername"] = servername
		}
		return nodeClient(o)
	}
	withALPN := func(mode string, sni map[string]any) parity.ServerSpec {
		return parity.ServerSpec{Options: base, SNI: sni, ALPNCallback: mode}
	}
	alpnX := map[string]any{"ALPNProtocols": []string{"x", "y"}}
	tls12 := map[string]any{"maxVersion": "TLSv1.2"}
	resumeWith := func(servername string, extra map[string]any) parity.Peer {
		return parity.NodeClient(parity.ClientSpec{Connections: 2, Resume: true,
			Options: merge(map[string]any{"ca": str(ca.CertPEM), "servername": servername}, extra)})
	}
	sni := map[string]any{
		"a.example.com":    ctx(a, withClientCA),
		"b.example.com":    ctx(b, nil),
		"fail.example.com": "error",
		"none.example.com": "empty",
		"c.example.com": ctx(b, map[string]any{"ciphers": "ECDHE-ECDSA-AES256-SHA:TLS_AES_128_GCM_SHA256",
			"sigalgs": "RSA-PSS+SHA256"}),
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
		// Node builds a RegExp from the name, escaping only . ^ $ + ? - \ [ ] { }.
		{name: "addContext/parentheses group and alternate", server: parity.ServerSpec{Options: base,
			Calls: []parity.Call{{Call: "addContext", Host: "x(b|c).example.com", Options: ctx(b, nil)}}},
			peer: conn("xc.example.com"), want: []string{"call", "secureConnection"}},
		{name: "addContext/unterminated group throws", server: parity.ServerSpec{Options: base,
			Calls: []parity.Call{{Call: "addContext", Host: "a(b.example.com", Options: ctx(b, nil)},
				{Call: "addContext", Host: "a)b\\(", Options: ctx(b, nil)}}},
			peer: conn("a(b.example.com"), want: []string{"call", "call", "secureConnection"}},
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
		// Node reads the name the client sent (UTF-8 from a node client) as
		// Latin-1: SNICallback, addContext and servername see "Ã©.example.com".
		{name: "SNICallback/name not ASCII, read as Latin-1", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("é.example.com"), want: []string{"SNICallback", "secureConnection"}},
		{name: "SNICallback/name not ASCII, Latin-1 key", server: parity.ServerSpec{Options: base, SNI: merge(sni,
			map[string]any{"Ã©.example.com": "error"})}, peer: conn("é.example.com"), want: []string{"tlsClientError"}},
		{name: "addContext/name not ASCII does not match its UTF-8 form", server: parity.ServerSpec{Options: base,
			Calls: []parity.Call{{Call: "addContext", Host: "é.example.com", Options: ctx(b, nil)}}},
			peer: conn("é.example.com"), want: []string{"secureConnection"}},
		{name: "addContext/name not ASCII matches its Latin-1 form", server: parity.ServerSpec{Options: base,
			Calls: []parity.Call{{Call: "addContext", Host: "Ã©.example.com", Options: ctx(b, nil)}}},
			peer: conn("é.example.com"), want: []string{"secureConnection"}},
		{name: "SNICallback/error, servername in tlsClientError", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("fail.example.com"), want: []string{"tlsClientError"}},
		{name: "SNICallback/context without certificate keeps the default", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("none.example.com"), want: []string{"secureConnection"}},
		{name: "SNICallback/context without certificate, no default certificate",
			server: parity.ServerSpec{Options: map[string]any{}, SNI: sni},
			peer:   conn("none.example.com"), want: []string{"tlsClientError"}},
		// Only the certificate, key, chain and CAs of an SNI context apply.
		{name: "SNICallback/context's ciphers do not apply", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("c.example.com", map[string]any{"maxVersion": "TLSv1.2"}), want: []string{"secureConnection"}},
		{name: "SNICallback/context's sigalgs do not apply", server: parity.ServerSpec{Options: base, SNI: sni},
			peer: conn("c.example.com"), want: []string{"secureConnection"}},
		// Node runs SNICallback (and OCSPRequest) from OpenSSL's certificate
		// callback, which a resumed session skips.
		{name: "SNICallback/not called on TLS 1.3 resumption", server: parity.ServerSpec{Options: base, SNI: sni, OCSP: "null"},
			peer: resumeWith("b.example.com", map[string]any{"requestOCSP": true}), want: []string{"SNICallback", "OCSPRequest"}},
		{name: "SNICallback/not called on TLS 1.2 resumption", server: parity.ServerSpec{Options: base, SNI: sni, OCSP: "null"},
			peer: resumeWith("b.example.com", map[string]any{"requestOCSP": true, "maxVersion": "TLSv1.2"}), want: []string{"SNICallback", "OCSPRequest"}},
		// Node asks SNICallback from the certificate callback: after
		// ALPNCallback on TLS 1.3, before it on TLS 1.2.
		{name: "SNICallback/after ALPNCallback, TLS 1.3", server: withALPN("first", sni),
			peer: conn("b.example.com", alpnX), want: []string{"SNICallback", "ALPNCallback"}},
		{name: "SNICallback/before ALPNCallback, TLS 1.2", server: withALPN("first", sni),
			peer: conn("b.example.com", alpnX, tls12), want: []string{"SNICallback", "ALPNCallback"}},
		{name: "SNICallback/not called after ALPN refusal, TLS 1.3", server: withALPN("none", sni),
			peer: conn("b.example.com", alpnX), want: []string{"ALPNCallback", "tlsClientError"}},
		{name: "SNICallback/error after ALPNCallback, TLS 1.3", server: withALPN("first", sni),
			peer: conn("fail.example.com", alpnX), want: []string{"ALPNCallback", "tlsClientError"}},
		// Node hands ALPNCallback the offered names as 'ascii' text (each
		// byte's low 7 bits: "é" is "C)") and reports the one it picked
		// as the bytes offered, read as Latin-1 ("Ã©").
		{name: "ALPNCallback/names not ASCII", server: withALPN("first", sni),
			peer: conn("é.example.com", map[string]any{"ALPNProtocols": []string{"é\u0101", "x"}}),
			want: []string{"SNICallback", "ALPNCallback", "secureConnection"}},
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
	t.Parallel()
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	alt := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "alternative"}, "localhost")
	base := map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}
	srv := func(extra map[string]any) parity.ServerSpec { return parity.ServerSpec{Options: merge(base, extra)} }
	cli := func(extra map[string]any) parity.Peer {
		return nodeClient(merge(map[string]any{"ca": str(ca.CertPEM), "servername": "localhost"}, extra))
	}
	alpn := func(p ...string) map[string]any { return map[string]any{"ALPNProtocols": p} }
	withCallback := func(mode string, extra map[string]any) parity.ServerSpec {
		s := srv(extra)
		s.ALPNCallback = mode
		return s
	}
	setKeyCert := withCallback("first", map[string]any{"minVersion": "TLSv1.3"})
	setKeyCert.SetKeyCert = map[string]any{"key": str(alt.KeyPEM), "cert": str(alt.ChainPEM)}
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
	t.Parallel()
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	base := map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}
	bonkers := bytes.Repeat([]byte{42}, 1<<20)
	wait := 1500 * time.Millisecond
	timeout := parity.ServerSpec{Options: merge(base, map[string]any{"handshakeTimeout": 300})}
	timeoutKeep := timeout
	timeoutKeep.KeepOnError = true
	withCache := parity.ServerSpec{Options: base, SessionCache: true}
	// The start of a 512-byte ClientHello record: the server waits for the rest.
	partialHello := append([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}, bytes.Repeat([]byte{7}, 40)...)
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
		{name: "handshake timeout, node client late, handler destroys", server: timeout,
			peer: parity.NodeClient(parity.ClientSpec{Delay: 800, Options: map[string]any{"ca": str(ca.CertPEM), "servername": "localhost"}}),
			want: []string{"tlsClientError"}},
		// The timeout counts from the connection, not from the last byte:
		// a client that sends a byte of its ClientHello every 50 ms is still
		// cut off after 300 ms (node's timer is the TLS socket's, which the
		// handshake's own reads and writes do not refresh).
		{name: "handshake timeout, client trickles its hello", server: timeout,
			peer: parity.TrickleClient(partialHello, 50*time.Millisecond, wait), want: []string{"tlsClientError"}},
		// Left open, the socket still completes its handshake when the client comes.
		{name: "handshake timeout, node client late, socket left open", server: timeoutKeep,
			peer: parity.NodeClient(parity.ClientSpec{Delay: 800, Options: map[string]any{"ca": str(ca.CertPEM), "servername": "localhost"}}),
			want: []string{"tlsClientError", "secureConnection"}},
	})
}

// TestParityServerPSK ports test-tls-psk-circuit, test-tls-psk-server and
// test-tls-psk-errors: TLS 1.2 and 1.3 PSK with node and openssl clients, an
// unknown identity, a wrong key, and a pskIdentityHint OpenSSL refuses.
func TestParityServerPSK(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	psk := map[string]string{"client1": hex.EncodeToString(key), "big": hex.EncodeToString(make([]byte, 513))}
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
	printIdentity := func(spec parity.ServerSpec) parity.ServerSpec { spec.PrintIdentity = true; return spec }
	runServerCases(t, []serverCase{
		{name: "TLS 1.3", server: server(tls13), peer: client("client1", key, tls13), want: []string{"secureConnection"}},
		{name: "TLS 1.2 with hint", server: hinted, peer: client("client1", key, tls12), want: []string{"secureConnection"}},
		{name: "default versions", server: server(nil), peer: client("client1", key, nil), want: []string{"secureConnection"}},
		{name: "unknown identity, TLS 1.3", server: server(nil), peer: client("nobody", key, nil), want: []string{"tlsClientError"}},
		{name: "unknown identity, TLS 1.2", server: server(nil), peer: client("nobody", key, tls12), want: []string{"tlsClientError"}},
		{name: "wrong key, TLS 1.3", server: server(nil), peer: client("client1", wrong, nil), want: []string{"tlsClientError"}},
		{name: "wrong key, TLS 1.2", server: server(nil), peer: client("client1", wrong, tls12), want: []string{"tlsClientError"}},
		{name: "key over 512 bytes", server: server(nil), peer: client("big", key, nil), want: []string{"tlsClientError"}},
		// The server closes the connection as soon as it is accepted; whether
		// the client's hello was there already (the client then sees "read
		// ECONNRESET") or not ("Client network socket disconnected ...") is a
		// race in both.
		{name: "identity hint too long", server: server(map[string]any{"pskIdentityHint": strings.Repeat("a", 512)}),
			peer: client("client1", key, tls12), want: []string{"tlsClientError"}, peerIgnore: []string{"message", "host"}},
		{name: "openssl s_client, TLS 1.2", server: hinted,
			peer: parity.OpenSSLClient("ping\n", "-tls1_2", "-cipher", "PSK-AES128-CBC-SHA256",
				"-psk", hex.EncodeToString(key), "-psk_identity", "client1"), want: []string{"secureConnection", "s_client"}},
		// Node does not call pskCallback with an identity that is not
		// UTF-8: the identity is unknown.
		{name: "openssl s_client, identity not UTF-8, TLS 1.2", server: printIdentity(hinted),
			peer: parity.OpenSSLClient("ping\n", "-tls1_2", "-cipher", "PSK-AES128-CBC-SHA256",
				"-psk", hex.EncodeToString(key), "-psk_identity", "client1\xff"), want: []string{"tlsClientError", "s_client"}},
		{name: "openssl s_client, identity not UTF-8, TLS 1.3", server: printIdentity(server(nil)),
			peer: parity.OpenSSLClient("ping\n", "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
				"-psk", hex.EncodeToString(key), "-psk_identity", "client1\xed\xa0\x80"), want: []string{"tlsClientError", "s_client"}},
		{name: "openssl s_client, identity UTF-8", server: printIdentity(server(nil)),
			peer: parity.OpenSSLClient("ping\n", "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
				"-psk", hex.EncodeToString(key), "-psk_identity", "client1\xef\xbf\xbf"), want: []string{"pskCallback", "tlsClientError", "s_client"}},
		{name: "openssl s_client, TLS 1.3", server: server(nil),
			peer: parity.OpenSSLClient("ping\n", "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
				"-psk", hex.EncodeToString(key), "-psk_identity", "client1"), want: []string{"secureConnection", "s_client"}},
	})
}

// tls13NewSessionOrder: Node's server emits a TLS 1.3 connection's
// newSession events after secureConnection (OpenSSL ends the handshake before
// it writes the tickets, and Node's secureConnection listeners run to
// completion in between). A nodetls OnSecureConnection handler runs for the
// connection's lifetime, so the tickets' sessions, made in the same step as
// the end of the handshake, are reported before it. Those scenarios compare
// the events kind by kind.
const tls13NewSessionOrder = true

// TestParityServerSessions ports test-tls-session-cache (newSession and
// resumeSession with s_client -reconnect, with and without tickets, invalid
// session data), Node's TLS 1.3 resumeSession on a first connection (§2.6),
// test-tls-ticket (servers sharing ticketKeys resume each other's sessions),
// getTicketKeys/setTicketKeys and their errors, and
// test-tls-session-timeout-errors.
func TestParityServerSessions(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	base := map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}
	cache := func(extra map[string]any) parity.ServerSpec {
		return parity.ServerSpec{Options: merge(base, extra), SessionCache: true}
	}
	invalid := cache(nil)
	invalid.SessionCacheInvalid = true
	resume := func(n int, extra map[string]any) parity.Peer {
		return parity.NodeClient(parity.ClientSpec{Connections: n, Resume: true,
			Options: merge(map[string]any{"ca": str(ca.CertPEM), "servername": "localhost"}, extra)})
	}
	noTicket := map[string]any{"secureOptions": float64(openssl.OpNoTicket)}
	tls12 := map[string]any{"maxVersion": "TLSv1.2"}
	keys := bytes.Repeat([]byte{7}, 48)
	runServerCases(t, []serverCase{
		{name: "s_client -reconnect, TLS 1.2 without tickets", server: cache(nil),
			peer: parity.OpenSSLClient("ping\n", "-tls1_2", "-no_ticket", "-reconnect"), want: []string{"newSession", "resumeSession"}, byEvent: true},
		{name: "s_client -reconnect, TLS 1.2 tickets", server: cache(nil),
			peer: parity.OpenSSLClient("ping\n", "-tls1_2", "-reconnect"), want: []string{"s_client"}, byEvent: true},
		{name: "s_client -reconnect, invalid session data", server: invalid,
			peer: parity.OpenSSLClient("ping\n", "-tls1_2", "-no_ticket", "-reconnect"), want: []string{"resumeSession"}, byEvent: true},
		{name: "s_client -reconnect, TLS 1.3", server: cache(nil),
			peer: parity.OpenSSLClient("ping\n", "-tls1_3", "-reconnect"), want: []string{"s_client"}, byEvent: true},
		{name: "s_client -reconnect, TLS 1.3 without tickets", server: cache(nil),
			peer: parity.OpenSSLClient("ping\n", "-tls1_3", "-no_ticket", "-reconnect"), want: []string{"s_client"}, byEvent: true},
		{name: "node client, TLS 1.2 session id", server: cache(noTicket),
			peer: resume(2, tls12), want: []string{"newSession", "resumeSession"}},
		{name: "node client, TLS 1.2 ticket", server: cache(nil),
			peer: resume(2, tls12), want: []string{"secureConnection"}},
		// On TLS 1.3 Node reports the tickets' newSession events after
		// secureConnection, nodetls before it (see tls13NewSessionOrder).
		{name: "node client, TLS 1.3 ticket", server: cache(nil),
			peer: resume(2, nil), want: []string{"resumeSession", "newSession"}, byEvent: tls13NewSessionOrder},
		{name: "node client, TLS 1.3 without tickets", server: cache(noTicket),
			peer: resume(2, nil), want: []string{"resumeSession", "newSession"}, byEvent: tls13NewSessionOrder},
		// A HelloRetryRequest (the client's key share is not one the server
		// takes) brings a second ClientHello: only the first asks resumeSession.
		{name: "node client, TLS 1.3 HelloRetryRequest", server: cache(map[string]any{"ecdhCurve": "P-384"}),
			peer: resume(1, nil), want: []string{"resumeSession", "newSession"}, byEvent: tls13NewSessionOrder},
		{name: "no session handlers, no tickets: no resumption", server: parity.ServerSpec{Options: merge(base, noTicket)},
			peer: resume(2, tls12), want: []string{"secureConnection"}},
		{name: "getTicketKeys", server: parity.ServerSpec{Options: merge(base, map[string]any{"ticketKeys": parity.Hex(keys)}),
			Calls: []parity.Call{{Call: "getTicketKeys"}, {Call: "setTicketKeys", Hex: hex.EncodeToString(bytes.Repeat([]byte{9}, 48))}, {Call: "getTicketKeys"}}},
			want: []string{"call"}},
		{name: "setTicketKeys with 47 bytes", server: parity.ServerSpec{Options: base,
			Calls: []parity.Call{{Call: "setTicketKeys", Hex: hex.EncodeToString(keys[:47])}}}, want: []string{"call"}},
		{name: "ticketKeys of 47 bytes", server: parity.ServerSpec{Options: merge(base, map[string]any{"ticketKeys": parity.Hex(keys[:47])})},
			want: []string{"createError"}},
		{name: "negative sessionTimeout", server: parity.ServerSpec{Options: merge(base, map[string]any{"sessionTimeout": -1})},
			want: []string{"createError"}},
	})

	// Servers sharing ticket keys resume each other's sessions; other keys do not.
	shared := parity.ServerSpec{Options: merge(base, map[string]any{"ticketKeys": parity.Hex(keys), "sessionIdContext": "shared"})}
	other := parity.ServerSpec{Options: merge(base, map[string]any{"ticketKeys": parity.Hex(bytes.Repeat([]byte{8}, 48)), "sessionIdContext": "shared"})}
	for _, c := range []struct {
		name    string
		servers []parity.ServerSpec
		opts    map[string]any
	}{
		{"ticketKeys shared, TLS 1.3", []parity.ServerSpec{shared, shared}, nil},
		{"ticketKeys shared, TLS 1.2", []parity.ServerSpec{shared, shared}, tls12},
		{"ticketKeys differ", []parity.ServerSpec{shared, other}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			peer := parity.NodeClientPorts(parity.ClientSpec{Connections: 2, Resume: true, Ports: []int{0, 1},
				Options: merge(map[string]any{"ca": str(ca.CertPEM), "servername": "localhost"}, c.opts)})
			node, got := parity.RunServers(t, c.servers, peer, "secureConnection")
			require.Len(t, parity.Events(node.Client, "secureConnect"), 2, "node client: %v", node.Client)
			assert.Empty(t, parity.DiffRuns(node, got))
			t.Logf("node server: %v\nnode peer: %v", node.Server, node.Client)
		})
	}
}

// TestParityServerRenegotiation ports test-tls-client-renegotiation-limit
// (ERR_TLS_SESSION_ATTACK on the server socket from the 4th renegotiation in
// the window, the socket left open unless the handler destroys it, with node
// and openssl clients) and test-tls-disable-renegotiation.
func TestParityServerRenegotiation(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	base := map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}
	steps := func(s ...string) parity.Peer {
		return parity.NodeClient(parity.ClientSpec{Steps: s,
			Options: map[string]any{"ca": str(ca.CertPEM), "servername": "localhost", "maxVersion": "TLSv1.2"}})
	}
	// After an 'error' the server script's pipe() stops echoing, so the
	// client only renegotiates and ends.
	reneg := []string{"renegotiate", "renegotiate", "renegotiate", "renegotiate", "renegotiate", "end"}
	destroying := parity.ServerSpec{Options: base, DestroyOnSocketError: true}
	disabled := parity.ServerSpec{Options: base, DisableRenegotiation: true, DestroyOnSocketError: true}
	// s_client renegotiates on each "R" line; the pauses let each
	// renegotiation finish before the next and before s_client leaves.
	sClientR := strings.Repeat("R\n@sleep\n@sleep\n", 5) + "ping\n@sleep\n@sleep\n@sleep\n"
	runServerCases(t, []serverCase{
		{name: "limit, socket left open", server: parity.ServerSpec{Options: base},
			peer: steps(reneg...), want: []string{"socketError"}},
		{name: "limit, handler destroys", server: destroying,
			peer: steps(reneg...), want: []string{"socketError"}},
		{name: "limit, s_client R", server: parity.ServerSpec{Options: base},
			peer: parity.OpenSSLClient(sClientR, "-tls1_2"), want: []string{"socketError"}},
		{name: "disableRenegotiation", server: disabled,
			peer: steps("renegotiate", "send:data", "read", "renegotiate", "end"), want: []string{"socketError"}},
	})
}

// TestParityServerCallbacks ports test-tls-keylog-tlsv13 (the server's keylog
// events with their socket), test-tls-ocsp-callback (OCSPRequest's
// certificate and issuer, the stapled response the client sees, no
// response, an error), test-tls-set-secure-context (only new connections
// get the new context), test-tls-multi-key, test-tls-no-rsa-key and
// test-tls-dhe (dhparam auto, PEM, too small, garbage).
func TestParityServerCallbacks(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	other := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "other"}, "localhost")
	rsa := ca.Leaf(t, testpki.Options{CommonName: "rsa"}, "localhost")
	base := map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}
	cli := func(extra map[string]any, more ...string) parity.Peer {
		return parity.NodeClient(parity.ClientSpec{Extra: more,
			Options: merge(map[string]any{"ca": str(ca.CertPEM), "servername": "localhost"}, extra)})
	}
	tls12 := map[string]any{"maxVersion": "TLSv1.2"}
	ocsp := func(answer string, extra map[string]any) parity.ServerSpec {
		return parity.ServerSpec{Options: merge(base, extra), OCSP: answer}
	}
	withCA := map[string]any{"ca": str(ca.CertPEM)}
	requestOCSP := map[string]any{"requestOCSP": true}
	multi := map[string]any{"key": []any{str(rsa.KeyPEM), str(leaf.KeyPEM)}, "cert": []any{str(rsa.ChainPEM), str(leaf.ChainPEM)}}
	rsaBase := map[string]any{"key": str(rsa.KeyPEM), "cert": str(rsa.ChainPEM)}
	dhe := map[string]any{"ciphers": "DHE-RSA-AES128-GCM-SHA256", "maxVersion": "TLSv1.2"}
	dhparam := func(bits string) string {
		args := []string{"dhparam", bits}
		if bits == "2048" {
			args = []string{"genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"}
		}
		out, err := exec.Command("openssl", args...).Output()
		require.NoError(t, err)
		return string(out)
	}
	peers.Require(t, "openssl")
	dh2048, dh512 := dhparam("2048"), dhparam("512")
	keylog := func(extra map[string]any) parity.ServerSpec {
		return parity.ServerSpec{Options: merge(base, extra), Keylog: true}
	}
	runServerCases(t, []serverCase{
		{name: "keylog/TLS 1.3", server: keylog(nil), peer: cli(nil), want: []string{"keylog"}},
		{name: "keylog/TLS 1.2", server: keylog(nil), peer: cli(tls12), want: []string{"keylog"}},
		{name: "OCSP/stapled response", server: ocsp(hex.EncodeToString([]byte("hello world")), withCA),
			peer: cli(requestOCSP), want: []string{"OCSPRequest", "OCSPResponse"}},
		{name: "OCSP/stapled response, TLS 1.2", server: ocsp(hex.EncodeToString([]byte("hello world")), withCA),
			peer: cli(merge(requestOCSP, tls12)), want: []string{"OCSPRequest", "OCSPResponse"}},
		{name: "OCSP/null response, issuer unknown", server: ocsp("null", nil),
			peer: cli(requestOCSP), want: []string{"OCSPRequest", "OCSPResponse"}},
		{name: "OCSP/no OCSPRequest listener", server: parity.ServerSpec{Options: base},
			peer: cli(requestOCSP), want: []string{"OCSPResponse"}},
		{name: "OCSP/not requested", server: ocsp("null", withCA), peer: cli(nil), want: []string{"secureConnection"}},
		{name: "OCSP/error", server: ocsp("error", withCA), peer: cli(requestOCSP), want: []string{"tlsClientError"}},
		{name: "setSecureContext/new connections only",
			server: parity.ServerSpec{Options: base, SetSecureContextAfterFirst: map[string]any{"key": str(other.KeyPEM), "cert": str(other.ChainPEM)}},
			peer: parity.NodeClient(parity.ClientSpec{Connections: 2,
				Options: map[string]any{"ca": str(ca.CertPEM), "servername": "localhost"}}),
			want: []string{"secureConnect"}},
		{name: "multi-key/ECDSA suite", server: parity.ServerSpec{Options: multi},
			peer: cli(merge(tls12, map[string]any{"ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384"})), want: []string{"secureConnection"}},
		{name: "multi-key/RSA suite", server: parity.ServerSpec{Options: multi},
			peer: cli(merge(tls12, map[string]any{"ciphers": "ECDHE-RSA-AES256-GCM-SHA384"})), want: []string{"secureConnection"}},
		{name: "multi-key/TLS 1.3", server: parity.ServerSpec{Options: multi}, peer: cli(nil), want: []string{"secureConnection"}},
		{name: "no RSA key/EC only", server: parity.ServerSpec{Options: base, Certificate: true},
			peer: cli(nil, "certificate"), want: []string{"secureConnection"}},
		{name: "no RSA key/RSA suites only", server: parity.ServerSpec{Options: base},
			peer: cli(merge(tls12, map[string]any{"ciphers": "ECDHE-RSA-AES256-GCM-SHA384"})), want: []string{"tlsClientError"}},
		{name: "dhparam/auto", server: parity.ServerSpec{Options: merge(rsaBase, map[string]any{"dhparam": "auto"})},
			peer: cli(dhe, "ephemeralKeyInfo"), want: []string{"secureConnection"}},
		{name: "dhparam/PEM 2048", server: parity.ServerSpec{Options: merge(rsaBase, map[string]any{"dhparam": dh2048})},
			peer: cli(dhe, "ephemeralKeyInfo"), want: []string{"secureConnection"}},
		{name: "dhparam/none: no DHE", server: parity.ServerSpec{Options: rsaBase},
			peer: cli(dhe), want: []string{"tlsClientError"}},
		{name: "dhparam/garbage ignored", server: parity.ServerSpec{Options: merge(rsaBase, map[string]any{"dhparam": "garbage"})},
			peer: cli(dhe), want: []string{"tlsClientError"}},
		{name: "dhparam/garbage ignored, ECDHE still works", server: parity.ServerSpec{Options: merge(rsaBase, map[string]any{"dhparam": "garbage"})},
			peer: cli(tls12, "ephemeralKeyInfo"), want: []string{"secureConnection"}},
		{name: "dhparam/512 refused", server: parity.ServerSpec{Options: merge(rsaBase, map[string]any{"dhparam": dh512})},
			want: []string{"createError"}},
	})
}
