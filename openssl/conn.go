package openssl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nodetls/nodetls/cbridge"
)

// Conn is a TLS connection run by OpenSSL over any net.Conn (TCP, a Unix
// socket, net.Pipe, a tunnel). Go owns all transport I/O: received ciphertext
// is lent to OpenSSL, which writes the ciphertext to send straight into Go
// buffers; each handshake, read or write step is one call into C. Over a
// *net.TCPConn or a stream *net.UnixConn, Go reads the socket inside its
// poller and lends its buffers only while data moves (conn_socket.go).
//
// Conn implements net.Conn. Read and Write may run at the same time on
// different goroutines; the SSL object is only touched under mu, and nothing
// waits for the network while holding it. Output is flushed in the order
// OpenSSL produced it, whichever goroutine produced it (a read may produce a
// TLS 1.3 KeyUpdate reply or a renegotiation message).
type Conn struct {
	transport net.Conn
	server    bool
	cfg       ConnConfig
	ctx       *Context // the context the connection was made from

	// handshakeMu serialises explicit and implicit handshakes. hsDone is set once
	// the first handshake has ended; hsErr is its error.
	handshakeMu sync.Mutex
	hsDone      atomic.Bool
	hsErr       error

	// mu guards ssl and every field below; it is held for C calls and
	// bookkeeping only, never while waiting on the transport.
	mu       sync.Mutex
	ssl      *cbridge.SSL
	in       []byte // received ciphertext; in[inOff:] is not yet consumed
	inOff    int
	inSeq    uint64          // bumped on every transport read and every step that consumes input
	reading  bool            // a goroutine is reading the transport into in's free space
	flushing bool            // a goroutine is writing output taken from out
	raw      syscall.RawConn // the transport's socket, read inside Go's poller (nil: another net.Conn)

	// readRaw's function for RawConn.Read and its results, used only by the
	// goroutine that has set reading.
	rawRead func(fd uintptr) bool
	rawN    int
	rawErr  error

	inWin    *[]byte       // in's array when it is a window from inWindows
	progress chan struct{} // closed (and cleared) when inSeq moves; made by waiters
	inEOF    bool          // the transport has ended
	out      []byte        // ciphertext waiting to be flushed
	outWin   *[]byte       // out's array when it is a window from outWindows
	plain    []byte        // plaintext a small read took and has not handed out yet
	plainWin *[]byte       // plain's window, from plainWindows
	readMore bool          // the last read step filled its buffer and left input behind
	starved  bool          // the last step left OpenSSL nothing to read on without more input (FlagStarved)
	bufHeld  bool          // a step other than a read step ran since the last read step: OpenSSL may hold record buffers
	sends    uint64        // writes of ciphertext to the transport
	steps    uint64        // engine steps run (cgo calls into OpenSSL's record layer)
	readErr  error         // sticky: io.EOF after close_notify, or a fatal TLS error
	writeErr error         // sticky: a failed write leaves the stream unusable
	broken   error         // sticky: the transport's Write failed, nothing more can be sent
	closed   bool
	hookErr  error // an error raised by a callback during the current step
	starts   uint32
	dones    uint32
	maxFrag  int
	events   []connEvent // handshake events to report once mu is released
	curCtx   *Context    // the context after an SNI switch
	bgFlush  bool        // a background flusher is running

	// writers counts Writes in progress: Close does not wait behind one (it
	// may be blocked on a peer that does not read) to send close_notify.
	writers atomic.Int32
	// writeDeadline is the write deadline in Unix nanoseconds (0: none).
	writeDeadline atomic.Int64

	// flushMu lets one goroutine at a time write the transport.
	flushMu sync.Mutex
}

type connEvent struct {
	start bool // handshake start (else done)
	count uint32
}

