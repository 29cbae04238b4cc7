package openssl_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collector reads a connection to the end in the background.
type collector struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	err  error
	done chan struct{}
}

func collect(c *openssl.Conn) *collector {
	col := &collector{done: make(chan struct{})}
	go func() {
		defer close(col.done)
		b := make([]byte, 4096)
		for {
			n, err := c.Read(b)
			col.mu.Lock()
			col.buf.Write(b[:n])
			if err != nil {
				col.err = err
				col.mu.Unlock()
				return
			}
			col.mu.Unlock()
		}
	}()
	return col
}

// wait waits for the reader to end and returns what it read and why it ended.
func (col *collector) wait(t testing.TB) ([]byte, error) {
	t.Helper()
	select {
	case <-col.done:
	case <-time.After(20 * time.Second):
		t.Fatal("reader did not finish")
	}
	return col.buf.Bytes(), col.err
}

func (col *collector) len() int {
	col.mu.Lock()
	defer col.mu.Unlock()
	return col.buf.Len()
}

// handshakeCounter records OnHandshakeStart/OnHandshakeDone: the highest n
// each reported, and how many calls each had. The hooks run after the step
// that saw the event, on whichever goroutine ran it, so two of them may
// arrive out of order (start 3 before start 2): the highest n, not the last
// one, is the count.
type handshakeCounter struct {
	starts, dones         atomic.Int32
	startCalls, doneCalls atomic.Int32
}

func storeMax(v *atomic.Int32, n int32) {
	for old := v.Load(); n > old && !v.CompareAndSwap(old, n); old = v.Load() {
	}
}

