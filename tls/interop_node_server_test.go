package tls_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Our client against node's tls server, where the server's side of the
// story matters: client certificates (test-tls-client-auth), SNI contexts,
// the renegotiation limit (test-tls-client-renegotiation-limit) and the
// handshake timeout (test-tls-timeout-server). Each is also run with a node
// client where a node client can do the same, and both the client's and the
// server's lines are compared.
func TestInteropNodeServerClientAuth(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	inter := root.Intermediate(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	good := root.Leaf(t, testpki.Options{ClientAuth: true, CommonName: "good client"}, "client.test")
	chained := inter.Leaf(t, testpki.Options{ClientAuth: true, CommonName: "chained client"}, "client.test")
	self := testpki.SelfSigned(t, testpki.Options{ClientAuth: true, CommonName: "self client"}, "client.test")
	server := func(reject bool) map[string]any {
		return map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM), "ca": str(root.CertPEM),
			"requestCert": true, "rejectUnauthorized": reject}
	}
	rejectPort, rejectGet := parity.StartNodeServer(t, parity.ServerSpec{Options: server(true)})
	lenientPort, lenientGet := parity.StartNodeServer(t, parity.ServerSpec{Options: server(false)})
	client := func(l *testpki.Leaf, certPEM []byte, extra map[string]any) map[string]any {
		o := map[string]any{"ca": str(root.CertPEM), "servername": "localhost"}
		if l != nil {
			o["key"], o["cert"] = str(l.KeyPEM), str(certPEM)
		}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	tls12 := map[string]any{"maxVersion": "TLSv1.2"}
	// Where the server refuses the client, the client sends nothing after
	// its handshake: data the server leaves unread would turn its close into
	// a reset (read ECONNRESET), on either client, depending on timing.
	cases := []struct {
		name    string
		lenient bool
		refused bool
		opts    map[string]any
	}{
		{"client-auth/mTLS, TLS 1.3", false, false, client(good, good.CertPEM, nil)},
		{"client-auth/mTLS, TLS 1.2", false, false, client(good, good.CertPEM, tls12)},
		{"client-auth/client sends leaf and intermediate", false, false, client(chained, chained.ChainPEM, nil)},
		{"client-auth/no client certificate, TLS 1.3: error after secureConnect", false, true, client(nil, nil, nil)},
		{"client-auth/no client certificate, TLS 1.2", false, true, client(nil, nil, tls12)},
		{"client-auth/untrusted client certificate", false, true, client(self, self.CertPEM, nil)},
		{"client-auth/intermediate missing, TLS 1.2", false, true, client(chained, chained.CertPEM, tls12)},
		{"client-auth/rejectUnauthorized false: untrusted client is unauthorized", true, false, client(self, self.CertPEM, nil)},
		{"client-auth/rejectUnauthorized false: no certificate", true, false, client(nil, nil, nil)},
		{"client-auth/rejectUnauthorized false: trusted client", true, false, client(good, good.CertPEM, tls12)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port, get := rejectPort, rejectGet
			if c.lenient {
				port, get = lenientPort, lenientGet
			}
			var spec parity.ClientSpec
			if c.refused {
				nothing := ""
				spec.Send = &nothing
			}
			runClientParityServer(t, port, get, 1, c.opts, spec)
		})
	}
}

// SNI: the node server picks its context by the name our client sends
// (addContext, with a wildcard), and reports it as servername.
func TestInteropNodeServerSNI(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	def := root.Leaf(t, testpki.Options{}, "localhost")
	a := root.Leaf(t, testpki.Options{}, "a.example")
	wild := root.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "*.b.example")
	ctx := func(l *testpki.Leaf) map[string]any {
		return map[string]any{"key": str(l.KeyPEM), "cert": str(l.ChainPEM)}
	}
	port, get := parity.StartNodeServer(t, parity.ServerSpec{Options: ctx(def),
		Contexts: map[string]map[string]any{"a.example": ctx(a), "*.b.example": ctx(wild)}})
	for _, c := range []struct{ name, servername string }{
		{"sni/exact context", "a.example"},
		{"sni/wildcard context", "x.b.example"},
		{"sni/unknown name gets the default (altname mismatch)", "c.example"},
		{"sni/default name", "localhost"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range []string{"TLSv1.3", "TLSv1.2"} {
				_, goLines, _, goSrv := runClientParityServer(t, port, get, 1,
					map[string]any{"ca": str(root.CertPEM), "servername": c.servername, "maxVersion": v, "rejectUnauthorized": false},
					parity.ClientSpec{})
				assert.Equal(t, c.servername, lineOf(goSrv, "secureConnection")["servername"])
				assert.Equal(t, c.servername, lineOf(goLines, "secureConnect")["servername"])
			}
		})
	}
}