// ConnConfig sets up one connection. Zero values leave OpenSSL's behaviour.
type ConnConfig struct {
	// ServerName is the SNI name a client sends ("" sends none).
	ServerName string
	// ALPNProtocols are the protocols a client offers, in preference order.
	ALPNProtocols []string
	// Session resumes a client session (from Conn.Session or OnNewSession).
	Session *Session
	// RequestClientCert makes a server ask for a client certificate;
	// RequireClientCert also fails the handshake when none is sent
	// (SSL_VERIFY_FAIL_IF_NO_PEER_CERT). The verify callback accepts every
	// chain: the result is judged after the handshake with VerifyResult.
	RequestClientCert, RequireClientCert bool
	// RequestOCSP makes a client ask for a stapled OCSP response.
	RequestOCSP bool
	// EnableTrace writes OpenSSL's protocol trace to stderr (where SSL_trace exists).
	EnableTrace bool

	// The callbacks below run inside a handshake step with the connection's
	// lock held: they must not call methods of the same Conn. A callback's
	// error (or panic) ends the handshake, which then returns that error.

	// SelectALPN picks the server's protocol from the client's offer (called
	// only when the client offered ALPN): a protocol from offered, "" to not
	// negotiate ALPN, ErrNoApplicationProtocol to end the handshake with a
	// no_application_protocol alert, or another error to end it with that
	// alert and that error (SelectALPNServerPreference is Node's rule).
	SelectALPN func(offered []string) (string, error)
	// ServerNameCallback runs on a server when the ClientHello arrives, with the
	// name the client asked for ("" if none). It may return a context to switch
	// to (nil keeps the current one); an error ends the handshake. A switch
	// (SSL_set_SSL_CTX) takes the new context's certificates and keys, its
	// trust store (which verifies client certificates) and its TLS 1.2 cipher
	// list; the protocol version bounds and all that ConnConfig set stay
	// (verify mode, PSK identity hint). A TLS 1.3 HelloRetryRequest runs the
	// callback a second time.
	ServerNameCallback func(name string) (*Context, error)
	// PSKServer returns the key for an identity; nil means the identity is
	// unknown. A key longer than PSKMaxKeyLen fails the handshake with a
	// *PSKLimitError. Setting it enables PSK on the server (with a cipher list
	// that has PSK suites on TLS 1.2; on TLS 1.3 the PSK is used with
	// TLS_AES_128_GCM_SHA256 or another SHA-256 suite).
	PSKServer func(identity string) ([]byte, error)
	// PSKClient returns the identity and key to use for the server's hint
	// (hasHint is false when the server sent none, as on TLS 1.3); a nil key
	// means no PSK. An identity longer than PSKMaxIdentityLen or a key longer
	// than PSKMaxKeyLen fails the handshake with a *PSKLimitError.
	PSKClient func(hint string, hasHint bool) (identity string, psk []byte, err error)
	// PSKIdentityHint is the hint a server sends (TLS 1.2 only; TLS 1.3 has none).
	PSKIdentityHint string
	// OnNewSession receives each new session; the callee owns it (Free it when
	// done). On a client: the session of a TLS 1.2 full handshake, and each
	// TLS 1.3 ticket as Read processes it (tickets follow the handshake). On a
	// server: each session for an external session-ID cache, keyed by
	// Session.ID (TLS 1.2 without tickets, and TLS 1.3 tickets). OpenSSL calls
	// it only when the context's session cache mode includes SessCacheClient
	// (client) or SessCacheServer (server); otherwise Client/Server fail.
	OnNewSession func(s *Session)
	// GetSession looks a session id up in a server's external cache; nil if
	// unknown. OpenSSL asks for TLS 1.2 session-ID resumption and TLS 1.3
	// stateful tickets (OpNoTicket). The Session returned is handed over to
	// OpenSSL and freed (a cache keeping it returns its Ref). OpenSSL still
	// checks it: an expired session, or one of another session ID context or
	// protocol version, is not resumed (on TLS 1.2 an expired one is also
	// marked not Resumable, so the cache can drop it).
	GetSession func(id []byte) *Session
	// OnClientHello (server) sees each ClientHello's legacy session id and
	// whether it carries a non-empty session ticket, before OpenSSL looks for
	// a session to resume (GetSession); a ClientHello after a
	// HelloRetryRequest or for a renegotiation is reported too.
	OnClientHello func(sessionID []byte, hasTicket bool)
	// OnCertificate (server) runs from OpenSSL's certificate callback: the
	// ClientHello's extensions have been seen (ServerNameCallback; SelectALPN
	// too on TLS 1.3) and the certificate is not chosen yet, so it may
	// change it (UseContextCertificateFromCallback). A resumed handshake
	// skips it. An error ends the handshake.
	OnCertificate func() error
	// Keylog receives NSS key log lines (without the newline): on TLS 1.2 one
	// CLIENT_RANDOM line per handshake, on TLS 1.3 five lines per side.
	Keylog func(line string)
	// OCSPRequest (server) runs only when the client asked for a certificate
	// status; it returns a DER OCSP response to staple, or nil (or empty) for
	// none. An error ends the handshake.
	OCSPRequest func() ([]byte, error)
	// OnOCSPResponse (client, with RequestOCSP) receives the stapled
	// response, nil if the server stapled none.
	OnOCSPResponse func(resp []byte)
	// OnHandshakeStart and OnHandshakeDone report every handshake, renegotiations
	// included; n counts them from 1. They run after the step that saw them,
	// outside the connection's lock.
	OnHandshakeStart func(n int)
	OnHandshakeDone  func(n int)
}

const (
	// A record is at most 16 KiB of plaintext plus 2 KiB of expansion
	// (RFC 8446 §5.2); 64 KiB reads take several records per syscall.
	minReadRoom   = 16*1024 + 2048 + 5
	readBufSize   = 64 * 1024
	writeChunk    = 64 * 1024
	recordOverlay = 5 + 16 + 64 + 256 // header, IV, MAC, padding: the most any suite adds
	controlRoom   = 8 * 1024          // output room for handshake, alerts, tickets
	closeTimeout  = 5 * time.Second
)

