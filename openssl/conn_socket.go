package openssl

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nodetls/nodetls/cbridge"
)

// The socket fast path. Over a *net.TCPConn or a stream *net.UnixConn the
// engine lets OpenSSL read the socket itself and send to it directly: the
// ciphertext moves between the kernel and OpenSSL's own buffers, without the
// copies through Go's input and output windows, and one recv takes several
// records (read-ahead). A Write of more than one record hands its records to
// the socket together, one send per write step (cbridge.SendBatched), as a
// send per record would cost a system call, a packet and a wake-up of the
// peer each; a smaller Write's record is sent as OpenSSL makes it.
// Nothing else changes: steps still run under c.mu and never block; waiting
// still happens in Go, on Go's poller (syscall.RawConn), so deadlines, Close
// and context cancellation behave as on the general path; output the socket
// does not take at once is queued and written by flush with the transport's
// Write, in order. Any other net.Conn (and one wrapped in another type) takes
// the general path.

// socketReadAhead is OpenSSL's read buffer size in socket mode; 0 keeps
// OpenSSL's default, one full record and a little more, so one recv takes a
// record. A bigger buffer takes more per recv but costs more than it saves:
// before each record OpenSSL moves what is left in the buffer to its front.
const socketReadAhead = 0

// Callbacks (keylog, sessions, SNI, ...) run inside a step, while the
// descriptor is held: like the Conn itself, a callback must not close the
// transport (its Close would wait for the step to end).

// socket is a Conn's fast path state. Its step fields are set and read under
// c.mu only.
type socket struct {
	rc syscall.RawConn
	c  *Conn

	// Arguments and result of the step running inside rc.Control.
	op   int
	send int // cbridge.SendQueued, SendDirect or SendBatched
	out  []byte
	buf  []byte
	res  cbridge.StepResult
	ran  bool
	ctl  func(fd uintptr)

	// State of a wait for readability (one at a time, see fill).
	peeked bool
	wait   func(fd uintptr) bool
	peeks  atomic.Uint64 // looks at the socket before a wait (tests)
}

// initSocket switches c to the socket fast path when its transport allows.
func (c *Conn) initSocket() {
	rc := rawSocket(c.transport)
	if rc == nil {
		return
	}
	s := &socket{rc: rc, c: c}
	s.ctl = func(fd uintptr) {
		s.res = c.ssl.StepFD(s.op, int(fd), s.send, s.out, s.buf)
		s.ran = true
	}
	s.wait = func(fd uintptr) bool {
		if !s.peeked {
			// The step that found nothing ran before RawConn.Read reset the
			// poller's readiness: look again now, or data that arrived in
			// between would never wake us (the poller is edge-triggered).
			s.peeked = true
			s.peeks.Add(1)
			return cbridge.SocketReadable(int(fd))
		}
		return true
	}
	c.ssl.SocketMode(socketReadAhead)
	c.sock = s
}

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

// step runs one engine step on the socket. rc.Control keeps the descriptor
// open (and its number ours) for the duration. If the transport has been
// closed underneath the Conn, the step runs as if the stream had ended.
func (s *socket) step(op int, out, buf []byte, send int) cbridge.StepResult {
	s.op, s.out, s.buf, s.send, s.ran = op, out, buf, send, false
	err := s.rc.Control(s.ctl)
	res := s.res
	s.res, s.out, s.buf = cbridge.StepResult{}, nil, nil
	if err != nil || !s.ran {
		return s.c.ssl.Step(op, nil, true, out, buf)
	}
	return res
}

// waitReadable waits on Go's poller until the socket has something to read,
// within the transport's read deadline.
func (s *socket) waitReadable() error {
	s.peeked = false
	return rawReadError(s.rc.Read(s.wait))
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

// readError is the error a failed recv makes, as the transport's Read would
// have reported it.
func (s *socket) readError(errno syscall.Errno) error {
	t := s.c.transport
	return &net.OpError{Op: "read", Net: t.LocalAddr().Network(), Source: t.LocalAddr(), Addr: t.RemoteAddr(),
		Err: os.NewSyscallError("read", errno)}
}

// directWriteOKLocked reports whether a step may send straight to the
// socket: nothing older is queued or being written, the transport has not failed,
// and the write deadline has not passed (a write must then fail, as the
// transport's would). c.mu is held.
func (c *Conn) directWriteOKLocked() bool {
	if c.flushing || len(c.out) > 0 || c.broken != nil {
		return false
	}
	dl := c.writeDeadline.Load()
	return dl == 0 || time.Now().UnixNano() < dl
}
