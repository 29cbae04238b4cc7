package tls_test

import (
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdleConnectionMemory: what an idle connection costs a server that
// holds many. 200 connections (a nodetls client and a nodetls server
// socket each, in this process) handshake (TLS 1.3, then TLS 1.2), echo a
// byte and wait in Read, as a server's handler and its client do; the Go
// heap and the C heap (OpenSSL's objects and buffers) must each grow by less
// than a bound per connection. Both sockets together measure about 4-10 KiB
// of Go heap and 46-51 KiB of C heap; the bounds fail if an idle connection
// keeps its input window (64 KiB each: server sockets must be read inside
// Go's poller, which gives the window back before waiting) or its output
// window (about 115 KiB each), or if one of the two sockets keeps one of
// OpenSSL's record buffers (about 17 KiB each: a Read that finds OpenSSL with
// nothing to read on waits without a step, so the wait must free a buffer
// that a Write took since the last read step).
//
// Not parallel: it reads process-wide heap figures.
func TestIdleConnectionMemory(t *testing.T) {
	if cbridge.MallocInUse() < 0 {
		t.Fatal("this C library does not report its heap (mallinfo2)")
	}
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	for _, version := range []string{"TLSv1.3", "TLSv1.2"} {
		t.Run(version, func(t *testing.T) {
			const n = 200
			held := make(chan *tls.Socket, n)
			srv, err := tls.CreateServer(tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{
				Key: leaf.KeyPEM, Cert: leaf.ChainPEM, MaxVersion: version}}, func(s *tls.Socket) {
				b := make([]byte, 1)
				if _, err := io.ReadFull(s, b); err == nil {
					_, _ = s.Write(b)
				}
				held <- s
				// Then wait for more, as a server's handler does.
				_, _ = s.Read(b)
			})
			require.NoError(t, err)
			require.NoError(t, srv.Listen("127.0.0.1:0"))
			defer srv.Close()
			_, port, _ := splitHostPort(srv.Address().String())

			var reading sync.WaitGroup
			defer reading.Wait()
			connect := func() *tls.Socket {
				s, err := tls.Connect(tls.ConnectOptions{Port: port, Host: "127.0.0.1", Servername: "localhost",
					SecureContextOptions: tls.SecureContextOptions{CA: ca.CertPEM, MaxVersion: version}})
				require.NoError(t, err)
				_, err = s.Write([]byte{'x'})
				require.NoError(t, err)
				b := make([]byte, 1)
				_, err = io.ReadFull(s, b)
				require.NoError(t, err)
				// Then wait for what the server may send.
				reading.Add(1)
				go func() {
					defer reading.Done()
					_, _ = s.Read(b)
				}()
				return s
			}
			// One connection first, so that what is made once (contexts,
			// the server's goroutines, pools) is in the baseline.
			first := connect()
			defer first.Close()
			(<-held).Close()

			goBase, cBase := heapInUse()
			clients := make([]*tls.Socket, 0, n)
			servers := make([]*tls.Socket, 0, n)
			defer func() {
				for _, s := range append(clients, servers...) {
					s.Close()
				}
			}()
			for range n {
				clients = append(clients, connect())
			}
			timeout := time.After(30 * time.Second)
			for len(servers) < n {
				select {
				case s := <-held:
					servers = append(servers, s)
				case <-timeout:
					t.Fatalf("%d of %d server sockets", len(servers), n)
				}
			}
			goNow, cNow := heapInUse()
			goPer, cPer := (goNow-goBase)/n, (cNow-cBase)/n
			t.Logf("per connection (client and server socket): Go heap %d bytes, C heap %d bytes", goPer, cPer)
			assert.Less(t, goPer, int64(24<<10), "Go heap per connection")
			assert.Less(t, cPer, int64(cHeapBound), "C heap per connection")
		})
	}
}

// cHeapBound is the C heap an idle connection (both sockets) may hold: 46-51
// KiB measured, 64-67 KiB when one socket kept its write buffer.
const cHeapBound = 58 << 10

// heapInUse returns the live Go heap after a collection and the C heap in use.
func heapInUse() (goHeap, cHeap int64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc), cbridge.MallocInUse()
}