// Client starts a client connection over transport. The handshake runs on the
// first Read or Write, or on Handshake.
func Client(transport net.Conn, ctx *Context, cfg ConnConfig) (*Conn, error) {
	return newConn(transport, ctx, cfg, false)
}

// Server starts a server connection over transport.
func Server(transport net.Conn, ctx *Context, cfg ConnConfig) (*Conn, error) {
	return newConn(transport, ctx, cfg, true)
}

func newConn(transport net.Conn, ctx *Context, cfg ConnConfig, server bool) (*Conn, error) {
	if transport == nil {
		return nil, errors.New("openssl: no transport connection")
	}
	if ctx == nil {
		return nil, errors.New("openssl: no context")
	}
	c := &Conn{transport: transport, server: server, cfg: cfg, ctx: ctx, curCtx: ctx, maxFrag: 16384}
	var ssl *cbridge.SSL
	err := ctx.with("SSL_new", func(h *cbridge.SSLCtx) error {
		var err error
		ssl, err = cbridge.NewSSL(h, server, (*connHooks)(c))
		return err
	})
	if err != nil {
		return nil, err
	}
	c.ssl = ssl
	c.raw = rawSocket(transport)
	// Made once: a function value made per read would cost allocations.
	c.rawRead = c.rawReadFD
	if err := c.configure(); err != nil {
		ssl.Free()
		return nil, err
	}
	return c, nil
}

func (c *Conn) configure() error {
	cfg := &c.cfg
	var bits uint
	if c.server {
		if cfg.SelectALPN != nil {
			bits |= cbridge.CallbackALPN
		}
		if cfg.ServerNameCallback != nil {
			bits |= cbridge.CallbackSNI
		}
		if cfg.GetSession != nil {
			bits |= cbridge.CallbackGetSession
		}
		if cfg.OCSPRequest != nil {
			bits |= cbridge.CallbackOCSP
		}
		if cfg.OnClientHello != nil {
			bits |= cbridge.CallbackClientHello
		}
		if cfg.OnCertificate != nil {
			bits |= cbridge.CallbackCertificate
		}
		mode := cbridge.VerifyNone
		if cfg.RequestClientCert || cfg.RequireClientCert {
			mode = cbridge.VerifyPeer
			if cfg.RequireClientCert {
				mode |= cbridge.VerifyFailIfNoPeerCert
			}
		}
		c.ssl.SetVerify(mode)
		if cfg.PSKServer != nil {
			c.ssl.SetPSKCallbacks(true, false)
			bits |= cbridge.CallbackPSKServer
			if cfg.PSKIdentityHint != "" {
				if err := c.ssl.UsePSKIdentityHint(cfg.PSKIdentityHint); err != nil {
					return err
				}
			}
		}
	} else {
		if cfg.ServerName != "" {
			if err := c.ssl.SetHostName(cfg.ServerName); err != nil {
				return err
			}
		}
		if len(cfg.ALPNProtocols) > 0 {
			wire, err := ALPNWireFormat(cfg.ALPNProtocols)
			if err != nil {
				return err
			}
			if err := c.ssl.SetALPNProtos(wire); err != nil {
				return err
			}
		}
		if cfg.Session != nil {
			if err := cfg.Session.use("SSL_set_session", c.ssl.SetSession); err != nil {
				return err
			}
		}
		if cfg.RequestOCSP {
			c.ssl.RequestOCSP()
			if cfg.OnOCSPResponse != nil {
				bits |= cbridge.CallbackOCSP
			}
		}
		if cfg.PSKClient != nil {
			c.ssl.SetPSKCallbacks(false, true)
			bits |= cbridge.CallbackPSKClient
		}
		// A client verifies the server's chain (recording the result) but never
		// fails the handshake on it: the verify callback accepts.
		c.ssl.SetVerify(cbridge.VerifyPeer)
	}
	if cfg.OnNewSession != nil {
		if err := c.checkSessionCacheMode(); err != nil {
			return err
		}
		bits |= cbridge.CallbackNewSession
	}
	if cfg.Keylog != nil {
		bits |= cbridge.CallbackKeylog
	}
	if cfg.EnableTrace {
		c.ssl.EnableTrace()
	}
	c.ssl.SetCallbacks(bits)
	return nil
}

// ALPNWireFormat encodes protocol names as the ALPN extension carries them.
func ALPNWireFormat(protos []string) ([]byte, error) {
	var wire []byte
	for i, p := range protos {
		if len(p) == 0 || len(p) > 255 {
			return nil, fmt.Errorf("openssl: ALPN protocol %d has length %d (must be 1..255)", i, len(p))
		}
		wire = append(wire, byte(len(p)))
		wire = append(wire, p...)
	}
	return wire, nil
}

// IsServer reports whether this is the server side.
func (c *Conn) IsServer() bool { return c.server }

