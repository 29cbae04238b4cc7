package openssl_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// net.Conn behaviour of openssl.Conn: deadlines, Close and CloseWrite,
// errors, handshakes (implicit, concurrent, cancelled) and hostile peers.

// connEnv is a server and client context pair for these tests.
type connEnv struct {
	sctx, cctx *openssl.Context
	ccfg       openssl.ConnConfig
}

func newConnEnv(t *testing.T) *connEnv {
	t.Helper()
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	return &connEnv{
		sctx: serverContext(t, leaf, openssl.ContextOptions{}),
		cctx: clientContext(t, leaf.CAPEM, openssl.ContextOptions{}),
		ccfg: openssl.ConnConfig{ServerName: "localhost"},
	}
}

// rawTCP returns the two ends of a loopback TCP connection, closed at cleanup.
func rawTCP(t *testing.T) (srv, cli net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	cli, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	srv = <-accepted
	require.NotNil(t, srv)
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return srv, cli
}

// opaque hides a connection's type: over it, openssl.Conn takes its general
// path (window BIO) even when the connection is a socket.
type opaque struct{ net.Conn }

// netTransports are the kinds of transport the table tests run over: TCP
// (read inside Go's poller), TCP seen through another type (read through its
// Read), and
// net.Pipe (synchronous, no half-close).
var netTransports = []struct {
	name string
	raw  func(t *testing.T) (srv, cli net.Conn)
}{
	{"tcp", rawTCP},
	{"tcp-window", func(t *testing.T) (net.Conn, net.Conn) {
		s, c := rawTCP(t)
		return opaque{s}, opaque{c}
	}},
	{"pipe", func(t *testing.T) (net.Conn, net.Conn) {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	}},
}

// established returns a handshaken pair over the transport.
func (e *connEnv) established(t *testing.T, raw func(*testing.T) (net.Conn, net.Conn)) (srv, cli *openssl.Conn) {
	t.Helper()
	sraw, craw := raw(t)
	srv, cli, serr, cerr := handshakePair(t, sraw, craw, e.sctx, e.cctx, openssl.ConnConfig{}, e.ccfg)
	require.NoError(t, serr)
	require.NoError(t, cerr)
	closeTransportsFirst(t, sraw, craw)
	return srv, cli
}

// unstarted returns a pair over the transport that has not handshaken yet.
func (e *connEnv) unstarted(t *testing.T, raw func(*testing.T) (net.Conn, net.Conn)) (srv, cli *openssl.Conn) {
	t.Helper()
	sraw, craw := raw(t)
	srv, err := openssl.Server(sraw, e.sctx, openssl.ConnConfig{})
	require.NoError(t, err)
	cli, err = openssl.Client(craw, e.cctx, e.ccfg)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close(); cli.Close() })
	closeTransportsFirst(t, sraw, craw)
	return srv, cli
}

// sendAndRead writes msg on from while to reads, and asserts that to read
// exactly msg.
func sendAndRead(t *testing.T, from, to *openssl.Conn, msg string) {
	t.Helper()
	ch := goRead(to, len(msg)+100)
	_, err := from.Write([]byte(msg))
	require.NoError(t, err)
	r := waitRead(t, ch)
	require.NoError(t, r.err)
	assert.Equal(t, msg, string(r.data))
}

// closeTransportsFirst ends a test by closing the netTransports before the
// Conns' own cleanup: over net.Pipe a close_notify to a peer that is not
// reading would wait for Close's write timeout.
func closeTransportsFirst(t *testing.T, raws ...net.Conn) {
	t.Cleanup(func() {
		for _, r := range raws {
			r.Close()
		}
	})
}

// goRead reads once in the background.
func goRead(c *openssl.Conn, size int) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		buf := make([]byte, size)
		n, err := c.Read(buf)
		ch <- readResult{buf[:n], err}
	}()
	return ch
}

type readResult struct {
	data []byte
	err  error
}

