package tls_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sslOpNoTicket is SSL_OP_NO_TICKET (Node's crypto.constants.SSL_OP_NO_TICKET).
const sslOpNoTicket = 0x4000

// Client sessions: resumption by ticket and by session id (the session
// option fed from the 'session' event), and the order of 'session' after
// 'secureConnect'. Ports test-tls-client-resume (and -12) and
// test-tls-secure-session; the node server's newSession/resumeSession lines
// are compared too.
func TestParityClientSessions(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	base := map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}
	with := func(extra map[string]any) map[string]any {
		o := map[string]any{}
		for k, v := range base {
			o[k] = v
		}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	type server struct {
		port int
		get  func() []parity.Line
	}
	start := func(spec parity.ServerSpec) server {
		p, get := parity.StartNodeServer(t, spec)
		return server{p, get}
	}
	tickets := start(parity.ServerSpec{Options: with(nil)})
	ids := start(parity.ServerSpec{Options: with(map[string]any{"secureOptions": sslOpNoTicket}), SessionCache: true})
	noCache := start(parity.ServerSpec{Options: with(map[string]any{"secureOptions": sslOpNoTicket})})

	client := func(extra map[string]any) map[string]any {
		o := map[string]any{"ca": str(root.CertPEM), "servername": "localhost"}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	resume := parity.ClientSpec{Connections: 2, Resume: true, Events: []string{"session"}, Extra: []string{"ticket"}}
	cases := []struct {
		name     string
		srv      server
		srvLines int
		opts     map[string]any
		spec     parity.ClientSpec
		reused   bool
	}{
		{"client-resume/TLS 1.3 ticket", tickets, 2, client(nil), resume, true},
		{"client-resume-12/TLS 1.2 ticket", tickets, 2, client(map[string]any{"maxVersion": "TLSv1.2"}), resume, true},
		{"client-resume/TLS 1.2 session id through newSession/resumeSession", ids, 4, client(map[string]any{"maxVersion": "TLSv1.2"}), resume, true},
		// With SSL_OP_NO_TICKET, TLS 1.3 sends stateful tickets; Node's
		// resumeSession sees the ClientHello's legacy session id, not the
		// ticket, so the session is not found and not resumed.
		{"client-resume/TLS 1.3 without tickets: resumeSession misses the stateful ticket", ids, 8, client(nil), resume, false},
		{"client-resume/TLS 1.2 session id without a server cache is not reused", noCache, 2, client(map[string]any{"maxVersion": "TLSv1.2"}), resume, false},
		{"secure-session/TLS 1.2 'session' after 'secureConnect'", tickets, 1, client(map[string]any{"secureProtocol": "TLSv1_2_method"}),
			parity.ClientSpec{Events: []string{"session"}}, false},
		{"secure-session/TLS 1.3 sessions after 'secureConnect'", tickets, 1, client(nil),
			parity.ClientSpec{Events: []string{"session"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node, _, nodeSrv, _ := runClientParityServer(t, c.srv.port, c.srv.get, c.srvLines, c.opts, c.spec, "id")
			sc := linesOf(node, "secureConnect")
			if c.spec.Connections == 2 {
				require.Len(t, sc, 2)
				assert.Equal(t, false, sc[0]["isSessionReused"])
				assert.Equal(t, c.reused, sc[1]["isSessionReused"])
				if c.reused {
					// Node: no peer certificate on a resumed client connection.
					assert.Equal(t, map[string]any{}, sc[1]["peerCertificate"])
				}
			}
			ev := events(node)
			assert.Equal(t, "secureConnect", ev[0])
			assert.Contains(t, ev, "session")
			t.Logf("server: %v", nodeSrv)
		})
	}
}

// test-tls-psk-circuit (client side) and test-tls-psk-client: TLS 1.2 PSK
// with the server's identity hint, TLS 1.3 PSK (no hint), an unknown
// identity and a wrong key, against a node server without a certificate.
func TestParityClientPSK(t *testing.T) {
	const ciphers = "PSK+HIGH:TLS_AES_128_GCM_SHA256"
	key := []byte{0x82, 0x07, 0x26, 0x06, 0xb5, 0x02, 0xb0, 0xf4, 0x02, 0x5e, 0x90, 0xeb, 0x75, 0xfe, 0x13, 0x7d}
	long := make([]byte, 128)
	for i := range long {
		long[i] = byte(i)
	}
	port, get := parity.StartNodeServer(t, parity.ServerSpec{
		Options: map[string]any{"ciphers": ciphers, "pskIdentityHint": "HINT"},
		PSK:     map[string]string{"UserB": hex.EncodeToString(key), "users": hex.EncodeToString(long)},
	})
	cases := []struct {
		name string
		opts map[string]any
	}{
		{"psk-circuit/TLS 1.3 default", map[string]any{"psk": parity.PSK("UserB", key)}},
		{"psk-circuit/TLS 1.2 with the server's hint", map[string]any{"psk": parity.PSK("UserB", key), "maxVersion": "TLSv1.2"}},
		{"psk-circuit/TLS 1.3 only, no hint", map[string]any{"psk": parity.PSK("users", long), "minVersion": "TLSv1.3"}},
		{"psk-circuit/unknown identity", map[string]any{"psk": parity.PSK("UserC", key)}},
		{"psk-circuit/unknown identity, TLS 1.2", map[string]any{"psk": parity.PSK("UserC", key), "maxVersion": "TLSv1.2"}},
		{"psk-circuit/wrong key", map[string]any{"psk": parity.PSK("UserB", long)}},
		{"psk-circuit/wrong key, TLS 1.2", map[string]any{"psk": parity.PSK("UserB", long), "maxVersion": "TLSv1.2"}},
		// OpenSSL's limits, as Node's ERR_INVALID_ARG_VALUE with the value inspected.
		{"psk-client/identity over 256 bytes", map[string]any{"psk": parity.PSK(strings.Repeat("it's ", 52), key)}},
		{"psk-client/identity of 256 bytes", map[string]any{"psk": parity.PSK(strings.Repeat("é", 128), key)}},
		{"psk-client/key over 512 bytes", map[string]any{"psk": parity.PSK("UserB", make([]byte, 513))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := map[string]any{"ciphers": ciphers, "checkServerIdentity": "skip"}
			for k, v := range c.opts {
				opts[k] = v
			}
			runClientParityServer(t, port, get, 1, opts, parity.ClientSpec{PrintHint: true})
		})
	}
}

// An identity hint that is not UTF-8 (from openssl s_server): Node does
// not call pskCallback with it, and the handshake fails as without a PSK.
func TestParityClientPSKHintNotUTF8(t *testing.T) {
	key := []byte("0123456789abcdef")
	for _, hint := range []string{"h\xe0\xbd", "ok \xef\xbf\xbf"} {
		t.Run(fmt.Sprintf("%q", hint), func(t *testing.T) {
			_, addr := peers.OpenSSLServer(t, "-nocert", "-tls1_2", "-cipher", "PSK-AES128-GCM-SHA256",
				"-psk", hex.EncodeToString(key), "-psk_hint", hint, "-psk_identity", "id")
			_, port, err := net.SplitHostPort(addr)
			require.NoError(t, err)
			p, err := strconv.Atoi(port)
			require.NoError(t, err)
			runClientParity(t, p, map[string]any{"ciphers": "PSK-AES128-GCM-SHA256", "maxVersion": "TLSv1.2",
				"checkServerIdentity": "skip", "psk": parity.PSK("id", key)}, parity.ClientSpec{PrintHint: true, NoEcho: true})
		})
	}
}

// test-tls-ocsp-callback (client side): requestOCSP makes the client ask for
// a stapled response and report it ('OCSPResponse', null when the server has
// none); without requestOCSP the server is not asked.
func TestParityClientOCSP(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{OCSPServer: []string{"http://ocsp.example/"}}, "localhost")
	opts := map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM), "ca": str(root.CertPEM)}
	response := hex.EncodeToString([]byte("a stapled OCSP response"))
	withResp, getWith := parity.StartNodeServer(t, parity.ServerSpec{Options: opts, OCSP: response})
	noResp, getNo := parity.StartNodeServer(t, parity.ServerSpec{Options: opts, OCSP: "null"})
	client := map[string]any{"ca": str(root.CertPEM), "servername": "localhost"}
	cases := []struct {
		name     string
		port     int
		get      func() []parity.Line
		srvLines int
		opts     map[string]any
	}{
		{"ocsp-callback/TLS 1.3 response", withResp, getWith, 2, map[string]any{"requestOCSP": true}},
		{"ocsp-callback/TLS 1.2 response", withResp, getWith, 2, map[string]any{"requestOCSP": true, "maxVersion": "TLSv1.2"}},
		{"ocsp-callback/no response is null", noResp, getNo, 2, map[string]any{"requestOCSP": true}},
		{"ocsp-callback/not requested", withResp, getWith, 1, map[string]any{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := map[string]any{}
			for k, v := range client {
				o[k] = v
			}
			for k, v := range c.opts {
				o[k] = v
			}
			node, _, _, _ := runClientParityServer(t, c.port, c.get, c.srvLines, o, parity.ClientSpec{})
			if c.opts["requestOCSP"] == true {
				require.Equal(t, []string{"OCSPResponse", "secureConnect"}, events(node))
			} else {
				assert.Equal(t, []string{"secureConnect"}, events(node))
			}
		})
	}
}