// Transport returns the connection TLS runs over.
func (c *Conn) Transport() net.Conn { return c.transport }

// stepLocked runs one engine step with room for outRoom bytes of output and
// collects what it produced. c.mu must be held and c.ssl must be live. The
// output goes to a window from outWindows while there is no older output,
// and the window goes back once it is written (flush), so a connection holds
// no output buffer between writes.
func (c *Conn) stepLocked(op int, buf []byte, outRoom int) cbridge.StepResult {
	if len(c.out) == 0 && outRoom <= outWindowSize {
		c.takeOutWindowLocked()
	} else {
		c.reserveOut(outRoom)
	}
	win := c.out[len(c.out):cap(c.out)]
	c.hookErr = nil
	st := c.ssl.Step(op, c.in[c.inOff:], c.inEOF, win, buf)
	c.inOff += st.InUsed
	c.steps++
	c.starved = st.Flags&cbridge.FlagStarved != 0
	// A read step that leaves OpenSSL nothing frees its record buffers
	// itself; after other steps, a wait for input frees them
	// (releaseBuffersLocked).
	c.bufHeld = op != cbridge.OpRead
	if st.InUsed > 0 {
		// OpenSSL's state moved: a goroutine waiting for input retries its step.
		c.bumpInputLocked()
		if c.raw != nil && c.inOff == len(c.in) && !c.reading {
			// All input taken: the window goes back until the next read.
			c.putInWindowLocked()
		}
	}
	c.out = c.out[:len(c.out)+st.OutLen]
	for st.OverflowPending > 0 {
		c.reserveOut(st.OverflowPending)
		n := c.ssl.TakeOverflow(c.out[len(c.out):cap(c.out)])
		if n == 0 {
			break
		}
		c.out = c.out[:len(c.out)+n]
		st.OverflowPending -= n
	}
	if len(c.out) == 0 {
		c.putOutWindowLocked()
	}
	for c.starts < st.HandshakeStarts {
		c.starts++
		c.events = append(c.events, connEvent{start: true, count: c.starts})
	}
	for c.dones < st.HandshakeDones {
		c.dones++
		c.events = append(c.events, connEvent{count: c.dones})
	}
	return st
}

func (c *Conn) reserveOut(n int) {
	if cap(c.out)-len(c.out) >= n {
		return
	}
	nb := make([]byte, len(c.out), len(c.out)+n)
	copy(nb, c.out)
	c.putOutWindowLocked()
	c.out = nb
}

// outWindowSize is the size of an output window: a writeChunk of plaintext
// in records as small as OpenSSL allows (512 bytes, Node's
// setMaxSendFragment minimum), and room for what else OpenSSL may write.
const outWindowSize = writeChunk + (writeChunk/512)*recordOverlay + controlRoom

// outWindows holds output windows between writes.
var outWindows = sync.Pool{New: func() any { return newWindow(outWindowSize) }}

// takeOutWindowLocked makes c.out, which is empty, a window of
// outWindowSize bytes. c.mu is held.
func (c *Conn) takeOutWindowLocked() {
	if cap(c.out) >= outWindowSize {
		c.out = c.out[:0]
		return
	}
	c.outWin = outWindows.Get().(*[]byte)
	c.out = (*c.outWin)[:0]
}

// putOutWindowLocked gives c.out's window back to outWindows if it came
// from there; c.out no longer refers to it. c.mu is held.
func (c *Conn) putOutWindowLocked() {
	if c.outWin == nil {
		return
	}
	outWindows.Put(c.outWin)
	c.outWin = nil
	c.out = nil
}

// unlockAndReport releases mu and delivers handshake events gathered while it
// was held.
func (c *Conn) unlockAndReport() {
	ev := c.events
	c.events = nil
	c.mu.Unlock()
	for _, e := range ev {
		if e.start && c.cfg.OnHandshakeStart != nil {
			c.cfg.OnHandshakeStart(int(e.count))
		} else if !e.start && c.cfg.OnHandshakeDone != nil {
			c.cfg.OnHandshakeDone(int(e.count))
		}
	}
}

