package openssl

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// Sockets. Over a *net.TCPConn or a stream *net.UnixConn the engine reads the
// socket with read(2) inside Go's poller (syscall.RawConn.Read) rather than
// through the transport's Read: the poller's readiness is reset before the
// first read, so a read that finds nothing waits at once, and the input
// window goes back to its pool before the wait, so a connection waiting for
// its peer holds no input buffer (nor an output buffer: see stepLocked).
// Writes go through the transport's Write. Any other net.Conn, and one
// wrapped in another type, is read through its Read into a window it keeps.
//
// Go does the socket I/O, not OpenSSL: an earlier design let OpenSSL recv
// and send on the socket inside the engine's steps, and measured slower on
// every workload of bench/ (see README, "Benchmarks").

// rawSocket returns the raw connection of a TCP or Unix stream socket, nil
// for any other transport.
func rawSocket(t net.Conn) syscall.RawConn {
	var sc syscall.Conn
	switch v := t.(type) {
	case *net.TCPConn:
		sc = v
	case *net.UnixConn:
		a := v.LocalAddr()
		if a == nil {
			a = v.RemoteAddr()
		}
		if a == nil || a.Network() != "unix" {
			return nil // datagram and seqpacket sockets keep message boundaries
		}
		sc = v
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// rawReadError is err from RawConn.Read as the transport's Read reports it.
func rawReadError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "raw-read" {
		e := *oe
		e.Op = "read"
		err = &e
	}
	return err
}

// inWindows holds input windows: a connection over a socket takes one to
// read into and gives it back once a read finds nothing and no input is left
// (readRaw), so a connection waiting for its peer holds none.
var inWindows = sync.Pool{New: func() any { return newWindow(readBufSize) }}

// windowsMade counts the windows the pools have had to make: tests tell
// them apart from allocations per read or write, of which there should be
// none.
var windowsMade atomic.Uint64

// newWindow makes a window of size bytes for a pool.
func newWindow(size int) *[]byte {
	windowsMade.Add(1)
	b := make([]byte, size)
	return &b
}

// inTailLocked returns in's free space for the next read, at least
// minReadRoom bytes: unconsumed input moves to the front, and in grows when
// that is not enough. c.mu is held and c.reading is set.
func (c *Conn) inTailLocked() []byte {
	if c.in == nil {
		c.inWin = inWindows.Get().(*[]byte)
		c.in, c.inOff = (*c.inWin)[:0], 0
	}
	if c.inOff == len(c.in) {
		c.in, c.inOff = c.in[:0], 0
	}
	if cap(c.in)-len(c.in) < minReadRoom {
		if c.inOff > 0 {
			n := copy(c.in[:cap(c.in)], c.in[c.inOff:])
			c.in, c.inOff = c.in[:n], 0
		}
		if cap(c.in)-len(c.in) < minReadRoom {
			nb := make([]byte, len(c.in), len(c.in)+readBufSize)
			copy(nb, c.in)
			c.putInWindowLocked()
			c.in = nb
		}
	}
	return c.in[len(c.in):cap(c.in)]
}

// putInWindowLocked gives in's window back to inWindows if it came from
// there; in no longer refers to it. c.mu is held.
func (c *Conn) putInWindowLocked() {
	if c.inWin == nil {
		return
	}
	inWindows.Put(c.inWin)
	c.inWin = nil
	c.in, c.inOff = nil, 0
}

// readRaw reads the socket into in's free space from inside Go's poller
// (RawConn.Read): the poller's readiness is reset before the first read, so
// a read that finds nothing can wait without another look. A read that finds
// nothing gives the input window back while no input is left. c.reading is
// set; c.mu is not held.
func (c *Conn) readRaw() error {
	c.rawN, c.rawErr = 0, nil
	err := c.raw.Read(c.rawRead)
	n, rerr := c.rawN, c.rawErr
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		// Close left the window to this read.
		c.putInWindowLocked()
		return net.ErrClosed
	}
	switch {
	case err != nil:
		return rawReadError(err)
	case rerr != nil:
		t := c.transport
		return &net.OpError{Op: "read", Net: t.LocalAddr().Network(), Source: t.LocalAddr(), Addr: t.RemoteAddr(),
			Err: os.NewSyscallError("read", rerr)}
	case n == 0:
		c.inEOF = true
	default:
		c.in = c.in[:len(c.in)+n]
	}
	return nil
}

// rawReadFD is readRaw's function for RawConn.Read: one read(2) into in's
// free space, its result left in rawN and rawErr. It reports false (wait
// for the socket to be readable, then call again) when the read finds
// nothing, after giving the input window back if no input is left and
// OpenSSL's record buffers if a write may have taken them since the last
// read step.
func (c *Conn) rawReadFD(fd uintptr) bool {
	c.mu.Lock()
	tail := c.inTailLocked()
	c.mu.Unlock()
	for {
		c.rawN, c.rawErr = syscall.Read(int(fd), tail)
		if c.rawErr != syscall.EINTR {
			break
		}
	}
	if c.rawErr == syscall.EAGAIN {
		c.mu.Lock()
		if c.inOff == len(c.in) {
			c.putInWindowLocked()
		}
		c.releaseBuffersLocked()
		c.mu.Unlock()
		return false
	}
	return true
}