func (h *handshakeCounter) config(cfg openssl.ConnConfig) openssl.ConnConfig {
	cfg.OnHandshakeStart = func(n int) { h.startCalls.Add(1); storeMax(&h.starts, int32(n)) }
	cfg.OnHandshakeDone = func(n int) { h.doneCalls.Add(1); storeMax(&h.dones, int32(n)) }
	return cfg
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// writeChunks writes data in pieces, pausing between them, so that writes
// overlap whatever the peer does meanwhile.
func writeChunks(c *openssl.Conn, data []byte, chunk int) error {
	for len(data) > 0 {
		n := min(chunk, len(data))
		if _, err := c.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
		time.Sleep(time.Millisecond)
	}
	return nil
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type renegSetup struct {
	srv, cli       *openssl.Conn
	sHooks, cHooks *handshakeCounter
}

func renegPair(t *testing.T, tr string, sopts, copts openssl.ContextOptions, scfg, ccfg openssl.ConnConfig) renegSetup {
	t.Helper()
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	if sopts.MaxVersion == 0 {
		sopts.MaxVersion = openssl.TLS1_2
	}
	var r renegSetup
	r.sHooks, r.cHooks = &handshakeCounter{}, &handshakeCounter{}
	a, b := rawPair(t, tr)
	var serr, cerr error
	r.srv, r.cli, serr, cerr = handshakePair(t, a, b, serverContext(t, leaf, sopts), clientContext(t, leaf.CAPEM, copts),
		r.sHooks.config(scfg), r.cHooks.config(ccfg))
	require.NoError(t, serr)
	require.NoError(t, cerr)
	closeBothAtEnd(t, r.srv, r.cli)
	return r
}

// Renegotiation while data flows both ways: every byte arrives, and both
// sides count the second handshake.
func TestRenegotiation(t *testing.T) {
	for _, initiator := range []string{"server", "client"} {
		for _, tr := range transports {
			t.Run(initiator+"/"+tr, func(t *testing.T) {
				r := renegPair(t, tr, openssl.ContextOptions{Options: openssl.OpAllowClientRenegotiation}, openssl.ContextOptions{},
					openssl.ConnConfig{}, openssl.ConnConfig{})
				assert.Equal(t, 1, r.srv.HandshakeCount())
				assert.Equal(t, 1, r.cli.HandshakeCount())
				sRead, cRead := collect(r.srv), collect(r.cli)
				toSrv, toCli := randomBytes(256<<10), randomBytes(256<<10)
				var wg sync.WaitGroup
				var werrs [2]error
				wg.Add(2)
				go func() { defer wg.Done(); werrs[0] = writeChunks(r.cli, toSrv, 8<<10) }()
				go func() { defer wg.Done(); werrs[1] = writeChunks(r.srv, toCli, 8<<10) }()

				eventually(t, "some data", func() bool { return sRead.len() > 0 && cRead.len() > 0 })
				who := r.srv
				if initiator == "client" {
					who = r.cli
				}
				require.NoError(t, who.Renegotiate())
				eventually(t, "the renegotiation", func() bool { return r.srv.HandshakeCount() == 2 && r.cli.HandshakeCount() == 2 })
				wg.Wait()
				require.NoError(t, werrs[0])
				require.NoError(t, werrs[1])
				require.NoError(t, r.cli.CloseWrite())
				require.NoError(t, r.srv.CloseWrite())
				got, err := sRead.wait(t)
				assert.ErrorIs(t, err, io.EOF)
				assert.True(t, bytes.Equal(toSrv, got), "server got %d of %d bytes", len(got), len(toSrv))
				got, err = cRead.wait(t)
				assert.ErrorIs(t, err, io.EOF)
				assert.True(t, bytes.Equal(toCli, got), "client got %d of %d bytes", len(got), len(toCli))
				assert.Equal(t, int32(2), r.sHooks.dones.Load())
				assert.Equal(t, int32(2), r.cHooks.dones.Load())
				// A server's HelloRequest is a handshake start of its own in
				// OpenSSL (Node's renegotiation limit counts it too); its done
				// is not counted while the renegotiation is pending.
				wantServerStarts := int32(2)
				if initiator == "server" {
					wantServerStarts = 3
				}
				// The hooks run after the step that saw the event, on whichever
				// goroutine ran it: a start may be reported after the done
				// another goroutine's step saw.
				// Every start is reported, once.
				eventually(t, "the handshake starts", func() bool {
					return r.sHooks.starts.Load() == wantServerStarts && r.cHooks.starts.Load() == 2 &&
						r.sHooks.startCalls.Load() == wantServerStarts && r.cHooks.startCalls.Load() == 2
				})
				assert.Equal(t, int32(2), r.sHooks.doneCalls.Load())
				assert.Equal(t, int32(2), r.cHooks.doneCalls.Load())
			})
		}
	}
}

// A side that starts a renegotiation and then only writes (nobody reads on
// its side) must still finish it: its Write reads the peer's handshake
// messages, and application data the peer sent meanwhile is kept for the
// next Read.
func TestRenegotiationWriterOnly(t *testing.T) {
	for _, initiator := range []string{"server", "client"} {
		for _, tr := range transports {
			t.Run(initiator+"/"+tr, func(t *testing.T) {
				r := renegPair(t, tr, openssl.ContextOptions{Options: openssl.OpAllowClientRenegotiation}, openssl.ContextOptions{},
					openssl.ConnConfig{}, openssl.ConnConfig{})
				writer, peer := r.cli, r.srv
				if initiator == "server" {
					writer, peer = r.srv, r.cli
				}
				peerRead := collect(peer)
				fromPeer := randomBytes(64 << 10)
				var perr error
				peerDone := make(chan struct{})
				go func() { defer close(peerDone); perr = writeChunks(peer, fromPeer, 4<<10) }()

				require.NoError(t, writer.Renegotiate())
				toPeer := randomBytes(256 << 10)
				require.NoError(t, writeChunks(writer, toPeer, 16<<10))
				// Now read what the peer sent while we were writing (over
				// net.Pipe the peer may still be waiting to send the rest).
				got := make([]byte, len(fromPeer))
				_, err := io.ReadFull(writer, got)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(fromPeer, got))
				<-peerDone
				require.NoError(t, perr)
				require.NoError(t, writer.CloseWrite())
				rest, err := peerRead.wait(t)
				assert.ErrorIs(t, err, io.EOF)
				assert.True(t, bytes.Equal(toPeer, rest), "peer got %d of %d bytes", len(rest), len(toPeer))
				assert.Equal(t, 2, writer.HandshakeCount())
				assert.Equal(t, 2, peer.HandshakeCount())

			})
		}
	}
}

// A client that has read a HelloRequest and, in the same read, the data
// after it starts its handshake at its next Read or Write: OpenSSL leaves
// the handshake for later while unread data waits. Data the server sends
// meanwhile arrives before the ServerHello: the client's Write keeps it for
// Read instead of failing the connection with "unexpected record".
func TestRenegotiationHelloRequestThenClientWrite(t *testing.T) {
	r := renegPair(t, "tcp", openssl.ContextOptions{}, openssl.ContextOptions{}, openssl.ConnConfig{}, openssl.ConnConfig{})
	x, y, z := randomBytes(100), randomBytes(200), randomBytes(300)
	// The HelloRequest and x are both in the client's socket before it reads.
	require.NoError(t, r.srv.Renegotiate())
	_, err := r.srv.Write(x)
	require.NoError(t, err)
	got := make([]byte, len(x))
	_, err = io.ReadFull(r.cli, got)
	require.NoError(t, err)
	require.Equal(t, x, got)
	require.Equal(t, 1, r.cli.HandshakeCount(), "the client's handshake waits for its next read or write")

	// y goes out before the server reads the ClientHello, so it reaches the
	// client ahead of the ServerHello.
	_, err = r.srv.Write(y)
	require.NoError(t, err)
	sRead := collect(r.srv)
	_, err = r.cli.Write(z)
	require.NoError(t, err)
	assert.Equal(t, 2, r.cli.HandshakeCount())
	got = make([]byte, len(y))
	_, err = io.ReadFull(r.cli, got)
	require.NoError(t, err)
	assert.Equal(t, y, got)
	require.NoError(t, r.cli.CloseWrite())
	rest, err := sRead.wait(t)
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, z, rest)
	assert.Equal(t, 2, r.srv.HandshakeCount())
}