// Connection details a client reads after the handshake, compared with what
// the node server saw of the same connection: test-tls-keylog-tlsv13 (5 lines
// on TLS 1.3, CLIENT_RANDOM on TLS 1.2), test-tls-finished, test-tls-
// exportkeyingmaterial, test-tls-max-send-fragment, and
// test-tls-client-renegotiation-13.
func TestParityClientConnectionDetails(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	ctx := hex.EncodeToString([]byte{0, 1, 2, 3})
	empty := ""
	// Labels valid on TLS 1.2 and 1.3 ("client finished", which Node's test
	// uses on TLS 1.3, is reserved on TLS 1.2).
	valid := []parity.EKM{{Length: 128, Label: "EXPERIMENTAL nodetls"}, {Length: 128, Label: "EXPERIMENTAL nodetls", Context: &ctx},
		{Length: 128, Label: "EXPERIMENTAL nodetls", Context: &empty}, {Length: 1, Label: "a"}}
	port, get := parity.StartNodeServer(t, parity.ServerSpec{
		Options: map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)},
		Report:  []string{"finished", "ekm", "data"},
		EKM:     valid,
	})
	client := func(extra map[string]any) map[string]any {
		o := map[string]any{"ca": str(root.CertPEM), "servername": "localhost"}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	invalid := append(append([]parity.EKM{}, valid...), parity.EKM{Length: 0, Label: "a"}, parity.EKM{Length: -3, Label: "a"},
		parity.EKM{Length: 4294967296, Label: "a"}, parity.EKM{Length: 128, Label: "client finished"})
	reserved := append(append([]parity.EKM{}, valid...), parity.EKM{Length: 128, Label: "client finished"},
		parity.EKM{Length: 16, Label: "master secret"})
	big := strings.Repeat("x", 10000)
	perConn := []string{"finished", "peerFinished", "ekm"}

	// Each client's values equal the server's view of the same connection.
	sameConnection := func(t *testing.T, client, server []parity.Line) {
		t.Helper()
		x, s := lineOf(client, "extra"), lineOf(server, "secureConnection")
		require.NotNil(t, x)
		require.NotNil(t, s)
		if x["finished"] != nil {
			assert.Equal(t, x["finished"], s["peerFinished"], "client getFinished = server getPeerFinished")
			assert.Equal(t, x["peerFinished"], s["finished"], "client getPeerFinished = server getFinished")
			assert.NotEqual(t, x["finished"], x["peerFinished"])
		}
		if ekm, ok := x["ekm"].([]any); ok {
			srv, _ := s["ekm"].([]any)
			require.Len(t, srv, len(valid))
			assert.Equal(t, srv, ekm[:len(valid)], "the client's keying material is the server's")
			assert.NotEqual(t, ekm[0], ekm[1], "a context changes the material")
			assert.NotEqual(t, ekm[1], ekm[2], "an empty context is not the same as none")
		}
	}

	// The calls that failed, failed alike on both sides.
	sameErrors := func(t *testing.T, node, goLines []parity.Line) {
		t.Helper()
		n, _ := lineOf(node, "extra")["ekm"].([]any)
		g, _ := lineOf(goLines, "extra")["ekm"].([]any)
		require.Equal(t, len(n), len(g))
		failed := 0
		for i := range n {
			if _, isErr := n[i].(map[string]any); isErr {
				failed++
				assert.Equal(t, parity.Normalize(n[i].(map[string]any)), parity.Normalize(asLine(g[i])), "call %d", i)
			} else {
				assert.IsType(t, "", g[i], "call %d", i)
			}
		}
		assert.Positive(t, failed)
	}

	cases := []struct {
		name     string
		opts     map[string]any
		spec     parity.ClientSpec
		srvLines int
		check    func(t *testing.T, node, goLines, nodeSrv, goSrv []parity.Line)
	}{
		{"keylog-tlsv13/five lines on TLS 1.3", client(nil), parity.ClientSpec{Events: []string{"keylog"}}, 2,
			func(t *testing.T, node, _, _, _ []parity.Line) {
				assert.Len(t, linesOf(node, "keylog"), 5)
			}},
		{"keylog/CLIENT_RANDOM on TLS 1.2", client(map[string]any{"maxVersion": "TLSv1.2"}), parity.ClientSpec{Events: []string{"keylog"}}, 2,
			func(t *testing.T, node, _, _, _ []parity.Line) {
				assert.Len(t, linesOf(node, "keylog"), 1)
			}},
		{"finished/TLS 1.3", client(nil), parity.ClientSpec{Extra: []string{"finished"}}, 2,
			func(t *testing.T, node, goLines, nodeSrv, goSrv []parity.Line) {
				sameConnection(t, node, nodeSrv)
				sameConnection(t, goLines, goSrv)
			}},
		{"finished/TLS 1.2", client(map[string]any{"maxVersion": "TLSv1.2"}), parity.ClientSpec{Extra: []string{"finished"}}, 2,
			func(t *testing.T, node, goLines, nodeSrv, goSrv []parity.Line) {
				sameConnection(t, node, nodeSrv)
				sameConnection(t, goLines, goSrv)
			}},
		{"exportkeyingmaterial/values and validation, TLS 1.3", client(nil), parity.ClientSpec{Extra: []string{"ekm"}, EKM: invalid}, 2,
			func(t *testing.T, node, goLines, nodeSrv, goSrv []parity.Line) {
				sameConnection(t, node, nodeSrv)
				sameConnection(t, goLines, goSrv)
				sameErrors(t, node, goLines)
				ekm, _ := lineOf(goLines, "extra")["ekm"].([]any)
				assert.Len(t, ekm[0], 256, "128 bytes")
			}},
		{"exportkeyingmaterial/TLS 1.2, reserved labels", client(map[string]any{"maxVersion": "TLSv1.2"}), parity.ClientSpec{Extra: []string{"ekm"}, EKM: reserved}, 2,
			func(t *testing.T, node, goLines, nodeSrv, goSrv []parity.Line) {
				sameConnection(t, node, nodeSrv)
				sameConnection(t, goLines, goSrv)
				sameErrors(t, node, goLines)
			}},
		{"max-send-fragment/bounds, and records of at most 768 bytes", client(nil),
			parity.ClientSpec{Extra: []string{"maxSendFragment"}, MaxSendFragment: []int{511, 16385, 768, 2147483648}, Send: &big}, 15,
			func(t *testing.T, _, _, nodeSrv, _ []parity.Line) {
				total := 0
				for _, l := range linesOf(nodeSrv, "data") {
					n, _ := l["length"].(float64)
					assert.LessOrEqual(t, n, 768.0)
					total += int(n)
				}
				assert.Equal(t, len(big), total)
			}},
		{"client-renegotiation-13/renegotiate on TLS 1.3 fails", client(nil), parity.ClientSpec{Renegotiate: 1}, 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node, goLines, nodeSrv, goSrv := runClientParityServer(t, port, get, c.srvLines, c.opts, c.spec, perConn...)
			if c.check != nil {
				c.check(t, node, goLines, nodeSrv, goSrv)
			}
		})
	}
}

