package openssl_test

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// socketPair makes a connected pair over a TCP or Unix socket (read inside
// Go's poller, with pooled buffers).
type socketPair func(*testing.T, *openssl.Context, *openssl.Context, openssl.ConnConfig, openssl.ConnConfig) (*openssl.Conn, *openssl.Conn, error, error)

func tcpSocketPair(t *testing.T, sctx, cctx *openssl.Context, scfg, ccfg openssl.ConnConfig) (*openssl.Conn, *openssl.Conn, error, error) {
	return tcpPair(t, sctx, cctx, scfg, ccfg)
}

// TestSocketWriteBatchesRecords checks that on a TCP or Unix socket a Write
// of several records hands them to the socket together (one send, where one
// per record would cost a system call, a packet and a wake-up of the peer
// each), that a record-sized Write still goes out at once, and that every
// byte arrives in order. Each Write waits for the peer to have read the one
// before, so that the socket has room and nothing waits for a later flush.
func TestSocketWriteBatchesRecords(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	sctx := serverContext(t, leaf, openssl.ContextOptions{})
	for _, tt := range []struct {
		name string
		pair socketPair
		max  openssl.ProtocolVersion
		frag int // the client's max send fragment (0: OpenSSL's 16 KiB)
	}{
		{"tcp tls1.3", tcpSocketPair, openssl.TLS1_3, 0},
		{"tcp tls1.2", tcpSocketPair, openssl.TLS1_2, 0},
		{"unix tls1.3", unixPair, openssl.TLS1_3, 0},
		// Smaller records (Node's setMaxSendFragment): more of them per step,
		// still one send.
		{"tcp tls1.3 4 KiB records", tcpSocketPair, openssl.TLS1_3, 4096},
		{"tcp tls1.2 512-byte records", tcpSocketPair, openssl.TLS1_2, 512},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{MaxVersion: tt.max})
			srv, cli, serr, cerr := tt.pair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			record := 16384
			if tt.frag != 0 {
				require.True(t, cli.SetMaxSendFragment(tt.frag))
				record = tt.frag
			}
			s := newStream(t)

			// The server reads each Write's bytes whole and says so.
			sizes := make(chan int)
			read := make(chan error)
			go func() {
				defer close(read)
				buf := make([]byte, 1<<20)
				var off int64
				for n := range sizes {
					if _, err := io.ReadFull(srv, buf[:n]); err != nil {
						read <- err
						return
					}
					if !s.equal(buf[:n], off) {
						read <- io.ErrUnexpectedEOF
						return
					}
					off += int64(n)
					read <- nil
				}
			}()
			var off int64
			buf := make([]byte, 1<<20)
			write := func(n int) uint64 {
				t.Helper()
				before := openssl.TransportWrites(cli)
				s.fill(buf[:n], off)
				sizes <- n
				w, err := cli.Write(buf[:n])
				require.NoError(t, err)
				require.Equal(t, n, w)
				require.NoError(t, <-read, "the server's read of bytes %d..%d", off, off+int64(n))
				off += int64(n)
				return openssl.TransportWrites(cli) - before
			}

			// One record: one send.
			for i := 0; i < 20; i++ {
				assert.Equal(t, uint64(1), write(record), "sends for a one-record write")
			}
			// Four records or more (the engine's 64 KiB write step): one send,
			// not one per record; the socket may take a batch in two if it is
			// short of room, never in four.
			var sends uint64
			for i := 0; i < 50; i++ {
				sends += write(65536)
			}
			assert.LessOrEqual(t, sends, uint64(75), "sends for 50 writes of 64 KiB (%d records each)", 65536/record)
			// Two records.
			sends = 0
			for i := 0; i < 50; i++ {
				sends += write(record + record/4)
			}
			assert.LessOrEqual(t, sends, uint64(60), "sends for 50 writes of two records")
			// A megabyte: sixteen write steps of four records.
			sends = write(1 << 20)
			assert.LessOrEqual(t, sends, uint64(24), "sends for a 1 MiB write")
			close(sizes)
			<-read
		})
	}
}