// flush writes every byte of pending output to the transport, in order.
func (c *Conn) flush() error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	for {
		c.mu.Lock()
		if c.broken != nil {
			// Part of a record may have gone out: the stream cannot go on.
			err := c.broken
			c.mu.Unlock()
			return err
		}
		buf := c.out
		if len(buf) == 0 {
			c.mu.Unlock()
			return nil
		}
		win := c.outWin
		c.out, c.outWin = nil, nil
		c.flushing = true
		c.mu.Unlock()

		_, err := c.transport.Write(buf)

		c.mu.Lock()
		c.flushing = false
		c.sends++
		if win != nil {
			outWindows.Put(win)
		}
		if err != nil {
			if c.closed {
				err = net.ErrClosed
			}
			c.broken = err
			if c.writeErr == nil {
				c.writeErr = err
			}
		}
		c.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// flushAsync writes pending output from a background goroutine. Reads and the
// end of a handshake use it for what OpenSSL produced on its own (tickets,
// KeyUpdate replies, alerts): over a synchronous transport such as net.Pipe
// the peer may be busy writing to us, and a blocking write here would
// deadlock. Output order is kept by flushMu; a write error becomes sticky.
func (c *Conn) flushAsync() {
	c.mu.Lock()
	if c.bgFlush || len(c.out) == 0 || c.closed {
		c.mu.Unlock()
		return
	}
	c.bgFlush = true
	c.mu.Unlock()
	go func() {
		for {
			_ = c.flush()
			c.mu.Lock()
			if len(c.out) == 0 || c.broken != nil {
				c.bgFlush = false
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
		}
	}()
}

// bumpInputLocked records that new input arrived or was consumed, and wakes
// the goroutines waiting for it. c.mu is held.
func (c *Conn) bumpInputLocked() {
	c.inSeq++
	if c.progress != nil {
		close(c.progress)
		c.progress = nil
	}
}

// fill reads more ciphertext from the transport, unless the input moved since
// the caller's step (seq), in which case the caller just retries its step.
// One goroutine at a time reads the transport; the others wait until it has
// read or until some step consumes input (a Write waiting for renegotiation
// messages may find that a Read has already processed them). A Write waits
// no longer than its write deadline; the transport's read deadline bounds
// the read itself.
func (c *Conn) fill(seq uint64) error {
	c.mu.Lock()
	for {
		if c.inSeq != seq {
			c.mu.Unlock()
			return nil
		}
		if c.closed {
			c.mu.Unlock()
			return net.ErrClosed
		}
		if c.inEOF {
			c.mu.Unlock()
			return io.ErrUnexpectedEOF
		}
		if !c.reading {
			break
		}
		if c.progress == nil {
			c.progress = make(chan struct{})
		}
		ch := c.progress
		c.mu.Unlock()
		if err := c.waitProgress(ch); err != nil {
			return err
		}
		c.mu.Lock()
	}
	c.reading = true
	if c.raw != nil {
		c.mu.Unlock()
		err := c.readRaw()
		c.mu.Lock()
		c.reading = false
		// Bumped on errors too: waiters retry and meet the error themselves.
		c.bumpInputLocked()
		closed := c.closed
		c.mu.Unlock()
		if err != nil && closed {
			return net.ErrClosed
		}
		return err
	}
	c.releaseBuffersLocked()
	tail := c.inTailLocked()
	c.mu.Unlock()

	n, err := c.transport.Read(tail)

	c.mu.Lock()
	c.reading = false
	c.in = c.in[:len(c.in)+n]
	// Bumped on errors too: waiters retry and meet the error themselves.
	c.bumpInputLocked()
	if errors.Is(err, io.EOF) {
		c.inEOF = true
		err = nil
	}
	closed := c.closed
	c.mu.Unlock()
	if err != nil && closed {
		return net.ErrClosed
	}
	return err
}

// releaseBuffersLocked frees OpenSSL's record buffers before a wait for
// input if a step other than a read step has run since the last read step
// (a read step that leaves OpenSSL nothing frees them itself): so a
// connection waiting for its peer, or idle, holds none. c.mu is held.
func (c *Conn) releaseBuffersLocked() {
	if c.bufHeld && c.ssl != nil && !c.closed {
		c.ssl.ReleaseBuffers()
		c.bufHeld = false
	}
}

// waitProgress waits for ch to close, or for the write deadline to pass.
func (c *Conn) waitProgress(ch <-chan struct{}) error {
	dl := c.writeDeadline.Load()
	if dl == 0 {
		<-ch
		return nil
	}
	t := time.NewTimer(time.Until(time.Unix(0, dl)))
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// Handshake runs the TLS handshake if it has not run yet. Cancelling ctx
// aborts it (the transport's deadline is set to the past) and leaves the
// connection unusable.
func (c *Conn) Handshake(ctx context.Context) error {
	if c.hsDone.Load() {
		return c.hsErr
	}
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	if c.hsDone.Load() {
		return c.hsErr
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = c.transport.SetDeadline(time.Unix(1, 0)) })
	}
	err := c.handshakeLoop()
	if stop != nil && !stop() {
		// The context ended during the handshake.
		if err == nil || isTimeout(err) {
			err = ctx.Err()
		}
	}
	c.hsErr = err
	c.hsDone.Store(true)
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func (c *Conn) handshakeLoop() error {
	for {
		c.mu.Lock()
		if c.closed || c.ssl == nil {
			c.mu.Unlock()
			return net.ErrClosed
		}
		seq := c.inSeq
		st := c.stepLocked(cbridge.OpHandshake, nil, controlRoom)
		var err error
		if st.Ret != 1 && st.SSLError != cbridge.ErrWantRead {
			err = c.stepError(st)
			c.dropIfSilent(err)
		} else if c.hookErr != nil {
			// A callback failed where OpenSSL has no way to fail (a keylog
			// or session callback panicked): the handshake fails all the same.
			err = c.hookErr
			c.dropIfSilent(err)
		}
		c.unlockAndReport()
		if st.Ret == 1 && err == nil {
			// The handshake's last flight (and TLS 1.3 tickets) goes out
			// now that the callbacks have run. On a socket, whose buffer
			// takes a last flight whole, at once (a TLS 1.3 client's peer
			// waits for its Finished); otherwise in the background: over a
			// synchronous transport the peer may already be writing to us.
			// A failed write is kept for the next Write.
			if c.raw != nil {
				_ = c.flush()
			} else {
				c.flushAsync()
			}
			return nil
		}
		// Mid-handshake the peer is waiting for this flight.
		ferr := c.flush()
		switch {
		case err != nil:
			return err
		case ferr != nil:
			return ferr
		}
		if err := c.fill(seq); err != nil {
			return err
		}
	}
}

// stepError turns a failed step into the error a user sees. c.mu is held.
func (c *Conn) stepError(st cbridge.StepResult) error {
	if c.hookErr != nil {
		return c.hookErr
	}
	switch st.SSLError {
	case cbridge.ErrZeroReturn:
		return io.EOF
	case cbridge.ErrSSL, cbridge.ErrSyscall:
		var oe *Error
		if errors.As(st.Err, &oe) && oe.HasReason("unexpected eof while reading") {
			return &TruncatedError{Err: oe}
		}
		if st.Err != nil {
			return st.Err
		}
		if c.inEOF {
			return &TruncatedError{}
		}
		return fmt.Errorf("openssl: %s failed (SSL error %d)", "TLS step", st.SSLError)
	}
	if st.Err != nil {
		return st.Err
	}
	return fmt.Errorf("openssl: TLS step failed (SSL error %d)", st.SSLError)
}

// TruncatedError reports a transport that ended without a TLS close_notify.
// It matches io.ErrUnexpectedEOF with errors.Is.
type TruncatedError struct {
	Err *Error // OpenSSL's "unexpected eof while reading", when it reported one
}

func (e *TruncatedError) Error() string {
	if e.Err != nil {
		return "openssl: connection ended without close_notify: " + e.Err.Error()
	}
	return "openssl: connection ended without close_notify"
}

// Is makes errors.Is(err, io.ErrUnexpectedEOF) true.
func (e *TruncatedError) Is(target error) bool { return target == io.ErrUnexpectedEOF }

// Unwrap returns OpenSSL's error, if any.
func (e *TruncatedError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// Read reads plaintext. It returns io.EOF after the peer's close_notify and a
// *TruncatedError if the transport ends without one.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.Handshake(context.Background()); err != nil {
		return 0, err
	}
	return c.read(p, -1)
}

// read runs read steps until p gets plaintext or the connection fails; with
// until >= 0 it also returns (0, nil) once more than until handshakes have
// completed (ReadUntilHandshake).
func (c *Conn) read(p []byte, until int) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		c.mu.Lock()
		if n, err, ok := c.readReadyLocked(p, until); ok {
			c.mu.Unlock()
			return n, err
		}
		seq := c.inSeq
		if c.starved && c.inOff == len(c.in) && !c.inEOF {
			// A step now would find nothing: wait for input first.
			c.mu.Unlock()
			if err := c.fill(seq); err != nil {
				return 0, err
			}
			continue
		}
		n, err, finished := c.readStepLocked(p, until)
		hasOut := len(c.out) > 0
		c.unlockAndReport()
		if hasOut {
			c.flushAsync()
		}
		if n > 0 {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if finished {
			return 0, nil
		}
		if err := c.fill(seq); err != nil {
			return 0, err
		}
	}
}