// A client that rejects the node server's certificate: node's client judges
// the server as its handshake ends, before it sends its last flight, so a
// TLS 1.3 server never gets the client's Finished (tlsClientError, "socket
// hang up") while a TLS 1.2 server, whose Finished comes last, sees a
// connection that the client then closes. Ours must do the same to the
// server (and report the same error).
func TestInteropNodeServerClientRejects(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	port, get := parity.StartNodeServer(t, parity.ServerSpec{Options: map[string]any{
		"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}})
	for _, c := range []struct {
		name string
		opts map[string]any
		want string // the server's event
	}{
		{"untrusted", map[string]any{"servername": "localhost"}, "tlsClientError"},
		{"host name mismatch", map[string]any{"ca": str(root.CertPEM), "servername": "other.test"}, "tlsClientError"},
		{"untrusted, rejectUnauthorized false", map[string]any{"servername": "localhost", "rejectUnauthorized": false}, "secureConnection"},
		{"trusted", map[string]any{"ca": str(root.CertPEM), "servername": "localhost"}, "secureConnection"},
	} {
		for _, v := range []string{"TLSv1.3", "TLSv1.2"} {
			t.Run(c.name+"/"+v, func(t *testing.T) {
				opts := map[string]any{"maxVersion": v}
				for k, val := range c.opts {
					opts[k] = val
				}
				want := c.want
				if v == "TLSv1.2" {
					want = "secureConnection"
				}
				_, _, nodeSrv, goSrv := runClientParityServer(t, port, get, 1, opts, parity.ClientSpec{})
				assert.Equal(t, []string{want}, events(nodeSrv))
				assert.Equal(t, []string{want}, events(goSrv))
			})
		}
	}
}

// test-tls-client-renegotiation-limit: a client renegotiating against a node
// server; from the 4th renegotiation (CLIENT_RENEG_LIMIT 3) the server socket
// reports ERR_TLS_SESSION_ATTACK, which does not end the connection (the
// error unpipes the node server's echo, so the clients do not wait for one).
func TestInteropNodeServerRenegotiationLimit(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	port, get := parity.StartNodeServer(t, parity.ServerSpec{Options: map[string]any{
		"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM), "maxVersion": "TLSv1.2"}})
	opts := map[string]any{"ca": str(root.CertPEM), "servername": "localhost"}
	t.Run("client-renegotiation-limit/limit+1 renegotiations", func(t *testing.T) {
		node, goLines, nodeSrv, goSrv := runClientParityServer(t, port, get, 2, opts, parity.ClientSpec{Renegotiate: tls.ClientRenegLimit + 1, NoEcho: true})
		for _, ls := range [][]parity.Line{node, goLines} {
			assert.Len(t, linesOf(ls, "renegotiated"), tls.ClientRenegLimit+1)
		}
		for _, ls := range [][]parity.Line{nodeSrv, goSrv} {
			e := lineOf(ls, "socketError")
			require.NotNil(t, e, "server lines %v", ls)
			assert.Equal(t, "ERR_TLS_SESSION_ATTACK", e["code"])
			assert.Equal(t, "TLS session renegotiation attack detected", e["message"])
		}
	})
	t.Run("client-renegotiation-limit/within the limit", func(t *testing.T) {
		_, _, _, goSrv := runClientParityServer(t, port, get, 1, opts, parity.ClientSpec{Renegotiate: tls.ClientRenegLimit, NoEcho: true})
		assert.Equal(t, []string{"secureConnection"}, events(goSrv))
	})
}

// stallingConn passes the first limit bytes through and swallows the rest:
// a client that stops in the middle of its ClientHello.
type stallingConn struct {
	net.Conn
	mu    sync.Mutex
	limit int
}

func (s *stallingConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	n := min(len(p), s.limit)
	s.limit -= n
	s.mu.Unlock()
	if n > 0 {
		if _, err := s.Conn.Write(p[:n]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// test-tls-timeout-server: our client stalls in the middle of its ClientHello
// (NewTLSSocket over a connection that stops writing); the node server's
// handshakeTimeout reports ERR_TLS_HANDSHAKE_TIMEOUT through tlsClientError
// and its handler destroys the socket, which our client sees as ECONNRESET
// before the handshake.
func TestInteropNodeServerHandshakeTimeout(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	port, get := parity.StartNodeServer(t, parity.ServerSpec{Options: map[string]any{
		"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM), "handshakeTimeout": 300}})
	for _, limit := range []int{0, 10, 100} {
		raw, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(port)))
		require.NoError(t, err)
		s, err := tls.NewTLSSocket(&stallingConn{Conn: raw, limit: limit}, tls.TLSSocketOptions{
			SecureContextOptions: tls.SecureContextOptions{CA: root.CertPEM}, Servername: "localhost"})
		require.NoError(t, err)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		lines := serverLinesDuring(t, get, 1, func() { err = s.Handshake(ctx) })
		cancel()
		elapsed := time.Since(start)
		s.Close()
		assert.Equal(t, []string{"tlsClientError"}, events(lines), "stalled after %d bytes", limit)
		assert.Equal(t, "ERR_TLS_HANDSHAKE_TIMEOUT", lines[0]["code"])
		assert.Equal(t, "TLS handshake timeout", lines[0]["message"])
		assert.GreaterOrEqual(t, elapsed, 250*time.Millisecond)
		var te *tls.Error
		require.True(t, errors.As(err, &te), "%v", err)
		assert.Equal(t, "ECONNRESET", te.Code)
		assert.Equal(t, "Client network socket disconnected before secure TLS connection was established", te.Message)
	}
}