// TestSmallReadsShareAStep checks that reads smaller than a record are served
// from the plaintext one step took (a step each would cost a cgo call per
// read), that every byte arrives in order, over a socket and over net.Pipe,
// and that the end of the stream comes after the last buffered byte.
func TestSmallReadsShareAStep(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	sctx := serverContext(t, leaf, openssl.ContextOptions{})
	cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{})
	for _, tt := range []struct {
		name string
		pair func(testing.TB, *openssl.Context, *openssl.Context, openssl.ConnConfig, openssl.ConnConfig) (*openssl.Conn, *openssl.Conn, error, error)
	}{
		{"tcp", tcpPair},
		{"pipe", pipePair},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, cli, serr, cerr := tt.pair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			s := newStream(t)
			const total = 256 << 10
			sent := make(chan error, 1)
			go func() {
				buf := make([]byte, total)
				s.fill(buf, 0)
				_, err := srv.Write(buf)
				if err == nil {
					err = srv.CloseWrite()
				}
				sent <- err
			}()
			before := openssl.Steps(cli)
			buf := make([]byte, 16)
			var off int64
			reads := 0
			for {
				n, err := cli.Read(buf[:1+reads%16])
				if n > 0 && !s.equal(buf[:n], off) {
					t.Fatalf("bytes %d..%d differ from what was sent", off, off+int64(n))
				}
				off += int64(n)
				reads++
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
			}
			require.NoError(t, <-sent)
			assert.Equal(t, int64(total), off)
			// 16 records: a step per record or two, and one per wait for
			// more; not one per read (about 30,000 reads).
			assert.Greater(t, reads, 25000)
			assert.Less(t, openssl.Steps(cli)-before, uint64(200), "steps for %d small reads", reads)
		})
	}
}

// TestRequestResponseOverSockets checks request/response on a TCP or Unix
// socket: every request and reply arrives whole, a round trip costs four
// engine steps (a Write one, and a Read one: a Read that finds OpenSSL with
// nothing to read on waits for input before its step), and a connection
// that waits for its peer, or has nothing to do, holds neither an input nor
// an output buffer.
func TestRequestResponseOverSockets(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	sctx := serverContext(t, leaf, openssl.ContextOptions{})
	for _, tt := range []struct {
		name string
		pair socketPair
		max  openssl.ProtocolVersion
	}{
		{"tcp tls1.3", tcpSocketPair, openssl.TLS1_3},
		{"tcp tls1.2", tcpSocketPair, openssl.TLS1_2},
		{"unix tls1.3", unixPair, openssl.TLS1_3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{MaxVersion: tt.max})
			srv, cli, serr, cerr := tt.pair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			const rounds, reqSize, replySize = 300, 64, 2048
			steps := openssl.Steps(cli) + openssl.Steps(srv)
			served := make(chan error, 1)
			go func() {
				req := make([]byte, reqSize)
				reply := make([]byte, replySize)
				for i := 0; ; i++ {
					if _, err := io.ReadFull(srv, req); err != nil {
						if i == rounds && err == io.EOF {
							err = nil
						}
						served <- err
						return
					}
					for j := range reply {
						reply[j] = req[j%reqSize] ^ byte(j)
					}
					if _, err := srv.Write(reply); err != nil {
						served <- err
						return
					}
				}
			}()
			req := make([]byte, reqSize)
			reply := make([]byte, replySize)
			for i := 0; i < rounds; i++ {
				for j := range req {
					req[j] = byte(i + j)
				}
				_, err := cli.Write(req)
				require.NoError(t, err)
				_, err = io.ReadFull(cli, reply)
				require.NoError(t, err)
				for j := range reply {
					if reply[j] != req[j%reqSize]^byte(j) {
						t.Fatalf("round %d: reply byte %d is wrong", i, j)
					}
				}
			}
			assert.LessOrEqual(t, openssl.Steps(cli)+openssl.Steps(srv)-steps, uint64(rounds*4+4), "engine steps")
			// The server waits in Read for a request that does not come; the
			// client has nothing to do.
			require.Eventually(t, func() bool {
				in, out := openssl.Buffers(srv)
				return !in && !out
			}, 10*time.Second, time.Millisecond, "a server waiting in Read holds a buffer")
			in, out := openssl.Buffers(cli)
			assert.False(t, in, "an idle client holds an input buffer")
			assert.False(t, out, "an idle client holds an output buffer")
			require.NoError(t, cli.CloseWrite())
			require.NoError(t, <-served)
		})
	}
}

