package tls_test

import (
	"context"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ConnectContext gives up when its context ends: during a handshake the
// server never answers, and before it starts; the half-open connection is
// closed.
func TestConnectContextCancels(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := tls.ConnectContext(ctx, tls.ConnectOptions{Host: "127.0.0.1", Port: port})
	require.Error(t, err)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	select {
	case c := <-accepted:
		defer c.Close()
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err := io.Copy(io.Discard, c) // the ClientHello, then the end
		assert.NoError(t, err, "the client closed its connection")
	case <-time.After(5 * time.Second):
		t.Fatal("the client never connected")
	}

	done, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	_, err = tls.ConnectContext(done, tls.ConnectOptions{Host: "127.0.0.1", Port: port})
	assert.ErrorIs(t, err, context.Canceled)
}

// A refused connection is Node's ECONNREFUSED, and the *tls.Error unwraps
// to the system error.
func TestConnectRefusedUnwraps(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: port})
	var te *tls.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "ECONNREFUSED", te.Code)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// Serve on a listener made elsewhere, the 'connection' event, Emit of an
// accepted connection, and the socket's addresses, Encrypted and crypto/x509
// views of both certificates.
func TestServerServeEmitAndSocketViews(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	client := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "client"})
	serverSockets := make(chan *tls.Socket, 2)
	srv, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM, CA: ca.CertPEM},
		RequestCert:          true,
	}, func(s *tls.Socket) {
		serverSockets <- s
		_, _ = io.Copy(s, s)
		s.Close()
	})
	require.NoError(t, err)
	raw := make(chan net.Conn, 2)
	srv.OnConnection(func(c net.Conn) { raw <- c })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	opts := tls.ConnectOptions{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Servername: "localhost",
		SecureContextOptions: tls.SecureContextOptions{CA: ca.CertPEM, Key: client.KeyPEM, Cert: client.ChainPEM}}
	s, err := tls.Connect(opts)
	require.NoError(t, err)
	echo(t, s, "over Serve")
	var rc net.Conn
	select {
	case rc = <-raw:
	case <-time.After(5 * time.Second):
		t.Fatal("no 'connection' event")
	}
	assert.Equal(t, ln.Addr().String(), s.RemoteAddr().String())
	assert.Equal(t, rc.RemoteAddr().String(), s.LocalAddr().String())
	assert.True(t, s.Encrypted())
	peer := s.GetPeerX509Certificate()
	require.NotNil(t, peer)
	assert.Equal(t, "localhost", peer.Subject.CommonName)
	own := s.GetX509Certificate()
	require.NotNil(t, own)
	assert.Equal(t, "client", own.Subject.CommonName)
	ss := <-serverSockets
	assert.Equal(t, "localhost", ss.GetX509Certificate().Subject.CommonName)
	assert.Equal(t, "client", ss.GetPeerX509Certificate().Subject.CommonName)
	assert.True(t, ss.Authorized())
	require.NoError(t, s.Close())

	// Emit: a connection accepted elsewhere (here one end of a pipe).
	a, b := net.Pipe()
	srv.Emit(a)
	opts.Socket = b
	s2, err := tls.Connect(opts)
	require.NoError(t, err)
	echo(t, s2, "over Emit")
	require.NoError(t, s2.Close())

	require.NoError(t, srv.Close())
	select {
	case err := <-served:
		assert.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
}

// OnSecure fires once per completed handshake of a socket whose handshake
// has not run yet (NewTLSSocket); without a certificate the local x509 view
// is nil.
func TestTLSSocketOnSecure(t *testing.T) {
	leaf := testpki.NewCA(t, testpki.Options{}).Leaf(t, testpki.Options{}, "localhost")
	srv := echoServer(t, tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM}})
	conn, err := net.Dial("tcp", srv.Address().String())
	require.NoError(t, err)
	s, err := tls.NewTLSSocket(conn, tls.TLSSocketOptions{Servername: "localhost",
		SecureContextOptions: tls.SecureContextOptions{CA: leaf.CAPEM}, RejectUnauthorized: tls.Bool(true)})
	require.NoError(t, err)
	defer s.Close()
	secure := make(chan struct{}, 2)
	s.OnSecure(func() { secure <- struct{}{} })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Handshake(ctx))
	select {
	case <-secure:
	case <-time.After(5 * time.Second):
		t.Fatal("no 'secure' event")
	}
	assert.Nil(t, s.GetX509Certificate())
	assert.Len(t, secure, 0, "one 'secure' event per handshake")
}

// echo writes a line to s and reads it back.
func echo(t *testing.T, s *tls.Socket, line string) {
	t.Helper()
	require.NoError(t, s.SetDeadline(time.Now().Add(10*time.Second)))
	_, err := s.Write([]byte(line))
	require.NoError(t, err)
	got := make([]byte, len(line))
	_, err = io.ReadFull(s, got)
	require.NoError(t, err)
	assert.Equal(t, line, string(got))
}