// test-tls-wrap-econnreset and test-tls-junk-server: the peer is not a TLS
// server. A server that closes before the handshake gives ECONNRESET "Client
// network socket disconnected before secure TLS connection was established"
// with err.host and err.port; one that answers in plain text gives
// OpenSSL's record error.
func TestParityClientNotTLS(t *testing.T) {
	// Node's net server that ends at once (c.end()): a FIN, then it reads
	// to the end.
	closer := plainServer(t, func(c net.Conn) {
		defer c.Close()
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, c)
	})
	// A server that resets the connection once the ClientHello arrived.
	resetter := plainServer(t, func(c net.Conn) {
		buf := make([]byte, 1024)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.Read(buf)
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	junk := plainServer(t, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 1024)
		if _, err := c.Read(buf); err == nil {
			c.Write([]byte("I was waiting for you, hello!"))
		}
	})
	// A server that reads the ClientHello, then closes without a word.
	silent := plainServer(t, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 1024)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.Read(buf)
	})
	cases := []struct {
		name string
		port int
		opts map[string]any
	}{
		{"wrap-econnreset/server closes before the handshake", closer, nil},
		{"wrap-econnreset/with a servername", closer, map[string]any{"servername": "example.com"}},
		{"wrap-econnreset/server reads the ClientHello, then closes", silent, nil},
		{"wrap-econnreset/server resets the connection: read ECONNRESET", resetter, nil},
		{"junk-server/plain-text reply", junk, nil},
		{"junk-server/plain-text reply, TLS 1.2", junk, map[string]any{"maxVersion": "TLSv1.2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node, _ := runClientParity(t, c.port, c.opts, parity.ClientSpec{})
			assert.Equal(t, []string{"error"}, events(node))
		})
	}
}