func waitRead(t *testing.T, ch <-chan readResult) readResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not return")
		return readResult{}
	}
}

func TestConnReadDeadline(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli := e.established(t, tr.raw)
			require.NoError(t, cli.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
			start := time.Now()
			n, err := cli.Read(make([]byte, 10))
			assert.Zero(t, n)
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			var ne net.Error
			if assert.ErrorAs(t, err, &ne) {
				assert.True(t, ne.Timeout())
			}
			assert.Less(t, time.Since(start), 5*time.Second)

			// A deadline in the past fails at once, and again.
			require.NoError(t, cli.SetReadDeadline(time.Now().Add(-time.Second)))
			_, err = cli.Read(make([]byte, 10))
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)

			// Extended, the connection reads again.
			require.NoError(t, cli.SetReadDeadline(time.Time{}))
			sendAndRead(t, srv, cli, "after the deadline")

			// SetDeadline covers reads too.
			require.NoError(t, srv.SetDeadline(time.Now().Add(30*time.Millisecond)))
			_, err = srv.Read(make([]byte, 10))
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			require.NoError(t, srv.SetDeadline(time.Time{}))
			sendAndRead(t, cli, srv, "and back")
		})
	}
}

func TestConnWriteDeadline(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name, func(t *testing.T) {
			_, cli := e.established(t, tr.raw)
			// Nobody reads on the server: the write fills the transport and stops.
			require.NoError(t, cli.SetWriteDeadline(time.Now().Add(100*time.Millisecond)))
			big := make([]byte, 32<<20)
			start := time.Now()
			n, err := cli.Write(big)
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			var ne net.Error
			if assert.ErrorAs(t, err, &ne) {
				assert.True(t, ne.Timeout())
			}
			assert.Less(t, n, len(big))
			assert.Less(t, time.Since(start), 10*time.Second)
			// Part of a record may have gone out: the stream cannot go on.
			require.NoError(t, cli.SetWriteDeadline(time.Time{}))
			_, err = cli.Write([]byte("x"))
			assert.Error(t, err)
		})
	}
}

func TestConnCloseSendsCloseNotify(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli := e.established(t, tr.raw)
			ch := goRead(srv, 10)
			require.NoError(t, cli.Close())
			r := waitRead(t, ch)
			assert.Equal(t, io.EOF, r.err, "the peer's close_notify reads as io.EOF")
			// io.EOF stays.
			_, err := srv.Read(make([]byte, 10))
			assert.Equal(t, io.EOF, err)
		})
	}
}

func TestConnClosed(t *testing.T) {
	e := newConnEnv(t)
	srv, cli := e.established(t, rawTCP)
	_ = srv
	require.NoError(t, cli.Close())
	assert.ErrorIs(t, cli.Close(), net.ErrClosed, "second Close")
	_, err := cli.Read(make([]byte, 1))
	assert.ErrorIs(t, err, net.ErrClosed, "Read after Close")
	_, err = cli.Write([]byte("x"))
	assert.ErrorIs(t, err, net.ErrClosed, "Write after Close")
	assert.ErrorIs(t, cli.CloseWrite(), net.ErrClosed, "CloseWrite after Close")
	assert.ErrorIs(t, cli.KeyUpdate(), net.ErrClosed, "KeyUpdate after Close")

	// Closed before any handshake.
	sraw, craw := rawTCP(t)
	_ = sraw
	c, err := openssl.Client(craw, e.cctx, e.ccfg)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Handshake(context.Background()), net.ErrClosed)
	_, err = c.Write([]byte("x"))
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.ErrorIs(t, c.Close(), net.ErrClosed)
}

