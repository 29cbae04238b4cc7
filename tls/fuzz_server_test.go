package tls_test

import (
	gotls "crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/require"
)

// FuzzServerHostileClient sends a mutated first flight (real ClientHellos
// of TLS 1.3 and 1.2 with SNI, ALPN, PSK identities and a session id, from
// nodetls and crypto/tls clients) to a tls.Server with every handler a
// ClientHello reaches — SNICallback, ALPNCallback, PSKCallback, resumeSession,
// OCSPRequest, a client certificate request, keylog — then ends its side of
// the connection. The server must end the connection by itself, promptly,
// and stay up: a real client then completes a handshake and an echo. A
// hostile client costs one connection, never the server.
func FuzzServerHostileClient(f *testing.F) {
	port, clientTLS := hostileClientServer(f)
	for _, hello := range hostileClientSeeds(f) {
		f.Add(hello)
		f.Add(hello[:len(hello)/2])
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
	f.Add([]byte{21, 3, 3, 0, 2, 2, 40})
	f.Add([]byte{0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15}) // an SSLv2-style header
	f.Fuzz(func(t *testing.T, input []byte) {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		require.NoError(t, err)
		defer c.Close()
		_, _ = c.Write(input) // the server may already have closed
		require.NoError(t, c.(*net.TCPConn).CloseWrite())
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, err = io.Copy(io.Discard, c)
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server kept the connection open")

		// The server still serves.
		cli, err := gotls.Dial("tcp", net.JoinHostPort("127.0.0.1", port), clientTLS)
		require.NoError(t, err, "a real client after the hostile one")
		defer cli.Close()
		require.NoError(t, cli.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = cli.Write([]byte("ping"))
		require.NoError(t, err)
		buf := make([]byte, 4)
		_, err = io.ReadFull(cli, buf)
		require.NoError(t, err)
		require.Equal(t, "ping", string(buf))
	})
}

// hostileClientServer starts the server FuzzServerHostileClient attacks and
// returns its port and a crypto/tls configuration that reaches it.
func hostileClientServer(t testing.TB) (string, *gotls.Config) {
	t.Helper()
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, OCSPServer: []string{"http://ocsp.example/"}}, "localhost")
	other := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "sni.example")
	otherCtx, err := tls.CreateSecureContext(tls.SecureContextOptions{Key: other.KeyPEM, Cert: other.ChainPEM})
	require.NoError(t, err)
	t.Cleanup(func() { otherCtx.Close() })
	key := []byte("0123456789abcdef0123456789abcdef")
	reject := false
	var sessions sync.Map
	srv, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM, CA: ca.CertPEM,
			Ciphers: "PSK+HIGH:" + tls.DefaultCiphers},
		RequestCert: true, RejectUnauthorized: &reject,
		SNICallback: func(name string) (*tls.SecureContext, error) {
			switch {
			case name == "sni.example":
				return otherCtx, nil
			case strings.HasPrefix(name, "fail"):
				return nil, errors.New("no context for " + name)
			}
			return nil, nil
		},
		ALPNCallback: func(_ string, protocols []string) (string, bool) {
			if len(protocols) == 0 || protocols[0] == "refuse" {
				return "", false
			}
			return protocols[len(protocols)-1], true
		},
		PSKCallback: func(_ *tls.Socket, identity string) []byte {
			if identity == "id" {
				return key
			}
			return nil
		},
		PSKIdentityHint:  "hint",
		HandshakeTimeout: 5 * time.Second,
	}, func(s *tls.Socket) {
		defer s.Close()
		_, _ = io.Copy(s, s)
	})
	require.NoError(t, err)
	srv.OnNewSession(func(id, data []byte) { sessions.Store(string(id), data) })
	srv.OnResumeSession(func(id []byte) []byte {
		if v, ok := sessions.Load(string(id)); ok {
			return v.([]byte)
		}
		return nil
	})
	srv.OnOCSPRequest(func(cert, issuer []byte) ([]byte, error) { return []byte("a stapled response"), nil })
	srv.OnKeylog(func([]byte, *tls.Socket) {})
	srv.OnTLSClientError(func(err error, s *tls.Socket) {
		if s != nil {
			s.Destroy()
		}
	})
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() { srv.Close() })
	_, port, err := net.SplitHostPort(srv.Address().String())
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca.CertPEM))
	return port, &gotls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"}}
}

// hostileClientSeeds are first flights of real clients: nodetls with SNI,
// ALPN and a PSK (TLS 1.3, and TLS 1.2 with PSK suites), and crypto/tls.
func hostileClientSeeds(t testing.TB) [][]byte {
	t.Helper()
	key := []byte("0123456789abcdef0123456789abcdef")
	psk := func(string) ([]byte, string, bool) { return key, "id", true }
	var seeds [][]byte
	for _, opts := range []tls.ConnectOptions{
		{Servername: "sni.example", ALPNProtocols: []string{"x", "h2"}, PSKCallback: psk,
			SecureContextOptions: tls.SecureContextOptions{Ciphers: "PSK+HIGH:" + tls.DefaultCiphers}},
		{Servername: "localhost", ALPNProtocols: []string{"http/1.1"}, RequestOCSP: true,
			SecureContextOptions: tls.SecureContextOptions{MaxVersion: "TLSv1.2", Ciphers: "PSK-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"},
			PSKCallback:          psk},
	} {
		seeds = append(seeds, firstFlight(t, func(c net.Conn) {
			opts.Socket = c
			if s, err := tls.Connect(opts); err == nil {
				s.Destroy()
			}
		}))
	}
	seeds = append(seeds, firstFlight(t, func(c net.Conn) {
		_ = gotls.Client(c, &gotls.Config{ServerName: "fail.example", NextProtos: []string{"refuse"}}).Handshake()
	}))
	return seeds
}

// firstFlight runs client over one end of a pipe and returns what it sends
// before it waits for an answer.
func firstFlight(t testing.TB, client func(net.Conn)) []byte {
	t.Helper()
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		client(a)
	}()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		require.NoError(t, b.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
		n, err := b.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	b.Close()
	a.Close()
	<-done
	require.NotEmpty(t, out)
	return out
}