// readReadyLocked returns what a read returns without a step: plaintext a
// small read left over (before the end of the stream or of a handshake that
// came after it), the end of ReadUntilHandshake, or the read side's error.
// ok is false when a step must run. c.mu is held.
func (c *Conn) readReadyLocked(p []byte, until int) (n int, err error, ok bool) {
	switch {
	case c.closed || c.ssl == nil:
		return 0, net.ErrClosed, true
	case len(c.plain) > 0:
		return c.takePlainLocked(p), nil, true
	case until >= 0 && int(c.dones) > until:
		return 0, nil, true
	case c.readErr != nil:
		return 0, c.readErr, true
	}
	return 0, nil, false
}

// readStepLocked runs one read step into p and reports the plaintext it got,
// the read side's error and whether ReadUntilHandshake's handshake has
// completed. c.mu is held and stays held.
func (c *Conn) readStepLocked(p []byte, until int) (n int, err error, finished bool) {
	dst := p
	if len(p) < smallRead && c.readMore {
		// The last read step left more behind: a step per small read
		// would cost a cgo call each, so this one takes up to a
		// record's plaintext and the next reads are served from it.
		c.plainWin = plainWindows.Get().(*[]byte)
		dst = *c.plainWin
	}
	st := c.stepLocked(cbridge.OpRead, dst, controlRoom)
	c.readMore = st.Flags&cbridge.FlagMore != 0
	if st.Ret > 0 {
		n = int(st.Ret)
	}
	if c.plainWin != nil {
		c.plain = dst[:n]
		n = c.takePlainLocked(p)
	}
	if st.SSLError != cbridge.ErrNone && st.SSLError != cbridge.ErrWantRead {
		c.readErr = c.stepError(st)
		if c.readErr != io.EOF && c.writeErr == nil {
			// OpenSSL has failed the connection: writing fails the same way.
			c.writeErr = c.readErr
		}
	}
	return n, c.readErr, until >= 0 && int(c.dones) > until
}