func TestConnCloseUnblocks(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name+" read", func(t *testing.T) {
			srv, cli := e.established(t, tr.raw)
			go io.Copy(io.Discard, srv) // takes the close_notify
			ch := goRead(cli, 10)
			time.Sleep(50 * time.Millisecond)
			start := time.Now()
			require.NoError(t, cli.Close())
			r := waitRead(t, ch)
			assert.ErrorIs(t, r.err, net.ErrClosed)
			assert.Less(t, time.Since(start), 2*time.Second)
		})
		t.Run(tr.name+" write", func(t *testing.T) {
			_, cli := e.established(t, tr.raw)
			done := make(chan error, 1)
			go func() {
				_, err := cli.Write(make([]byte, 32<<20)) // the server never reads
				done <- err
			}()
			// Close only closes the transport under a Write in progress
			// (Close's doc): wait until there is one, however slow the start.
			require.Eventually(t, func() bool { return openssl.Writers(cli) > 0 }, 10*time.Second, time.Millisecond)
			time.Sleep(100 * time.Millisecond)
			start := time.Now()
			cli.Close()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, net.ErrClosed)
			case <-time.After(10 * time.Second):
				t.Fatal("Write did not return after Close")
			}
			assert.Less(t, time.Since(start), 2*time.Second, "Close does not wait for a blocked Write")
		})
		t.Run(tr.name+" handshake", func(t *testing.T) {
			_, craw := tr.raw(t) // the server end stays silent
			c, err := openssl.Client(craw, e.cctx, e.ccfg)
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- c.Handshake(context.Background()) }()
			time.Sleep(50 * time.Millisecond)
			c.Close()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, net.ErrClosed)
			case <-time.After(10 * time.Second):
				t.Fatal("Handshake did not return after Close")
			}
		})
	}
}

func TestConnCloseWrite(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli := e.established(t, tr.raw)
			ch := goRead(srv, 10)
			require.NoError(t, cli.CloseWrite())
			r := waitRead(t, ch)
			assert.Equal(t, io.EOF, r.err, "close_notify ends the server's reading")
			_, err := cli.Write([]byte("x"))
			assert.Error(t, err, "no writing after CloseWrite")

			// The other direction still works.
			sendAndRead(t, srv, cli, "still here")

			ch = goRead(cli, 100)
			require.NoError(t, srv.Close())
			r = waitRead(t, ch)
			assert.Equal(t, io.EOF, r.err)
			assert.NoError(t, cli.Close())
		})
	}
}

func TestConnTruncated(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli := e.established(t, tr.raw)
			ch := goRead(cli, 10)
			// The transport ends without a close_notify.
			require.NoError(t, srv.Transport().Close())
			r := waitRead(t, ch)
			var te *openssl.TruncatedError
			assert.ErrorAs(t, r.err, &te)
			assert.ErrorIs(t, r.err, io.ErrUnexpectedEOF)
			assert.NotErrorIs(t, r.err, io.EOF, "a truncation is not a clean end")
		})
	}
}

