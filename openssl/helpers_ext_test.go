package openssl_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/require"
)

// Shared helpers for the connection tests of package openssl_test.

// newPKI returns a CA and a leaf for localhost and 127.0.0.1 signed by it.
func newPKI(t testing.TB, opts testpki.Options) (*testpki.CA, *testpki.Leaf) {
	t.Helper()
	ca := testpki.NewCA(t, testpki.Options{Key: opts.Key})
	return ca, ca.Leaf(t, opts, "localhost", "127.0.0.1")
}

// serverContext makes a context serving leaf, with extra options applied first.
func serverContext(t testing.TB, leaf *testpki.Leaf, opts openssl.ContextOptions) *openssl.Context {
	t.Helper()
	opts.KeyPairs = append(opts.KeyPairs, openssl.KeyPair{CertPEM: leaf.ChainPEM, KeyPEM: leaf.KeyPEM})
	ctx, err := openssl.NewContext(opts)
	require.NoError(t, err)
	t.Cleanup(func() { ctx.Close() })
	return ctx
}

// clientContext makes a context trusting caPEM (none when empty).
func clientContext(t testing.TB, caPEM []byte, opts openssl.ContextOptions) *openssl.Context {
	t.Helper()
	opts.CA = caPEM
	ctx, err := openssl.NewContext(opts)
	require.NoError(t, err)
	t.Cleanup(func() { ctx.Close() })
	return ctx
}

// tcpPair connects a client and a server over loopback TCP and runs both
// handshakes; errors of each side are returned, not asserted.
func tcpPair(t testing.TB, sctx, cctx *openssl.Context, scfg, ccfg openssl.ConnConfig) (srv, cli *openssl.Conn, serr, cerr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	sraw := <-accepted
	require.NotNil(t, sraw)
	return handshakePair(t, sraw, raw, sctx, cctx, scfg, ccfg)
}

// pipePair is tcpPair over net.Pipe.
func pipePair(t testing.TB, sctx, cctx *openssl.Context, scfg, ccfg openssl.ConnConfig) (srv, cli *openssl.Conn, serr, cerr error) {
	t.Helper()
	a, b := net.Pipe()
	return handshakePair(t, a, b, sctx, cctx, scfg, ccfg)
}

func handshakePair(t testing.TB, sraw, craw net.Conn, sctx, cctx *openssl.Context, scfg, ccfg openssl.ConnConfig) (srv, cli *openssl.Conn, serr, cerr error) {
	t.Helper()
	srv, err := openssl.Server(sraw, sctx, scfg)
	require.NoError(t, err)
	cli, err = openssl.Client(craw, cctx, ccfg)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close(); cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); serr = srv.Handshake(ctx) }()
	go func() { defer wg.Done(); cerr = cli.Handshake(ctx) }()
	wg.Wait()
	return srv, cli, serr, cerr
}