func asLine(v any) parity.Line {
	m, _ := v.(map[string]any)
	return parity.Line(m)
}

// test-tls-exportkeyingmaterial, before the handshake: exportKeyingMaterial
// on a socket that is not secure yet is ERR_TLS_INVALID_STATE. Node calls it
// right after tls.connect; Go on a NewTLSSocket before Handshake.
func TestParityClientEKMBeforeSecure(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	port, _ := parity.StartNodeServer(t, parity.ServerSpec{Options: map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}})
	calls := []parity.EKM{{Length: 128, Label: "label"}, {Length: 0, Label: "label"}}
	node := parity.RunNodeClient(t, parity.ClientSpec{Options: map[string]any{"host": "127.0.0.1", "port": port,
		"ca": str(root.CertPEM), "servername": "localhost"}, Extra: []string{"ekmBeforeSecure"}, EKM: calls})
	require.NotEmpty(t, node)
	want := lineOf(node, "ekmBeforeSecure")
	require.NotNil(t, want, "node: %v", node)

	raw, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(port)))
	require.NoError(t, err)
	s, err := tls.NewTLSSocket(raw, tls.TLSSocketOptions{SecureContextOptions: tls.SecureContextOptions{CA: root.CertPEM},
		Servername: "localhost", RejectUnauthorized: tls.Bool(true)})
	require.NoError(t, err)
	defer s.Close()
	var got []any
	for _, c := range calls {
		_, err := s.ExportKeyingMaterial(c.Length, c.Label, nil)
		var te *tls.Error
		require.True(t, errors.As(err, &te), "%v", err)
		got = append(got, map[string]any{"event": "throw", "code": te.Code, "message": te.Message})
	}
	assert.Empty(t, parity.Diff([]parity.Line{want}, []parity.Line{{"event": "ekmBeforeSecure", "result": got}}))
	require.NoError(t, s.Handshake(context.Background()))
	k, err := s.ExportKeyingMaterial(16, "label", nil)
	require.NoError(t, err)
	assert.Len(t, k, 16)
	t.Logf("node: %v", node)
}
