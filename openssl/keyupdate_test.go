package openssl_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A TLS 1.3 KeyUpdate (asking the peer to update too) from either side while
// data flows both ways: every byte still arrives.
func TestKeyUpdate(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	for _, initiator := range []string{"server", "client"} {
		for _, tr := range transports {
			t.Run(initiator+"/"+tr, func(t *testing.T) {
				a, b := rawPair(t, tr)
				srv, cli, serr, cerr := handshakePair(t, a, b, serverContext(t, leaf, openssl.ContextOptions{}),
					clientContext(t, leaf.CAPEM, openssl.ContextOptions{}), openssl.ConnConfig{}, openssl.ConnConfig{})
				require.NoError(t, serr)
				require.NoError(t, cerr)
				closeBothAtEnd(t, srv, cli)
				require.Equal(t, "TLSv1.3", cli.Version())
				sRead, cRead := collect(srv), collect(cli)
				toSrv, toCli := randomBytes(512<<10), randomBytes(512<<10)
				var wg sync.WaitGroup
				var werrs [2]error
				wg.Add(2)
				go func() { defer wg.Done(); werrs[0] = writeChunks(cli, toSrv, 16<<10) }()
				go func() { defer wg.Done(); werrs[1] = writeChunks(srv, toCli, 16<<10) }()
				who := srv
				if initiator == "client" {
					who = cli
				}
				for i := 0; i < 3; i++ {
					eventually(t, "more data", func() bool { return sRead.len() > i*100<<10 && cRead.len() > i*100<<10 })
					require.NoError(t, who.KeyUpdate())
				}
				wg.Wait()
				require.NoError(t, werrs[0])
				require.NoError(t, werrs[1])
				require.NoError(t, cli.CloseWrite())
				require.NoError(t, srv.CloseWrite())
				got, err := sRead.wait(t)
				assert.ErrorIs(t, err, io.EOF)
				assert.True(t, bytes.Equal(toSrv, got), "server got %d of %d bytes", len(got), len(toSrv))
				got, err = cRead.wait(t)
				assert.ErrorIs(t, err, io.EOF)
				assert.True(t, bytes.Equal(toCli, got), "client got %d of %d bytes", len(got), len(toCli))
				// A KeyUpdate is not a handshake.
				assert.Equal(t, 1, srv.HandshakeCount())
				assert.Equal(t, 1, cli.HandshakeCount())
			})
		}
	}
	t.Run("TLS 1.2 has none", func(t *testing.T) {
		srv, cli, serr, cerr := tcpPair(t, serverContext(t, leaf, openssl.ContextOptions{MaxVersion: openssl.TLS1_2}),
			clientContext(t, leaf.CAPEM, openssl.ContextOptions{}), openssl.ConnConfig{}, openssl.ConnConfig{})
		require.NoError(t, serr)
		require.NoError(t, cerr)
		var oe *openssl.Error
		require.ErrorAs(t, cli.KeyUpdate(), &oe)
		assert.Equal(t, "wrong ssl version", oe.Reason)
		echoOnce(t, srv, cli)
	})
}