// A peer that ends its side of the transport without a close_notify gets
// no alert back, as from Node (which never shows OpenSSL the end): OpenSSL
// would answer with a fatal decode_error, which a Node peer reports as an
// 'error' on its socket. Both after the handshake and during it.
func TestConnTruncatedSendsNoAlert(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports[:2] { // net.Pipe cannot half-close
		halfClose := func(c net.Conn) error {
			if o, ok := c.(opaque); ok {
				c = o.Conn
			}
			return c.(*net.TCPConn).CloseWrite()
		}
		// rest is what the peer's raw side gets from cli until it closes.
		rest := func(t *testing.T, raw net.Conn, cli *openssl.Conn) []byte {
			require.NoError(t, cli.Close())
			require.NoError(t, raw.SetReadDeadline(time.Now().Add(10*time.Second)))
			b, err := io.ReadAll(raw)
			require.NoError(t, err)
			return b
		}
		t.Run(tr.name+"/established", func(t *testing.T) {
			sraw, craw := tr.raw(t)
			srv, cli, serr, cerr := handshakePair(t, sraw, craw, e.sctx, e.cctx, openssl.ConnConfig{}, e.ccfg)
			require.NoError(t, serr)
			require.NoError(t, cerr)
			closeTransportsFirst(t, sraw, craw)
			_, err := srv.Write([]byte("hi"))
			require.NoError(t, err)
			require.NoError(t, halfClose(sraw))
			got := make([]byte, 2)
			_, err = io.ReadFull(cli, got)
			require.NoError(t, err)
			assert.Equal(t, "hi", string(got))
			_, err = cli.Read(got)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.Empty(t, rest(t, sraw, cli), "the client answered the end with a record")
		})
		t.Run(tr.name+"/handshake", func(t *testing.T) {
			sraw, craw := tr.raw(t)
			closeTransportsFirst(t, sraw, craw)
			cli, err := openssl.Client(craw, e.cctx, e.ccfg)
			require.NoError(t, err)
			hs := make(chan error, 1)
			go func() { hs <- cli.Handshake(context.Background()) }()
			// Take the ClientHello's record header, then end.
			hdr := make([]byte, 5)
			_, err = io.ReadFull(sraw, hdr)
			require.NoError(t, err)
			require.Equal(t, byte(22), hdr[0], "a handshake record")
			_, err = io.ReadFull(sraw, make([]byte, int(hdr[3])<<8|int(hdr[4])))
			require.NoError(t, err)
			require.NoError(t, halfClose(sraw))
			assert.Error(t, <-hs)
			assert.Empty(t, rest(t, sraw, cli), "the client answered the end with a record")
		})
	}
}

func TestConnHandshakeContext(t *testing.T) {
	e := newConnEnv(t)
	// A peer that accepts the connection and never answers.
	silent := func(t *testing.T) net.Conn {
		_, craw := rawTCP(t)
		return craw
	}
	t.Run("cancel", func(t *testing.T) {
		c, err := openssl.Client(silent(t), e.cctx, e.ccfg)
		require.NoError(t, err)
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		err = c.Handshake(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 5*time.Second)
		// The connection stays failed.
		assert.ErrorIs(t, c.Handshake(context.Background()), context.Canceled)
		_, err = c.Read(make([]byte, 1))
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("context deadline", func(t *testing.T) {
		c, err := openssl.Client(silent(t), e.cctx, e.ccfg)
		require.NoError(t, err)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err = c.Handshake(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("already cancelled", func(t *testing.T) {
		c, err := openssl.Client(silent(t), e.cctx, e.ccfg)
		require.NoError(t, err)
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, c.Handshake(ctx), context.Canceled)
	})
	t.Run("transport deadline", func(t *testing.T) {
		c, err := openssl.Client(silent(t), e.cctx, e.ccfg)
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.SetDeadline(time.Now().Add(50*time.Millisecond)))
		err = c.Handshake(context.Background())
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	})
	t.Run("server side", func(t *testing.T) {
		sraw, _ := rawTCP(t)
		s, err := openssl.Server(sraw, e.sctx, openssl.ConnConfig{})
		require.NoError(t, err)
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, s.Handshake(ctx), context.DeadlineExceeded)
	})
	t.Run("finished before cancel", func(t *testing.T) {
		srv, cli := e.established(t, rawTCP)
		ctx, cancel := context.WithCancel(context.Background())
		require.NoError(t, cli.Handshake(ctx))
		cancel()
		// Cancelling after the handshake changes nothing.
		sendAndRead(t, cli, srv, "ok")
	})
}

func TestConnImplicitHandshake(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli := e.unstarted(t, tr.raw)
			assert.False(t, cli.HandshakeComplete())

			// The server's first Read and the client's first Write handshake.
			sendAndRead(t, cli, srv, "ping")
			// And the other way round.
			sendAndRead(t, srv, cli, "pong")
			assert.True(t, cli.HandshakeComplete())
			assert.True(t, srv.HandshakeComplete())
			assert.Equal(t, "TLSv1.3", cli.Version())
		})
	}
}