// OpenSSL 3 servers refuse client-initiated renegotiation unless
// OpAllowClientRenegotiation is set; DisableRenegotiation and
// OpNoRenegotiation refuse it even then. The server answers with a
// no_renegotiation warning and carries on; the client fails.
func TestClientRenegotiationRefused(t *testing.T) {
	cases := []struct {
		name    string
		sopts   openssl.ContextOptions
		disable bool
	}{
		{"not allowed (OpenSSL 3 default)", openssl.ContextOptions{}, false},
		{"OpNoRenegotiation", openssl.ContextOptions{Options: openssl.OpAllowClientRenegotiation | openssl.OpNoRenegotiation}, false},
		{"DisableRenegotiation", openssl.ContextOptions{Options: openssl.OpAllowClientRenegotiation}, true},
	}
	for _, c := range cases {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr, func(t *testing.T) {
				r := renegPair(t, tr, c.sopts, openssl.ContextOptions{}, openssl.ConnConfig{}, openssl.ConnConfig{})
				if c.disable {
					r.srv.DisableRenegotiation()
				}
				sRead := collect(r.srv)
				require.NoError(t, r.cli.Renegotiate())
				_, err := r.cli.Read(make([]byte, 16))
				var oe *openssl.Error
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, "no renegotiation", oe.Reason)
				// The client gives up on the handshake with a fatal alert.
				_, serr := sRead.wait(t)
				require.ErrorAs(t, serr, &oe)
				assert.Equal(t, "sslv3 alert handshake failure", oe.Reason)
				// The server saw the refused ClientHello as a handshake that
				// started and ended (the start is what Node's
				// ERR_TLS_RENEGOTIATION_DISABLED hangs on); the client's second
				// handshake never finished.
				assert.Equal(t, int32(2), r.sHooks.starts.Load())
				assert.Equal(t, int32(2), r.sHooks.dones.Load())
				assert.Equal(t, int32(2), r.cHooks.starts.Load())
				assert.Equal(t, int32(1), r.cHooks.dones.Load())
				assert.Equal(t, 1, r.cli.HandshakeCount())
			})
		}
	}
}

// Renegotiation does not exist in TLS 1.3.
func TestRenegotiationTLS13(t *testing.T) {
	r := renegPair(t, "tcp", openssl.ContextOptions{MaxVersion: openssl.TLS1_3}, openssl.ContextOptions{}, openssl.ConnConfig{}, openssl.ConnConfig{})
	for _, c := range []*openssl.Conn{r.srv, r.cli} {
		err := c.Renegotiate()
		var oe *openssl.Error
		require.True(t, errors.As(err, &oe), "%v", err)
		assert.Equal(t, "wrong ssl version", oe.Reason)
	}
	echoOnce(t, r.srv, r.cli)
}