// smallRead is the size under which a Read that follows a read step with
// more left behind takes up to a record's plaintext into a window of its own
// (plainWindows) and serves the following reads from it.
const smallRead = 2048

// plainWindows holds the plaintext windows of small reads. A window goes back
// once its plaintext has been read, so an idle connection holds none.
var plainWindows = sync.Pool{New: func() any { return newWindow(16384) }}

// takePlainLocked moves plaintext from c.plain to p and returns how much;
// the window goes back to plainWindows once it is empty. c.mu is held.
func (c *Conn) takePlainLocked(p []byte) int {
	n := copy(p, c.plain)
	c.plain = c.plain[n:]
	if len(c.plain) == 0 && c.plainWin != nil {
		plainWindows.Put(c.plainWin)
		c.plainWin = nil
		c.plain = nil
	}
	return n
}

// Write encrypts and sends p.
func (c *Conn) Write(p []byte) (int, error) {
	c.writers.Add(1)
	defer c.writers.Add(-1)
	if err := c.Handshake(context.Background()); err != nil {
		return 0, err
	}
	total := 0
	var pause time.Duration
	for len(p) > 0 {
		chunk := min(len(p), writeChunk)
		c.mu.Lock()
		if c.closed || c.ssl == nil {
			c.mu.Unlock()
			return total, net.ErrClosed
		}
		if c.writeErr != nil {
			err := c.writeErr
			c.mu.Unlock()
			return total, err
		}
		seq := c.inSeq
		records := (chunk + c.maxFrag - 1) / c.maxFrag
		st := c.stepLocked(cbridge.OpWrite, p[:chunk], chunk+records*recordOverlay+controlRoom)
		var err error
		if st.Ret <= 0 && st.SSLError != cbridge.ErrWantRead {
			err = c.stepError(st)
			c.writeErr = err
			if c.readErr == nil {
				// OpenSSL has failed the connection: reading fails the same way.
				c.readErr = err
			}
		}
		queued := len(c.out) > 0
		c.unlockAndReport()
		if queued {
			if ferr := c.flush(); ferr != nil {
				return total, ferr
			}
		}
		if st.Ret > 0 {
			total += int(st.Ret)
			p = p[st.Ret:]
			continue
		}
		if err != nil {
			return total, err
		}
		if st.Flags&cbridge.FlagStashFull != 0 {
			// A renegotiation is waiting behind unread application data that
			// only Read can hand over.
			if err := c.pauseWrite(&pause); err != nil {
				return total, err
			}
			continue
		}
		// A renegotiation in progress needs the peer's messages first.
		if err := c.fill(seq); err != nil {
			return total, err
		}
	}
	return total, nil
}

// pauseWrite waits a little (longer each time) before a Write tries again,
// ending early with net.ErrClosed or os.ErrDeadlineExceeded.
func (c *Conn) pauseWrite(d *time.Duration) error {
	*d = min(max(2**d, time.Millisecond), 20*time.Millisecond)
	if dl := c.writeDeadline.Load(); dl != 0 && time.Now().UnixNano() >= dl {
		return os.ErrDeadlineExceeded
	}
	time.Sleep(*d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	return nil
}

// shutdownLocked sends close_notify if the handshake finished and none was
// sent. It reports whether output is waiting. c.mu is held.
func (c *Conn) shutdownLocked() bool {
	_, pending := c.shutdownStepLocked()
	return pending
}

// shutdownStepLocked is shutdownLocked that also returns the step, whose
// SSLError is ErrWantRead when a renegotiation must end before close_notify
// can go (the peer's messages are needed). c.mu is held.
func (c *Conn) shutdownStepLocked() (cbridge.StepResult, bool) {
	if c.ssl == nil || !c.hsDone.Load() || c.hsErr != nil || c.writeErr != nil {
		return cbridge.StepResult{}, false
	}
	st := c.stepLocked(cbridge.OpShutdown, nil, 256)
	return st, len(c.out) > 0
}

// Close sends close_notify (after a completed handshake), closes the
// transport and frees the connection. Later calls return net.ErrClosed. As
// with crypto/tls, a Close during a Write only closes the transport: the
// Write may be blocked on a peer that does not read, and Close is how a
// caller breaks it.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	pending := false
	if c.writers.Load() == 0 {
		pending = c.shutdownLocked()
	}
	c.closed = true
	c.mu.Unlock()
	if pending && !c.flushNoWait() {
		_ = c.transport.SetWriteDeadline(time.Now().Add(closeTimeout))
		_ = c.flush()
	}
	err := c.transport.Close()
	// Wait for a goroutine inside a step to leave it, then free.
	c.mu.Lock()
	c.ssl.Free()
	c.ssl = nil
	c.releaseWindowsLocked()
	c.mu.Unlock()
	return err
}