func TestConnConcurrentHandshake(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli := e.unstarted(t, tr.raw)
			const n = 8
			errs := make([]error, 2*n)
			var wg sync.WaitGroup
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i := 0; i < n; i++ {
				wg.Add(2)
				go func() { defer wg.Done(); errs[i] = cli.Handshake(ctx) }()
				go func() { defer wg.Done(); errs[n+i] = srv.Handshake(ctx) }()
			}
			wg.Wait()
			for i, err := range errs {
				assert.NoError(t, err, "call %d", i)
			}
			assert.Equal(t, 1, cli.HandshakeCount())
			assert.Equal(t, 1, srv.HandshakeCount())
		})
	}
}

// readRecord reads one TLS record from c.
func readRecord(c io.Reader) ([]byte, error) {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	return append(hdr, body...), nil
}

// clientHello returns the first flight of a real client: one ClientHello record.
func clientHello(t *testing.T, e *connEnv) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	c, err := openssl.Client(b, e.cctx, e.ccfg)
	require.NoError(t, err)
	defer c.Close()
	go c.Handshake(context.Background())
	rec, err := readRecord(a)
	require.NoError(t, err)
	require.Equal(t, byte(22), rec[0], "a handshake record")
	return rec
}

func TestConnGarbagePeer(t *testing.T) {
	e := newConnEnv(t)
	junk := make([]byte, 4096)
	_, err := rand.Read(junk)
	require.NoError(t, err)
	junk[0] = 0x80 // not a valid record type, nor an SSLv2 hello
	hello := clientHello(t, e)
	for _, tr := range netTransports {
		cases := []struct {
			name string
			send []byte
		}{
			{"http request", []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")},
			{"random bytes", junk},
			{"record header with junk", []byte{22, 3, 1, 0, 8, 1, 0, 0, 4, 'j', 'u', 'n', 'k'}},
			{"oversized record", []byte{22, 3, 3, 0xff, 0xff}},
			{"alert then junk", []byte{21, 3, 3, 0, 2, 2, 40, 0xde, 0xad}},
			{"hello then junk", append(append([]byte{}, hello...), junk[:100]...)},
			{"nothing", nil},
		}
		for _, tc := range cases {
			t.Run(tr.name+" server gets "+tc.name, func(t *testing.T) {
				sraw, craw := tr.raw(t)
				go func() {
					craw.Write(tc.send)
					if tc.send == nil {
						craw.Close()
					}
					io.Copy(io.Discard, craw)
				}()
				s, err := openssl.Server(sraw, e.sctx, openssl.ConnConfig{})
				require.NoError(t, err)
				defer s.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = s.Handshake(ctx)
				require.Error(t, err)
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "the handshake fails by itself")
				_, err = s.Read(make([]byte, 1))
				assert.Error(t, err)
			})
			t.Run(tr.name+" client gets "+tc.name, func(t *testing.T) {
				sraw, craw := tr.raw(t)
				go func() {
					readRecord(sraw) // the ClientHello
					sraw.Write(tc.send)
					if tc.send == nil {
						sraw.Close()
					}
					io.Copy(io.Discard, sraw)
				}()
				c, err := openssl.Client(craw, e.cctx, e.ccfg)
				require.NoError(t, err)
				defer c.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = c.Handshake(ctx)
				require.Error(t, err)
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "the handshake fails by itself")
			})
		}
	}
}

