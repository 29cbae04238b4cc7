package openssl

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type testCert struct {
	certPEM, keyPEM []byte
	cert            *Certificate
	key             *PrivateKey
}

func makeTestCert(t *testing.T) *testCert {
	t.Helper()
	dir := t.TempDir()
	opensslCLI(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=localhost", "-days", "2",
		"-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
	tc := &testCert{}
	tc.certPEM, _ = os.ReadFile(filepath.Join(dir, "cert.pem"))
	tc.keyPEM, _ = os.ReadFile(filepath.Join(dir, "key.pem"))
	certs, err := ParseCertificatesPEM(tc.certPEM)
	require.NoError(t, err)
	tc.cert = certs[0]
	tc.key, err = ParsePrivateKeyPEM(tc.keyPEM, nil)
	require.NoError(t, err)
	t.Cleanup(func() { tc.cert.Free(); tc.key.Free() })
	return tc
}

func pipePair(t *testing.T, sctx, cctx *Context, scfg, ccfg ConnConfig) (*Conn, *Conn) {
	t.Helper()
	a, b := net.Pipe()
	srv, err := Server(a, sctx, scfg)
	require.NoError(t, err)
	cli, err := Client(b, cctx, ccfg)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return srv, cli
}

func TestConnPipeEcho(t *testing.T) {
	tc := makeTestCert(t)
	sctx, err := NewContext(ContextOptions{KeyPairs: []KeyPair{{CertPEM: tc.certPEM, KeyPEM: tc.keyPEM}}})
	require.NoError(t, err)
	cctx, err := NewContext(ContextOptions{})
	require.NoError(t, err)
	// Closed here, not by the garbage collector during another test's leak count.
	t.Cleanup(func() { sctx.Close(); cctx.Close() })
	srv, cli := pipePair(t, sctx, cctx, ConnConfig{}, ConnConfig{ServerName: "localhost"})
	serverDone := make(chan error, 1)
	go func() {
		// Over net.Pipe the server's handshake ends when the client reads the
		// TLS 1.3 tickets the server sends after it, so it runs beside the client.
		if err := srv.Handshake(context.Background()); err != nil {
			serverDone <- err
			return
		}
		serverDone <- nil
		buf := make([]byte, 1024)
		for {
			n, err := srv.Read(buf)
			if err != nil {
				srv.CloseWrite()
				return
			}
			if _, err := srv.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	require.NoError(t, cli.Handshake(context.Background()))
	assert.Equal(t, "TLSv1.3", cli.Version())
	ci, ok := cli.Cipher()
	require.True(t, ok)
	assert.Equal(t, "TLS_AES_256_GCM_SHA384", ci.Name)
	msg := []byte("hello, tls")
	_, err = cli.Write(msg)
	require.NoError(t, err)
	got := make([]byte, len(msg))
	_, err = io.ReadFull(cli, got)
	require.NoError(t, err)
	assert.Equal(t, msg, got)
	require.NoError(t, <-serverDone)
	assert.Equal(t, "localhost", srv.ServerName())
	require.NoError(t, cli.CloseWrite())
	_, err = cli.Read(got)
	assert.ErrorIs(t, err, io.EOF)
}

func TestConnBulkBothWays(t *testing.T) {
	tc := makeTestCert(t)
	sctx, err := NewContext(ContextOptions{KeyPairs: []KeyPair{{CertPEM: tc.certPEM, KeyPEM: tc.keyPEM}}})
	require.NoError(t, err)
	cctx, err := NewContext(ContextOptions{})
	require.NoError(t, err)
	// Closed here, not by the garbage collector during another test's leak count.
	t.Cleanup(func() { sctx.Close(); cctx.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			ch <- res{nil, err}
			return
		}
		c, err := Server(raw, sctx, ConnConfig{})
		ch <- res{c, err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	cli, err := Client(raw, cctx, ConnConfig{})
	require.NoError(t, err)
	r := <-ch
	require.NoError(t, r.err)
	srv := r.c
	defer srv.Close()
	defer cli.Close()

	const size = 8 << 20
	data := make([]byte, size)
	_, _ = rand.Read(data)
	var wg sync.WaitGroup
	var got1, got2 bytes.Buffer
	var e1, e2, e3, e4 error
	wg.Add(4)
	go func() { defer wg.Done(); _, e1 = cli.Write(data); cli.CloseWrite() }()
	go func() { defer wg.Done(); _, e2 = srv.Write(data); srv.CloseWrite() }()
	go func() { defer wg.Done(); _, e3 = io.Copy(&got1, srv) }()
	go func() { defer wg.Done(); _, e4 = io.Copy(&got2, cli) }()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("bulk transfer hung")
	}
	require.NoError(t, e1)
	require.NoError(t, e2)
	require.NoError(t, e3)
	require.NoError(t, e4)
	assert.True(t, bytes.Equal(data, got1.Bytes()), "server received what the client sent")
	assert.True(t, bytes.Equal(data, got2.Bytes()), "client received what the server sent")
}
