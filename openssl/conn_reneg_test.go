package openssl_test

import (
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client renegotiation against a server that sends no application data:
// ReadUntilHandshake returns once the second handshake is done, where Read
// would wait for data; data sent later is still read.
func TestConnReadUntilHandshake(t *testing.T) {
	ca, leaf := newPKI(t, testpki.Options{})
	sctx := serverContext(t, leaf, openssl.ContextOptions{MaxVersion: openssl.TLS1_2, Options: openssl.OpAllowClientRenegotiation})
	cctx := clientContext(t, ca.CertPEM, openssl.ContextOptions{})
	srv, cli, serr, cerr := tcpPair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{})
	require.NoError(t, serr)
	require.NoError(t, cerr)
	t.Cleanup(func() { srv.Close(); cli.Close() })

	// The server reads (which runs its side of the renegotiation) and
	// answers only when told to.
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 64)
		n, err := srv.Read(buf)
		if err == nil {
			got <- string(buf[:n])
			_, _ = srv.Write([]byte("pong"))
		}
	}()

	before := cli.HandshakeCount()
	require.NoError(t, cli.Renegotiate())
	require.NoError(t, cli.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 64)
	for cli.HandshakeCount() == before {
		n, err := cli.ReadUntilHandshake(buf, before)
		require.NoError(t, err)
		require.Zero(t, n, "the server sent no data")
	}
	assert.Equal(t, before+1, cli.HandshakeCount())

	_, err := cli.Write([]byte("ping"))
	require.NoError(t, err)
	assert.Equal(t, "ping", <-got)
	n, err := cli.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "pong", string(buf[:n]))
}

// PeerSentChain is what the server sent; a client resuming from DER has the
// peer's certificate but no sent chain.
func TestConnPeerSentChain(t *testing.T) {
	ca, leaf := newPKI(t, testpki.Options{})
	sctx := serverContext(t, leaf, openssl.ContextOptions{MaxVersion: openssl.TLS1_2})
	cctx := clientContext(t, ca.CertPEM, openssl.ContextOptions{})
	srv, cli, serr, cerr := tcpPair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{})
	require.NoError(t, serr)
	require.NoError(t, cerr)
	sent := cli.PeerSentChain()
	assert.Len(t, sent, 1)
	for _, c := range sent {
		c.Free()
	}
	assert.Empty(t, srv.PeerSentChain(), "the client sent no certificate")
	sess := cli.Session()
	require.NotNil(t, sess)
	der := sess.DER()
	sess.Free()
	srv.Close()
	cli.Close()

	parsed, err := openssl.ParseSession(der)
	require.NoError(t, err)
	srv, cli, serr, cerr = tcpPair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{Session: parsed})
	require.NoError(t, serr)
	require.NoError(t, cerr)
	t.Cleanup(func() { srv.Close(); cli.Close() })
	require.True(t, cli.SessionReused())
	peer := cli.PeerCertificate()
	require.NotNil(t, peer, "the session keeps the server's certificate")
	peer.Free()
	assert.Empty(t, cli.PeerSentChain(), "but not the chain it sent")
}