// A server asks for a client certificate only in a renegotiation (Node's
// renegotiate({requestCert: true})): the new handshake brings it.
func TestRenegotiationRequestsClientCert(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	cliLeaf := root.Leaf(t, testpki.Options{ClientAuth: true}, "client")
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			r := renegPair(t, tr, openssl.ContextOptions{CA: root.CertPEM},
				openssl.ContextOptions{KeyPairs: []openssl.KeyPair{{CertPEM: cliLeaf.ChainPEM, KeyPEM: cliLeaf.KeyPEM}}},
				openssl.ConnConfig{}, openssl.ConnConfig{})
			assert.Nil(t, r.srv.PeerCertificate())
			sRead, cRead := collect(r.srv), collect(r.cli)
			require.NoError(t, r.srv.RenegotiateWith(openssl.RenegotiateOptions{RequestClientCert: true, RequireClientCert: true}))
			eventually(t, "the renegotiation", func() bool { return r.srv.HandshakeCount() == 2 })
			peer := r.srv.PeerCertificate()
			require.NotNil(t, peer)
			defer peer.Free()
			assert.Equal(t, derOf(t, cliLeaf.Cert), derOf(t, peer))
			assert.Equal(t, "OK", openssl.VerifyCodeName(r.srv.VerifyResult()))
			assert.False(t, r.srv.SessionReused())
			_, err := r.cli.Write([]byte("after"))
			require.NoError(t, err)
			eventually(t, "data", func() bool { return sRead.len() == 5 })
			_ = cRead
		})
	}
	t.Run("client cannot request", func(t *testing.T) {
		r := renegPair(t, "tcp", openssl.ContextOptions{}, openssl.ContextOptions{}, openssl.ConnConfig{}, openssl.ConnConfig{})
		assert.Error(t, r.cli.RenegotiateWith(openssl.RenegotiateOptions{RequestClientCert: true}))
	})
}

// A client that refuses renegotiation answers the server's HelloRequest with
// a no_renegotiation warning; an OpenSSL server treats it as fatal.
func TestServerRenegotiationRefusedByClient(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			r := renegPair(t, tr, openssl.ContextOptions{}, openssl.ContextOptions{}, openssl.ConnConfig{}, openssl.ConnConfig{})
			r.cli.DisableRenegotiation()
			sRead, cRead := collect(r.srv), collect(r.cli)
			require.NoError(t, r.srv.Renegotiate())
			_, serr := sRead.wait(t)
			var oe *openssl.Error
			require.ErrorAs(t, serr, &oe)
			assert.Equal(t, "no renegotiation", oe.Reason)
			_, cerr := cRead.wait(t)
			require.ErrorAs(t, cerr, &oe)
			assert.Equal(t, "sslv3 alert handshake failure", oe.Reason)
			// As with a server refusing a ClientHello, OpenSSL reports the
			// refused HelloRequest as a handshake that started and ended.
			assert.Equal(t, int32(2), r.cHooks.starts.Load())
			assert.Equal(t, int32(2), r.cHooks.dones.Load())
		})
	}
}

// Every renegotiation is counted, so the tls layer can apply Node's limit
// (3 client renegotiations per 10 minutes) from OnHandshakeStart.
func TestRenegotiationCounting(t *testing.T) {
	r := renegPair(t, "tcp", openssl.ContextOptions{Options: openssl.OpAllowClientRenegotiation}, openssl.ContextOptions{}, openssl.ConnConfig{}, openssl.ConnConfig{})
	sRead, cRead := collect(r.srv), collect(r.cli)
	for i := 2; i <= 5; i++ {
		require.NoError(t, r.cli.Renegotiate())
		eventually(t, "a renegotiation", func() bool { return r.srv.HandshakeCount() == i && r.cli.HandshakeCount() == i })
		// The hooks run just after the step that saw the handshake.
		eventually(t, "its hooks", func() bool { return r.sHooks.starts.Load() == int32(i) && r.sHooks.dones.Load() == int32(i) })
	}
	require.NoError(t, r.cli.CloseWrite())
	require.NoError(t, r.srv.CloseWrite())
	sRead.wait(t)
	cRead.wait(t)
}
