package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// workload is one protocol version and cipher suite under test.
type workload struct {
	name    string // as printed
	version string // "1.2" or "1.3"
	cipher  string // OpenSSL's name, which nodetls, C and node report
	goName  string // crypto/tls's name of the same suite
	goSuite uint16
}

// result is what one contender measured in one run.
type result struct {
	bytes      int64 // throughput runs
	handshakes int   // handshake runs
	roundtrips int   // request/response runs
	seconds    float64
	cipher     string // the suite the connection negotiated
	version    string
	cpu        float64 // CPU seconds (user+system) the whole run took, both ends
}

// contender is one TLS implementation under test.
type contender interface {
	Name() string
	// Throughput moves bytes over one loopback TCP connection in chunk-sized
	// writes, client to server (c2s) or server to client, and times it from the
	// end of both handshakes until the receiver has the last byte.
	Throughput(w workload, dir string, bytes int64, chunk, read int) (result, error)
	// Handshakes runs n full handshakes one after another, each on a new
	// loopback TCP connection: the server handshakes and closes (close_notify),
	// the client handshakes and reads to the end.
	Handshakes(w workload, n int) (result, error)
	// RoundTrips runs n request/response exchanges on one loopback TCP
	// connection: the client writes a request of rrRequest bytes, the server
	// reads it whole and writes a reply of reply bytes, the client reads the
	// reply whole, and again. It is timed from the end of both handshakes
	// until the client has the last reply.
	RoundTrips(w workload, n, reply int) (result, error)
	// AEAD seals and opens bytes in chunk-sized records with the cipher
	// alone (AES-128-GCM), on one thread, no TLS: the cryptography of a bulk
	// transfer of bytes. errNoAEAD if the contender has no cipher of its own.
	AEAD(bytes int64, chunk int) (result, error)
}

// rrRequest is the size of a request in RoundTrips (as the C program's
// RR_REQUEST and node's).
const rrRequest = 64

// tlsConn is what the in-process contenders make of a TCP connection.
type tlsConn interface {
	net.Conn
	Handshake(ctx context.Context) error
	Negotiated() (cipher, version string)
}

// goContender runs both ends of a Go-hosted TLS implementation in this process.
type goContender struct {
	name string
	// setup returns functions that wrap a TCP connection as the client or the
	// server end of w.
	setup setupFunc
	pki   *pki
	// aead runs the aead job; nil if the contender's cipher is another's.
	aead func(bytes int64, chunk int) (result, error)
}

func (g *goContender) Name() string { return g.name }

func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// pair connects a client and a server over loopback TCP and handshakes both.
func pair(ln net.Listener, client, server func(net.Conn) (tlsConn, error)) (cli, srv tlsConn, err error) {
	type acc struct {
		c   tlsConn
		err error
	}
	ch := make(chan acc, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			ch <- acc{nil, err}
			return
		}
		c, err := server(raw)
		if err == nil {
			err = c.Handshake(context.Background())
		}
		ch <- acc{c, err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	cli, err = client(raw)
	if err == nil {
		err = cli.Handshake(context.Background())
	}
	a := <-ch
	if err == nil {
		err = a.err
	}
	if err != nil {
		if cli != nil {
			cli.Close()
		}
		if a.c != nil {
			a.c.Close()
		}
		return nil, nil, err
	}
	return cli, a.c, nil
}

func (g *goContender) Throughput(w workload, dir string, bytes int64, chunk, read int) (result, error) {
	cpu0 := cpuTime()
	r, err := g.throughput(w, dir, bytes, chunk, read)
	r.cpu = cpuTime() - cpu0
	return r, err
}

func (g *goContender) RoundTrips(w workload, n, reply int) (result, error) {
	cpu0 := cpuTime()
	r, err := g.roundTrips(w, n, reply)
	r.cpu = cpuTime() - cpu0
	return r, err
}

func (g *goContender) AEAD(bytes int64, chunk int) (result, error) {
	if g.aead == nil {
		return result{}, errNoAEAD
	}
	cpu0 := cpuTime()
	r, err := g.aead(bytes, chunk)
	r.cpu = cpuTime() - cpu0
	return r, err
}

func (g *goContender) Handshakes(w workload, n int) (result, error) {
	cpu0 := cpuTime()
	r, err := g.handshakes(w, n)
	r.cpu = cpuTime() - cpu0
	return r, err
}

// cpuTime is the user+system CPU time of this process so far, in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// connected runs f on a client and a server end of w, connected over
// loopback TCP and past their handshakes, and closes both afterwards.
func (g *goContender) connected(w workload, f func(cli, srv tlsConn) (result, error)) (result, error) {
	client, server, done, err := g.setup(g.pki, w)
	if err != nil {
		return result{}, err
	}
	defer done()
	ln, err := listen()
	if err != nil {
		return result{}, err
	}
	defer ln.Close()
	cli, srv, err := pair(ln, client, server)
	if err != nil {
		return result{}, err
	}
	defer cli.Close()
	defer srv.Close()
	return f(cli, srv)
}

func (g *goContender) throughput(w workload, dir string, bytes int64, chunk, read int) (result, error) {
	return g.connected(w, func(cli, srv tlsConn) (result, error) {
		return transfer(cli, srv, dir, bytes, chunk, read)
	})
}

// transfer moves bytes from one end to the other in chunk-sized writes and
// read-sized reads.
func transfer(cli, srv tlsConn, dir string, bytes int64, chunk, read int) (result, error) {
	var from, to tlsConn = cli, srv
	if dir == "s2c" {
		from, to = srv, cli
	}
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = byte(i*131 + 7)
	}
	sendErr := make(chan error, 1)
	start := time.Now()
	go func() {
		for left := bytes; left > 0; {
			n := int(min(left, int64(chunk)))
			if _, err := from.Write(buf[:n]); err != nil {
				sendErr <- err
				return
			}
			left -= int64(n)
		}
		sendErr <- nil
	}()
	rbuf := make([]byte, read)
	var got int64
	for got < bytes {
		n, err := to.Read(rbuf)
		got += int64(n)
		if err != nil {
			return result{}, fmt.Errorf("read after %d bytes: %w", got, err)
		}
	}
	secs := time.Since(start).Seconds()
	if err := <-sendErr; err != nil {
		return result{}, err
	}
	c, v := cli.Negotiated()
	return result{bytes: got, seconds: secs, cipher: c, version: v}, nil
}