func TestConnStalledPeer(t *testing.T) {
	e := newConnEnv(t)
	hello := clientHello(t, e)
	cases := []struct {
		name string
		send []byte
	}{
		{"half a ClientHello", hello[:len(hello)/2]},
		{"a record header", hello[:5]},
		{"a whole ClientHello", hello}, // then no Finished
	}
	for _, tc := range cases {
		t.Run(tc.name+" deadline", func(t *testing.T) {
			sraw, craw := rawTCP(t)
			_, err := craw.Write(tc.send)
			require.NoError(t, err)
			s, err := openssl.Server(sraw, e.sctx, openssl.ConnConfig{})
			require.NoError(t, err)
			defer s.Close()
			require.NoError(t, s.SetDeadline(time.Now().Add(100*time.Millisecond)))
			start := time.Now()
			err = s.Handshake(context.Background())
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
		t.Run(tc.name+" context", func(t *testing.T) {
			sraw, craw := rawTCP(t)
			_, err := craw.Write(tc.send)
			require.NoError(t, err)
			s, err := openssl.Server(sraw, e.sctx, openssl.ConnConfig{})
			require.NoError(t, err)
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			assert.ErrorIs(t, s.Handshake(ctx), context.DeadlineExceeded)
		})
	}
}

// A fatal error on one direction is the error of the other direction too,
// and the peer is told with an alert.
func TestConnErrorsAreSticky(t *testing.T) {
	e := newConnEnv(t)
	for _, tr := range netTransports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli := e.established(t, tr.raw)
			ch := goRead(cli, 10)
			// A record the client cannot decrypt: forged application data.
			_, err := srv.Transport().Write([]byte{23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
			require.NoError(t, err)
			r := waitRead(t, ch)
			var oe *openssl.Error
			require.ErrorAs(t, r.err, &oe)
			assert.True(t, oe.HasReason("decryption failed or bad record mac"), "client got %v", r.err)
			_, err = cli.Read(make([]byte, 10))
			assert.Equal(t, r.err, err, "Read fails the same way again")
			_, err = cli.Write([]byte("x"))
			assert.True(t, errors.Is(err, r.err), "Write reports the same failure: %v", err)
			_, err = srv.Read(make([]byte, 10))
			require.ErrorAs(t, err, &oe)
			assert.True(t, oe.HasReason("sslv3 alert bad record mac"), "server got %v", err)
		})
	}
}

// TestConnLastFlightAfterHandshakeDone: the output of the step that ends a
// handshake reaches the peer only after OnHandshakeDone has run, so a side
// that judges its peer there and aborts never sends its last flight (as
// Node, which judges before writing it): a TLS 1.2 server's Finished, a
// TLS 1.3 client's Finished. The peer's handshake then fails.
func TestConnLastFlightAfterHandshakeDone(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	for _, tr := range netTransports {
		for _, c := range []struct {
			name    string
			version openssl.ProtocolVersion
			server  bool // the aborting side
		}{
			{"TLS 1.2 server", openssl.TLS1_2, true},
			{"TLS 1.3 client", openssl.TLS1_3, false},
		} {
			t.Run(tr.name+"/"+c.name, func(t *testing.T) {
				opts := openssl.ContextOptions{MinVersion: c.version, MaxVersion: c.version}
				sctx := serverContext(t, leaf, opts)
				cctx := clientContext(t, leaf.CAPEM, opts)
				var self *openssl.Conn
				var aborted atomic.Int32
				abort := func(n int) {
					aborted.Add(1)
					_ = self.Abort()
				}
				scfg, ccfg := openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"}
				if c.server {
					scfg.OnHandshakeDone = abort
				} else {
					ccfg.OnHandshakeDone = abort
				}
				sraw, craw := tr.raw(t)
				srv, err := openssl.Server(sraw, sctx, scfg)
				require.NoError(t, err)
				cli, err := openssl.Client(craw, cctx, ccfg)
				require.NoError(t, err)
				t.Cleanup(func() { srv.Close(); cli.Close() })
				self, peer := srv, cli
				if !c.server {
					self, peer = cli, srv
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				done := make(chan error, 1)
				go func() { done <- self.Handshake(ctx) }()
				perr := peer.Handshake(ctx)
				<-done
				assert.Equal(t, int32(1), aborted.Load())
				assert.Error(t, perr, "the peer finished its handshake: it got the last flight")
				assert.NotErrorIs(t, perr, context.DeadlineExceeded)
			})
		}
	}
}