// TestConcurrentReaders reads one connection from four goroutines at once,
// with reads from a byte to 64 KiB, as net.Conn allows: between them they
// get every byte once (the same count of each byte value as was sent), and
// each gets io.EOF after the peer's close_notify.
func TestConcurrentReaders(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	sctx := serverContext(t, leaf, openssl.ContextOptions{})
	cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{})
	for _, tt := range []struct {
		name string
		pair socketPair
	}{
		{"tcp", tcpSocketPair},
		{"unix", unixPair},
		{"pipe", func(t *testing.T, s, c *openssl.Context, sc, cc openssl.ConnConfig) (*openssl.Conn, *openssl.Conn, error, error) {
			return pipePair(t, s, c, sc, cc)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, cli, serr, cerr := tt.pair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			const total = 8 << 20
			s := newStream(t)
			var want [256]int
			sent := make(chan error, 1)
			go func() {
				buf := make([]byte, 100000)
				for off := int64(0); off < total; {
					n := min(int64(1+int(off)%len(buf)), total-off)
					s.fill(buf[:n], off)
					if _, err := srv.Write(buf[:n]); err != nil {
						sent <- err
						return
					}
					off += n
				}
				sent <- srv.CloseWrite()
			}()
			buf := make([]byte, total)
			s.fill(buf, 0)
			for _, b := range buf {
				want[b]++
			}
			type result struct {
				got [256]int
				err error
			}
			results := make(chan result, 4)
			for r := 0; r < 4; r++ {
				go func(size int) {
					var res result
					p := make([]byte, size)
					for {
						n, err := cli.Read(p)
						for _, b := range p[:n] {
							res.got[b]++
						}
						if err != nil {
							res.err = err
							results <- res
							return
						}
					}
				}([]int{1, 700, 16384, 65536}[r])
			}
			var got [256]int
			for r := 0; r < 4; r++ {
				select {
				case res := <-results:
					assert.ErrorIs(t, res.err, io.EOF)
					for i := range got {
						got[i] += res.got[i]
					}
				case <-time.After(60 * time.Second):
					t.Fatal("a reader did not finish")
				}
			}
			require.NoError(t, <-sent)
			assert.Equal(t, want, got)
		})
	}
}

// TestRecordsArriveInPieces runs request/response over TCP through a relay
// that passes the bytes on in pieces of 1 to 9 bytes, each its own write, so
// records (and their headers) arrive split at every point: every Read must
// wait for the rest of a record and then return it whole, in order, and a
// Read that waits after a Write must still get the answer (a step that finds
// only part of a record leaves OpenSSL with something to read on; a wait
// that follows a Write frees the record buffers, which must keep the part
// of a record they hold).
func TestRecordsArriveInPieces(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	sctx := serverContext(t, leaf, openssl.ContextOptions{})
	for _, max := range []openssl.ProtocolVersion{openssl.TLS1_3, openssl.TLS1_2} {
		t.Run(max.String(), func(t *testing.T) {
			cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{MaxVersion: max})
			craw, sraw := piecewiseRelay(t)
			srv, cli, serr, cerr := handshakePair(t, sraw, craw, sctx, cctx, openssl.ConnConfig{},
				openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			served := make(chan error, 1)
			go func() {
				// Echo: a 2-byte length, then that many bytes, back.
				var hdr [2]byte
				for {
					if _, err := io.ReadFull(srv, hdr[:]); err != nil {
						served <- err
						return
					}
					msg := make([]byte, int(hdr[0])<<8|int(hdr[1]))
					if _, err := io.ReadFull(srv, msg); err != nil {
						served <- err
						return
					}
					if _, err := srv.Write(append(hdr[:], msg...)); err != nil {
						served <- err
						return
					}
				}
			}()
			rng := rand.New(rand.NewPCG(7, uint64(max)))
			for i := range 60 {
				n := 1 + rng.IntN(3000)
				msg := make([]byte, 2+n)
				msg[0], msg[1] = byte(n>>8), byte(n)
				for j := 2; j < len(msg); j++ {
					msg[j] = byte(i*7 + j)
				}
				_, err := cli.Write(msg)
				require.NoError(t, err)
				got := make([]byte, len(msg))
				_, err = io.ReadFull(cli, got)
				require.NoError(t, err, "round %d", i)
				require.Equal(t, msg, got, "round %d", i)
			}
			t.Logf("steps: client %d server %d", openssl.Steps(cli), openssl.Steps(srv))
			require.NoError(t, cli.Close())
			assert.ErrorIs(t, <-served, io.EOF)
		})
	}
}

// piecewiseRelay returns the two ends of a TCP path through a relay that
// copies each direction in pieces of 1 to 9 bytes, one write each.
func piecewiseRelay(t *testing.T) (client, server net.Conn) {
	t.Helper()
	relayIn, client := rawTCP(t)
	server, relayOut := rawTCP(t)
	var wg sync.WaitGroup
	relay := func(dst, src net.Conn, seed uint64) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, seed))
		buf := make([]byte, 4096)
		for {
			n, err := src.Read(buf)
			for p := buf[:n]; len(p) > 0; {
				k := min(len(p), 1+rng.IntN(9))
				if _, werr := dst.Write(p[:k]); werr != nil {
					return
				}
				p = p[k:]
			}
			if err != nil {
				// Pass the end on: the reader sees what the writer did.
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				return
			}
		}
	}
	wg.Add(2)
	go relay(relayOut, relayIn, 1)
	go relay(relayIn, relayOut, 2)
	t.Cleanup(func() {
		for _, c := range []net.Conn{client, server, relayIn, relayOut} {
			c.Close()
		}
		wg.Wait()
	})
	return client, server
}
