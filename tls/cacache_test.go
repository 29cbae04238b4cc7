package tls_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/nodetls/nodetls/internal/opsrun"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCAOptionParsedOnce: contexts made from the same ca text (as
// tls.Connect makes one per connection) share its parsed certificates, and
// the texts kept for that are bounded.
func TestCAOptionParsedOnce(t *testing.T) {
	var cas [][]byte
	for range 3 {
		cas = append(cas, testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256}).CertPEM)
	}
	bundle := bytes.Join(cas, []byte("junk between blocks\n"))

	before := opsrun.SettledObjects()
	var ctxs []*tls.SecureContext
	for range 20 {
		sc, err := tls.CreateSecureContext(tls.SecureContextOptions{CA: bundle})
		require.NoError(t, err)
		ctxs = append(ctxs, sc)
	}
	during := opsrun.SettledObjects()
	// (At most: earlier tests' objects may still be going.)
	assert.LessOrEqual(t, during.X509, before.X509+3, "20 contexts on one 3-certificate ca text hold its 3 certificates")
	for _, sc := range ctxs {
		sc.Close()
	}

	// Each context still trusts exactly its own text's CAs.
	leaf := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256}).Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	for i, ca := range [][]byte{leaf.CAPEM, bundle} {
		srv, err := tls.CreateServer(tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM}},
			func(s *tls.Socket) { s.End() })
		require.NoError(t, err)
		require.NoError(t, srv.Listen("127.0.0.1:0"))
		_, port, err := splitHostPort(srv.Address().String())
		require.NoError(t, err)
		s, err := tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: port, Servername: "localhost",
			SecureContextOptions: tls.SecureContextOptions{CA: ca}, RejectUnauthorized: tls.Bool(false)})
		require.NoError(t, err)
		if i == 0 {
			assert.True(t, s.Authorized(), "the leaf's own CA")
		} else {
			assert.False(t, s.Authorized(), "another text's CAs")
		}
		s.Close()
		srv.Close()
	}

	// Contexts made at once from a few texts (under -race): each text is
	// kept once, whichever caller parsed it first.
	var few [][]byte
	for range 4 {
		few = append(few, testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256}).CertPEM)
	}
	beforeConcurrent := opsrun.SettledObjects()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				sc, err := tls.CreateSecureContext(tls.SecureContextOptions{CA: few[(g+i)%len(few)]})
				if !assert.NoError(t, err) {
					return
				}
				sc.Close()
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, opsrun.SettledObjects().X509, beforeConcurrent.X509+int64(len(few)), "one parsed copy of each text")

	// Many different texts: what is kept stays bounded.
	var texts [][]byte
	for range 100 {
		texts = append(texts, testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256}).CertPEM)
	}
	start := opsrun.SettledObjects()
	for _, ca := range texts {
		sc, err := tls.CreateSecureContext(tls.SecureContextOptions{CA: ca})
		require.NoError(t, err)
		sc.Close()
	}
	end := opsrun.SettledObjects()
	assert.LessOrEqual(t, end.X509, start.X509+32, "at most 32 texts are kept")
}