func (g *goContender) handshakes(w workload, n int) (result, error) {
	client, server, done, err := g.setup(g.pki, w)
	if err != nil {
		return result{}, err
	}
	defer done()
	ln, err := listen()
	if err != nil {
		return result{}, err
	}
	defer ln.Close()
	var wg sync.WaitGroup
	var serr error
	start := time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			raw, err := ln.Accept()
			if err != nil {
				serr = err
				return
			}
			c, err := server(raw)
			if err != nil {
				raw.Close()
				serr = err
				return
			}
			err = c.Handshake(context.Background())
			c.Close()
			if err != nil {
				serr = err
				return
			}
		}
	}()
	var res result
	var cerr error
	buf := make([]byte, 256)
	for i := 0; i < n; i++ {
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			cerr = err
			break
		}
		c, err := client(raw)
		if err != nil {
			raw.Close()
			cerr = err
			break
		}
		if err := c.Handshake(context.Background()); err != nil {
			c.Close()
			cerr = err
			break
		}
		if i == 0 {
			res.cipher, res.version = c.Negotiated()
		}
		for {
			if _, err := c.Read(buf); err != nil {
				if !errors.Is(err, io.EOF) {
					cerr = fmt.Errorf("client read: %w", err)
				}
				break
			}
		}
		c.Close()
		if cerr != nil {
			break
		}
	}
	if cerr != nil {
		ln.Close()
	}
	wg.Wait()
	res.seconds = time.Since(start).Seconds()
	res.handshakes = n
	if cerr != nil {
		return result{}, cerr
	}
	if serr != nil {
		return result{}, serr
	}
	return res, nil
}

func (g *goContender) roundTrips(w workload, n, reply int) (result, error) {
	return g.connected(w, func(cli, srv tlsConn) (result, error) {
		return exchange(cli, srv, n, reply)
	})
}

// exchange runs n request/response round trips, the client asking.
func exchange(cli, srv tlsConn, n, reply int) (result, error) {
	resp := make([]byte, reply)
	for i := range resp {
		resp[i] = byte(i*131 + 7)
	}
	srvErr := make(chan error, 1)
	start := time.Now()
	go func() {
		req := make([]byte, rrRequest)
		for i := 0; i < n; i++ {
			if _, err := io.ReadFull(srv, req); err != nil {
				srvErr <- fmt.Errorf("server read of request %d: %w", i, err)
				return
			}
			if _, err := srv.Write(resp); err != nil {
				srvErr <- fmt.Errorf("server write of reply %d: %w", i, err)
				return
			}
		}
		srvErr <- nil
	}()
	req := make([]byte, rrRequest)
	for i := range req {
		req[i] = 'q'
	}
	got := make([]byte, reply)
	for i := 0; i < n; i++ {
		if _, err := cli.Write(req); err != nil {
			return result{}, fmt.Errorf("client write of request %d: %w", i, err)
		}
		if _, err := io.ReadFull(cli, got); err != nil {
			return result{}, fmt.Errorf("client read of reply %d: %w", i, err)
		}
	}
	secs := time.Since(start).Seconds()
	if err := <-srvErr; err != nil {
		return result{}, err
	}
	if !bytes.Equal(got, resp) {
		return result{}, errors.New("the last reply differs from what the server sent")
	}
	c, v := cli.Negotiated()
	return result{roundtrips: n, seconds: secs, cipher: c, version: v}, nil
}