// releaseWindowsLocked gives the windows of a closed connection back to
// their pools, except the input window while a read uses it (readRaw gives
// it back). c.mu is held.
func (c *Conn) releaseWindowsLocked() {
	if !c.reading {
		c.putInWindowLocked()
	}
	c.putOutWindowLocked() // a flush has taken its window out of c.out
	if c.plainWin != nil {
		plainWindows.Put(c.plainWin)
		c.plainWin, c.plain = nil, nil
	}
}

// flushNoWait writes pending output to a socket without waiting (its
// descriptor is non-blocking) and reports whether all of it went; false for
// other transports, whose writes may block. Close uses it so that a
// close_notify that the socket takes at once needs no write deadline (a
// timer of Go's poller).
func (c *Conn) flushNoWait() bool {
	if c.raw == nil {
		return false
	}
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.out) > 0 && c.broken == nil {
		var n int
		var werr error
		if err := c.raw.Control(func(fd uintptr) {
			n, werr = syscall.Write(int(fd), c.out)
		}); err != nil {
			return false
		}
		if werr == syscall.EINTR {
			continue
		}
		if werr != nil || n <= 0 {
			return false // flush waits, or meets the error
		}
		c.sends++
		c.out = c.out[n:]
	}
	if len(c.out) > 0 {
		return false
	}
	c.putOutWindowLocked()
	return true
}

// CloseWrite sends close_notify and half-closes the transport when it can
// (Node's end()). Reading continues until the peer's close_notify.
func (c *Conn) CloseWrite() error {
	if err := c.Handshake(context.Background()); err != nil {
		return err
	}
	var pause time.Duration
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return net.ErrClosed
		}
		seq := c.inSeq
		st, _ := c.shutdownStepLocked()
		if st.SSLError != cbridge.ErrWantRead {
			break // with c.mu held
		}
		// close_notify waits for a renegotiation in progress to end.
		c.unlockAndReport()
		if err := c.flush(); err != nil {
			return err
		}
		var err error
		if st.Flags&cbridge.FlagStashFull != 0 {
			err = c.pauseWrite(&pause)
		} else {
			err = c.fill(seq)
		}
		if err != nil {
			return err
		}
	}
	if c.writeErr == nil {
		c.writeErr = errWriteAfterEnd
	}
	c.mu.Unlock()
	if err := c.flushShutdown(); err != nil {
		return err
	}
	if cw, ok := c.transport.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// errWriteAfterEnd is what Write returns after CloseWrite.
var errWriteAfterEnd = errors.New("openssl: write after close_notify")

// flushShutdown flushes output even though writeErr now forbids new writes.
func (c *Conn) flushShutdown() error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	buf, win := c.out, c.outWin
	c.out, c.outWin = nil, nil
	c.flushing = len(buf) > 0
	c.mu.Unlock()
	var err error
	if len(buf) > 0 {
		_, err = c.transport.Write(buf)
	}
	if win != nil {
		outWindows.Put(win)
	}
	if len(buf) > 0 {
		c.mu.Lock()
		c.flushing = false
		c.sends++
		c.mu.Unlock()
	}
	return err
}

// LocalAddr is the transport's local address.
func (c *Conn) LocalAddr() net.Addr { return c.transport.LocalAddr() }

// RemoteAddr is the transport's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.transport.RemoteAddr() }

// SetDeadline sets the transport's read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.noteWriteDeadline(t)
	return c.transport.SetDeadline(t)
}

// SetReadDeadline sets the transport's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.transport.SetReadDeadline(t) }

// SetWriteDeadline sets the transport's write deadline. A write that times out
// leaves the TLS stream unusable, as with crypto/tls.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.noteWriteDeadline(t)
	return c.transport.SetWriteDeadline(t)
}

// noteWriteDeadline remembers the write deadline for the waits a Write does
// without touching the transport.
func (c *Conn) noteWriteDeadline(t time.Time) {
	if t.IsZero() {
		c.writeDeadline.Store(0)
	} else {
		c.writeDeadline.Store(t.UnixNano())
	}
}
