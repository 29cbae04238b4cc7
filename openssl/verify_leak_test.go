package openssl_test

import (
	"net"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Verification, peer chains, host checks, renegotiation and connection info
// leave no OpenSSL object behind once everything is closed and freed.
func TestVerifyAndRenegotiationNoLeaks(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	inter := root.Intermediate(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := inter.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost", "127.0.0.1")
	cliLeaf := root.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true}, "client")

	round := func() {
		sctx, err := openssl.NewContext(openssl.ContextOptions{MaxVersion: openssl.TLS1_2, CA: root.CertPEM,
			KeyPairs: []openssl.KeyPair{{CertPEM: leaf.ChainPEM, KeyPEM: leaf.KeyPEM}}})
		require.NoError(t, err)
		cctx, err := openssl.NewContext(openssl.ContextOptions{CA: root.CertPEM,
			KeyPairs: []openssl.KeyPair{{CertPEM: cliLeaf.ChainPEM, KeyPEM: cliLeaf.KeyPEM}}})
		require.NoError(t, err)
		a, b := net.Pipe()
		srv, err := openssl.Server(a, sctx, openssl.ConnConfig{})
		require.NoError(t, err)
		cli, err := openssl.Client(b, cctx, openssl.ConnConfig{ServerName: "localhost"})
		require.NoError(t, err)
		sRead, cRead := collect(srv), collect(cli)
		require.NoError(t, srv.RenegotiateWith(openssl.RenegotiateOptions{RequestClientCert: true}))
		eventually(t, "the renegotiation", func() bool { return srv.HandshakeCount() == 2 && cli.HandshakeCount() == 2 })
		assert.Equal(t, int64(0), cli.VerifyResult())
		assert.Equal(t, int64(0), srv.VerifyResult())
		chain := cli.PeerCertificateChain()
		assert.Len(t, chain, 3)
		assert.NoError(t, openssl.CheckHost(chain[0], "localhost"))
		assert.NoError(t, openssl.CheckIP(chain[0], "127.0.0.1"))
		openssl.FreeCertificates(chain)
		peer := srv.PeerCertificate()
		require.NotNil(t, peer)
		peer.Free()
		_, err = cli.ExportKeyingMaterial(32, "EXPERIMENTAL-leak", nil, false)
		require.NoError(t, err)
		_ = cli.SharedSigalgNames()
		_ = cli.PeerEphemeralKey()
		require.NoError(t, cli.CloseWrite())
		require.NoError(t, srv.CloseWrite())
		sRead.wait(t)
		cRead.wait(t)
		srv.Close()
		cli.Close()
		sctx.Close()
		cctx.Close()
	}
	round() // warm up one-time allocations
	before := cbridge.LiveObjects()
	for i := 0; i < 10; i++ {
		round()
	}
	deadline := time.Now().Add(5 * time.Second)
	for cbridge.LiveObjects() != before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, before, cbridge.LiveObjects())
}
